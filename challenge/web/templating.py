"""The one Jinja environment, its filters, and `render()` that every handler uses."""

import secrets
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from challenge.settings import TEMPLATES_DIR
from challenge.web import timefmt
from challenge.web.numfmt import format_size, format_wan
from challenge.web.flash import pop_flashes
from challenge.web.i18n import LOCALES, get_locale, gettext, ngettext
from challenge.web.pagecache import CSRF_PLACEHOLDER
from challenge.web.pagination import page_url
from challenge.web.security import csrf_token


def _context(request: Request) -> dict[str, Any]:
    settings = request.app.state.settings
    # Error pages rendered outside the middleware stack have no session.
    has_session = "session" in request.scope
    return {
        "current_user": getattr(request.state, "user", None),
        "unread": getattr(request.state, "unread", 0),
        "flashes": pop_flashes(request) if has_session else [],
        # A page cached for every visitor holds a placeholder, replaced per visitor (web.pagecache).
        "csrf_token": (CSRF_PLACEHOLDER if getattr(request.state, "csrf_placeholder", False)
                       else csrf_token(request.session) if has_session else ""),
        "locale": get_locale(),
        "locales": LOCALES,
        "settings": settings,
        "oidc_enabled": bool(settings.oidc_issuer and settings.oidc_client_id),
        "page_url": lambda number: page_url(dict(request.query_params), number),
        "new_form_token": lambda: secrets.token_urlsafe(24),
    }


def make_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(gettext, ngettext, newstyle=True)
    env.filters.update(
        dt=timefmt.format_datetime,
        date=timefmt.format_date,
        dt_input=timefmt.input_value,
        iso=timefmt.iso,
        wan=format_wan,
        filesize=format_size,
    )
    return env


templates = Jinja2Templates(env=make_environment(), context_processors=[_context])


def render(request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200) -> Response:
    return templates.TemplateResponse(request, name, context or {}, status_code=status_code)
