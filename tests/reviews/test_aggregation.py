"""Aggregation and ranking against hand-computed tables, and the independent recomputation."""

import random
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

from challenge.challenges.models import Aggregation, RubricCriterion
from challenge.reviews import services
from challenge.reviews.commands import compare_rankings, verify_results
from challenge.reviews.models import AssignmentStatus
from challenge.web.timefmt import now_utc
from factories.reviews import assign, make_expert, make_panel, make_review_bid, make_review_challenge, submit


async def _setup(*, criteria=(40, 30, 30), aggregation=Aggregation.MEAN, bids=1, experts=3, **overrides):
    challenge = await make_review_challenge(criteria=criteria, aggregation=aggregation, **overrides)
    made_bids = [await make_review_bid(challenge) for _ in range(bids)]
    made_experts = [await make_expert() for _ in range(experts)]
    panel = await make_panel(challenge=challenge, experts=made_experts)
    return challenge, made_bids, made_experts, panel


async def _rank(panel, challenge):
    return await services.ranking(panel=panel, aggregation_rule=challenge.aggregation)


async def test_weighted_total_and_mean_by_hand(db):
    challenge, (bid,), experts, panel = await _setup()
    # weights 40/30/30, max 100 each:
    #   expert 1: 80, 70, 90 -> 32 + 21 + 27 = 80
    #   expert 2: 60, 90, 60 -> 24 + 27 + 18 = 69
    #   expert 3: 100, 50, 70 -> 40 + 15 + 21 = 76      mean = 225 / 3 = 75
    for expert, values in zip(experts, [(80, 70, 90), (60, 90, 60), (100, 50, 70)]):
        await submit(await assign(panel, bid, expert), values)
    (row,) = await _rank(panel, challenge)
    assert row.score == Fraction(75) and row.count == 3 and not row.trimmed
    assert row.spread == Fraction(11)
    criteria = await RubricCriterion.filter(challenge=challenge).order_by("position")
    assert [row.criterion_means[c.id] for c in criteria] == [Fraction(80), Fraction(70), Fraction(220, 3)]
    assert row.mean_display(criteria[2].id) == Decimal("73.33")
    # population standard deviation of 80, 69, 76: sqrt(((5)^2 + (6)^2 + (1)^2) / 3) = sqrt(62/3)
    assert abs(row.stdev - (62 / 3) ** 0.5) < 1e-9


async def test_different_maxima_and_fractional_scores(db):
    challenge, (bid,), experts, panel = await _setup(criteria=(50, 50), experts=2)
    first, second = await RubricCriterion.filter(challenge=challenge).order_by("position")
    first.max_score, second.max_score = 10, 20
    await first.save()
    await second.save()
    # 7/10*50 + 15/20*50 = 35 + 37.5 = 72.5      8.5/10*50 + 12.25/20*50 = 42.5 + 30.625 = 73.125
    await submit(await assign(panel, bid, experts[0]), (7, 15))
    await submit(await assign(panel, bid, experts[1]), (8.5, 12.25))
    (row,) = await _rank(panel, challenge)
    assert row.score == (Fraction(145, 2) + Fraction(585, 8)) / 2  # 72.8125
    assert row.score_display == Decimal("72.81")


async def test_trimmed_mean_drops_one_highest_and_one_lowest_from_five(db):
    challenge, (bid,), experts, panel = await _setup(criteria=(100,), aggregation=Aggregation.TRIMMED_MEAN,
                                                     experts=5)
    for expert, value in zip(experts, [90, 80, 70, 60, 20]):
        await submit(await assign(panel, bid, expert), (value,))
    (row,) = await _rank(panel, challenge)
    assert row.trimmed and row.score == Fraction(70)  # (80 + 70 + 60) / 3, the plain mean would be 64


async def test_the_trimmed_ranking_names_the_dropped_reviews_and_its_columns_add_up(db):
    challenge, (bid,), experts, panel = await _setup(criteria=(60, 40), aggregation=Aggregation.TRIMMED_MEAN,
                                                     experts=6)
    scores = [(95, 90), (80, 70), (70, 90), (60, 50), (20, 30), (95, 90)]  # two equal highest
    items = [await assign(panel, bid, expert) for expert in experts]
    for item, values in zip(items, scores):
        await submit(item, values)
    (row,) = await _rank(panel, challenge)
    totals = [Fraction(a) * 60 / 100 + Fraction(b) * 40 / 100 for a, b in scores]
    assert row.trimmed and row.untrimmed == sum(totals) / 6
    # The first of the equal highest (lowest id) and the lowest are dropped, never the same review.
    assert row.dropped == {items[0].id: "high", items[4].id: "low"}
    assert row.dropped_high[1] == 93 and row.dropped_low[1] == 24
    kept = [t for i, t in enumerate(totals) if i not in (0, 4)]
    assert row.score == sum(kept) / 4
    criteria = await challenge.criteria.all().order_by("position")
    means = [row.criterion_means[c.id] for c in criteria]
    assert means == [Fraction(80 + 70 + 60 + 95, 4), Fraction(70 + 90 + 50 + 90, 4)]
    # The columns are the same kept reviews: weighted, they give the panel score exactly.
    assert means[0] * 60 / 100 + means[1] * 40 / 100 == row.score


