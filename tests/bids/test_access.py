"""Who may reach which bid page: anonymous, wrong role, another organisation, forged ids."""

import pytest

from challenge.accounts.models import Role
from challenge.bids.models import Bid, BidStatus, BidVersion
from challenge.files.models import Attachment
from factories import make_organiser, make_user
from factories.bids import make_bidder, make_submitted

GET_PAGES = [
    "/bids/", "/bids/new?challenge_id={c}", "/bids/{b}", "/bids/{b}/edit", "/bids/{b}/receipt/1",
    "/bids/{b}/receipt/1.json", "/bids/{b}/attachments/{a}", "/bids/{b}/versions/1/files/{blob}",
    "/bids/manage", "/bids/manage?challenge_id={c}", "/bids/manage/export?challenge_id={c}",
    "/bids/manage/attachments.zip?challenge_id={c}", "/bids/challenge/{c}",
]
POSTS = ["/bids/{b}/edit", "/bids/{b}/submit", "/bids/{b}/withdraw", "/bids/{b}/formal-check",
         "/bids/new?challenge_id={c}"]
BIDDER_OWN_PAGES = ["/bids/{b}", "/bids/{b}/edit", "/bids/{b}/receipt/1", "/bids/{b}/receipt/1.json",
                    "/bids/{b}/attachments/{a}", "/bids/{b}/versions/1/files/{blob}"]
ORGANISER_ONLY = ["/bids/manage", "/bids/manage?challenge_id={c}", "/bids/manage/export?challenge_id={c}",
                  "/bids/manage/attachments.zip?challenge_id={c}", "/bids/challenge/{c}"]


@pytest.fixture
async def world(db, settings):
    bid, bidder, version = await make_submitted(settings)
    attachment = await Attachment.get(owner_type="bid", owner_id=bid.id)
    ids = {"b": bid.id, "c": bid.challenge_id, "a": attachment.id, "blob": attachment.blob_id}
    return {"bid": bid, "bidder": bidder, "version": version, "ids": ids}


async def _snapshot(bid_id):
    bid = await Bid.get(id=bid_id)
    return (bid.status, bid.current_version, bid.title, await BidVersion.filter(bid_id=bid_id).count(),
            await Attachment.filter(owner_type="bid", owner_id=bid_id).count())


async def test_anonymous_is_sent_to_sign_in(client, world):
    for path in GET_PAGES:
        url = path.format(**world["ids"])
        response = await client.get(url)
        assert response.status_code == 303, url
        assert response.headers["location"].startswith("/login?next=/bids"), url


async def test_anonymous_posts_are_refused(client, world):
    before = await _snapshot(world["bid"].id)
    await client.get("/login")
    for path in POSTS:
        response = await client.submit(path.format(**world["ids"]), {"decision": "pass"})
        assert response.status_code == 303 and response.headers["location"].startswith("/login"), path
    assert await _snapshot(world["bid"].id) == before


@pytest.mark.parametrize("role", [Role.SUBMITTER, Role.EXPERT])
async def test_wrong_role_gets_403(client, world, role):
    user = await make_user(role)
    await client.login(user.email)
    before = await _snapshot(world["bid"].id)
    for path in GET_PAGES:
        response = await client.get(path.format(**world["ids"]))
        assert response.status_code == 403, path
        assert "没有权限" in response.text
    for path in POSTS:
        response = await client.submit(path.format(**world["ids"]), {"decision": "pass"})
        assert response.status_code == 403, path
    assert await _snapshot(world["bid"].id) == before


async def test_bidder_cannot_use_organiser_pages(client, world):
    await client.login(world["bidder"].email)
    for path in ORGANISER_ONLY:
        assert (await client.get(path.format(**world["ids"]))).status_code == 403, path
    before = await _snapshot(world["bid"].id)
    response = await client.submit(f"/bids/{world['bid'].id}/formal-check", {"decision": "pass"})
    assert response.status_code == 403
    assert await _snapshot(world["bid"].id) == before


async def test_other_organisation_gets_404_and_changes_nothing(client, world):
    other = await make_bidder()
    await client.login(other.email)
    before = await _snapshot(world["bid"].id)
    for path in BIDDER_OWN_PAGES:
        response = await client.get(path.format(**world["ids"]))
        assert response.status_code == 404, path
        assert world["bid"].title not in response.text
    b = world["bid"].id
    for path, data in [(f"/bids/{b}/edit", {"title": "篡改", "intent": "submit"}), (f"/bids/{b}/submit", {}),
                       (f"/bids/{b}/withdraw", {"reason": "x"})]:
        response = await client.submit(path, data)
        assert response.status_code == 404, path
    response = await client.submit(f"/bids/{b}/attachments", {"category": "other"},
                                   files={"file": ("x.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")})
    assert response.status_code == 404
    assert await _snapshot(world["bid"].id) == before
    assert (await Bid.get(id=b)).status == BidStatus.SUBMITTED


async def test_forged_ids_are_404(client, world):
    await client.login(world["bidder"].email)
    b = world["bid"].id
    for path in [f"/bids/{b + 999}", f"/bids/{b + 999}/edit", f"/bids/{b}/receipt/9", f"/bids/{b}/receipt/9.json",
                 f"/bids/{b}/attachments/999999", f"/bids/{b}/versions/1/files/999999",
                 f"/bids/{b}/versions/9/files/{world['ids']['blob']}", "/bids/new?challenge_id=999999",
                 "/bids/new?challenge_id=abc", "/bids/new"]:
        assert (await client.get(path)).status_code == 404, path
    organiser = await make_organiser()
    await client.login(organiser.email)
    assert (await client.get("/bids/manage?challenge_id=999999")).status_code == 404
    assert (await client.submit(f"/bids/{b + 999}/formal-check", {"decision": "pass"})).status_code == 404


async def test_unapproved_organisation_bidder_is_refused(client, world):
    pending = await make_bidder(status="pending")
    await client.login(pending.email)
    response = await client.get(f"/bids/new?challenge_id={world['ids']['c']}")
    assert response.status_code == 403 and "尚未通过审核" in response.text
    page = await client.get("/bids/")
    assert page.status_code == 200 and "尚未通过审核" in page.text and "我要揭榜" not in page.text


async def test_organiser_sees_bid_and_files_but_cannot_edit(client, world):
    organiser = await make_organiser()
    await client.login(organiser.email)
    ids = world["ids"]
    page = await client.get(f"/bids/{ids['b']}")
    assert page.status_code == 200 and world["version"].sha256 in page.text and "形式审查" in page.text
    assert (await client.get(f"/bids/{ids['b']}/versions/1/files/{ids['blob']}")).status_code == 200
    assert (await client.get(f"/bids/{ids['b']}/attachments/{ids['a']}")).status_code == 200
    assert (await client.get(f"/bids/{ids['b']}/edit")).status_code == 403
    assert (await client.get("/bids/")).headers["location"] == "/bids/manage"
