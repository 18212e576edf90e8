"""HotCRP's rule for a conflicted chair: he sees nothing of a conflicted bid (no score, no row in
the ranking, no opinion, no export line) and cannot act on it; the deputy chair or the organiser
acts instead; the panel form refuses a conflicted chair without a conflict-free deputy."""

import csv
import io

import pytest

from challenge.errors import DomainError
from challenge.reviews import services
from challenge.reviews.models import (
    Assignment,
    AssignmentStatus,
    ConflictKind,
    PanelBid,
    PanelMember,
    PanelStatus,
    ReviewOpinion,
)
from factories import make_org, make_organiser
from factories.reviews import assign, make_expert, make_panel, make_review_bid, make_review_challenge, submit

# Distinctive values: what the chair must never see of his own university's bid.
HIDDEN_SCORES = [61.25, 58.75, 63.5]  # weighted total 61.18 (40/30/30)
VISIBLE_SCORES = [88, 86, 90]


async def _declare(expert, organisation) -> None:
    await services.declare_conflict(expert=expert, kind=ConflictKind.ORGANISATION, organisation=organisation,
                                    name="", credit_code="", email="", reason="曾任该单位兼职教授")


async def _setup(*, deputy: bool = True):
    """A challenge with a bid (X) of the university the chair declared a conflict with, and another
    bid (Y), scored by the members. Without a deputy, the chair declares it once the panel exists."""
    organiser = await make_organiser()
    university = await make_org(name="华东理工大学")
    challenge = await make_review_challenge(experts_per_bid=2)
    own = await make_review_bid(challenge, lead_org=university, title="本校申报")
    other = await make_review_bid(challenge, title="他校申报")
    chair = await make_expert(name="组长甲")
    second, third = await make_expert(name="副组长乙"), await make_expert(name="专家丙")
    if deputy:
        await _declare(chair, university)
    panel = await make_panel(challenge=challenge, experts=[chair, second, third], chair=chair, organiser=organiser,
                             deputy_id=second.id if deputy else None)
    if not deputy:
        await _declare(chair, university)
    panel.status = PanelStatus.REVIEWING
    await panel.save()
    hidden = [await submit(await assign(panel, own, expert), HIDDEN_SCORES) for expert in (second, third)]
    await submit(await assign(panel, other, chair), VISIBLE_SCORES)
    await submit(await assign(panel, other, third), VISIBLE_SCORES)
    codes = dict(await PanelBid.filter(panel=panel).values_list("bid_id", "code"))
    return organiser, challenge, panel, chair, second, own, other, hidden, codes


async def test_the_panel_form_refuses_a_conflicted_chair_without_a_conflict_free_deputy(client):
    organiser = await make_organiser()
    university = await make_org(name="华南理工大学")
    challenge = await make_review_challenge()
    await make_review_bid(challenge, lead_org=university)
    await make_review_bid(challenge)
    chair = await make_expert(name="冲突组长")
    colleague = await make_expert(name="同样回避的专家")
    for expert in (chair, colleague):
        await _declare(expert, university)
    free = await make_expert(name="无冲突专家")
    with pytest.raises(DomainError) as refused:
        await make_panel(challenge=challenge, experts=[chair, free], chair=chair, organiser=organiser)
    assert refused.value.field == "deputy" and "冲突组长" in refused.value.message
    with pytest.raises(DomainError) as refused:
        await make_panel(challenge=challenge, experts=[chair, colleague, free], chair=chair, organiser=organiser,
                         deputy_id=colleague.id)
    assert refused.value.field == "deputy"

    # Over HTTP: the message next to the deputy field, the choices kept; then accepted with a deputy.
    await client.login(organiser.email)
    url = f"/review/manage/challenges/{challenge.id}/panels/new"
    form = [("name", "专家组"), ("dispersion_threshold", "15"), ("members", str(chair.id)),
            ("members", str(free.id)), ("chair", str(chair.id))]
    response = await client.submit(url, form)
    assert response.status_code == 400
    assert 'id="field-deputy"' in response.text and "请指定一位与这些申报无利益冲突的副组长" in response.text
    response = await client.submit(url, [*form, ("deputy", str(free.id))])
    assert response.status_code == 303
    assert await PanelMember.get(expert=free).values_list("is_deputy", flat=True) is True


