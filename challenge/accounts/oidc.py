"""Single sign-on through an OpenID Connect provider (authorization code flow, Authlib).

`/oidc/login` sends the browser to the provider with state, nonce and a PKCE (S256)
challenge, all kept in the signed session cookie (any app server can finish the flow).
`/oidc/callback` checks the state, exchanges the code, validates the ID token (signature,
issuer, expiry, nonce, and explicitly `aud == client_id` and `azp`) and then:

1. an identity (issuer + subject) already linked to an account signs that account in;
2. an identity whose verified e-mail belongs to a local account is NOT linked: the person must
   prove the account is theirs with its password (`/oidc/link`) first;
3. otherwise a new account without a password (a bidder, no organisation yet) is created.

A new account also needs a verified e-mail: an unverified one would let somebody claim an
address and take over the account its owner registers later. The provider's `error` and
`error_description` are logged, never shown. Sign-out goes through the provider's
`end_session_endpoint` when it announces one.
"""

import logging
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.starlette_client import OAuth, OAuthError
from authlib.integrations.base_client import MismatchingStateError
from joserfc.errors import JoseError
from starlette.requests import Request
from starlette.responses import Response
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from challenge.accounts.models import LinkedIdentity, Role, User
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


@dataclass
class Outcome:
    """The result of a callback: a signed-in user, or an identity waiting to be linked."""

    target: str
    id_token: str
    user: User | None = None
    pending: dict | None = None


def check_audience(claims: dict, client_id: str) -> None:
    """The ID token is for this client: `aud` is our client id (or a list holding it, then with
    `azp` naming us), and `azp`, when present, is our client id."""
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else list(audience or [])
    if client_id not in audiences or (len(audiences) > 1 and claims.get("azp") != client_id) \
            or ("azp" in claims and claims["azp"] != client_id):
        log.warning("OIDC ID token for another audience: aud=%r azp=%r", audience, claims.get("azp"))
        raise SignInFailed(_("身份认证凭据无效，请重新登录。"))


async def finish(request: Request) -> Outcome:
    """Validate the provider's answer: the signed-in user, or an identity to link."""
    settings = request.app.state.settings
    if not is_configured(settings):
        raise SignInFailed(_("未启用统一身份认证登录。"), status=404)
    client = _client(request)
    try:
        token = await client.authorize_access_token(request)
    except MismatchingStateError as error:
        raise SignInFailed(_("登录请求已失效或来源无法验证，请重新登录。")) from error
    except OAuthError as error:
        # The provider's own words stay in the log: the page never echoes them.
        log.info("OIDC provider refused: %s %s", error.error, error.description)
        raise SignInFailed(_("统一身份认证未完成（已取消或未获授权），请重新登录。")) from error
    except (AuthlibBaseError, JoseError) as error:
        log.warning("OIDC token rejected: %r", error)
        raise SignInFailed(_("身份认证凭据无效，请重新登录。")) from error
    except (httpx.HTTPError, ValueError) as error:
        log.warning("OIDC token exchange failed: %s", error)
        raise SignInFailed(_("统一身份认证服务暂时无法访问，请稍后重试，或使用邮箱和密码登录。"), status=502) from error
    claims = token.get("userinfo")
    if not claims or not claims.get("sub"):
        raise SignInFailed(_("身份认证凭据无效，请重新登录。"))
    check_audience(dict(claims), settings.oidc_client_id)
    claims = {**claims, **await _userinfo(client, token, claims["sub"])}
    target = safe_next(request.session.pop(NEXT_KEY, None), "/account")
    identity = {"issuer": settings.oidc_issuer, "subject": str(claims["sub"]),
                "email": str(claims.get("email") or "").strip().lower(), "name": str(claims.get("name") or "")}
    try:
        user, existing = await sign_in_with_oidc(**identity, email_verified=claims.get("email_verified") is True)
    except DomainError as error:
        raise SignInFailed(error.message) from error
    if existing is not None:
        return Outcome(target=target, id_token=token.get("id_token", ""),
                       pending={**identity, "user_id": existing.id, "at": now_utc().timestamp()})
    return Outcome(target=target, id_token=token.get("id_token", ""), user=user)


async def _userinfo(client, token: dict, subject: str) -> dict:
    """The profile claims (e-mail, name) from the userinfo endpoint: many providers keep them out of
    the ID token. Its `sub` must be the ID token's (OIDC Core §5.3.2)."""
    if "email" in token.get("userinfo", {}):
        return {}
    try:
        info = dict(await client.userinfo(token=token))
    except (httpx.HTTPError, ValueError, AuthlibBaseError) as error:
        log.warning("OIDC userinfo failed: %s", error)
        raise SignInFailed(_("统一身份认证服务暂时无法访问，请稍后重试，或使用邮箱和密码登录。"), status=502) from error
    if str(info.get("sub")) != str(subject):
        log.warning("OIDC userinfo for another subject: %r != %r", info.get("sub"), subject)
        raise SignInFailed(_("身份认证凭据无效，请重新登录。"))
    return {key: info[key] for key in ("email", "email_verified", "name") if key in info}


