"""Who is signed in, and the checks every handler makes before it acts."""

from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from challenge.accounts.models import Role, User
from challenge.web.i18n import set_locale


class LoginRequired(Exception):
    """Raised by `require_user`; the app answers with a redirect to the sign-in page."""


class AuthMiddleware:
    """Loads the signed-in user once per request into `request.state.user`.

    The session carries the user id and the account's `auth_epoch`; a password change bumps
    the epoch, which signs out every other session of that account on every app server.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        session = scope["session"]
        user = None
        if uid := session.get("uid"):
            user = await User.get_or_none(id=uid, is_active=True).select_related("organisation")
            if user is None or user.auth_epoch != session.get("epoch"):
                session.pop("uid", None)
                session.pop("epoch", None)
                user = None
        scope.setdefault("state", {})["user"] = user
        set_locale(user.locale if user else session.get("locale", "zh_CN"))
        await self.app(scope, receive, send)


def current_user(request: Request) -> User | None:
    return request.state.user


def require_user(request: Request) -> User:
    user = request.state.user
    if user is None:
        raise LoginRequired()
    return user


def require_role(request: Request, *roles: Role) -> User:
    user = require_user(request)
    if not any(user.has_role(role) for role in roles):
        raise HTTPException(403)
    return user


def require_organiser(request: Request) -> User:
    return require_role(request, Role.ORGANISER)


def login_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"/login?next={quote(target)}"


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site paths: an open redirect would let a phishing link borrow our name."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target
