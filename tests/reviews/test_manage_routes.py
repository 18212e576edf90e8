"""Organisers over HTTP: forming a panel, the proposal, hand adjustments, confirmation, progress,
reminders, ranking and exports."""

import csv
import io
from datetime import timedelta

from openpyxl import load_workbook

from challenge.accounts.models import Role
from challenge.audit.models import AuditEntry
from challenge.bids.models import BidPartner
from challenge.challenges.models import ChallengeStatus
from challenge.mail.models import Notification, OutboxMessage
from challenge.reviews.models import (
    Assignment,
    AssignmentStatus,
    ConflictDeclaration,
    ConflictKind,
    Panel,
    PanelBid,
    PanelMember,
    PanelStatus,
)
from challenge.reviews.services import recheck_conflicts
from challenge.web.timefmt import now_utc
from factories import make_org, make_organiser, make_user
from factories.reviews import assign, make_expert, make_panel, make_review_bid, make_review_challenge, submit


async def _pool(n=4, **challenge):
    challenge = await make_review_challenge(experts_per_bid=2, **challenge)
    bids = [await make_review_bid(challenge) for _ in range(3)]
    experts = [await make_expert() for _ in range(n)]
    return challenge, bids, experts


def _panel_form(experts, chair, **extra):
    data = [("name", "第一评审组"), ("dispersion_threshold", "12.5"), ("chair", str(chair.id)),
            ("due_at", "2030-01-31T17:00"), *[("members", str(e.id)) for e in experts]]
    return data + list(extra.items())


async def test_organiser_forms_a_panel_with_a_chair(client):
    organiser = await make_organiser()
    challenge, bids, experts = await _pool()
    await client.login(organiser.email)
    page = await client.get(f"/review/manage/challenges/{challenge.id}/panels/new")
    assert page.status_code == 200 and all(e.name in page.text for e in experts)
    response = await client.submit(f"/review/manage/challenges/{challenge.id}/panels/new",
                                   _panel_form(experts[:3], experts[1]))
    assert response.status_code == 303
    panel = await Panel.get(challenge=challenge)
    assert response.headers["location"] == f"/review/manage/panels/{panel.id}"
    assert panel.due_at.isoformat().startswith("2030-01-31T09:00")  # 17:00 Beijing time
    members = {m.expert_id: m.is_chair for m in await PanelMember.filter(panel=panel)}
    assert members == {experts[0].id: False, experts[1].id: True, experts[2].id: False}
    codes = sorted(await PanelBid.filter(panel=panel).values_list("code", flat=True))
    assert codes == ["A", "B", "C"]
    assert await AuditEntry.filter(action="panel.create", object_id=str(panel.id)).exists()
    # One panel per challenge (or stage).
    response = await client.submit(f"/review/manage/challenges/{challenge.id}/panels/new",
                                   _panel_form(experts[:3], experts[1]))
    assert response.status_code == 400 and "已有评审专家组" in response.text
    assert await Panel.filter(challenge=challenge).count() == 1


async def test_panel_form_errors_keep_input(client):
    organiser = await make_organiser()
    challenge, bids, experts = await _pool()
    await client.login(organiser.email)
    url = f"/review/manage/challenges/{challenge.id}/panels/new"
    response = await client.submit(url, [("name", ""), ("dispersion_threshold", "abc"), ("members", str(experts[0].id)),
                                         ("chair", str(experts[1].id))])
    assert response.status_code == 400
    assert "此项为必填项" in response.text and "请输入数字" in response.text and "组长须是专家组成员" in response.text
    response = await client.submit(url, [("name", "组"), ("dispersion_threshold", "10")])
    assert response.status_code == 400 and "请至少选择一项" in response.text
    response = await client.submit(url, _panel_form([experts[0]], experts[0], members="999999"))
    assert response.status_code == 400 and "所选项无效" in response.text
    assert not await Panel.exists()


async def test_panels_only_after_the_bid_window(client):
    organiser = await make_organiser()
    challenge, bids, experts = await _pool(status=ChallengeStatus.PUBLISHED, closes_at=now_utc() + timedelta(days=1))
    await client.login(organiser.email)
    assert (await client.get(f"/review/manage/challenges/{challenge.id}/panels/new")).status_code == 404
    response = await client.submit(f"/review/manage/challenges/{challenge.id}/panels/new",
                                   _panel_form(experts, experts[0]))
    assert response.status_code == 404 and not await Panel.exists()
    assert (await client.get("/review/manage/challenges/999999/panels/new")).status_code == 404
    # Once the window has passed, a published challenge counts as closed (before `close-expired` runs).
    challenge.closes_at = now_utc() - timedelta(minutes=1)
    await challenge.save()
    assert challenge.title in (await client.get("/review/manage")).text
    response = await client.submit(f"/review/manage/challenges/{challenge.id}/panels/new",
                                   _panel_form(experts, experts[0]))
    assert response.status_code == 303 and await Panel.filter(challenge=challenge).exists()


