from starlette.requests import Request


def flash(request: Request, message: str, category: str = "success") -> None:
    request.session.setdefault("_flashes", []).append([category, str(message)])


def pop_flashes(request: Request) -> list[tuple[str, str]]:
    if "_flashes" not in request.session:
        return []
    return [tuple(item) for item in request.session.pop("_flashes")]
