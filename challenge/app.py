"""The application factory: routes, middleware, error pages and the ORM lifespan."""

import asyncio
import contextlib
import logging
import sqlite3
from datetime import timedelta

import asyncpg

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from tortoise.contrib.starlette import RegisterTortoise

from challenge import db
from challenge.accounts import passwords
from challenge.accounts import routes as accounts
from challenge.admin import routes as admin
from challenge.api import routes as api
from challenge.audit import services as audit_services
from challenge.bids import routes as bids
from challenge.challenges import routes as challenges
from challenge.delivery import routes as delivery
from challenge.follow import routes as follow
from challenge.follow import services as follow_services
from challenge.enums import N_
from challenge.errors import DomainError, NotFound, PermissionDenied
from challenge.files.storage import make_storage
from challenge.files.uploads import BadUpload, UploadTooLarge
from challenge.mail.middleware import DeliverMailAfterResponse
from challenge.mail import services as mail_services
from challenge.needs import routes as needs
from challenge.promotion import api as promotion_api
from challenge.promotion import routes as promotion
from challenge.pages import routes as pages
from challenge.results import routes as results
from challenge.reviews import routes as reviews
from challenge.settings import STATIC_DIR, Settings, load_settings
from challenge.supply import routes as supply
from challenge.web.auth import AuthMiddleware, LoginRequired, login_url
from challenge.web.flash import flash
from challenge.web.http import redirect
from challenge.web.i18n import _
from challenge.web.limits import BodyLimitMiddleware
from challenge.web.once import AlreadyCreated
from challenge.web.pagecache import BumpDataVersion
from challenge.web.security import (
    CSRFMiddleware,
    MethodNotAllowedMiddleware,
    NoStoreMiddleware,
    SecurityHeadersMiddleware,
)
from challenge.web.templating import render

log = logging.getLogger(__name__)

ERROR_TITLES = {
    400: N_("请求有误"),
    403: N_("没有权限"),
    404: N_("页面不存在"),
    405: N_("不支持的请求方式"),
    409: N_("操作冲突"),
    413: N_("提交的内容过大"),
    500: N_("系统出错"),
    503: N_("服务暂时不可用"),
}

# A lost or refused database connection, as the drivers raise it: answered with 503, not 500.
DATABASE_UNAVAILABLE = (
    ConnectionError,  # refused or reset sockets, and Tortoise's DBConnectionError
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,  # includes "connection was closed in the middle of operation"
    asyncpg.exceptions.OperatorInterventionError,  # the server shutting down, pg_terminate_backend
)


