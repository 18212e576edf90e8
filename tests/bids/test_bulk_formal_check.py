"""The formal check of several bids at once: each through the single-bid rules (audit entry,
message and mail per bid), a bid the rules refuse is named while the others are checked, a bid of
another challenge is never touched, bad input comes back with its message, a replay does nothing."""

import re

from challenge.audit.models import AuditEntry
from challenge.bids.models import Bid, BidMessage, BidStatus
from challenge.mail.models import Notification
from factories import make_challenge, make_org, make_organiser
from factories.bids import make_bidder, make_submitted

TOKEN = re.compile(r'id="bulk-formal-check".*?name="form_token" value="([^"]+)"', re.S)


async def test_fail_several_with_one_reason(client, settings):
    challenge = await make_challenge(title="碳捕集榜单")
    bids, bidders = [], []
    for name in ("甲大学", "乙研究所", "丙公司"):
        bidder = await make_bidder(await make_org(name=name))
        bid, bidder, _ = await make_submitted(settings, challenge=challenge, bidder=bidder)
        bids.append(bid)
        bidders.append(bidder)
    await Bid.filter(id=bids[2].id).update(status=BidStatus.IN_REVIEW)  # checked meanwhile
    elsewhere, _, _ = await make_submitted(settings)
    await client.login((await make_organiser()).email)
    page = await client.get(f"/bids/manage?challenge_id={challenge.id}")
    assert f'action="/bids/challenge/{challenge.id}/formal-check"' in page.text
    assert f'name="bid_ids" value="{bids[0].id}"' in page.text
    assert f'name="bid_ids" value="{bids[2].id}"' not in page.text  # in review: nothing to check
    token = TOKEN.search(page.text).group(1)
    url = f"/bids/challenge/{challenge.id}/formal-check"

    ids = [("bid_ids", str(b.id)) for b in [*bids, elsewhere]]
    response = await client.submit(url, [("form_token", token), ("decision", "fail"), ("reason", ""), *ids])
    assert response.status_code == 400 and "不通过时请填写原因" in response.text
    assert await Bid.filter(status=BidStatus.FORMAL_FAILED).count() == 0

    fields = [("form_token", token), ("decision", "fail"), ("reason", "缺少资质证明"), *ids]
    response = await client.submit(url, fields)
    assert response.status_code == 303 and response.headers["location"] == f"/bids/manage?challenge_id={challenge.id}"
    assert [(await Bid.get(id=b.id)).status for b in bids] == [BidStatus.FORMAL_FAILED, BidStatus.FORMAL_FAILED,
                                                              BidStatus.IN_REVIEW]
    assert (await Bid.get(id=elsewhere.id)).status == BidStatus.SUBMITTED
    assert await AuditEntry.filter(action="bid.formal_fail", note="缺少资质证明").count() == 2
    assert await BidMessage.filter(body="缺少资质证明").count() == 2
    for bidder in bidders[:2]:
        assert await Notification.filter(user_id=bidder.id, subject__contains="形式审查未通过").exists()
    text = (await client.get(f"/bids/manage?challenge_id={challenge.id}")).text
    assert "已记录 2 项申报的形式审查结果" in text and bids[2].number in text and "1 项申报不属于该榜单或不存在" in text

    # Replayed: nothing happens again (pass would be allowed from formal_failed).
    fields[1] = ("decision", "pass")
    response = await client.submit(url, fields)
    assert response.status_code == 303
    assert (await Bid.get(id=bids[0].id)).status == BidStatus.FORMAL_FAILED
    assert await AuditEntry.filter(action="bid.formal_pass").count() == 0


async def test_only_organisers_check(client, settings):
    bid, bidder, _ = await make_submitted(settings)
    await client.login(bidder.email)
    response = await client.submit(f"/bids/challenge/{bid.challenge_id}/formal-check",
                                   {"decision": "pass", "bid_ids": str(bid.id)})
    assert response.status_code == 403
    assert (await Bid.get(id=bid.id)).status == BidStatus.SUBMITTED