async def test_the_conflicted_chair_sees_and_does_nothing_of_his_universitys_bid(client, make_client):
    organiser, challenge, panel, chair, deputy, own, other, hidden, codes = await _setup()
    await client.login(chair.email)
    page = await client.get(f"/review/panels/{panel.id}")
    assert page.status_code == 200
    assert f"申报 {codes[other.id]}" in page.text
    assert f"申报 {codes[own.id]}" not in page.text and f'value="{own.id}"' not in page.text
    assert "61.18" not in page.text and "61.25" not in page.text
    assert all(f"/reopen/{a.id}" not in page.text for a in hidden)
    assert "另有 1 份申报与您存在利益冲突" in page.text
    assert "排名（共 1 份申报）" in page.text
    assert 'action="/review/panels/%s/opinion"' % panel.id not in page.text

    export = await client.get(f"/review/panels/{panel.id}/ranking.csv")
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert [row[1] for row in rows[1:]] == [f"申报 {codes[other.id]}"] and rows[1][0] == "1"

    # Acting on it: a reopen is a 404 (he may not know of it), an opinion a 403; nothing changes.
    response = await client.submit(f"/review/panels/{panel.id}/reopen/{hidden[0].id}", {"reason": "分数偏低"})
    assert response.status_code == 404
    response = await client.submit(f"/review/panels/{panel.id}/opinion",
                                   [("text", "推荐本校"), ("recommended", str(own.id))])
    assert response.status_code == 403
    assert (await Assignment.get(id=hidden[0].id)).status == AssignmentStatus.SUBMITTED
    assert not await ReviewOpinion.exists()
    # The service refuses as well, whatever the route.
    with pytest.raises(DomainError):
        await services.reopen_assignment(assignment=hidden[0], actor=chair, reason="分数偏低")

    # The deputy sees both bids, returns a review of the chair's university's bid, records the opinion.
    deputy_http = make_client()
    await deputy_http.login(deputy.email)
    assert (await client.get("/review/")).text.count(f'href="/review/panels/{panel.id}"') == 1
    assert f'href="/review/panels/{panel.id}"' in (await deputy_http.get("/review/")).text
    page = await deputy_http.get(f"/review/panels/{panel.id}")
    assert f"申报 {codes[own.id]}" in page.text and "61.18" in page.text and "您是本组副组长" in page.text
    assert f"/reopen/{hidden[0].id}" in page.text
    response = await deputy_http.submit(f"/review/panels/{panel.id}/reopen/{hidden[0].id}", {"reason": "请复核"})
    assert response.status_code == 303
    assert (await Assignment.get(id=hidden[0].id)).status == AssignmentStatus.IN_PROGRESS
    await submit(await Assignment.get(id=hidden[0].id), HIDDEN_SCORES)
    response = await deputy_http.submit(f"/review/panels/{panel.id}/opinion",
                                        [("text", "副组长形成的意见"), ("recommended", str(other.id))])
    assert response.status_code == 303
    assert (await ReviewOpinion.get(panel=panel)).recorded_by_id == deputy.id
    # The chair sees that an opinion exists, not its text (it weighs the bid he may not see).
    page = await client.get(f"/review/panels/{panel.id}")
    assert "副组长形成的意见" not in page.text and f"申报 {codes[own.id]}" not in page.text


async def test_without_a_deputy_the_organiser_acts_for_a_chair_conflicted_later(client, make_client):
    organiser, challenge, panel, chair, second, own, other, hidden, codes = await _setup(deputy=False)
    await client.login(organiser.email)
    page = await client.get(f"/review/manage/panels/{panel.id}/ranking")
    assert "组长回避的申报" in page.text and "本组未设副组长" in page.text
    assert f"/review/manage/panels/{panel.id}/reopen/{hidden[1].id}" in page.text
    assert f'action="/review/manage/panels/{panel.id}/opinion"' in page.text
    response = await client.submit(f"/review/manage/panels/{panel.id}/reopen/{hidden[1].id}", {"reason": "请复核"})
    assert response.status_code == 303
    assert (await Assignment.get(id=hidden[1].id)).status == AssignmentStatus.IN_PROGRESS
    # A review of a bid the chair may act on is his to return, not the organiser's.
    visible = await Assignment.get(panel=panel, bid=other, expert=chair)
    await client.submit(f"/review/manage/panels/{panel.id}/reopen/{visible.id}", {"reason": "越权"})
    assert (await Assignment.get(id=visible.id)).status == AssignmentStatus.SUBMITTED
    await submit(await Assignment.get(id=hidden[1].id), HIDDEN_SCORES)
    response = await client.submit(f"/review/manage/panels/{panel.id}/opinion",
                                   [("text", "项目办形成的意见"), ("recommended", str(other.id))])
    assert response.status_code == 303
    assert (await ReviewOpinion.get(panel=panel)).recorded_by_id == organiser.id


