"""A score that disappears says so: when a later conflict revokes a submitted review, the ranking
lists the withdrawn score (expert, total, when, why) and the chair and the organiser are told,
in the inbox and by mail."""

from challenge.mail.models import Notification, OutboxMessage
from challenge.reviews import services
from challenge.reviews.models import Assignment, AssignmentStatus, ConflictKind, PanelBid, PanelStatus
from factories import make_organiser
from factories.reviews import assign, make_expert, make_panel, make_review_bid, make_review_challenge, submit


async def test_a_conflict_declared_later_withdraws_the_score_visibly(client, make_client):
    organiser = await make_organiser()
    challenge = await make_review_challenge(experts_per_bid=3, blind_review=True)
    bid = await make_review_bid(challenge)
    chair, second, late = await make_expert(), await make_expert(), await make_expert(name="后申报冲突的专家")
    panel = await make_panel(challenge=challenge, experts=[chair, second, late], chair=chair, organiser=organiser)
    panel.status = PanelStatus.REVIEWING
    await panel.save()
    await submit(await assign(panel, bid, chair), [80, 80, 80])
    await submit(await assign(panel, bid, second), [75, 75, 75])
    withdrawn = await submit(await assign(panel, bid, late), [78.5, 78.5, 78.5])
    code = (await PanelBid.get(panel=panel, bid=bid)).code
    await client.login(chair.email)
    assert "<strong>77.83</strong>" in (await client.get(f"/review/panels/{panel.id}")).text

    await services.declare_conflict(expert=late, kind=ConflictKind.ORGANISATION, organisation=await bid.lead_org,
                                    name="", credit_code="", email="", reason="与牵头单位有合作项目")
    assert (await Assignment.get(id=withdrawn.id)).status == AssignmentStatus.REVOKED

    page = await client.get(f"/review/panels/{panel.id}")
    assert "<strong>77.50</strong>" in page.text  # from the two scores that still count
    table = page.text.split('id="withdrawn"')[1].split("</table>")[0]
    assert "已撤回的评分" in table and f"申报 {code}" in table and "后申报冲突的专家" in table
    assert "78.50" in table and "利益冲突" in table and "北京时间" in table
    assert "撤回 1" in page.text
    organiser_http = make_client()
    await organiser_http.login(organiser.email)
    assert "后申报冲突的专家" in (await organiser_http.get(f"/review/manage/panels/{panel.id}/ranking")).text.split(
        'id="withdrawn"')[1]

    for user in (chair, organiser):
        note = await Notification.filter(user=user, subject__contains="已提交的评分被撤回").first()
        assert note is not None and "78.50" in note.body and f"申报 {code}" in note.body
        assert await OutboxMessage.filter(to_address=user.email, subject__contains="已提交的评分被撤回").exists()
    assert not await Notification.filter(user=second, subject__contains="已提交的评分被撤回").exists()


async def test_the_ranking_page_names_the_dropped_scores_and_the_plain_mean(client):
    from challenge.challenges.models import Aggregation

    organiser = await make_organiser()
    challenge = await make_review_challenge(experts_per_bid=5, criteria=(100,), aggregation=Aggregation.TRIMMED_MEAN)
    bid = await make_review_bid(challenge)
    experts = [await make_expert() for _ in range(5)]
    panel = await make_panel(challenge=challenge, experts=experts, organiser=organiser)
    panel.status = PanelStatus.REVIEWING
    await panel.save()
    for expert, value in zip(experts, [91, 80, 70, 60, 22]):
        await submit(await assign(panel, bid, expert), [value])
    await client.login(organiser.email)
    page = await client.get(f"/review/manage/panels/{panel.id}/ranking")
    assert "<strong>70.00</strong>" in page.text
    assert "去掉最高 91.00、最低 22.00" in page.text and "未去分平均 64.60" in page.text
    assert "各评审要素列是计入专家组得分的那些评分" in page.text
    chair_http = client
    await chair_http.login(experts[0].email)
    page = await chair_http.get(f"/review/panels/{panel.id}")
    assert page.text.count("最高分，已去掉") == 1 and page.text.count("最低分，已去掉") == 1