async def test_proposal_adjustment_and_confirmation(client, make_client):
    organiser = await make_organiser()
    challenge, bids, experts = await _pool()
    # experts[3] declared a conflict with the lead organisation of bid 0: never proposed for it.
    await ConflictDeclaration.create(expert=experts[3], kind=ConflictKind.ORGANISATION,
                                     organisation_id=bids[0].lead_org_id, reason="近三年合作")
    panel = await make_panel(challenge=challenge, experts=experts, organiser=organiser)
    await client.login(organiser.email)
    response = await client.submit(f"/review/manage/panels/{panel.id}/propose")
    assert response.status_code == 303
    proposed = await Assignment.filter(panel=panel, status=AssignmentStatus.PROPOSED)
    assert len(proposed) == 6
    assert (experts[3].id, bids[0].id) not in {(a.expert_id, a.bid_id) for a in proposed}
    assert all(sum(1 for a in proposed if a.bid_id == b.id) == 2 for b in bids)
    loads = [sum(1 for a in proposed if a.expert_id == e.id) for e in experts]
    assert max(loads) - min(loads) <= 1
    # Nothing reaches the experts before the organiser confirms.
    assert not await Notification.filter(user_id__in=[e.id for e in experts]).exists()

    page = await client.get(f"/review/manage/panels/{panel.id}/assign")
    assert page.status_code == 200
    assert experts[3].name in page.text and "本人申报了与申报单位的利益冲突" in page.text  # excluded, in words
    # A conflicted choice by hand is refused with the reason, and nothing is written.
    response = await client.submit(f"/review/manage/panels/{panel.id}/assign",
                                   {"bid": bids[0].id, "expert": experts[3].id})
    assert response.status_code == 400 and "不能分配" in response.text and "本人申报了与申报单位的利益冲突" in response.text
    assert not await Assignment.filter(bid=bids[0], expert=experts[3]).exists()
    # A non-member, a bid outside the panel: refused too.
    outsider = await make_expert()
    response = await client.submit(f"/review/manage/panels/{panel.id}/assign", {"bid": bids[1].id,
                                                                                "expert": outsider.id})
    assert response.status_code == 400 and "本专家组的成员" in response.text
    other_bid = await make_review_bid(await make_review_challenge())
    response = await client.submit(f"/review/manage/panels/{panel.id}/assign", {"bid": other_bid.id,
                                                                                "expert": experts[0].id})
    assert response.status_code == 400
    # Remove a proposal and add another expert by hand.
    drop = next(a for a in proposed if a.bid_id == bids[1].id)
    assert (await client.submit(f"/review/manage/assignments/{drop.id}/remove")).status_code == 303
    assert not await Assignment.filter(id=drop.id).exists()
    taken = set(await Assignment.filter(panel=panel, bid=bids[1]).values_list("expert_id", flat=True))
    free = next(e for e in experts if e.id not in taken)
    response = await client.submit(f"/review/manage/panels/{panel.id}/assign", {"bid": bids[1].id, "expert": free.id})
    assert response.status_code == 303
    # Confirm: tasks, one mail per expert, panel reviewing.
    response = await client.submit(f"/review/manage/panels/{panel.id}/confirm")
    assert response.status_code == 303
    assert await Assignment.filter(panel=panel, status=AssignmentStatus.ASSIGNED).count() == 6
    await panel.refresh_from_db()
    assert panel.status == PanelStatus.REVIEWING and panel.confirmed_at is not None
    for expert in experts:
        count = await Assignment.filter(panel=panel, expert=expert).count()
        assert await OutboxMessage.filter(to_address=expert.email).count() == (1 if count else 0)
    response = await client.submit(f"/review/manage/panels/{panel.id}/confirm")
    assert response.status_code == 303
    assert "没有待确认的分配" in (await client.get(f"/review/manage/panels/{panel.id}/assign")).text
    # Members cannot be changed once reviewing.
    response = await client.submit(f"/review/manage/panels/{panel.id}/members",
                                   [("members", str(experts[0].id)), ("chair", str(experts[0].id))])
    assert response.status_code == 303
    assert await PanelMember.filter(panel=panel).count() == 4


async def test_revoking_a_confirmed_task_tells_the_expert(client):
    organiser = await make_organiser()
    challenge, bids, experts = await _pool()
    panel = await make_panel(challenge=challenge, experts=experts, organiser=organiser)
    item = await assign(panel, bids[0], experts[1])
    done = await submit(await assign(panel, bids[0], experts[2]), [1, 2, 3])
    await client.login(organiser.email)
    assert (await client.submit(f"/review/manage/assignments/{item.id}/remove")).status_code == 303
    await item.refresh_from_db()
    assert item.status == AssignmentStatus.REVOKED
    assert await Notification.filter(user=experts[1], subject="一项评审任务已撤销").exists()
    assert (await client.submit(f"/review/manage/assignments/{done.id}/remove")).status_code == 303
    await done.refresh_from_db()
    assert done.status == AssignmentStatus.SUBMITTED


