"""Pages rendered once per change of the data, on every server: a data version and a page cache.

The data version is read with one cheap query: the audit log's last sequence number (every state
change the services make, from requests and from commands alike) and a counter that
`BumpDataVersion` raises after every request that may write (any method but GET, HEAD and
OPTIONS), before its response goes out, so the next page the client asks for is fresh. Each
server keeps its own rendered copies and compares versions, so any worker serves a page that is
current.

`public_page(handler)` caches what an anonymous visitor sees, and only that: a signed-in person's
page (menu, own permissions), a visitor with a message waiting (flash) and any page with a
one-time form token are rendered for him alone. The visitor's CSRF token (in the language switch)
is kept out of the cached copy and put back per visitor, and the ETag depends on it too, so a
browser never revalidates a page holding another session's token. Copies also expire after
`MAX_AGE` seconds: pages show time-dependent text ("closes in 3 days", a window that passed).
"""

import hashlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from challenge.web.i18n import get_locale
from challenge.web.models import DataVersion
from challenge.web.security import csrf_token

T = TypeVar("T")
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
MAX_AGE = 60.0
MAX_ENTRIES = 512
# Rendered in place of the visitor's CSRF token into a cached page (see templating._context).
CSRF_PLACEHOLDER = "csrf-placeholder-0f6b1c9e2d"

_VERSION_SQL = ("SELECT (SELECT MAX(seq) FROM audit_entry) AS audit, "
                "(SELECT MAX(n) FROM data_version) AS writes")


async def current_version() -> str:
    rows = await connections.get("default").execute_query_dict(_VERSION_SQL)
    row = rows[0] if rows else {}
    return f"{row.get('audit') or 0}.{row.get('writes') or 0}"


async def bump() -> None:
    if await DataVersion.filter(id=1).update(n=F("n") + 1):
        return
    try:
        await DataVersion.create(id=1, n=1)
    except IntegrityError:  # another request created the row first
        await DataVersion.filter(id=1).update(n=F("n") + 1)


# Answers given before a request could write anything (CSRF or permission refused, unknown object,
# wrong method, body too large, throttled): nothing changed, so cached pages stay valid.
REFUSED_UNREAD = frozenset({401, 403, 404, 405, 413, 415, 429})


class BumpDataVersion:
    """Raise the data version after a request that may have written, before its response starts."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return

        async def send_after_bump(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] not in REFUSED_UNREAD:
                await bump()
            await send(message)

        await self.app(scope, receive, send_after_bump)


@dataclass
class Entry:
    version: str
    expires: float
    body: bytes
    digest: str
    media_type: str


@dataclass
class Remembered:
    version: str
    value: object


def _cache_of(request: Request) -> "OrderedDict[tuple, Entry | Remembered]":
    """Each app keeps its own copies (one app, one database)."""
    state = request.app.state
    if not hasattr(state, "page_cache"):
        state.page_cache = OrderedDict()
    return state.page_cache


async def request_version(request: Request) -> str:
    """The data version, read once per request."""
    version = getattr(request.state, "data_version", None)
    if version is None:
        version = request.state.data_version = await current_version()
    return version


async def remembered(request: Request, key: tuple, compute: Callable[[], Awaitable[T]]) -> T:
    """`compute()`, done once per data version: for values that depend on nothing but the data
    and `key` (the key must name everything else they depend on, the viewer's conflicts included)."""
    version = await request_version(request)
    store = _cache_of(request)
    entry = store.get(("value", *key))
    if entry is not None and entry.version == version:
        store.move_to_end(("value", *key))
        return entry.value
    value = await compute()
    store[("value", *key)] = Remembered(version=version, value=value)
    while len(store) > MAX_ENTRIES:
        store.popitem(last=False)
    return value


def _cacheable_visitor(request: Request) -> bool:
    return (request.method == "GET" and getattr(request.state, "user", None) is None
            and "session" in request.scope and not request.session.get("_flashes"))


def public_page(handler: Callable[[Request], Awaitable[Response]]):
    """Serve `handler`'s page to anonymous visitors from the cache while the data is unchanged."""

    async def cached(request: Request) -> Response:
        if not _cacheable_visitor(request):
            return await handler(request)
        version = await request_version(request)
        key = (request.url.path, request.url.query, get_locale())
        _cache = _cache_of(request)
        entry = _cache.get(key)
        if entry is None or entry.version != version or entry.expires < time.monotonic():
            request.state.csrf_placeholder = True
            try:
                response = await handler(request)
            finally:
                request.state.csrf_placeholder = False
            body = bytes(response.body)
            if response.status_code != 200 or b'name="form_token"' in body:
                return _personal(response, body, request)
            entry = Entry(version=version, expires=time.monotonic() + MAX_AGE, body=body,
                          digest=hashlib.sha256(body).hexdigest(), media_type=response.media_type or "text/html")
            _cache[key] = entry
            while len(_cache) > MAX_ENTRIES:
                _cache.popitem(last=False)
        else:
            _cache.move_to_end(key)
        token = csrf_token(request.session)
        etag = '"' + hashlib.sha256(f"{entry.digest}:{token}".encode()).hexdigest()[:32] + '"'
        headers = {"etag": etag, "cache-control": "no-cache", "vary": "Cookie, Accept-Language"}
        if etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        return Response(entry.body.replace(CSRF_PLACEHOLDER.encode(), token.encode()), media_type=entry.media_type,
                        headers=headers)

    return cached


def _personal(response: Response, body: bytes, request: Request) -> Response:
    """A response not to cache (an error, a redirect, a one-time form), with the real token in it."""
    if CSRF_PLACEHOLDER.encode() in body:
        body = body.replace(CSRF_PLACEHOLDER.encode(), csrf_token(request.session).encode())
        response.body = body
        response.headers["content-length"] = str(len(body))
    return response
