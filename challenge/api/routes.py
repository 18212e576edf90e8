"""/api/v1/: read-only open data for provincial portals and trading platforms to republish calls.

Public to anyone and the same for everyone (a signed-in organiser gets the public data too);
GET only, CORS for any origin, cached: an ETag over the body (If-None-Match answers 304) and a
short public Cache-Control.
"""

import csv
import hashlib
import io
import json

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from challenge.api import data, schemas
from challenge.challenges import forms, services
from challenge.web.pagination import page_number, paginate
from challenge.web.timefmt import now_utc

MAX_AGE = 60
CSV_LIMIT = 10_000  # rows of one CSV: far more than the platform will ever publish
CORS = {"Access-Control-Allow-Origin": "*", "Vary": "Accept-Encoding"}


def cached_response(request: Request, body: bytes, media_type: str, headers: dict | None = None) -> Response:
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    common = {**CORS, "ETag": etag, "Cache-Control": f"public, max-age={MAX_AGE}", **(headers or {})}
    if etag in [tag.strip() for tag in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=common)
    return Response(body, media_type=media_type, headers=common)


def _json(request: Request, payload) -> Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return cached_response(request, body, "application/json")


def _csv(request: Request, name: str, header: list[str], rows) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return cached_response(request, ("\ufeff" + out.getvalue()).encode(), "text/csv; charset=utf-8",
                   {"Content-Disposition": f'attachment; filename="{name}.csv"'})


def _page(page, items: list) -> dict:
    return {"items": items, "page": page.number, "per_page": page.per_page, "total": page.total, "pages": page.pages}


async def openapi(request: Request):
    return _json(request, schemas.openapi(request.app.state.settings.base_url.rstrip("/")))


async def _challenges(request: Request):
    filters, _errors = forms.parse_filters(request.query_params)  # as the list page: bad values ignored
    query = await services.filtered_challenges(filters, now=now_utc())
    return query.select_related("domain").prefetch_related("issuers")


async def challenge_list(request: Request):
    now = now_utc()
    page = await paginate(await _challenges(request), page_number(request.query_params.get("page")))
    return _json(request, _page(page, [data.challenge_row(c, now) for c in page.items]))


CHALLENGE_CSV = ["id", "number", "title", "mechanism", "status", "domain", "issuers", "funding_wan",
                 "delivery_months", "opens_at", "closes_at", "published_at", "version", "contact_name",
                 "contact_phone", "url"]


async def challenge_csv(request: Request):
    now = now_utc()
    rows = [data.challenge_row(c, now) for c in await (await _challenges(request)).limit(CSV_LIMIT)]
    base = request.app.state.settings.base_url.rstrip("/")
    return _csv(request, "challenges", CHALLENGE_CSV, (
        [*(r[k] for k in CHALLENGE_CSV[:6]), "；".join(i["name"] for i in r["issuers"]),
         *(r[k] for k in CHALLENGE_CSV[7:-1]), base + r["url"]] for r in rows))


async def challenge_detail(request: Request):
    challenge = await data.public_challenge(request.path_params["challenge_id"])
    if challenge is None:
        raise HTTPException(404)
    return _json(request, await data.challenge_detail(challenge, now_utc()))


async def notice_list(request: Request):
    page = await paginate(data.public_notices(), page_number(request.query_params.get("page")))
    return _json(request, _page(page, await data.notice_rows(page.items)))


NOTICE_CSV = ["id", "challenge_id", "challenge_number", "challenge_title", "kind", "stage", "status", "revision",
              "published_at", "period_ends_at", "announced_at", "teams", "url"]


async def notice_csv(request: Request):
    rows = await data.notice_rows(await data.public_notices().limit(CSV_LIMIT))
    base = request.app.state.settings.base_url.rstrip("/")
    return _csv(request, "notices", NOTICE_CSV, (
        [*(r[k] for k in NOTICE_CSV[:-2]),
         "；".join(t["lead_organisation"] + "".join(f"、{p}" for p in t["partners"]) for t in r["teams"]),
         base + r["url"]] for r in rows))


routes = [
    Route("/openapi.json", openapi, name="openapi"),
    Route("/challenges", challenge_list, name="challenges"),
    Route("/challenges.csv", challenge_csv, name="challenges_csv"),
    Route("/challenges/{challenge_id:int}", challenge_detail, name="challenge"),
    Route("/notices", notice_list, name="notices"),
    Route("/notices.csv", notice_csv, name="notices_csv"),
]
