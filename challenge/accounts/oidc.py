"""Single sign-on through an OpenID Connect provider (authorization code flow, Authlib).

`/oidc/login` sends the browser to the provider with state, nonce and a PKCE (S256)
challenge, all kept in the signed session cookie (any app server can finish the flow).
`/oidc/callback` checks the state, exchanges the code, validates the ID token (signature,
issuer, audience, expiry, nonce) and signs the person in:

1. the account already linked to the token's subject (`User.oidc_subject`), else
2. the account with the same e-mail, when the provider says that e-mail is verified (linked
   now), else
3. a new account without a password (a bidder, no organisation yet: the account page asks
   them to pick or register one).

A new account also needs a verified e-mail: an unverified one would let somebody claim an
address and take over the account its owner registers later.
"""

import logging

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.starlette_client import OAuth, OAuthError
from authlib.integrations.base_client import MismatchingStateError
from joserfc.errors import JoseError
from starlette.requests import Request
from starlette.responses import Response
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from challenge.accounts.models import Role, User
from challenge.audit import services as audit
from challenge.errors import DomainError
from challenge.web.auth import safe_next
from challenge.web.forms import EMAIL_RE
from challenge.web.i18n import _
from challenge.web.templating import render
from challenge.web.timefmt import now_utc

log = logging.getLogger(__name__)

PROVIDER = "sso"
NEXT_KEY = "oidc_next"
DEFAULT_ROLE = Role.BIDDER


class SignInFailed(Exception):
    """The flow cannot finish: shown to the person as an error page with `status`."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def is_configured(settings) -> bool:
    return bool(settings.oidc_issuer and settings.oidc_client_id)


def _client(request: Request):
    """One Authlib client per app; it caches the provider's metadata and keys."""
    state = request.app.state
    client = getattr(state, "oidc_client", None)
    if client is None:
        settings = state.settings
        oauth = OAuth()
        client = oauth.register(
            name=PROVIDER,
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret or None,
            server_metadata_url=settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
            client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256", "timeout": 15},
        )
        state.oidc_client = client
    return client


async def _check_issuer(request: Request, client) -> None:
    """The discovery document must name the issuer we were configured with (OIDC Discovery §4.3)."""
    metadata = await client.load_server_metadata()
    configured = request.app.state.settings.oidc_issuer.rstrip("/")
    if str(metadata.get("issuer", "")).rstrip("/") != configured:
        log.error("OIDC issuer mismatch: configured %s, provider says %s", configured, metadata.get("issuer"))
        raise SignInFailed(_("统一身份认证服务配置有误，请联系平台管理员。"), status=502)


def _callback_url(request: Request) -> str:
    return request.app.state.settings.base_url + "/oidc/callback"


async def start(request: Request) -> Response:
    """Redirect to the provider; `next` (a local path) is where the person lands afterwards."""
    if not is_configured(request.app.state.settings):
        raise SignInFailed(_("未启用统一身份认证登录。"), status=404)
    client = _client(request)
    try:
        await _check_issuer(request, client)
        response = await client.authorize_redirect(request, _callback_url(request))
    except (httpx.HTTPError, ValueError) as error:
        log.warning("OIDC provider unreachable: %s", error)
        raise SignInFailed(_("统一身份认证服务暂时无法访问，请稍后重试，或使用邮箱和密码登录。"), status=502) from error
    request.session[NEXT_KEY] = safe_next(request.query_params.get("next"), "/account")
    return response


