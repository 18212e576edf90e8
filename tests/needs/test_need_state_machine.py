"""set_need_status: every allowed and every refused transition, its guards and its side effects."""

from datetime import timedelta

import pytest

from challenge.accounts.models import OrgStatus, Role
from challenge.audit.models import AuditEntry
from challenge.audit.services import verify_chain
from challenge.errors import DomainError, InvalidTransition, PermissionDenied
from challenge.mail.models import Notification, OutboxMessage
from challenge.needs import services
from challenge.needs.models import NEED_TRANSITIONS, CampaignStatus, Need, NeedStatus
from challenge.web.timefmt import now_utc
from factories import make_org, make_organiser, make_user
from factories.needs import make_campaign, make_complete_need, make_submitter

EXPECTED = {
    (NeedStatus.DRAFT, NeedStatus.SUBMITTED),
    (NeedStatus.RETURNED, NeedStatus.SUBMITTED),
    (NeedStatus.SUBMITTED, NeedStatus.RETURNED),
    (NeedStatus.SUBMITTED, NeedStatus.ACCEPTED),
    (NeedStatus.SUBMITTED, NeedStatus.REJECTED),
    (NeedStatus.SUBMITTED, NeedStatus.MERGED),
}
ALL_PAIRS = [(a, b) for a in NeedStatus for b in NeedStatus]


def test_transition_table_is_the_designed_one():
    assert {(a, b) for a, targets in NEED_TRANSITIONS.items() for b in targets} == EXPECTED


async def _setup(status: NeedStatus):
    submitter = await make_submitter()
    organiser = await make_organiser()
    campaign = await make_campaign()
    need = await make_complete_need(organisation=submitter.organisation, campaign=campaign, status=status)
    target = await make_complete_need(campaign=campaign, status=NeedStatus.SUBMITTED)
    await submitter.fetch_related("organisation")
    return submitter, organiser, need, target


def _actor_for(target_status, submitter, organiser):
    return submitter if target_status == NeedStatus.SUBMITTED else organiser


@pytest.mark.parametrize("source,target", [p for p in ALL_PAIRS if p in EXPECTED])
async def test_allowed_transition(db, source, target):
    submitter, organiser, need, other = await _setup(source)
    actor = _actor_for(target, submitter, organiser)
    await services.set_need_status(need=need, status=target, actor=actor, reason="理由：需补充指标",
                                   merge_into=other if target == NeedStatus.MERGED else None)
    fresh = await Need.get(id=need.id)
    assert fresh.status == target
    entry = await AuditEntry.filter(object_type="need", object_id=str(need.id)).order_by("-seq").first()
    assert entry.actor_id == actor.id
    assert entry.before == {"status": source.value}
    assert entry.after["status"] == target.value
    assert entry.note == "理由：需补充指标"
    if target == NeedStatus.MERGED:
        assert fresh.merged_into_id == other.id
        assert await AuditEntry.filter(action="need.absorb", object_id=str(other.id)).exists()
    if target == NeedStatus.SUBMITTED:
        assert fresh.submitted_at is not None
    assert (await verify_chain()).ok


@pytest.mark.parametrize("source,target", [p for p in ALL_PAIRS if p not in EXPECTED])
async def test_refused_transition_changes_nothing(db, source, target):
    submitter, organiser, need, other = await _setup(source)
    actor = _actor_for(target, submitter, organiser)
    before = await AuditEntry.all().count()
    with pytest.raises(InvalidTransition):
        await services.set_need_status(need=need, status=target, actor=actor, reason="理由",
                                       merge_into=other if target == NeedStatus.MERGED else None)
    assert (await Need.get(id=need.id)).status == source
    assert await AuditEntry.all().count() == before
    assert await Notification.all().count() == 0


@pytest.mark.parametrize("campaign_values", [
    {"status": CampaignStatus.CLOSED},
    {"status": CampaignStatus.DRAFT},
    {"closes_at": now_utc() - timedelta(minutes=1)},
    {"opens_at": now_utc() + timedelta(hours=1)},
], ids=["closed", "draft", "past-closing-time", "not-yet-open"])
async def test_submitting_outside_the_campaign_window_is_refused(db, campaign_values):
    submitter = await make_submitter()
    await submitter.fetch_related("organisation")
    campaign = await make_campaign(**campaign_values)
    need = await make_complete_need(organisation=submitter.organisation, campaign=campaign)
    with pytest.raises(DomainError) as caught:
        await services.set_need_status(need=need, status=NeedStatus.SUBMITTED, actor=submitter)
    assert "不在征集时间内" in caught.value.message
    assert (await Need.get(id=need.id)).status == NeedStatus.DRAFT
    assert not await AuditEntry.filter(action="need.submit").exists()