async def test_members_change_while_forming(client):
    organiser = await make_organiser()
    challenge, bids, experts = await _pool()
    panel = await make_panel(challenge=challenge, experts=experts[:2], organiser=organiser)
    await client.login(organiser.email)
    response = await client.submit(f"/review/manage/panels/{panel.id}/members",
                                   [*[("members", str(e.id)) for e in experts[1:]], ("chair", str(experts[2].id))])
    assert response.status_code == 303
    members = {m.expert_id: m.is_chair for m in await PanelMember.filter(panel=panel)}
    assert members == {experts[1].id: False, experts[2].id: True, experts[3].id: False}
    response = await client.submit(f"/review/manage/panels/{panel.id}/members",
                                   [("members", str(experts[1].id)), ("chair", str(experts[2].id))])
    assert response.status_code == 303
    assert await PanelMember.filter(panel=panel).count() == 3


async def test_progress_and_reminders(client):
    organiser = await make_organiser()
    challenge, bids, experts = await _pool()
    panel = await make_panel(challenge=challenge, experts=experts, organiser=organiser,
                             due_at=now_utc() + timedelta(hours=12))
    panel.status = PanelStatus.REVIEWING
    await panel.save()
    await submit(await assign(panel, bids[0], experts[0]), [1, 2, 3])
    await assign(panel, bids[0], experts[1])
    await assign(panel, bids[1], experts[1])
    await assign(panel, bids[1], experts[2], status=AssignmentStatus.DECLINED)
    await client.login(organiser.email)
    page = await client.get(f"/review/manage/panels/{panel.id}")
    assert page.status_code == 200 and "逾期未完成" not in page.text and "未完成" in page.text
    overview = await client.get("/review/manage")
    assert overview.status_code == 200 and panel.name in overview.text
    response = await client.submit(f"/review/manage/panels/{panel.id}/remind")
    assert response.status_code == 303
    reminders = await OutboxMessage.filter(subject__startswith="评审提醒")
    assert [m.to_address for m in reminders] == [experts[1].email]
    assert "2 份申报尚未提交" in reminders[0].body
    assert await AuditEntry.filter(action="review.remind").exists()


async def test_ranking_page_and_exports(client):
    organiser = await make_organiser()
    challenge, bids, experts = await _pool()
    panel = await make_panel(challenge=challenge, experts=experts, organiser=organiser)
    await submit(await assign(panel, bids[0], experts[0]), [90, 90, 90])
    await submit(await assign(panel, bids[1], experts[0]), [60, 60, 60])
    await client.login(organiser.email)
    page = await client.get(f"/review/manage/panels/{panel.id}/ranking")
    assert page.status_code == 200
    lead = await bids[0].lead_org
    assert lead.name in page.text and "90.00" in page.text and "权重最高的评审要素" in page.text
    response = await client.get(f"/review/manage/panels/{panel.id}/export/ranking.csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["排名", "申报代码"] and rows[1][0] == "1" and rows[1][3] == lead.name
    assert rows[1][5] == "90.00" and rows[3][5] == ""
    response = await client.get(f"/review/manage/panels/{panel.id}/export/scores.xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.values)
    assert values[0][0] == "申报代码" and len(values) == 3
    assert experts[0].name in {row[3] for row in values[1:]}
    assert (await client.get(f"/review/manage/panels/{panel.id}/export/other.csv")).status_code == 404
    bidder = await make_user(Role.BIDDER)
    await client.login(bidder.email)
    assert (await client.get(f"/review/manage/panels/{panel.id}/export/ranking.csv")).status_code == 403
    assert (await client.get(f"/review/manage/panels/{panel.id}/ranking")).status_code == 403


async def test_consortium_change_revokes_conflicted_assignments(client):
    organiser = await make_organiser()
    challenge, bids, experts = await _pool()
    panel = await make_panel(challenge=challenge, experts=experts, organiser=organiser)
    item = await assign(panel, bids[1], experts[0])
    kept = await assign(panel, bids[2], experts[1])
    # The bidder adds experts[0]'s organisation as a partner of bid 1.
    await BidPartner.create(bid=bids[1], organisation_id=experts[0].organisation_id,
                            name=(await make_org()).name, org_type="enterprise")
    revoked = await recheck_conflicts(bid=bids[1])
    assert [a.id for a in revoked] == [item.id]
    await item.refresh_from_db()
    await kept.refresh_from_db()
    assert item.status == AssignmentStatus.REVOKED and "联合申报单位" in item.reason
    assert kept.status == AssignmentStatus.ASSIGNED
    note = await Notification.get(user=organiser, subject__contains="利益冲突")
    assert experts[0].name in note.body
    assert await Notification.filter(user=experts[0], subject="一项评审任务已撤销").exists()
    # The same expert is now conflicted with every bid of the challenge (his organisation bid on it).
    await client.login(organiser.email)
    response = await client.submit(f"/review/manage/panels/{panel.id}/assign", {"bid": bids[2].id,
                                                                                "expert": experts[0].id})
    assert response.status_code == 400 and "本人所在单位参与了同一榜单的其他申报" in response.text
