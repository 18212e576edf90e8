from starlette.requests import Request


def flash(request: Request, message: str, category: str = "success") -> None:
    # Assign a new list: the session notices assignments, not changes inside a stored list.
    request.session["_flashes"] = [*request.session.get("_flashes", []), [category, str(message)]]


def pop_flashes(request: Request) -> list[tuple[str, str]]:
    if "_flashes" not in request.session:
        return []
    return [tuple(item) for item in request.session.pop("_flashes")]
