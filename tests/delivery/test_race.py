"""A horse race stage by stage: the stage panel opens only after the stage's deadline and reviews
the teams' deliverables (not their bids); the gate lets teams go on; the last stage's gate names
the winner, the race is announced and the winner's project starts. Explicit times throughout."""

from datetime import timedelta

import pytest

from challenge.bids.models import Bid, BidStatus
from challenge.challenges.models import Challenge, ChallengeStatus
from challenge.delivery import deliverables
from challenge.delivery.models import Project
from challenge.errors import InvalidTransition
from challenge.results import services as results
from challenge.reviews import panels, services as reviews
from challenge.reviews.models import Assignment, PanelBid, StageOutcome, StageResult
from factories import PASSWORD
from factories.delivery import make_race
from factories.reviews import make_expert, submit


async def _panel(race, stage, expert, now):
    panel = await panels.create_panel(challenge=await Challenge.get(id=race.challenge.id), stage=stage,
                                      name=f"{stage.name}评审专家组", member_ids=[expert.id], chair_id=expert.id,
                                      due_at=None, dispersion_threshold=15, actor=race.organiser, now=now)
    await reviews.propose_assignments(panel=panel, actor=race.organiser)
    await reviews.confirm_assignments(panel=panel, actor=race.organiser)
    return panel


async def _gate(race, panel, scores: dict[int, int], recommended: list[int], now):
    for assignment in await Assignment.filter(panel=panel).order_by("id"):
        await submit(assignment, [scores[assignment.bid_id]])
    chair = await panel.members.filter(is_chair=True).first().prefetch_related("expert")
    await reviews.record_opinion(panel=panel, actor=chair.expert, text="专家组意见", recommended_ids=recommended)
    rows = await results.decision_basis(panel)
    decision = await results.record_decision(panel=panel, actor=race.organiser, reasons={},
                                             selected=results.default_selection(rows), now=now)
    notice = await results.publish_notice(decision=decision, actor=race.organiser, working_days=5,
                                          starts_on=results.default_start(now), now=now)
    return notice


async def test_a_race_goes_stage_by_stage_to_its_winner(client, settings):
    race = await make_race(teams=3)
    first, second = race.stages
    expert = await make_expert()
    for bid, team in zip(race.bids[:2], race.teams[:2]):
        await deliverables.submit_deliverable(bid=bid, stage=first, actor=team, report=f"{bid.title}的小试数据")

    # The stage panel cannot be opened before the stage's deadline.
    with pytest.raises(InvalidTransition) as early:
        await _panel(race, first, expert, now=first.due_at - timedelta(minutes=1))
    assert "截止后方可组建阶段评审专家组" in early.value.message
    # Nor the second stage's panel before the first stage's gate, even past its own deadline.
    with pytest.raises(InvalidTransition) as skipped:
        await _panel(race, second, expert, now=second.due_at + timedelta(hours=1))
    assert "上一阶段" in skipped.value.message

    panel = await _panel(race, first, expert, now=first.due_at + timedelta(hours=1))
    assert {e.bid_id for e in await PanelBid.filter(panel=panel)} == {b.id for b in race.bids}
    assert (await Challenge.get(id=race.challenge.id)).status == ChallengeStatus.REVIEWING
    # The expert reviews each team's deliverable for the stage, not its bid.
    await client.login(expert.email, PASSWORD)
    task = await Assignment.get(panel=panel, bid_id=race.bids[0].id)
    page = await client.get(f"/review/assignments/{task.id}")
    assert page.status_code == 200 and "阶段交付物：小试验证" in page.text
    assert f"{race.bids[0].title}的小试数据" in page.text and "技术路线" not in page.text
    missing = await client.get(f"/review/assignments/{(await Assignment.get(panel=panel, bid_id=race.bids[2].id)).id}")
    assert "该团队在截止前未提交本阶段交付物" in missing.text

    a, b, c = race.bids
    notice = await _gate(race, panel, {a.id: 90, b.id: 80, c.id: 10}, [a.id, b.id],
                         now=first.due_at + timedelta(days=2))
    await results.announce(notice=notice, actor=race.organiser, now=notice.ends_at + timedelta(hours=1))
    assert {r.bid_id: r.outcome for r in await StageResult.filter(stage=first)} == {
        a.id: StageOutcome.ADVANCED, b.id: StageOutcome.ADVANCED, c.id: StageOutcome.ELIMINATED}
    assert {x.id: x.status for x in await Bid.filter(challenge=race.challenge)} == {
        a.id: BidStatus.ADVANCED, b.id: BidStatus.ADVANCED, c.id: BidStatus.NOT_SELECTED}
    assert (await Challenge.get(id=race.challenge.id)).status == ChallengeStatus.REVIEWING
    assert not await Project.exists()

    # Stage 2: the teams still racing hand in; the eliminated one may not.
    for bid, team in zip((a, b), race.teams):
        await deliverables.submit_deliverable(bid=await Bid.get(id=bid.id), stage=second, actor=team,
                                              report=f"{bid.title}的工业试验报告")
    with pytest.raises(InvalidTransition):
        await deliverables.submit_deliverable(bid=await Bid.get(id=c.id), stage=second, actor=race.teams[2],
                                              report="已淘汰的团队")
    panel = await _panel(race, second, expert, now=second.due_at + timedelta(hours=1))
    assert {e.bid_id for e in await PanelBid.filter(panel=panel)} == {a.id, b.id}
    notice = await _gate(race, panel, {a.id: 70, b.id: 85}, [b.id], now=second.due_at + timedelta(days=2))
    # The last stage's notice is the race's result: the track is in notice, then announced.
    assert (await Challenge.get(id=race.challenge.id)).status == ChallengeStatus.NOTICE
    await results.announce(notice=notice, actor=race.organiser, now=notice.ends_at + timedelta(hours=1))
    assert {x.id: x.status for x in await Bid.filter(id__in=[a.id, b.id])} == {
        a.id: BidStatus.NOT_SELECTED, b.id: BidStatus.WINNER}
    assert (await Challenge.get(id=race.challenge.id)).status == ChallengeStatus.DELIVERING
    assert [p.bid_id for p in await Project.all()] == [b.id]

    # The public track: each stage's funding, deliverable and results, and the winner.
    await client.submit("/logout")
    track = (await client.get(f"/challenges/{race.challenge.id}")).text.split('id="h-stages"')[1].split("</section>")[0]
    assert "500 万元" in track and "1,000 万元" in track and "小试验证报告" in track
    assert "最终胜出" in track and (await b.lead_org).name in track
    # A team is named for going on; an eliminated one only by its rank and score.
    assert (await c.lead_org).name not in track and track.count("未晋级的团队不公布名称") == 2
