"""Public pages are rendered once per change of the data and served from the cache to anonymous
visitors only, each with his own CSRF token, with an ETag; any write makes them fresh."""

import re

from challenge.accounts.models import Role
from challenge.web.pagecache import CSRF_PLACEHOLDER
from factories import make_organiser, make_user
from factories.challenges import make_published
from querylog import count_queries

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


async def test_a_cached_page_costs_one_query_and_follows_every_change(client):
    await make_published(title="第一个公开榜单")
    first, page = await count_queries(client, "/challenges")
    again, cached = await count_queries(client, "/challenges")
    assert "第一个公开榜单" in page and first > 1
    assert again == 1 and cached == page  # only the data version is read
    await make_published(title="第二个公开榜单")  # a state change through the services: an audit entry
    assert "第二个公开榜单" in (await client.get("/challenges")).text


async def test_a_write_through_any_request_makes_the_pages_fresh(client, make_client):
    challenge = await make_published(title="有问题的榜单")
    assert "有问题的榜单" in (await client.get(f"/challenges/{challenge.id}")).text
    bidder = make_client()
    await bidder.login((await make_user(Role.BIDDER)).email)
    response = await bidder.submit(f"/challenges/{challenge.id}/questions", {"body": "请问中试规模是多少？"})
    assert response.status_code == 303
    _count, page = await count_queries(client, f"/challenges/{challenge.id}")
    assert _count > 1  # rendered again after the POST


async def test_each_visitor_gets_his_own_csrf_token_and_etag(client, make_client):
    await make_published()
    other = make_client()
    mine = await client.get("/challenges")
    theirs = await other.get("/challenges")
    token_mine, token_theirs = CSRF_RE.search(mine.text).group(1), CSRF_RE.search(theirs.text).group(1)
    assert token_mine != token_theirs and CSRF_PLACEHOLDER not in mine.text + theirs.text
    assert mine.headers["etag"] != theirs.headers["etag"]
    # The token works: the language switch of the cached page is accepted.
    assert (await client.post("/locale", data={"csrf_token": token_mine, "locale": "en"})).status_code == 303
    revalidated = await other.get("/challenges", headers={"if-none-match": theirs.headers["etag"]})
    assert revalidated.status_code == 304 and not revalidated.content


async def test_signed_in_people_and_other_languages_never_get_the_anonymous_copy(client, make_client):
    await make_published(title="公开榜单")
    anonymous = (await client.get("/challenges")).text
    visitor = make_client()
    token = CSRF_RE.search((await visitor.get("/challenges")).text).group(1)
    assert (await visitor.post("/locale", data={"csrf_token": token, "locale": "en"})).status_code == 303
    english = (await visitor.get("/challenges")).text
    assert 'lang="en"' in english and 'lang="en"' not in anonymous
    organiser = await make_organiser(name="管理员甲")
    await client.login(organiser.email)
    signed_in = await client.get("/challenges")
    assert "管理员甲" in signed_in.text and "管理员甲" not in anonymous
    assert "etag" not in signed_in.headers and "no-store" in signed_in.headers["cache-control"]
