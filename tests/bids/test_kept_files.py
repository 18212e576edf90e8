"""Files chosen on a bid form that comes back with errors are kept: uploaded once, listed on the
re-rendered form with a way to drop them, attached once when the corrected form is posted."""

import re

from challenge.bids.models import Bid
from challenge.files.models import Attachment, Blob
from factories import make_challenge
from factories.bids import PDF, make_bidder

BAD = {"budget-0-item": "设备", "budget-0-own": "-5"}  # refused: an amount below zero
NO_FILE = {"file-other": ("", b"", "application/octet-stream")}
KEPT_RE = re.compile(r'name="kept_file" value="([^"]+)" checked>\s*<label for="kept-\d+">([^<]+) ')


async def test_a_refused_post_keeps_the_chosen_file_and_the_next_attaches_it_once(client):
    challenge = await make_challenge()
    bidder = await make_bidder()
    await client.login(bidder.email)
    url = f"/bids/new?challenge_id={challenge.id}"
    files = {"file-proposal": ("申报书.pdf", PDF, "application/pdf")}
    refused = await client.submit(url, {"title": "申报", "intent": "save", **BAD}, files=files)
    assert refused.status_code == 400
    assert "已保留的文件" in refused.text and "无须重新选择" in refused.text
    [(token, name)] = KEPT_RE.findall(refused.text)
    assert name == "申报书.pdf"
    assert await Blob.all().count() == 1 and not await Attachment.exists()

    # Refused again: the kept file stays listed, nothing is stored twice.
    again = await client.submit(url, {"title": "申报", "intent": "save", "kept_file": token, **BAD}, files=NO_FILE)
    assert again.status_code == 400 and KEPT_RE.findall(again.text) == [(token, name)]

    # Corrected, with the same file chosen again as well: one attachment.
    saved = await client.submit(url, {"title": "二氧化碳捕集申报", "intent": "save", "kept_file": token},
                                files=files)
    assert saved.status_code == 303
    bid = await Bid.get(challenge_id=challenge.id)
    attachments = await Attachment.filter(owner_type="bid", owner_id=bid.id)
    assert [(a.filename, a.category) for a in attachments] == [("申报书.pdf", "proposal")]
    assert await Blob.all().count() == 1


async def test_an_unticked_or_foreign_kept_file_is_not_attached(client, make_client):
    challenge = await make_challenge()
    bidder = await make_bidder()
    await client.login(bidder.email)
    url = f"/bids/new?challenge_id={challenge.id}"
    refused = await client.submit(url, {"title": "申报", **BAD}, files={"file-proposal": ("申报书.pdf", PDF, "application/pdf")})
    [(token, _name)] = KEPT_RE.findall(refused.text)
    # Another bidder cannot claim it with the token, and a forged token is ignored.
    other = make_client()
    stranger = await make_bidder()
    await other.login(stranger.email)
    response = await other.submit(f"/bids/new?challenge_id={challenge.id}",
                                  {"title": "他人的申报", "intent": "save", "kept_file": [token, "forged"]},
                                  files=NO_FILE)
    assert response.status_code == 303
    theirs = await Bid.get(challenge_id=challenge.id, lead_org_id=stranger.organisation_id)
    assert not await Attachment.filter(owner_type="bid", owner_id=theirs.id).exists()
    # Unticked: the form posts without it, and it is not attached.
    saved = await client.submit(url, {"title": "不要附件", "intent": "save"}, files=NO_FILE)
    assert saved.status_code == 303
    mine = await Bid.get(challenge_id=challenge.id, lead_org_id=bidder.organisation_id)
    assert not await Attachment.filter(owner_type="bid", owner_id=mine.id).exists()
