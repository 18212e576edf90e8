"""The challenge state machine: one function, allowed transitions only, each in the audit log."""

from datetime import timedelta

import pytest

from challenge.accounts.models import Role
from challenge.audit.models import AuditEntry
from challenge.audit.services import verify_chain
from challenge.challenges import services
from challenge.cli import build_parser
from challenge.challenges.models import CHALLENGE_TRANSITIONS, Challenge, ChallengeStatus
from challenge.errors import DomainError, InvalidTransition
from challenge.mail.models import Notification
from challenge.web.timefmt import now_utc
from factories import make_bid, make_organiser, make_user
from factories.challenges import make_accepted_need, make_draft, make_published

pytestmark = pytest.mark.usefixtures("db")

FLOW = [ChallengeStatus.CLOSED, ChallengeStatus.REVIEWING, ChallengeStatus.NOTICE, ChallengeStatus.ANNOUNCED,
        ChallengeStatus.DELIVERING, ChallengeStatus.FINISHED]


async def test_the_whole_flow_is_audited_step_by_step():
    organiser = await make_organiser()
    challenge = await make_published(actor=organiser)
    assert challenge.published_at is not None
    later = challenge.closes_at + timedelta(seconds=1)
    for status in FLOW:
        await services.set_challenge_status(challenge=challenge, status=status, actor=organiser, now=later)
        assert (await Challenge.get(id=challenge.id)).status == status
    actions = await AuditEntry.filter(object_type="challenge", object_id=str(challenge.id)).order_by("seq") \
        .values_list("action", flat=True)
    assert actions == ["challenge.create", "challenge.published", *[f"challenge.{s.value}" for s in FLOW]]
    last = await AuditEntry.filter(action="challenge.finished").get()
    assert last.before == {"status": "delivering"} and last.after == {"status": "finished"}
    assert (await verify_chain()).ok


@pytest.mark.parametrize("start", list(ChallengeStatus))
async def test_transitions_outside_the_table_are_refused_and_change_nothing(start):
    organiser = await make_organiser()
    challenge = await make_draft(actor=organiser)
    await Challenge.filter(id=challenge.id).update(status=start)
    challenge = await Challenge.get(id=challenge.id)
    audit_before = await AuditEntry.all().count()
    for target in ChallengeStatus:
        if target in CHALLENGE_TRANSITIONS[start]:
            continue
        with pytest.raises(InvalidTransition):
            await services.set_challenge_status(challenge=challenge, status=target, actor=organiser, reason="理由")
        assert (await Challenge.get(id=challenge.id)).status == start
    assert await AuditEntry.all().count() == audit_before


async def test_cancel_needs_a_reason_and_tells_bidders_and_need_authors():
    organiser = await make_organiser()
    author = await make_user(Role.SUBMITTER)
    need = await make_accepted_need(created_by=author, organisation=author.organisation)
    challenge = await make_published(actor=organiser, needs=[need])
    bidder = await make_user(Role.BIDDER)
    await make_bid(challenge=challenge, lead_org=bidder.organisation)
    with pytest.raises(DomainError) as refused:
        await services.set_challenge_status(challenge=challenge, status=ChallengeStatus.CANCELLED, actor=organiser,
                                            reason="  ")
    assert refused.value.field == "reason"
    assert (await Challenge.get(id=challenge.id)).status == ChallengeStatus.PUBLISHED
    await services.set_challenge_status(challenge=challenge, status=ChallengeStatus.CANCELLED, actor=organiser,
                                        reason="发榜单位技术路线调整")
    stored = await Challenge.get(id=challenge.id)
    assert stored.status == ChallengeStatus.CANCELLED and stored.cancel_reason == "发榜单位技术路线调整"
    entry = await AuditEntry.get(action="challenge.cancelled")
    assert entry.note == "发榜单位技术路线调整"
    assert await Notification.filter(user=bidder, subject__contains="榜单已撤销").exists()
    assert await Notification.filter(user=author, subject__contains="榜单已撤销").exists()


async def test_publishing_tells_the_authors_of_the_source_needs():
    author = await make_user(Role.SUBMITTER)
    need = await make_accepted_need(created_by=author, organisation=author.organisation)
    await make_published(needs=[need])
    assert await Notification.filter(user=author, subject__contains="已编入榜单并发布").exists()


