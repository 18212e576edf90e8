"""Issue #8, defect 8: out-of-range integers, export headers, Cache-Control, 405 for DELETE/PUT."""

import csv
import io
import re

import pytest
from openpyxl import load_workbook

from challenge.accounts.models import Role
from challenge.web.convertors import INT32_REGEX, MAX_INT
from challenge.web.exports import export_response
from factories import make_bid, make_challenge, make_need, make_user
from factories.web import all_routes

HUGE = "99999999999999999999"


def test_the_path_convertor_matches_exactly_the_int32_range():
    pattern = re.compile(INT32_REGEX + r"\Z")
    for n in (0, 1, 9, 10, 999_999_999, 1_000_000_000, 1_999_999_999, 2_099_999_999, 2_147_483_599,
              MAX_INT - 1, MAX_INT):
        assert pattern.match(str(n)), n
    for n in (MAX_INT + 1, 2_147_483_650, 2_147_483_700, 2_147_490_000, 2_148_000_000, 2_200_000_000,
              3_000_000_000, 9_999_999_999, 10**10, int(HUGE)):
        assert not pattern.match(str(n)), n


async def test_every_int_path_parameter_of_the_app_is_bounded(app, client):
    """Each route with an id in its path: a number no column can hold is a 404, never a 500."""
    organiser = await make_user(Role.ORGANISER)
    await client.login(organiser.email)
    paths = sorted({path for path, methods in all_routes(app.routes, int_value=HUGE) if HUGE in path})
    assert "/challenges/" + HUGE in paths and len(paths) > 20
    failures = []
    for path in paths:
        response = await client.get(path)
        if response.status_code != 404:
            failures.append(f"{path}: {response.status_code}")
    assert failures == []


@pytest.mark.parametrize("url", [
    f"/challenges/{HUGE}",
    f"/challenges?domain={HUGE}",
    f"/challenges?domain=-{HUGE}",
    f"/challenges?page={HUGE}",
])
async def test_public_urls_with_huge_numbers_are_not_errors(client, url):
    await make_challenge()
    response = await client.get(url)
    assert response.status_code in {200, 400, 404}, response.text[:300]


@pytest.mark.parametrize("url", [
    f"/challenges/manage?domain={HUGE}",
    f"/challenges/manage/export?domain={HUGE}",
    f"/bids/manage?challenge_id={HUGE}",
    f"/bids/new?challenge_id={HUGE}",
    f"/needs/?domain={HUGE}&campaign={HUGE}",
    f"/admin/audit?object_id={HUGE}",
])
async def test_organiser_filters_with_huge_numbers_are_not_errors(client, url):
    organiser = await make_user(Role.ORGANISER, Role.BIDDER)
    await client.login(organiser.email)
    response = await client.get(url)
    assert response.status_code in {200, 400, 404}, response.text[:300]


async def test_a_huge_number_in_a_form_is_a_field_error(client):
    await make_challenge()
    response = await client.submit("/register", {"org_mode": "existing", "organisation_id": HUGE})
    assert response.status_code == 400
    assert "数值超出允许范围" in response.text


async def test_export_header_cells_are_formula_neutralised(db):
    header = ["编号", "=HYPERLINK(\"http://evil\",\"x\")", "+1", "-1", "@SUM(A1)"]
    response = await export_response("csv", "x", header, [[1, 2, 3, 4, 5]])
    body = b"".join([chunk async for chunk in response.body_iterator]).decode("utf-8-sig")
    first = next(csv.reader(io.StringIO(body)))
    assert first == ["编号", "'=HYPERLINK(\"http://evil\",\"x\")", "'+1", "'-1", "'@SUM(A1)"]
    response = await export_response("xlsx", "x", header, [[1, 2, 3, 4, 5]])
    content = b"".join([chunk async for chunk in response.body_iterator])
    await response.background()
    row = next(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    assert list(row) == first


async def test_private_pages_downloads_and_exports_are_not_stored(client):
    organiser = await make_user(Role.ORGANISER)
    await make_bid(challenge=await make_challenge())
    public = await client.get("/challenges")
    assert "no-store" not in public.headers.get("cache-control", "")
    await client.login(organiser.email)
    for url in ("/account", "/challenges", "/admin/", "/inbox", "/challenges/manage/export?format=csv",
                "/needs/export.xlsx", "/bids/manage?challenge_id=1"):
        response = await client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response.headers.get("cache-control", ""), url
    static = await client.get("/static/css/site.css")
    assert "no-store" not in static.headers.get("cache-control", "")


@pytest.mark.parametrize("method", ["DELETE", "PUT", "PATCH"])
async def test_other_methods_are_405_with_allow(client, method):
    submitter = await make_user(Role.SUBMITTER)
    need = await make_need(organisation=submitter.organisation)
    for path, allow in ((f"/needs/{need.id}", "GET, HEAD"), ("/login", "GET, HEAD, POST"), ("/logout", "POST")):
        response = await client.request(method, path)
        assert response.status_code == 405, (method, path, response.status_code)
        assert response.headers["allow"] == allow
        assert "不支持的请求方式" in response.text
    # A path no route has is still a 404... for anonymous POST-like methods CSRF answers first.
    assert (await client.get("/no-such-page")).status_code == 404