async def finish(request: Request) -> tuple[User, str]:
    """Validate the provider's answer and return the signed-in user and where to go next."""
    if not is_configured(request.app.state.settings):
        raise SignInFailed(_("未启用统一身份认证登录。"), status=404)
    client = _client(request)
    try:
        token = await client.authorize_access_token(request)
    except MismatchingStateError as error:
        raise SignInFailed(_("登录请求已失效或来源无法验证，请重新登录。")) from error
    except OAuthError as error:
        log.info("OIDC provider refused: %s %s", error.error, error.description)
        raise SignInFailed(_("统一身份认证未完成（%(reason)s），请重新登录。", reason=error.error or "error")) from error
    except (AuthlibBaseError, JoseError) as error:
        log.warning("OIDC token rejected: %r", error)
        raise SignInFailed(_("身份认证凭据无效，请重新登录。")) from error
    except (httpx.HTTPError, ValueError) as error:
        log.warning("OIDC token exchange failed: %s", error)
        raise SignInFailed(_("统一身份认证服务暂时无法访问，请稍后重试，或使用邮箱和密码登录。"), status=502) from error
    claims = token.get("userinfo")
    if not claims or not claims.get("sub"):
        raise SignInFailed(_("身份认证凭据无效，请重新登录。"))
    try:
        user = await sign_in_with_oidc(
            issuer=request.app.state.settings.oidc_issuer,
            subject=str(claims["sub"]),
            email=str(claims.get("email") or ""),
            email_verified=claims.get("email_verified") is True,
            name=str(claims.get("name") or ""),
        )
    except DomainError as error:
        raise SignInFailed(error.message) from error
    return user, safe_next(request.session.pop(NEXT_KEY, None), "/account")


def failure_page(request: Request, failure: SignInFailed) -> Response:
    titles = {404: _("页面不存在"), 502: _("统一身份认证服务不可用")}
    return render(request, "errors/error.html", {
        "status": failure.status,
        "title": titles.get(failure.status, _("无法完成统一身份认证登录")),
        "detail": failure.message,
    }, status_code=failure.status)


# -- rules ------------------------------------------------------------------------------------

async def sign_in_with_oidc(*, issuer: str, subject: str, email: str, email_verified: bool, name: str) -> User:
    """The account for a validated ID token: linked, linked now by verified e-mail, or new.

    Side effects: linking writes `user.oidc_link`, creating writes `user.oidc_create` to the
    audit log (same transaction). Raises DomainError when no account can be used.
    """
    user = await User.get_or_none(oidc_subject=subject)
    if user is not None:
        return await _touch(user)
    email = email.strip().lower()
    if not email or not email_verified or len(email) > 254 or not EMAIL_RE.match(email):
        raise DomainError(_("统一身份认证未提供已验证的电子邮箱，无法登录。请在身份认证服务中验证邮箱，或联系平台管理员。"))
    identity = {"issuer": issuer, "subject": subject, "email": email}
    async with in_transaction():
        user = await User.get_or_none(email=email)
        if user is not None:
            if not user.is_active:
                raise DomainError(_("该账户已停用，请联系平台管理员。"))
            if user.oidc_subject:
                raise DomainError(_("该邮箱的账户已关联另一个统一身份认证账号，请联系平台管理员。"))
            linked = await User.filter(id=user.id, oidc_subject__isnull=True).update(oidc_subject=subject)
            if not linked:
                raise DomainError(_("登录冲突，请重试。"))
            user.oidc_subject = subject
            await audit.record(actor=user, action="user.oidc_link", obj=user, after=identity)
        else:
            try:
                user = await User.create(
                    email=email, name=(name.strip() or email.split("@")[0])[:100], password_hash="",
                    organisation=None, oidc_subject=subject, **{f"is_{DEFAULT_ROLE.value}": True},
                )
            except IntegrityError:
                raise DomainError(_("登录冲突，请重试。")) from None
            await audit.record(actor=user, action="user.oidc_create", obj=user,
                               after={**identity, "roles": [DEFAULT_ROLE.value]})
    return await _touch(user)


async def _touch(user: User) -> User:
    if not user.is_active:
        raise DomainError(_("该账户已停用，请联系平台管理员。"))
    user.last_login_at = now_utc()
    await user.save(update_fields=["last_login_at"])
    return await User.get(id=user.id).select_related("organisation")