async def test_submit_checks_the_clock_at_the_moment_of_the_request(db):
    submitter = await make_submitter()
    campaign = await make_campaign(closes_at=now_utc() + timedelta(hours=1))
    need = await make_complete_need(organisation=submitter.organisation, campaign=campaign)
    with pytest.raises(DomainError):
        await services.set_need_status(need=need, status=NeedStatus.SUBMITTED, actor=submitter,
                                       now=now_utc() + timedelta(hours=1))
    await services.set_need_status(need=need, status=NeedStatus.SUBMITTED, actor=submitter,
                                   now=now_utc() + timedelta(minutes=59))
    assert (await Need.get(id=need.id)).status == NeedStatus.SUBMITTED


async def test_incomplete_need_cannot_be_submitted(db):
    submitter = await make_submitter()
    need = await make_complete_need(organisation=submitter.organisation, bottleneck="", contact_email="not-an-email",
                                    domain=None)
    with pytest.raises(DomainError) as caught:
        await services.set_need_status(need=need, status=NeedStatus.SUBMITTED, actor=submitter)
    assert set(caught.value.errors) == {"bottleneck", "contact_email", "domain_id"}
    assert (await Need.get(id=need.id)).status == NeedStatus.DRAFT


async def test_only_an_approved_submitter_of_the_organisation_submits(db):
    owner_org = await make_org()
    need = await make_complete_need(organisation=owner_org)
    outsider = await make_submitter()
    organiser = await make_organiser()
    bidder = await make_user(Role.BIDDER, organisation=owner_org)
    for actor in (outsider, organiser, bidder):
        with pytest.raises(PermissionDenied):
            await services.set_need_status(need=need, status=NeedStatus.SUBMITTED, actor=actor)
    insider = await make_submitter(organisation=owner_org)
    owner_org.status = OrgStatus.PENDING
    await owner_org.save()
    with pytest.raises(PermissionDenied):
        await services.set_need_status(need=need, status=NeedStatus.SUBMITTED, actor=insider)
    assert (await Need.get(id=need.id)).status == NeedStatus.DRAFT


@pytest.mark.parametrize("target", [NeedStatus.ACCEPTED, NeedStatus.RETURNED, NeedStatus.REJECTED])
async def test_only_organisers_screen(db, target):
    submitter = await make_submitter()
    need = await make_complete_need(organisation=submitter.organisation, status=NeedStatus.SUBMITTED)
    with pytest.raises(PermissionDenied):
        await services.set_need_status(need=need, status=target, actor=submitter, reason="自己采纳")
    assert (await Need.get(id=need.id)).status == NeedStatus.SUBMITTED


@pytest.mark.parametrize("target", [NeedStatus.RETURNED, NeedStatus.REJECTED])
async def test_return_and_reject_need_a_reason(db, target):
    organiser = await make_organiser()
    need = await make_complete_need(status=NeedStatus.SUBMITTED)
    with pytest.raises(DomainError) as caught:
        await services.set_need_status(need=need, status=target, actor=organiser, reason="   ")
    assert caught.value.field == "reason"
    assert (await Need.get(id=need.id)).status == NeedStatus.SUBMITTED


async def test_merge_guards(db):
    organiser = await make_organiser()
    campaign = await make_campaign()
    need = await make_complete_need(campaign=campaign, status=NeedStatus.SUBMITTED)
    elsewhere = await make_complete_need(status=NeedStatus.SUBMITTED)
    merged = await make_complete_need(campaign=campaign, status=NeedStatus.MERGED)
    rejected = await make_complete_need(campaign=campaign, status=NeedStatus.REJECTED)
    draft = await make_complete_need(campaign=campaign, status=NeedStatus.DRAFT)
    for target in (None, need, elsewhere, merged, rejected, draft):
        with pytest.raises(DomainError) as caught:
            await services.set_need_status(need=need, status=NeedStatus.MERGED, actor=organiser, merge_into=target)
        assert caught.value.field == "merge_into"
    fresh = await Need.get(id=need.id)
    assert fresh.status == NeedStatus.SUBMITTED and fresh.merged_into_id is None
    accepted = await make_complete_need(campaign=campaign, status=NeedStatus.ACCEPTED)
    await services.set_need_status(need=need, status=NeedStatus.MERGED, actor=organiser, merge_into=accepted)
    assert (await Need.get(id=need.id)).merged_into_id == accepted.id
    assert [n.id for n in await accepted.merged_from.all()] == [need.id]


async def test_a_stale_object_cannot_move_a_need_twice(db):
    organiser = await make_organiser()
    need = await make_complete_need(status=NeedStatus.SUBMITTED)
    stale = await Need.get(id=need.id)
    await services.set_need_status(need=need, status=NeedStatus.ACCEPTED, actor=organiser)
    with pytest.raises(InvalidTransition):
        await services.set_need_status(need=stale, status=NeedStatus.REJECTED, actor=organiser, reason="晚了一步")
    assert (await Need.get(id=need.id)).status == NeedStatus.ACCEPTED