async def test_trimmed_mean_with_fewer_than_five_is_the_mean(db):
    challenge, (bid,), experts, panel = await _setup(criteria=(100,), aggregation=Aggregation.TRIMMED_MEAN,
                                                     experts=5)
    items = [await assign(panel, bid, expert) for expert in experts]
    for item, value in zip(items[:4], [90, 80, 70, 20]):
        await submit(item, (value,))
    (row,) = await _rank(panel, challenge)
    assert not row.trimmed and row.count == 4 and row.score == Fraction(65)


async def test_only_submitted_reviews_count(db):
    challenge, (bid,), experts, panel = await _setup(criteria=(100,))
    await submit(await assign(panel, bid, experts[0]), (90,))
    draft = await assign(panel, bid, experts[1])
    await services.save_scores(assignment=draft, criteria=list(await RubricCriterion.filter(challenge=challenge)),
                               values={c.id: Decimal(10) for c in await RubricCriterion.filter(challenge=challenge)},
                               comments={}, opinion="", submit=False, actor=experts[1])
    (row,) = await _rank(panel, challenge)
    assert row.count == 1 and row.score == 90


async def test_ties_broken_by_the_stated_rule(db):
    # Weights 60/40. Every bid scores 70 in total, so the tie rules decide:
    #   A: 80, 55 -> 48 + 22 = 70 (highest-weight criterion 80)
    #   B: 70, 70 -> 42 + 28 = 70 (70), two reviews
    #   C: 70, 70 -> 70 (70), one review
    #   D: 60, 85 -> 36 + 34 = 70 (60)
    #   E: 70, 70, one review, submitted earlier than C -> before C
    challenge, bids, experts, panel = await _setup(criteria=(60, 40), bids=5, experts=2)
    a, b, c, d, e = bids
    now = now_utc()
    c.submitted_at, e.submitted_at = now, now - timedelta(days=1)
    await c.save()
    await e.save()
    await submit(await assign(panel, a, experts[0]), (80, 55))
    await submit(await assign(panel, b, experts[0]), (70, 70))
    await submit(await assign(panel, b, experts[1]), (70, 70))
    await submit(await assign(panel, c, experts[0]), (70, 70))
    await submit(await assign(panel, d, experts[0]), (60, 85))
    await submit(await assign(panel, e, experts[0]), (70, 70))
    ranked = await _rank(panel, challenge)
    assert all(r.score == 70 for r in ranked)
    assert [r.bid_id for r in ranked] == [a.id, b.id, e.id, c.id, d.id]
    assert [r.rank for r in ranked] == [1, 2, 3, 4, 5]


async def test_unscored_bids_rank_last_and_dispersion_is_flagged(db):
    challenge, bids, experts, panel = await _setup(criteria=(100,), bids=3, experts=2)
    panel.dispersion_threshold = Decimal("10")
    await panel.save()
    await submit(await assign(panel, bids[0], experts[0]), (90,))
    await submit(await assign(panel, bids[0], experts[1]), (50,))  # stdev 20: flagged
    await submit(await assign(panel, bids[1], experts[0]), (60,))
    await submit(await assign(panel, bids[1], experts[1]), (62,))  # stdev 1
    ranked = await _rank(panel, challenge)
    assert [r.bid_id for r in ranked] == [bids[0].id, bids[1].id, bids[2].id]
    assert ranked[0].flagged and not ranked[1].flagged and not ranked[2].flagged
    assert ranked[2].score is None and ranked[2].count == 0


async def test_verify_results_agrees_with_the_sql_ranking(db):
    challenge, bids, experts, panel = await _setup(criteria=(35, 25, 20, 10, 10), aggregation=Aggregation.TRIMMED_MEAN,
                                                   bids=6, experts=6)
    rng = random.Random(7)
    for bid in bids:
        for expert in rng.sample(experts, rng.choice([3, 5, 6])):
            await submit(await assign(panel, bid, expert), [rng.randint(0, 10000) / 100 for _ in range(5)])
    lines = []
    assert await verify_results(challenge.id, out=lines.append) == 0
    assert lines[-1] == f"challenge {challenge.id}: rankings agree"
    assert "6 bids, 6 scored" in lines[0]


async def test_verify_results_reports_a_missing_challenge(db):
    lines = []
    assert await verify_results(999_999, out=lines.append) == 2
    assert "not found" in lines[0]


def test_comparison_reports_each_difference():
    same = [(1, Fraction(80)), (2, Fraction(70))]
    assert compare_rankings(same, list(same)) == []
    problems = compare_rankings(same, [(2, Fraction(70)), (1, Fraction(80))])
    assert len(problems) == 2 and "rank 1" in problems[0]
    assert compare_rankings(same, [(1, Fraction(80)), (2, Fraction(7001, 100))])
    assert compare_rankings(same, same[:1])


async def test_reopened_review_leaves_the_ranking_until_submitted_again(db):
    challenge, (bid,), experts, panel = await _setup(criteria=(100,), experts=2)
    chair = experts[0]
    await submit(await assign(panel, bid, experts[0]), (90,))
    second = await submit(await assign(panel, bid, experts[1]), (50,))
    await services.reopen_assignment(assignment=second, actor=chair, reason="请复核评分依据")
    assert second.status == AssignmentStatus.IN_PROGRESS
    (row,) = await _rank(panel, challenge)
    assert row.count == 1 and row.score == 90
