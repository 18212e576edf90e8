"""The chair's opinion and recommended winners, reminders by command (stage gates: tests/results)."""

from datetime import timedelta

from challenge.audit.models import AuditEntry
from challenge.mail.models import OutboxMessage
from challenge.reviews import services
from challenge.reviews.commands import remind
from challenge.reviews.models import Assignment, PanelStatus, ReviewOpinion
from challenge.web.timefmt import now_utc
from factories import make_organiser
from factories.reviews import assign, make_expert, make_panel, make_review_bid, make_review_challenge, submit


async def test_chair_records_the_opinion_and_recommended_winners(client, make_client):
    challenge = await make_review_challenge(winners_count=1)
    bids = [await make_review_bid(challenge) for _ in range(2)]
    chair, member = await make_expert(), await make_expert()
    panel = await make_panel(challenge=challenge, experts=[chair, member], chair=chair)
    panel.status = PanelStatus.REVIEWING
    await panel.save()
    await submit(await assign(panel, bids[0], chair), [90, 90, 90])
    pending = await assign(panel, bids[1], member)
    await client.login(chair.email)
    url = f"/review/panels/{panel.id}/opinion"
    response = await client.submit(url, [("text", "推荐申报 A"), ("recommended", str(bids[0].id))])
    assert response.status_code == 400 and "仍有专家未提交评分" in response.text
    await submit(pending, [70, 70, 70])
    response = await client.submit(url, [("text", ""), ("recommended", str(bids[0].id))])
    assert response.status_code == 400 and "此项为必填项" in response.text
    response = await client.submit(url, [("text", "意见"), ("recommended", str(bids[0].id)),
                                         ("recommended", str(bids[1].id))])
    assert response.status_code == 400 and "最多推荐 1 个" in response.text
    response = await client.submit(url, [("text", "意见"), ("recommended", "999999")])
    assert response.status_code == 400 and "不在本专家组的评审范围内" in response.text
    assert not await ReviewOpinion.exists()
    member_http = make_client()
    await member_http.login(member.email)
    response = await member_http.submit(url, [("text", "我来写"), ("recommended", str(bids[1].id))])
    assert response.status_code == 404 and not await ReviewOpinion.exists()
    response = await client.submit(url, [("text", "经专家组评议，推荐第一名揭榜。"), ("recommended", str(bids[0].id))])
    assert response.status_code == 303
    opinion = await ReviewOpinion.get(panel=panel)
    assert opinion.text == "经专家组评议，推荐第一名揭榜。" and opinion.recorded_by_id == chair.id
    assert [b.id for b in await opinion.recommended.all()] == [bids[0].id]
    await panel.refresh_from_db()
    assert panel.status == PanelStatus.CONCLUDED
    assert await AuditEntry.filter(action="panel.opinion", actor_id=chair.id).exists()
    organiser = await make_organiser()
    await client.login(organiser.email)
    page = await client.get(f"/review/manage/panels/{panel.id}/ranking")
    assert "经专家组评议" in page.text and "推荐" in page.text
    # Concluded: scores can no longer be reopened.
    await client.login(chair.email)
    await client.submit(f"/review/panels/{panel.id}/reopen/{pending.id}", {"reason": "再看看"})
    await pending.refresh_from_db()
    assert pending.status.value == "submitted"


async def test_remind_command_reminds_late_experts_once_a_day(db, settings):
    challenge = await make_review_challenge()
    bid = await make_review_bid(challenge)
    late, on_time, done = await make_expert(), await make_expert(), await make_expert()
    due_soon = await make_panel(challenge=challenge, experts=[late, done], due_at=now_utc() + timedelta(hours=6))
    other_challenge = await make_review_challenge()
    relaxed = await make_panel(challenge=other_challenge, experts=[on_time],
                               due_at=now_utc() + timedelta(days=10))
    for panel in (due_soon, relaxed):
        panel.status = PanelStatus.REVIEWING
        await panel.save()
    await assign(due_soon, bid, late)
    await submit(await assign(due_soon, bid, done), [1, 1, 1])
    await assign(relaxed, await make_review_bid(other_challenge), on_time)
    lines = []
    assert await remind(settings, out=lines.append) == 0
    assert "reminded 1 expert" in lines[0]
    assert [m.to_address for m in await OutboxMessage.filter(subject__startswith="评审提醒")] == [late.email]
    assert (await Assignment.get(panel=due_soon, expert=late)).reminded_at is not None
    lines.clear()
    await remind(settings, out=lines.append)
    assert "reminded 0 expert" in lines[0]
    assert await services.send_reminders(actor=None, panel=relaxed, only_late=False) == 1
