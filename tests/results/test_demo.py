"""The results part of `challenge demo`: reached through the services from concluded panels."""

from challenge.audit.services import verify_chain
from challenge.bids.models import Bid, BidStatus
from challenge.challenges.models import Challenge, ChallengeStatus
from challenge.demo import _area, base
from challenge.results.commands import verify_results
from challenge.results.models import Notice, NoticeKind, NoticeStatus, Objection, ObjectionStatus
from challenge.reviews.models import StageOutcome, StageResult
from challenge.web.timefmt import now_utc


async def test_demo_reaches_notice_objection_announcement_and_a_stage_gate(db, settings):
    ctx = await base.load()
    for name in ("needs", "challenges", "bids", "reviews", "results"):
        await _area(name).load(ctx, settings)
    made = ctx.extra["challenges"]
    now = now_utc()

    notice = await Notice.get(challenge_id=made["notice"].id).prefetch_related("decision__entries")
    assert notice.status == NoticeStatus.OPEN and notice.ends_at > now
    assert (await Challenge.get(id=made["notice"].id)).status == ChallengeStatus.NOTICE
    assert [e.selected for e in sorted(notice.decision.entries, key=lambda e: e.rank)] == [True, False, False]

    pending = await Notice.get(challenge_id=made["objection"].id)
    objection = await Objection.get(notice=pending).select_related("objector")
    assert pending.status == NoticeStatus.OPEN and objection.status == ObjectionStatus.OPEN
    assert objection.objector.email == "bidder2@demo.cn" and objection.filed_at < pending.ends_at

    announced = await Notice.get(challenge_id=made["announced"].id)
    assert announced.status == NoticeStatus.ANNOUNCED and announced.closed_at > announced.ends_at
    assert await Objection.filter(notice=announced, status=ObjectionStatus.DISMISSED).exists()
    assert (await Challenge.get(id=made["announced"].id)).status == ChallengeStatus.DELIVERING  # its project runs
    winners = await Bid.filter(challenge_id=made["announced"].id, status=BidStatus.WINNER).select_related("lead_org")
    assert [b.lead_org.name for b in winners] == ["清华大学"]

    gate = await Notice.get(challenge_id=made["race"].id)
    assert gate.kind == NoticeKind.STAGE and gate.status == NoticeStatus.ANNOUNCED
    results = sorted(await StageResult.filter(stage_id=gate.stage_id), key=lambda r: r.rank)
    assert [r.outcome for r in results] == [StageOutcome.ADVANCED, StageOutcome.ELIMINATED, StageOutcome.ADVANCED]

    assert {bid.status for bid in await Bid.all()} == set(BidStatus)
    for challenge in await Challenge.all():
        assert await verify_results(challenge.id, out=lambda line: None) == 0
    assert (await verify_chain()).ok
