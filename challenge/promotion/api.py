"""The catalogue in the open-data API: `/api/v1/catalogue` (JSON) and `/api/v1/catalogue.csv`.

Both serve the latest published version from its frozen document (the JSON is those exact bytes,
whose SHA-256 the `X-Content-SHA256` header and /catalogue/versions/{n} carry), so a client can
check what it got. Mounted at /api/v1 next to the rest of the open-data API."""

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from challenge.promotion import catalogue, exports


async def catalogue_json(request: Request):
    version = await catalogue.latest_version()
    if version is None:
        return JSONResponse({"version": 0, "entries": []})
    return Response(version.document.encode("utf-8"), media_type="application/json; charset=utf-8",
                    headers={"X-Content-SHA256": version.sha256, "X-Catalogue-Version": str(version.number)})


async def catalogue_csv(request: Request):
    version = await catalogue.latest_version()
    document = catalogue.content_of(version) if version else {"version": 0, "entries": []}
    return exports.csv(document)


routes = [
    Route("/catalogue", catalogue_json, name="catalogue"),
    Route("/catalogue.csv", catalogue_csv, name="catalogue_csv"),
]
