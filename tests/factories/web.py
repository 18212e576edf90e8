"""Helpers for whole-app web tests: every route of the app, and a snapshot of the whole database."""

import re

from starlette.routing import Mount, Route
from tortoise import Tortoise

PARAM = re.compile(r"{([^}:]+)(:[^}]+)?}")


def all_routes(routes, prefix: str = "", int_value: str = "1") -> list[tuple[str, set[str]]]:
    """(path with every parameter set to 1, methods) for each route, mounts included.
    `int_value` replaces the `{name:int}` parameters only (the others stay 1)."""
    found = []
    for route in routes:
        if isinstance(route, Mount):
            found += all_routes(route.routes or [], prefix + route.path, int_value)
        elif isinstance(route, Route):
            methods = set(route.methods) if route.methods is not None else {"GET", "POST", "PUT", "PATCH", "DELETE"}
            path = PARAM.sub(lambda m: int_value if m.group(2) == ":int" else "1", prefix + route.path)
            found.append((path, methods))
    return found


CONVERTOR = re.compile(r"{([^}:]+):[^}]+}")


def routes_with_methods(app, routes=None, prefix: str = "") -> list[tuple[str, str, Route]]:
    """(method, path template with plain {name} parameters, route) for every route and method but HEAD."""
    found = []
    for route in app.routes if routes is None else routes:
        if isinstance(route, Mount):
            found += routes_with_methods(app, route.routes or [], prefix + route.path)
        elif isinstance(route, Route):
            for method in sorted(set(route.methods or ()) - {"HEAD"}):
                found.append((method, CONVERTOR.sub(r"{\1}", prefix + route.path), route))
    return found


def post_paths(app) -> list[str]:
    return sorted({path for path, methods in all_routes(app.routes) if "POST" in methods})


def get_paths(app) -> list[str]:
    return sorted({path for path, methods in all_routes(app.routes) if "GET" in methods})


# The page cache's counter (challenge.web.pagecache): raised after any POST that may have written,
# a refused one with a 200 answer included (RFC 8058 unsubscribe); it records no data of its own.
CACHE_BOOKKEEPING = {"DataVersion"}


async def snapshot() -> dict[str, list[dict]]:
    """Every row of every table (the cache's counter aside), in primary-key order."""
    tables = {}
    for name, model in sorted(Tortoise.apps["models"].items()):
        if name in CACHE_BOOKKEEPING:
            continue
        rows = await model.all().order_by(model._meta.pk_attr).values()
        tables[name] = [{key: repr(value) for key, value in row.items()} for row in rows]
    return tables


def changed_tables(before: dict, after: dict) -> list[str]:
    return [name for name in before if before[name] != after.get(name)]
