"""Who is signed in, and the checks every handler makes before it acts."""

from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from challenge.accounts import sessions
from challenge.accounts.models import Role, User
from challenge.web.http import client_ip
from challenge.web.i18n import set_locale

# The session cookie (signed by SessionMiddleware) carries this key: the server-side session's key.
SESSION_KEY = "sid"


class LoginRequired(Exception):
    """Raised by `require_user`; the app answers with a redirect to the sign-in page."""


class AuthMiddleware:
    """Loads the signed-in user once per request into `request.state.user`.

    The cookie carries the key of a server-side session (`accounts.sessions`); one query finds
    the live session with its user and organisation. A revoked, expired or idle session signs
    nobody in, on every app server, and its key is dropped from the cookie.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        session = scope["session"]
        user, unread = None, 0
        if key := session.get(SESSION_KEY):
            settings = scope["app"].state.settings
            live = await sessions.live_session(key, idle_minutes=settings.session_idle_minutes)
            if live is None:
                session.pop(SESSION_KEY, None)
            else:
                await sessions.touch(live)
                user, unread = live.user, live.unread
        scope.setdefault("state", {})["user"] = user
        scope["state"]["unread"] = unread
        set_locale(user.locale if user else session.get("locale", "zh_CN"))
        await self.app(scope, receive, send)


async def start_session(request: Request, user: User) -> None:
    """A fresh session at sign-in: nothing from before survives (the CSRF token included) but
    the language chosen before signing in."""
    locale = request.session.get("locale")
    await end_session(request)
    settings = request.app.state.settings
    request.session[SESSION_KEY] = await sessions.create_session(
        user=user, max_age_seconds=settings.session_max_age,
        user_agent=request.headers.get("user-agent", ""), ip=client_ip(request))
    if locale:
        request.session["locale"] = locale


async def end_session(request: Request) -> None:
    """Sign out this browser: the server-side session is revoked, the cookie emptied."""
    if key := request.session.get(SESSION_KEY):
        await sessions.revoke(key)
    request.session.clear()


def session_key(request: Request) -> str | None:
    return request.session.get(SESSION_KEY)


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