async def test_a_chair_whose_university_bid_sees_no_bid_at_all(client, make_client):
    """His organisation bid on the challenge: he is conflicted with every bid of it (the conflict
    rule), so the deputy does everything and the chair's page shows no bid."""
    organiser = await make_organiser()
    university = await make_org(name="西北工业大学")
    challenge = await make_review_challenge(experts_per_bid=1)
    bids = [await make_review_bid(challenge, lead_org=university), await make_review_bid(challenge)]
    chair = await make_expert(organisation=university)
    deputy, member = await make_expert(), await make_expert()
    panel = await make_panel(challenge=challenge, experts=[chair, deputy, member], chair=chair, organiser=organiser,
                             deputy_id=deputy.id)
    panel.status = PanelStatus.REVIEWING
    await panel.save()
    scored = [await submit(await assign(panel, bid, member), HIDDEN_SCORES) for bid in bids]
    codes = dict(await PanelBid.filter(panel=panel).values_list("bid_id", "code"))
    await client.login(chair.email)
    page = await client.get(f"/review/panels/{panel.id}")
    assert page.status_code == 200 and "另有 2 份申报与您存在利益冲突" in page.text
    assert not any(f"申报 {code}" in page.text for code in codes.values()) and "61.18" not in page.text
    for item in scored:
        response = await client.submit(f"/review/panels/{panel.id}/reopen/{item.id}", {"reason": "复核"})
        assert response.status_code == 404
    deputy_http = make_client()
    await deputy_http.login(deputy.email)
    response = await deputy_http.submit(f"/review/panels/{panel.id}/reopen/{scored[0].id}", {"reason": "复核"})
    assert response.status_code == 303


async def test_a_conflict_declared_during_the_review_hides_the_bid_from_the_chair(client):
    organiser = await make_organiser()
    challenge = await make_review_challenge(experts_per_bid=1)
    bids = [await make_review_bid(challenge) for _ in range(2)]
    chair, member = await make_expert(), await make_expert()
    panel = await make_panel(challenge=challenge, experts=[chair, member], chair=chair, organiser=organiser)
    panel.status = PanelStatus.REVIEWING
    await panel.save()
    scored = await submit(await assign(panel, bids[0], member), HIDDEN_SCORES)
    await submit(await assign(panel, bids[1], member), VISIBLE_SCORES)
    codes = dict(await PanelBid.filter(panel=panel).values_list("bid_id", "code"))
    await client.login(chair.email)
    assert f"申报 {codes[bids[0].id]}" in (await client.get(f"/review/panels/{panel.id}")).text
    await _declare(chair, await bids[0].lead_org)
    page = await client.get(f"/review/panels/{panel.id}")
    assert f"申报 {codes[bids[0].id]}" not in page.text and "61.18" not in page.text
    response = await client.submit(f"/review/panels/{panel.id}/reopen/{scored.id}", {"reason": "复核"})
    assert response.status_code == 404


async def test_a_ranking_seen_by_the_organiser_first_still_hides_the_bid_from_the_chair(client, make_client):
    """The ranking is computed once per data version for each view of it: the organiser's full
    view, once cached, must not be what the conflicted chair gets."""
    organiser, challenge, panel, chair, deputy, own, other, hidden, codes = await _setup()
    office = make_client()
    await office.login(organiser.email)
    full = (await office.get(f"/review/manage/panels/{panel.id}/ranking")).text
    assert f"申报 {codes[own.id]}" in full and "61.18" in full
    await client.login(chair.email)
    for _ in range(2):
        page = (await client.get(f"/review/panels/{panel.id}")).text
        assert f"申报 {codes[other.id]}" in page
        assert f"申报 {codes[own.id]}" not in page and "61.18" not in page
    deputy_http = make_client()
    await deputy_http.login(deputy.email)
    assert f"申报 {codes[own.id]}" in (await deputy_http.get(f"/review/panels/{panel.id}")).text
    again = (await office.get(f"/review/manage/panels/{panel.id}/ranking")).text
    assert f"申报 {codes[own.id]}" in again and "61.18" in again
