"""How big a request body may be, per route, with the refusal as a page in the reader's language.

Every route gets DEFAULT_BODY_LIMIT unless its route table marks it otherwise with `limited()`:
SMALL_FORM for sign-in and other short forms, UPLOAD for the routes that stream attachments
(their total is the configured CHALLENGE_MAX_UPLOAD_MB plus the text fields; `receive_upload`
enforces the per-file limit itself). A declared Content-Length over the limit is refused before
anything is read; a chunked body is cut off when it passes the limit.

New routes need nothing: the default applies. Mark a route only to loosen or tighten it:

    limited(Route("/login", login, methods=["GET", "POST"]), SMALL_FORM)
"""

from collections.abc import Awaitable, Callable

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from challenge.files.uploads import MAX_TEXT_FIELD

SMALL_FORM = 64 * 1024
DEFAULT_BODY_LIMIT = 2 * 1024 * 1024
UPLOAD = -1  # marker: the configured upload size


def limited(route: Route, limit: int) -> Route:
    route.body_limit = limit
    return route


def route_limit(routes: list[BaseRoute], scope: Scope) -> int:
    """The limit of the route that will answer this request (the default when none does)."""
    for route in routes:
        match, child_scope = route.matches(scope)
        if match == Match.NONE:
            continue
        if isinstance(route, Mount) and route.routes:
            return route_limit(route.routes, {**scope, **child_scope})
        return getattr(route, "body_limit", DEFAULT_BODY_LIMIT)
    return DEFAULT_BODY_LIMIT


class BodyTooLarge(Exception):
    pass


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, reject: Callable[[Request, int, bool], Awaitable[Response]]) -> None:
        self.app = app
        self.reject = reject

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = route_limit(scope["app"].router.routes, scope)
        upload = limit == UPLOAD
        if upload:
            limit = scope["app"].state.settings.max_upload_bytes + MAX_TEXT_FIELD
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            await (await self.reject(Request(scope), limit, upload))(scope, receive, send)
            return
        received = 0
        started = False

        async def receive_limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge()
            return message

        async def send_tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive_limited, send_tracked)
        except BodyTooLarge:
            if started:
                raise
            await (await self.reject(Request(scope), limit, upload))(scope, receive, send)