def database_unavailable(exc: BaseException | None) -> bool:
    """True when `exc`, or an error it was raised from, says the database cannot be reached."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, DATABASE_UNAVAILABLE) or _sqlite_unavailable(exc):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _sqlite_unavailable(exc: BaseException) -> bool:
    """The SQLite file cannot be read, or another process holds its write lock too long (a cron job)."""
    return isinstance(exc, sqlite3.DatabaseError) and any(
        phrase in str(exc) for phrase in ("unable to open", "disk I/O error", "file is not a database",
                                          "database is locked"))


def error_page(request: Request, status: int, detail: str = "", title: str = "") -> Response:
    return render(
        request,
        "errors/error.html",
        {"status": status, "title": title or _(ERROR_TITLES.get(status, ERROR_TITLES[400])), "detail": detail},
        status_code=status,
    )


async def http_exception(request: Request, exc: HTTPException) -> Response:
    detail = exc.detail if exc.detail and exc.detail != _default_phrase(exc.status_code) else ""
    response = error_page(request, exc.status_code, detail)
    response.headers.update(exc.headers or {})  # Allow on a 405
    return response


async def method_not_allowed(request: Request, methods: set[str]) -> Response:
    response = error_page(request, 405)
    response.headers["Allow"] = ", ".join(sorted(methods))
    return response


def _default_phrase(status: int) -> str:
    from http import HTTPStatus

    return HTTPStatus(status).phrase


async def login_required(request: Request, exc: LoginRequired) -> Response:
    return RedirectResponse(login_url(request), status_code=303)


async def domain_error(request: Request, exc: DomainError) -> Response:
    status = 404 if isinstance(exc, NotFound) else 403 if isinstance(exc, PermissionDenied) else 409
    return error_page(request, status, exc.message)


async def upload_too_large(request: Request, exc: UploadTooLarge) -> Response:
    megabytes = exc.limit_bytes // (1024 * 1024)
    return error_page(request, 413, _("单个文件不能超过 %(mb)s MB。未保存任何内容，请压缩或拆分文件后重新提交。", mb=megabytes),
                      title=_("文件过大"))


async def body_too_large(request: Request, limit: int, upload: bool) -> Response:
    if upload:
        return await upload_too_large(request, UploadTooLarge(request.app.state.settings.max_upload_bytes))
    if limit >= 1024 * 1024:
        size = _("%(n)s MB", n=limit // (1024 * 1024))
    else:
        size = _("%(n)s KB", n=limit // 1024)
    return error_page(request, 413, _("提交的内容超过了此页面允许的大小（%(size)s），未保存任何内容。", size=size))


async def already_created(request: Request, exc: AlreadyCreated) -> Response:
    """The same create form posted again: show what the first post created."""
    flash(request, _("该表单已提交过，没有重复创建。以下是已创建的内容。"), "info")
    return redirect(exc.location)


async def bad_upload(request: Request, exc: BadUpload) -> Response:
    return error_page(request, 400, _("上传的数据不完整或格式有误，未保存任何内容，请重新提交。"))


async def server_error(request: Request, exc: Exception) -> Response:
    where = {"method": request.method, "path": request.url.path}
    if database_unavailable(exc):
        log.error("database unavailable on %s %s: %r", request.method, request.url.path, exc, extra=where)
        response = error_page(request, 503, _("系统暂时无法访问数据，您刚才的操作未能完成。请稍后重试。"))
        response.headers["Retry-After"] = "30"
    else:
        log.exception("unhandled error on %s %s", request.method, request.url.path, extra=where)
        response = error_page(request, 500, _("请稍后重试；如问题持续，请联系平台管理员。"))
    # A 500 is answered outside the middleware stack: add the security headers here.
    for name, value in SecurityHeadersMiddleware.HEADERS:
        response.headers[name.decode()] = value.decode()
    return response


async def client_gone(request: Request, exc: ClientDisconnect) -> Response:
    """The client left mid-request (a cancelled upload): nobody reads this, and it is no server error."""
    return Response(status_code=400)


async def csrf_rejected(request: Request) -> Response:
    return error_page(request, 403, _("页面已过期或来源无法验证，请返回上一页刷新后重试。"))


async def healthz(request: Request) -> Response:
    from tortoise import connections

    try:
        connection = connections.get("default")
        await connection.execute_query("SELECT 1")
    except Exception as error:  # noqa: BLE001 - any failure means "not healthy"
        return JSONResponse({"status": "error", "database": str(error)[:200]}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


async def mail_delivery_loop(settings: Settings, interval: float = 60.0) -> None:
    """Retry what the after-response delivery missed. Safe on many servers: rows are claimed."""
    while True:
        await asyncio.sleep(interval)
        try:
            await mail_services.deliver_pending(settings)
        except Exception:  # noqa: BLE001 - keep the loop alive; the next round retries
            log.exception("periodic mail delivery failed")


async def sweep_unfinished_uploads(storage) -> None:
    """Remove what uploads cut off by a killed process left behind (local: that process's folder;
    S3: multipart uploads older than a day, which no live request still writes)."""
    try:
        removed = await storage.sweep_unfinished(timedelta(hours=24))
    except Exception:  # noqa: BLE001 - a sweep that fails must not keep the server from starting
        log.exception("sweeping unfinished uploads failed")
        return
    if removed:
        log.warning("removed %d unfinished upload(s) left by a stopped process", removed)


def create_app(settings: Settings | None = None, *, manage_orm: bool = True) -> Starlette:
    """Build the app. `manage_orm=False` leaves the ORM to the caller (the tests' context)."""
    settings = settings or load_settings()
    passwords.configure(time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib)
    mail_services.configure(base_url=settings.base_url)
    follow_services.configure(secret=settings.secret_key)
    audit_services.configure(key=settings.audit_key)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        if not manage_orm:
            yield
            return
        async with RegisterTortoise(app, config=db.tortoise_config(settings)):
            await sweep_unfinished_uploads(app.state.storage)
            delivery = asyncio.create_task(mail_delivery_loop(settings))
            try:
                yield
            finally:
                delivery.cancel()
                await app.state.storage.close()

    routes = [
        Route("/healthz", healthz, name="healthz"),
        *pages.routes,
        *accounts.routes,
        Mount("/needs", routes=needs.routes, name="needs"),
        Mount("/challenges", routes=challenges.routes, name="challenges"),
        Mount("/bids", routes=bids.routes, name="bids"),
        Mount("/review", routes=reviews.routes, name="reviews"),
        Mount("/results", routes=results.routes, name="results"),
        Mount("/delivery", routes=delivery.routes, name="delivery"),
        Mount("/supply", routes=supply.routes, name="supply"),
        Route("/catalogue", promotion.index, name="catalogue"),
        Mount("/catalogue", routes=promotion.routes, name="promotion"),
        Mount("/admin", routes=admin.routes, name="admin"),
        Mount("/follow", routes=follow.routes, name="follow"),
        Mount("/api/v1", routes=[*api.routes, *promotion_api.routes], name="api"),
        Mount("/static", app=StaticFiles(directory=str(STATIC_DIR)), name="static"),
    ]
    middleware = [
        Middleware(SecurityHeadersMiddleware),
        Middleware(
            SessionMiddleware,
            secret_key=settings.secret_key,
            session_cookie="challenge_session",
            max_age=settings.session_max_age,
            same_site="lax",
            https_only=settings.secure_cookies,
        ),
        Middleware(AuthMiddleware),
        Middleware(NoStoreMiddleware),
        Middleware(MethodNotAllowedMiddleware, reject=method_not_allowed),
        Middleware(BodyLimitMiddleware, reject=body_too_large),
        Middleware(CSRFMiddleware, reject=csrf_rejected, exempt=follow.CSRF_EXEMPT),
        Middleware(DeliverMailAfterResponse, settings=settings),
        Middleware(BumpDataVersion),
    ]
    app = Starlette(
        debug=False,
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={
            HTTPException: http_exception,
            LoginRequired: login_required,
            DomainError: domain_error,
            UploadTooLarge: upload_too_large,
            AlreadyCreated: already_created,
            BadUpload: bad_upload,
            ClientDisconnect: client_gone,
            Exception: server_error,
        },
    )
    app.state.settings = settings
    app.state.storage = make_storage(settings)
    return app