async def test_closing_before_the_window_has_passed_is_refused():
    organiser = await make_organiser()
    challenge = await make_published(actor=organiser)
    with pytest.raises(DomainError, match="截止时间未到"):
        await services.set_challenge_status(challenge=challenge, status=ChallengeStatus.CLOSED, actor=organiser)
    assert (await Challenge.get(id=challenge.id)).status == ChallengeStatus.PUBLISHED


async def test_shown_status_is_closed_once_the_window_passes_even_before_the_job():
    challenge = await make_published()
    after = challenge.closes_at + timedelta(minutes=1)
    assert challenge.accepting_bids(now_utc())
    assert challenge.status == ChallengeStatus.PUBLISHED
    assert challenge.shown_status(after) == ChallengeStatus.CLOSED
    assert not challenge.accepting_bids(after)


async def test_close_expired_flips_only_published_challenges_past_their_window():
    organiser = await make_organiser()
    expired = await make_published(actor=organiser, title="已过期榜单")
    current = await make_published(actor=organiser, title="进行中榜单")
    draft = await make_draft(actor=organiser, title="草稿")
    now = now_utc()
    await Challenge.filter(id=expired.id).update(closes_at=now - timedelta(minutes=5))
    await Challenge.filter(id=draft.id).update(closes_at=now - timedelta(minutes=5))
    closed = await services.close_expired(now=now)
    assert [c.id for c in closed] == [expired.id]
    assert (await Challenge.get(id=expired.id)).status == ChallengeStatus.CLOSED
    assert (await Challenge.get(id=current.id)).status == ChallengeStatus.PUBLISHED
    assert (await Challenge.get(id=draft.id)).status == ChallengeStatus.DRAFT
    entry = await AuditEntry.get(action="challenge.closed")
    assert entry.actor_id is None and entry.actor_label == "system"
    assert await services.close_expired(now=now) == []  # a rerun does nothing


async def test_close_expired_is_a_console_subcommand():
    args = build_parser().parse_args(["close-expired"])
    assert args.command == "close-expired" and callable(args.func)


async def test_status_route_cancels_with_reason_and_refuses_without(client):
    organiser = await make_organiser()
    challenge = await make_published(actor=organiser)
    await client.login(organiser.email)
    response = await client.submit(f"/challenges/{challenge.id}/status", {"status": "cancelled", "reason": ""})
    assert response.status_code == 303
    page = await client.get(response.headers["location"])
    assert "撤销榜单须填写理由" in page.text
    assert (await Challenge.get(id=challenge.id)).status == ChallengeStatus.PUBLISHED
    response = await client.submit(f"/challenges/{challenge.id}/status",
                                   {"status": "cancelled", "reason": "需求方撤回"})
    assert response.status_code == 303
    assert (await Challenge.get(id=challenge.id)).status == ChallengeStatus.CANCELLED
    public = await client.get(f"/challenges/{challenge.id}")
    assert "已撤销" in public.text and "需求方撤回" in public.text


async def test_status_route_refuses_a_bad_jump(client):
    organiser = await make_organiser()
    challenge = await make_published(actor=organiser)
    await client.login(organiser.email)
    response = await client.submit(f"/challenges/{challenge.id}/status", {"status": "announced"})
    page = await client.get(response.headers["location"])
    assert "评审、公示和验收的状态由相应流程变更" in page.text
    response = await client.submit(f"/challenges/{challenge.id}/status", {"status": "closed"})
    page = await client.get(response.headers["location"])
    assert "揭榜截止时间未到" in page.text
    assert (await Challenge.get(id=challenge.id)).status == ChallengeStatus.PUBLISHED
    assert "变更为：已截止" not in page.text  # not offered before the window passes
    await Challenge.filter(id=challenge.id).update(closes_at=now_utc() - timedelta(minutes=1))
    page = await client.get(f"/challenges/{challenge.id}")
    assert "变更为：已截止" in page.text
    response = await client.submit(f"/challenges/{challenge.id}/status", {"status": "published"})
    page = await client.get(response.headers["location"])
    assert "不能变更为" in page.text
