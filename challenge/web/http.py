from starlette.requests import Request
from starlette.responses import RedirectResponse


def redirect(url: str) -> RedirectResponse:
    """After a successful POST: 303, so a reload does not send the form again."""
    return RedirectResponse(url, status_code=303)


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def int_param(request: Request, name: str) -> int | None:
    """An integer query parameter, or None when absent or malformed (never a 500)."""
    raw = request.query_params.get(name, "").strip()
    try:
        return int(raw) if raw else None
    except ValueError:
        return None
