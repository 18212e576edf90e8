from starlette.requests import Request
from starlette.responses import RedirectResponse

from challenge.web.convertors import MAX_INT


def redirect(url: str) -> RedirectResponse:
    """After a successful POST: 303, so a reload does not send the form again."""
    return RedirectResponse(url, status_code=303)


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def int_param(request: Request, name: str) -> int | None:
    """A positive integer query parameter (an id), or None when absent, malformed or out of
    any column's range (never a 500)."""
    raw = request.query_params.get(name, "").strip()
    try:
        value = int(raw) if raw else None
    except ValueError:
        return None
    return value if value is not None and 0 < value <= MAX_INT else None