async def logout_url(request: Request, id_token: str) -> str | None:
    """The provider's end-session URL (RP-initiated logout), when it announces one."""
    if not is_configured(request.app.state.settings) or not id_token:
        return None
    try:
        metadata = await _client(request).load_server_metadata()
    except (httpx.HTTPError, ValueError) as error:
        log.warning("OIDC provider unreachable at sign-out: %s", error)
        return None
    endpoint = metadata.get("end_session_endpoint")
    if not endpoint:
        return None
    query = urlencode({"id_token_hint": id_token, "post_logout_redirect_uri": request.app.state.settings.base_url + "/",
                       "client_id": request.app.state.settings.oidc_client_id})
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


def failure_page(request: Request, failure: SignInFailed) -> Response:
    titles = {404: _("页面不存在"), 502: _("统一身份认证服务不可用")}
    return render(request, "errors/error.html", {
        "status": failure.status,
        "title": titles.get(failure.status, _("无法完成统一身份认证登录")),
        "detail": failure.message,
    }, status_code=failure.status)


# -- rules ------------------------------------------------------------------------------------

async def sign_in_with_oidc(*, issuer: str, subject: str, email: str, email_verified: bool,
                            name: str) -> tuple[User | None, User | None]:
    """(the account to sign in, None) for a linked identity or a new account; (None, the local
    account) when the verified e-mail belongs to an account the person must prove first.

    Side effects: creating writes `user.oidc_create` to the audit log (same transaction).
    Raises DomainError when no account can be used.
    """
    linked = await LinkedIdentity.get_or_none(issuer=issuer, subject=subject).select_related("user")
    if linked is not None:
        await LinkedIdentity.filter(id=linked.id).update(last_used_at=now_utc())
        return await _touch(linked.user), None
    if not email or not email_verified or len(email) > 254 or not EMAIL_RE.match(email):
        raise DomainError(_("统一身份认证未提供已验证的电子邮箱，无法登录。请在身份认证服务中验证邮箱，或联系平台管理员。"))
    existing = await User.get_or_none(email=email)
    if existing is not None:
        if not existing.is_active:
            raise DomainError(_("该账户已停用，请联系平台管理员。"))
        return None, existing
    try:
        async with in_transaction():
            user = await User.create(
                email=email, name=(name.strip() or email.split("@")[0])[:100], password_hash="",
                organisation=None, **{f"is_{DEFAULT_ROLE.value}": True},
            )
            await LinkedIdentity.create(user=user, issuer=issuer, subject=subject, email=email, last_used_at=now_utc())
            await audit.record(actor=user, action="user.oidc_create", obj=user,
                               after={"issuer": issuer, "subject": subject, "email": email,
                                      "roles": [DEFAULT_ROLE.value]})
    except IntegrityError:
        raise DomainError(_("登录冲突，请重试。")) from None
    return await _touch(user), None


async def link_identity(*, user: User, issuer: str, subject: str, email: str) -> LinkedIdentity:
    """Link an identity to an account whose owner has just proved it (its password).
    Side effect: audit `user.oidc_link`."""
    try:
        async with in_transaction():
            identity = await LinkedIdentity.create(user=user, issuer=issuer, subject=subject, email=email,
                                                   last_used_at=now_utc())
            await audit.record(actor=user, action="user.oidc_link", obj=user,
                               after={"issuer": issuer, "subject": subject, "email": email})
    except IntegrityError:
        raise DomainError(_("该统一身份认证账号已关联其他账户，请联系平台管理员。")) from None
    return identity


async def unlink_identity(*, identity: LinkedIdentity, actor: User) -> None:
    """Remove a linked identity, unless it is the account's last way to sign in.
    Side effect: audit `user.oidc_unlink`."""
    if not actor.password_hash and await LinkedIdentity.filter(user_id=actor.id).count() <= 1:
        raise DomainError(_("这是您唯一的登录方式，不能删除。请先通过“忘记密码”设置密码。"))
    async with in_transaction():
        await identity.delete()
        await audit.record(actor=actor, action="user.oidc_unlink", obj=actor,
                           before={"issuer": identity.issuer, "subject": identity.subject})


async def _touch(user: User) -> User:
    if not user.is_active:
        raise DomainError(_("该账户已停用，请联系平台管理员。"))
    user.last_login_at = now_utc()
    await user.save(update_fields=["last_login_at"])
    return await User.get(id=user.id).select_related("organisation")