async def test_submission_notifies_organisers(db):
    submitter = await make_submitter()
    organisers = [await make_organiser(), await make_organiser()]
    need = await make_complete_need(organisation=submitter.organisation)
    await services.set_need_status(need=need, status=NeedStatus.SUBMITTED, actor=submitter)
    for organiser in organisers:
        note = await Notification.get(user=organiser)
        assert need.title in note.subject and note.link == f"/needs/{need.id}"
        assert await OutboxMessage.filter(to_address=organiser.email, subject=note.subject).exists()
    assert not await Notification.filter(user=submitter).exists()


@pytest.mark.parametrize("target,words", [
    (NeedStatus.RETURNED, "退回修改"), (NeedStatus.ACCEPTED, "已采纳"), (NeedStatus.REJECTED, "未被采纳"),
    (NeedStatus.MERGED, "已合并"),
])
async def test_screening_notifies_the_organisation(db, target, words):
    org = await make_org()
    colleagues = [await make_submitter(organisation=org), await make_submitter(organisation=org)]
    bidder_colleague = await make_user(Role.BIDDER, organisation=org)
    stranger = await make_submitter()
    organiser = await make_organiser()
    campaign = await make_campaign()
    need = await make_complete_need(organisation=org, campaign=campaign, status=NeedStatus.SUBMITTED)
    other = await make_complete_need(campaign=campaign, status=NeedStatus.ACCEPTED)
    await services.set_need_status(need=need, status=target, actor=organiser, reason="请补充量化指标",
                                   merge_into=other if target == NeedStatus.MERGED else None)
    for user in colleagues:
        note = await Notification.get(user=user)
        assert words in note.subject
        if target in {NeedStatus.RETURNED, NeedStatus.REJECTED}:
            assert "请补充量化指标" in note.body
        assert await OutboxMessage.filter(to_address=user.email).exists()
    for user in (bidder_colleague, stranger, organiser):
        assert not await Notification.filter(user=user).exists()


async def test_resubmission_clears_the_old_reason(db):
    submitter = await make_submitter()
    organiser = await make_organiser()
    need = await make_complete_need(organisation=submitter.organisation, status=NeedStatus.SUBMITTED)
    await services.set_need_status(need=need, status=NeedStatus.RETURNED, actor=organiser, reason="补充指标")
    assert (await Need.get(id=need.id)).status_reason == "补充指标"
    await services.set_need_status(need=need, status=NeedStatus.SUBMITTED, actor=submitter)
    fresh = await Need.get(id=need.id)
    assert fresh.status == NeedStatus.SUBMITTED and fresh.status_reason == ""
    history = await services.need_history(need)
    assert [item.what for item in history] == ["退回修改", "修改后重新提交"]
    assert history[0].reason == "补充指标" and history[0].who == organiser.name


# -- campaign state machine ----------------------------------------------------------------------
CAMPAIGN_ALLOWED = {
    (CampaignStatus.DRAFT, CampaignStatus.OPEN),
    (CampaignStatus.OPEN, CampaignStatus.CLOSED),
    (CampaignStatus.CLOSED, CampaignStatus.OPEN),
}


@pytest.mark.parametrize("source,target", [(a, b) for a in CampaignStatus for b in CampaignStatus
                                           if b != CampaignStatus.DRAFT])
async def test_campaign_transitions(db, source, target):
    organiser = await make_organiser()
    campaign = await make_campaign(status=source)
    if (source, target) in CAMPAIGN_ALLOWED:
        await services.set_campaign_status(campaign=campaign, status=target, actor=organiser)
        assert (await type(campaign).get(id=campaign.id)).status == target
        assert await AuditEntry.filter(object_type="campaign", action__startswith="campaign.").exists()
    else:
        with pytest.raises(InvalidTransition):
            await services.set_campaign_status(campaign=campaign, status=target, actor=organiser)
        assert (await type(campaign).get(id=campaign.id)).status == source


async def test_campaign_past_its_closing_time_cannot_be_opened(db):
    organiser = await make_organiser()
    campaign = await make_campaign(status=CampaignStatus.CLOSED, closes_at=now_utc() - timedelta(days=1))
    with pytest.raises(DomainError) as caught:
        await services.set_campaign_status(campaign=campaign, status=CampaignStatus.OPEN, actor=organiser)
    assert caught.value.field == "closes_at"
    assert (await type(campaign).get(id=campaign.id)).status == CampaignStatus.CLOSED


async def test_only_organisers_run_campaigns(db):
    submitter = await make_submitter()
    campaign = await make_campaign(status=CampaignStatus.DRAFT)
    with pytest.raises(PermissionDenied):
        await services.set_campaign_status(campaign=campaign, status=CampaignStatus.OPEN, actor=submitter)
    with pytest.raises(PermissionDenied):
        await services.save_campaign(actor=submitter, campaign=campaign, title="x", instructions="",
                                     domains=[], opens_at=now_utc(), closes_at=now_utc() + timedelta(days=1))
    assert (await type(campaign).get(id=campaign.id)).status == CampaignStatus.DRAFT
