"""Two submissions of the same bid at the same moment, and submissions around the close.
Run on SQLite and (with CHALLENGE_TEST_DATABASE_URL) on PostgreSQL."""

import asyncio
import json
from datetime import timedelta

import pytest

from challenge.bids import services
from challenge.bids.forms import BudgetInput, MemberInput, PartnerInput
from challenge.bids.models import Bid, BidStatus, BidVersion
from challenge.challenges.models import AssessmentTarget, Challenge
from challenge.files.models import Attachment
from challenge.web.timefmt import now_utc
from factories import credit_code
from factories.bids import form_fields, full_content, make_draft, make_submitted, proposal_upload, storage_of, tiny_pdf
from factories.uploads import stored_files


def variant(content, tag: str):
    """A content whose every part carries `tag`, so a mixed snapshot would show."""
    content.title = f"方案{tag}"
    content.approach = f"路线{tag}"
    content.partners = [PartnerInput(name=f"单位{tag}{i}", org_type="enterprise", credit_code=credit_code())
                        for i in range(3)]
    content.members = [MemberInput(name=f"成员{tag}{i}") for i in range(4)]
    content.budget = [BudgetInput(item=f"科目{tag}{i}", own_wan=1, requested_wan=2) for i in range(3)]
    return content


def tags_in(document: dict) -> set[str]:
    content = document["content"]
    values = [content["title"][-1], content["approach"][-1]]
    values += [p["name"][-2] for p in content["partners"]]
    values += [m["name"][-2] for m in content["members"]]
    values += [b["item"][-2] for b in content["budget"]["items"]]
    return set(values)


async def test_two_simultaneous_submissions_give_two_consistent_versions(db, settings):
    bid, bidder = await make_draft()
    challenge = await Challenge.get(id=bid.challenge_id)
    storage = storage_of(settings)
    a = variant(await full_content(challenge), "甲")
    b = variant(await full_content(challenge), "乙")
    results = await asyncio.gather(
        services.submit_bid(bid=bid, actor=bidder, content=a, uploads=[await proposal_upload(storage)], storage=storage),
        services.submit_bid(bid=bid, actor=bidder, content=b, uploads=[await proposal_upload(storage)], storage=storage),
    )
    assert sorted(v.version for v in results) == [1, 2]
    versions = await BidVersion.filter(bid_id=bid.id).order_by("version")
    assert [v.version for v in versions] == [1, 2]
    seen = []
    for version in versions:
        assert services.verify_version(version)
        tags = tags_in(json.loads(version.document))
        assert len(tags) == 1, f"version {version.version} mixes two submissions: {tags}"
        seen.append(tags.pop())
    assert sorted(seen) == ["乙", "甲"]
    # The second version includes the files of both requests, the first only its own.
    counts = [len(json.loads(v.document)["content"]["attachments"]) for v in versions]
    assert counts == [1, 2]
    final = await Bid.get(id=bid.id)
    assert final.current_version == 2 and final.status == BidStatus.SUBMITTED
    assert final.title == f"方案{seen[1]}"


async def test_many_simultaneous_revisions_number_without_gaps(db, settings):
    bid, bidder, _ = await make_submitted(settings)
    challenge = await Challenge.get(id=bid.challenge_id)
    contents = [variant(await full_content(challenge), tag) for tag in "丙丁戊己"]
    await asyncio.gather(*(services.submit_bid(bid=bid, actor=bidder, content=c) for c in contents))
    versions = await BidVersion.filter(bid_id=bid.id).order_by("version")
    assert [v.version for v in versions] == [1, 2, 3, 4, 5]
    assert all(len(tags_in(json.loads(v.document))) == 1 for v in versions[1:])


async def test_simultaneous_submit_and_withdraw_stay_consistent(db, settings):
    bid, bidder, _ = await make_submitted(settings)
    results = await asyncio.gather(services.submit_bid(bid=bid, actor=bidder),
                                   services.withdraw_bid(bid=bid, actor=bidder), return_exceptions=True)
    assert not [r for r in results if isinstance(r, Exception) and not isinstance(r, services.DomainError)]
    final = await Bid.get(id=bid.id)
    assert final.current_version == await BidVersion.filter(bid_id=bid.id).count()
    assert final.status in {BidStatus.SUBMITTED, BidStatus.WITHDRAWN}


async def test_submission_one_second_after_the_close_is_refused(db, settings):
    bid, bidder = await make_draft()
    challenge = await Challenge.get(id=bid.challenge_id)
    storage = storage_of(settings)
    content = await full_content(challenge)
    upload = await proposal_upload(storage)
    await Challenge.filter(id=challenge.id).update(closes_at=now_utc() - timedelta(seconds=1))
    with pytest.raises(services.WindowClosed) as refusal:
        await services.submit_bid(bid=bid, actor=bidder, content=content, uploads=[upload], storage=storage)
    assert "截止" in refusal.value.message
    bid = await Bid.get(id=bid.id)
    assert bid.status == BidStatus.DRAFT and bid.title == "" and bid.current_version == 0
    assert await BidVersion.filter(bid_id=bid.id).count() == 0
    assert await Attachment.filter(owner_type="bid", owner_id=bid.id).count() == 0
    assert not stored_files(settings.upload_dir)


async def test_the_close_is_exact_to_the_moment(db, settings):
    bid, bidder = await make_draft()
    challenge = await Challenge.get(id=bid.challenge_id)
    content = await full_content(challenge)
    storage = storage_of(settings)
    close = challenge.closes_at
    with pytest.raises(services.WindowClosed):
        await services.save_draft(bid=bid, actor=bidder, content=content, now=close)
    await services.submit_bid(bid=bid, actor=bidder, content=content, uploads=[await proposal_upload(storage)],
                              storage=storage, now=close - timedelta(microseconds=1))
    assert (await Bid.get(id=bid.id)).current_version == 1


async def test_http_submission_one_second_after_the_close_is_refused(client, settings):
    bid, bidder = await make_draft()
    await client.login(bidder.email)
    targets = await AssessmentTarget.filter(challenge_id=bid.challenge_id)
    await Challenge.filter(id=bid.challenge_id).update(closes_at=now_utc() - timedelta(seconds=1))
    response = await client.submit(f"/bids/{bid.id}/edit", form_fields(targets, title="迟交", action="submit"),
                                   files={"file-proposal": ("a.pdf", tiny_pdf("Late"), "application/pdf")})
    assert response.status_code == 409 and 'value="迟交"' in response.text
    assert (await Bid.get(id=bid.id)).current_version == 0


async def test_two_simultaneous_http_submissions(make_client, settings):
    bid, bidder = await make_draft()
    targets = await AssessmentTarget.filter(challenge_id=bid.challenge_id)
    first, second = make_client(), make_client()
    for http in (first, second):
        await http.login(bidder.email)
    files = {"file-proposal": ("a.pdf", tiny_pdf("Late"), "application/pdf")}
    responses = await asyncio.gather(
        first.submit(f"/bids/{bid.id}/edit", form_fields(targets, title="甲方案", action="submit"), files=files),
        second.submit(f"/bids/{bid.id}/edit", form_fields(targets, title="乙方案", action="submit"), files=files),
    )
    assert sorted(r.headers["location"] for r in responses) == [f"/bids/{bid.id}/receipt/1", f"/bids/{bid.id}/receipt/2"]
    titles = [json.loads(v.document)["content"]["title"] for v in await BidVersion.filter(bid_id=bid.id).order_by("version")]
    assert sorted(titles) == ["乙方案", "甲方案"]
