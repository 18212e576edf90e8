"""The ranking renders with a constant number of queries: 500 bids, 5 experts each, 6 criteria."""

from decimal import Decimal

from challenge.accounts.models import Organisation, OrgStatus, OrgType
from challenge.bids.models import Bid, BidStatus
from challenge.challenges.models import RubricCriterion
from challenge.reviews.models import Assignment, AssignmentStatus, Panel, Score
from challenge.web.timefmt import now_utc
from factories import make_organiser
from factories.reviews import make_expert, make_panel, make_review_challenge
from querylog import captured_sql

CRITERIA = (20, 20, 20, 15, 15, 10)


async def _panel_with(n_bids: int, tag: str, organiser):
    challenge = await make_review_challenge(criteria=CRITERIA, experts_per_bid=5, blind_review=False)
    experts = [await make_expert() for _ in range(5)]
    await Organisation.bulk_create([
        Organisation(name=f"{tag}申报单位{i}", org_type=OrgType.ENTERPRISE, region_code="320500",
                     status=OrgStatus.APPROVED) for i in range(n_bids)
    ])
    orgs = await Organisation.filter(name__startswith=f"{tag}申报单位").order_by("id")
    submitted = now_utc()
    await Bid.bulk_create([
        Bid(challenge=challenge, lead_org=org, title=f"方案{i}", status=BidStatus.IN_REVIEW, submitted_at=submitted,
            current_version=1) for i, org in enumerate(orgs)
    ])
    panel = await make_panel(challenge=challenge, experts=experts, chair=experts[0], organiser=organiser)
    bid_ids = list(await Bid.filter(challenge=challenge).order_by("id").values_list("id", flat=True))
    await Assignment.bulk_create([
        Assignment(panel=panel, bid_id=bid_id, expert=expert, status=AssignmentStatus.SUBMITTED,
                   submitted_at=submitted)
        for bid_id in bid_ids for expert in experts
    ], batch_size=1000)
    criteria = list(await RubricCriterion.filter(challenge=challenge).order_by("position"))
    rows = await Assignment.filter(panel=panel).order_by("id").values_list("id", flat=True)
    await Score.bulk_create([
        Score(assignment_id=assignment_id, criterion=criterion,
              value=Decimal((assignment_id * 7 + position * 13) % 101))
        for assignment_id in rows for position, criterion in enumerate(criteria)
    ], batch_size=2000)
    return panel, experts[0]


async def test_ranking_pages_use_a_constant_number_of_queries(client, make_client):
    organiser = await make_organiser()
    small, small_chair = await _panel_with(3, "小", organiser)
    large, large_chair = await _panel_with(500, "大", organiser)
    assert await Score.filter(assignment__panel_id=large.id).count() == 500 * 5 * 6
    await client.login(organiser.email)
    chair_client = make_client()
    await chair_client.login(small_chair.email)
    large_chair_client = make_client()
    await large_chair_client.login(large_chair.email)

    counts = {}
    for name, panel, http, url in [
        ("small", small, client, f"/review/manage/panels/{small.id}/ranking"),
        ("large", large, client, f"/review/manage/panels/{large.id}/ranking"),
        ("small chair", small, chair_client, f"/review/panels/{small.id}"),
        ("large chair", large, large_chair_client, f"/review/panels/{large.id}"),
    ]:
        with captured_sql() as statements:
            response = await http.get(url)
        assert response.status_code == 200, response.text[:500]
        counts[name] = len(statements)
        if name.startswith("large"):
            assert "大申报单位499" in response.text or "申报 " in response.text
    assert counts["small"] == counts["large"], counts
    assert counts["small chair"] == counts["large chair"], counts
    assert 5 < counts["large"] < 30, counts
    # The ranking lists all 500 bids, each with its per-criterion breakdown.
    response = await client.get(f"/review/manage/panels/{large.id}/ranking")
    assert response.text.count('data-label="排名"') == 500
    assert (await Panel.get(id=large.id)).id == large.id
