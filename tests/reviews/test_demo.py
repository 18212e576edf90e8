"""The review part of `challenge demo`: an expert pool, a panel chaired by expert1, scores, a ranking."""

from challenge.audit.services import verify_chain
from challenge.demo import _area, base
from challenge.reviews import services
from challenge.reviews.commands import verify_results
from challenge.reviews.models import Assignment, AssignmentStatus, ConflictDeclaration, ExpertProfile, PanelMember


async def test_demo_builds_a_scored_panel(db, settings):
    ctx = await base.load()
    for name in ("needs", "challenges", "bids", "reviews"):
        module = _area(name)
        if module is not None:
            await module.load(ctx, settings)
    assert await ExpertProfile.filter(keywords__not="").count() == 6
    assert await ConflictDeclaration.filter(expert=ctx.users["expert3@demo.cn"]).exists()
    panel = ctx.extra["review_panels"]["reviewing"]
    chair = await PanelMember.get(panel=panel, is_chair=True).select_related("expert")
    assert chair.expert.email == "expert1@demo.cn"
    items = await Assignment.filter(panel=panel)
    assert items and all(a.status == AssignmentStatus.SUBMITTED for a in items)
    challenge = await panel.challenge
    per_bid = {}
    for item in items:
        per_bid[item.bid_id] = per_bid.get(item.bid_id, 0) + 1
    assert set(per_bid.values()) == {challenge.experts_per_bid}
    ranked = await services.ranking(panel=panel, aggregation_rule=challenge.aggregation)
    assert [r.rank for r in ranked] == list(range(1, len(ranked) + 1)) and all(r.score for r in ranked)
    assert await verify_results(challenge.id, out=lambda line: None) == 0
    assert (await verify_chain()).ok
