"""The catalogue in the open-data API: `/api/v1/catalogue` (JSON) and `/api/v1/catalogue.csv`.

Both serve the latest published version from its frozen document (the JSON is those exact bytes,
whose SHA-256 the `X-Content-SHA256` header and /catalogue/versions/{n} carry), so a client can
check what it got. Mounted at /api/v1 next to the rest of the open-data API."""

import json

from starlette.requests import Request
from starlette.routing import Route

from challenge.api.routes import cached_response
from challenge.promotion import catalogue, exports

EMPTY = {"version": 0, "published_at": None, "reason": "", "entries": []}


async def catalogue_json(request: Request):
    version = await catalogue.latest_version()
    if version is None:
        return cached_response(request, json.dumps(EMPTY).encode(), "application/json")
    return cached_response(request, version.document.encode("utf-8"), "application/json; charset=utf-8",
                           {"X-Content-SHA256": version.sha256, "X-Catalogue-Version": str(version.number)})


async def catalogue_csv(request: Request):
    version = await catalogue.latest_version()
    document = catalogue.content_of(version) if version else EMPTY
    return exports.csv(document)


routes = [
    Route("/catalogue", catalogue_json, name="catalogue"),
    Route("/catalogue.csv", catalogue_csv, name="catalogue_csv"),
]
