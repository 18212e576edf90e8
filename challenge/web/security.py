"""CSRF protection and security headers, as plain ASGI middleware.

The CSRF token lives in the signed session. A state-changing request must carry it in the
`X-CSRF-Token` header or as the form field `csrf_token`. For multipart bodies the field must be
the form's first part (the `csrf_field()` macro puts it there): the middleware reads only that
first part and replays the buffered bytes, so large uploads still stream to their handler.
"""

import hmac
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
FORM_BODY_LIMIT = 2 * 1024 * 1024
MULTIPART_PREFIX_LIMIT = 64 * 1024
FIELD = "csrf_token"


def csrf_token(session: dict) -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def _first_part_token(body: bytes, boundary: bytes) -> str | None:
    delimiter = b"--" + boundary
    start = body.find(delimiter)
    if start < 0:
        return None
    header_end = body.find(b"\r\n\r\n", start)
    if header_end < 0:
        return None
    headers = body[start + len(delimiter):header_end].decode("latin-1").lower()
    if f'name="{FIELD}"' not in headers:
        return ""
    value_end = body.find(b"\r\n" + delimiter, header_end + 4)
    if value_end < 0:
        return None
    return body[header_end + 4:value_end].decode("latin-1")


def _boundary(content_type: str) -> bytes | None:
    for piece in content_type.split(";")[1:]:
        key, _, value = piece.strip().partition("=")
        if key.lower() == "boundary":
            return value.strip('"').encode("latin-1")
    return None


class CSRFMiddleware:
    """`exempt`: path prefixes whose POSTs authenticate themselves by a signed token in the path
    (a one-click unsubscribe, RFC 8058, is posted by a mail client that has no session)."""

    def __init__(self, app: ASGIApp, reject: Callable[[Request], Awaitable[Response]],
                 exempt: tuple[str, ...] = ()) -> None:
        self.app = app
        self.reject = reject
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["method"] in SAFE_METHODS
                or (self.exempt and scope["path"].startswith(self.exempt))):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        expected = scope["session"].get("csrf", "")
        supplied = headers.get("x-csrf-token")
        buffered: list[Message] = []
        if not supplied:
            supplied, buffered = await self._token_from_body(headers, receive)
        if not expected or not supplied or not hmac.compare_digest(expected, supplied):
            response = await self.reject(Request(scope))
            await response(scope, receive, send)
            return

        async def replay() -> Message:
            if buffered:
                return buffered.pop(0)
            return await receive()

        await self.app(scope, replay, send)

    async def _token_from_body(self, headers: Headers, receive: Receive) -> tuple[str | None, list[Message]]:
        content_type = headers.get("content-type", "")
        if content_type.startswith("application/x-www-form-urlencoded"):
            limit, parse = FORM_BODY_LIMIT, lambda body: (parse_qs(body.decode("latin-1")).get(FIELD) or [None])[0]
        elif content_type.startswith("multipart/form-data") and (boundary := _boundary(content_type)):
            limit, parse = MULTIPART_PREFIX_LIMIT, lambda body: _first_part_token(body, boundary)
        else:
            return None, []
        buffered: list[Message] = []
        body = b""
        while True:
            message = await receive()
            buffered.append(message)
            if message["type"] != "http.request":
                return None, buffered
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if content_type.startswith("multipart/"):
                token = parse(body)
                if token is not None:
                    return token, buffered
            if not more or len(body) > limit:
                break
        return (parse(body) or None), buffered


class SecurityHeadersMiddleware:
    HEADERS = [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
        (b"content-security-policy",
         b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
         b"object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"),
    ]

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in self.HEADERS if n not in present]
                message = {**message, "headers": list(message.get("headers", [])) + extra}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def allowed_methods(routes: list[BaseRoute], scope: Scope) -> tuple[bool, set[str]]:
    """(whether a route takes this request, the methods of the routes whose path matches)."""
    allowed: set[str] = set()
    for route in routes:
        match, child_scope = route.matches(scope)
        if match == Match.NONE:
            continue
        if isinstance(route, Mount) and route.routes:
            taken, methods = allowed_methods(route.routes, {**scope, **child_scope})
            if taken:
                return True, set()
            allowed |= methods
        elif match == Match.FULL:
            return True, set()
        else:
            allowed |= set(getattr(route, "methods", None) or ())
    return False, allowed


class MethodNotAllowedMiddleware:
    """405 with an `Allow` header for a path that exists but not for this method (DELETE, PUT…).

    It runs before the CSRF check, which would otherwise answer such a request with 403.
    """

    def __init__(self, app: ASGIApp, reject: Callable[[Request, set[str]], Awaitable[Response]]) -> None:
        self.app = app
        self.reject = reject

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS:
            taken, methods = allowed_methods(scope["app"].router.routes, scope)
            if not taken and methods:
                response = await self.reject(Request(scope), methods)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class NoStoreMiddleware:
    """`Cache-Control: no-store` on everything answered to a signed-in person (pages, downloads,
    exports), so that no shared or back-button cache keeps a private page. Static files keep
    their caching; a response that sets its own Cache-Control keeps it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return

        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start" and scope.get("state", {}).get("user") is not None:
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"cache-control" for name, _ in headers):
                    message = {**message, "headers": headers + [(b"cache-control", b"private, no-store")]}
            await send(message)

        await self.app(scope, receive, send_no_store)
