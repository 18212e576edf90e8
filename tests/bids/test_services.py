"""Bid services: the state machine, drafts and submissions, versions and receipts, totals."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest

from challenge.accounts.models import Role
from challenge.audit.models import AuditEntry
from challenge.audit.services import verify_chain
from challenge.bids import services
from challenge.bids.forms import BudgetInput, PartnerInput
from challenge.bids.models import (
    BID_TRANSITIONS,
    Bid,
    BidMessage,
    BidPartner,
    BidStatus,
    BidVersion,
    ImmutableVersion,
    TeamMember,
)
from challenge.challenges.models import Challenge
from challenge.errors import DomainError, InvalidTransition, PermissionDenied
from challenge.files.models import Attachment, Blob
from challenge.mail.models import Notification, OutboxMessage
from challenge.web.timefmt import now_utc
from factories import make_challenge, make_org, make_organiser, make_user
from factories.bids import full_content, make_bidder, make_draft, make_submitted, proposal_upload, storage_of
from factories.uploads import stored_files


async def test_start_bid_once_per_organisation(db):
    challenge = await make_challenge()
    bidder = await make_bidder()
    colleague = await make_user(Role.BIDDER, organisation=bidder.organisation)
    await colleague.fetch_related("organisation")
    first, created = await services.start_bid(challenge=challenge, actor=bidder)
    second, created_again = await services.start_bid(challenge=challenge, actor=colleague)
    assert created and not created_again and first.id == second.id
    assert await Bid.filter(challenge_id=challenge.id).count() == 1
    assert await AuditEntry.filter(action="bid.create", object_id=str(first.id)).count() == 1


async def test_start_bid_refused_outside_window_and_for_unapproved_org(db):
    closed = await make_challenge(closes_at=now_utc() - timedelta(seconds=1))
    bidder = await make_bidder()
    with pytest.raises(services.WindowClosed):
        await services.start_bid(challenge=closed, actor=bidder)
    pending = await make_bidder(status="pending")
    with pytest.raises(PermissionDenied):
        await services.start_bid(challenge=await make_challenge(), actor=pending)
    assert await Bid.all().count() == 0


async def test_submit_creates_version_receipt_and_notifies(db, settings):
    bid, bidder, version = await make_submitted(settings)
    assert bid.status == BidStatus.SUBMITTED and bid.current_version == 1 and version.version == 1
    assert bid.submitted_at is not None and not bid.has_unsubmitted_changes
    assert services.verify_version(version)
    entry = await AuditEntry.get(action="bid.submit", object_id=str(bid.id))
    assert entry.after["sha256"] == version.sha256 and entry.before["status"] == "draft"
    note = await Notification.get(user_id=bidder.id, subject__contains="申报已提交")
    assert note.link == f"/bids/{bid.id}/receipt/1"
    assert await OutboxMessage.filter(to_address=bidder.email, body__contains=version.sha256).exists()
    assert (await verify_chain()).ok


async def test_receipt_hash_is_reproducible_from_content(db, settings):
    bid, _bidder, version = await make_submitted(settings)
    document = json.loads(version.document)
    # The same content gives the same bytes and the same hash, whatever the key order.
    shuffled = json.loads(json.dumps(document, sort_keys=False))
    assert services.document_sha256(services.canonical_json(shuffled)) == version.sha256
    # And the snapshot of the working copy, taken again now, is exactly what was frozen.
    copy = await services.working_copy(await Bid.get(id=bid.id))
    assert services.snapshot(copy) == document["content"]
    again = services.version_document(bid=bid, version=1, submitted_at=version.submitted_at, content=services.snapshot(copy))
    assert services.document_sha256(services.canonical_json(again)) == version.sha256
    # Attachments are in the receipt by their SHA-256.
    blob = await Blob.get(id=document["content"]["attachments"][0]["blob_id"])
    assert document["content"]["attachments"][0]["sha256"] == blob.sha256
    # A changed byte is detected.
    version.document = version.document.replace("联合攻关方案", "联合攻关方案X")
    assert not services.verify_version(version)


async def test_versions_are_immutable(db, settings):
    _bid, _bidder, version = await make_submitted(settings)
    row = await BidVersion.get(id=version.id)
    row.sha256 = "0" * 64
    with pytest.raises(ImmutableVersion):
        await row.save()
    with pytest.raises(ImmutableVersion):
        await row.delete()
    assert (await BidVersion.get(id=version.id)).sha256 == version.sha256


async def test_revise_withdraw_and_submit_again(db, settings):
    bid, bidder, first = await make_submitted(settings)
    challenge = await Challenge.get(id=bid.challenge_id)
    content = await full_content(challenge, title="修订后的方案")
    second = await services.submit_bid(bid=bid, actor=bidder, content=content, storage=storage_of(settings))
    assert second.version == 2 and json.loads(first.document)["content"]["title"] == "联合攻关方案"
    assert json.loads(second.document)["content"]["title"] == "修订后的方案"
    await services.withdraw_bid(bid=bid, actor=bidder, reason="调整联合体")
    bid = await Bid.get(id=bid.id)
    assert bid.status == BidStatus.WITHDRAWN and bid.status_reason == "调整联合体"
    third = await services.submit_bid(bid=bid, actor=bidder)
    bid = await Bid.get(id=bid.id)
    assert third.version == 3 and bid.status == BidStatus.SUBMITTED and bid.current_version == 3
    actions = await AuditEntry.filter(object_type="bid", object_id=str(bid.id)).order_by("seq").values_list("action", flat=True)
    assert actions == ["bid.create", "bid.submit", "bid.revise", "bid.withdraw", "bid.resubmit"]


async def test_draft_save_after_submission_marks_changes_but_keeps_version(db, settings):
    bid, bidder, _version = await make_submitted(settings)
    challenge = await Challenge.get(id=bid.challenge_id)
    await services.save_draft(bid=bid, actor=bidder, content=await full_content(challenge, title="草稿修改"))
    bid = await Bid.get(id=bid.id)
    assert bid.status == BidStatus.SUBMITTED and bid.current_version == 1 and bid.has_unsubmitted_changes
    assert bid.title == "草稿修改"


async def test_withdraw_only_when_submitted_and_window_open(db, settings):
    bid, bidder = await make_draft()
    with pytest.raises(InvalidTransition):
        await services.withdraw_bid(bid=bid, actor=bidder)
    bid, bidder, _version = await make_submitted(settings)
    await Challenge.filter(id=bid.challenge_id).update(closes_at=now_utc() - timedelta(seconds=1))
    with pytest.raises(services.WindowClosed):
        await services.withdraw_bid(bid=bid, actor=bidder)
    assert (await Bid.get(id=bid.id)).status == BidStatus.SUBMITTED


async def test_formal_check_pass_and_fail(db, settings):
    organiser = await make_organiser()
    bid, bidder, _version = await make_submitted(settings)
    with pytest.raises(DomainError) as refusal:
        await services.formal_check(bid=bid, actor=organiser, passed=False, reason="  ")
    assert refusal.value.field == "reason"
    with pytest.raises(PermissionDenied):
        await services.formal_check(bid=bid, actor=bidder, passed=True)
    await services.formal_check(bid=bid, actor=organiser, passed=False, reason="缺少承诺函盖章页")
    bid = await Bid.get(id=bid.id)
    assert bid.status == BidStatus.FORMAL_FAILED and bid.status_reason == "缺少承诺函盖章页"
    assert bid.formal_checked_by_id == organiser.id and bid.formal_checked_at is not None
    message = await BidMessage.get(bid_id=bid.id)
    assert message.body == "缺少承诺函盖章页" and message.status == BidStatus.FORMAL_FAILED
    assert await Notification.filter(user_id=bidder.id, subject__contains="形式审查未通过").exists()
    # The bidder may fix it and submit again while the window is open.
    version = await services.submit_bid(bid=bid, actor=bidder)
    assert version.version == 2
    await services.formal_check(bid=await Bid.get(id=bid.id), actor=organiser, passed=True)
    bid = await Bid.get(id=bid.id)
    assert bid.status == BidStatus.IN_REVIEW and bid.status_reason == ""
    assert await AuditEntry.filter(action="bid.formal_pass", object_id=str(bid.id)).exists()
    # In review: neither the bidder nor a second check may change it.
    with pytest.raises(InvalidTransition):
        await services.formal_check(bid=bid, actor=organiser, passed=False, reason="再审")
    with pytest.raises(InvalidTransition):
        await services.submit_bid(bid=bid, actor=bidder)
    with pytest.raises(InvalidTransition):
        await services.save_draft(bid=bid, actor=bidder, content=await full_content(await Challenge.get(id=bid.challenge_id)))


@pytest.mark.parametrize("start", list(BidStatus))
async def test_set_bid_status_allows_only_listed_transitions(db, start):
    organiser = await make_organiser()
    challenge = await make_challenge(targets=0, criteria=())
    for target in BidStatus:
        bid = await Bid.create(challenge=challenge, lead_org=await make_org(), status=start)
        allowed = target in BID_TRANSITIONS[start]
        if allowed:
            await services.set_bid_status(bid=bid, status=target, actor=organiser)
            assert (await Bid.get(id=bid.id)).status == target
        else:
            with pytest.raises(InvalidTransition):
                await services.set_bid_status(bid=bid, status=target, actor=organiser)
            assert (await Bid.get(id=bid.id)).status == start


async def test_status_change_to_submitted_or_withdrawn_needs_open_window(db):
    organiser = await make_organiser()
    challenge = await make_challenge(closes_at=now_utc() - timedelta(seconds=1))
    bid = await Bid.create(challenge=challenge, lead_org=await make_org(), status=BidStatus.SUBMITTED)
    with pytest.raises(services.WindowClosed):
        await services.set_bid_status(bid=bid, status=BidStatus.WITHDRAWN, actor=organiser)
    await services.set_bid_status(bid=bid, status=BidStatus.IN_REVIEW, actor=organiser)
    assert (await Bid.get(id=bid.id)).status == BidStatus.IN_REVIEW


async def test_submission_problems_are_named_and_draft_is_kept(db, settings):
    challenge = await make_challenge(targets=2, funding_wan=Decimal("100"))
    bid, bidder = await make_draft(challenge=challenge)
    content = await full_content(challenge, requested="150")
    content.commitments.popitem()
    content.commitment_accepted = False
    content.members = []
    with pytest.raises(services.SubmissionIncomplete) as refusal:
        await services.submit_bid(bid=bid, actor=bidder, content=content, storage=storage_of(settings))
    errors = refusal.value.errors
    assert refusal.value.draft_saved
    assert set(errors) >= {"commitment_accepted", "members", "budget_total", "file-proposal"}
    assert any(key.startswith("target-") for key in errors)
    assert "150" in errors["budget_total"] and "100" in errors["budget_total"]
    bid = await Bid.get(id=bid.id)
    assert bid.status == BidStatus.DRAFT and bid.current_version == 0 and bid.title == "联合攻关方案"
    assert await BidVersion.filter(bid_id=bid.id).count() == 0


def test_budget_totals_are_computed():
    totals = services.budget_totals([BudgetInput("a", Decimal("1.1"), Decimal("2")),
                                     BudgetInput("b", Decimal("0"), Decimal("3.35"))])
    assert totals.own == Decimal("1.10") and totals.requested == Decimal("5.35") and totals.total == Decimal("6.45")
    assert services.budget_totals([]).total == 0


async def test_partners_resolved_and_checked(db, settings):
    challenge = await make_challenge()
    bid, bidder = await make_draft(challenge=challenge)
    registered = await make_org(name="宝武某公司")
    content = await full_content(challenge, partners=[
        PartnerInput(organisation_id=registered.id),
        # Entered by hand with the credit code of a registered organisation: linked to it.
        PartnerInput(name="别名", org_type="enterprise", credit_code=(await make_org()).credit_code),
    ])
    content.members[0].email = bidder.email
    await services.save_draft(bid=bid, actor=bidder, content=content)
    partners = await BidPartner.filter(bid_id=bid.id).order_by("position")
    assert partners[0].name == "宝武某公司" and partners[1].organisation_id is not None
    assert await services.consortium_org_ids(bid) == {bid.lead_org_id, partners[0].organisation_id, partners[1].organisation_id}
    assert await services.member_user_ids(bid) == {bidder.id}
    assert (await TeamMember.get(bid_id=bid.id)).user_id == bidder.id
    for bad, key in [
        ([PartnerInput(organisation_id=bidder.organisation_id)], "partner-0"),  # the lead itself
        ([PartnerInput(name="x", org_type="enterprise", credit_code=bidder.organisation.credit_code)], "partner-0"),
        ([PartnerInput(organisation_id=registered.id), PartnerInput(organisation_id=registered.id)], "partner-1"),
        ([PartnerInput(organisation_id=999999)], "partner-0-organisation_id"),
    ]:
        content.partners = bad
        with pytest.raises(DomainError) as refusal:
            await services.save_draft(bid=bid, actor=bidder, content=content)
        assert key in refusal.value.errors, (bad, refusal.value.errors)
    assert await BidPartner.filter(bid_id=bid.id).count() == 2


async def test_other_organisation_cannot_save_or_submit(db, settings):
    bid, _bidder = await make_draft()
    other = await make_bidder()
    challenge = await Challenge.get(id=bid.challenge_id)
    with pytest.raises(PermissionDenied):
        await services.save_draft(bid=bid, actor=other, content=await full_content(challenge))
    with pytest.raises(PermissionDenied):
        await services.submit_bid(bid=bid, actor=other)
    assert (await Bid.get(id=bid.id)).title == ""


async def test_attachment_limits_per_category(db, settings):
    challenge = await make_challenge()
    bid, bidder = await make_draft(challenge=challenge)
    storage = storage_of(settings)
    uploads = [await proposal_upload(storage, name=f"p{i}.pdf") for i in range(4)]
    with pytest.raises(DomainError) as refusal:
        await services.add_attachments(bid=bid, actor=bidder, uploads=uploads, storage=storage)
    assert "file-proposal" in refusal.value.errors
    # The refused uploads were discarded: nothing is left in storage.
    assert not stored_files(settings.upload_dir)
    uploads = [await proposal_upload(storage, name=f"p{i}.pdf") for i in range(3)]
    await services.add_attachments(bid=bid, actor=bidder, uploads=uploads, storage=storage)
    assert await Attachment.filter(owner_type="bid", owner_id=bid.id).count() == 3
    with pytest.raises(DomainError):
        await services.add_attachments(bid=bid, actor=bidder, uploads=[await proposal_upload(storage)], storage=storage)
    assert await Attachment.filter(owner_type="bid", owner_id=bid.id).count() == 3


async def test_verify_all_versions_finds_a_tampered_document(db, settings):
    bid, bidder, first = await make_submitted(settings)
    await services.submit_bid(bid=bid, actor=bidder)
    assert await services.verify_all_versions(batch=1) == (2, [])
    # A direct database edit (outside the model, which refuses it) is detected.
    await BidVersion.filter(id=first.id).update(document=first.document.replace("张三", "李四"))
    checked, broken = await services.verify_all_versions()
    assert checked == 2 and [v.id for v in broken] == [first.id]
