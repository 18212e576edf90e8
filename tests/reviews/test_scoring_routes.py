"""Experts over HTTP: who may open a bid, scoring drafts and submissions, locks, reopening, declining."""

from decimal import Decimal

import pytest

from challenge.accounts.models import Role
from challenge.audit.models import AuditEntry
from challenge.mail.models import Notification, OutboxMessage
from challenge.reviews.models import Assignment, AssignmentStatus, ConflictDeclaration, ConflictKind, Score
from factories import make_user
from factories.reviews import assign, make_expert, make_panel, make_review_bid, make_review_challenge, submit


async def _setup(experts: int = 3, **challenge):
    challenge = await make_review_challenge(**challenge)
    bid = await make_review_bid(challenge)
    people = [await make_expert() for _ in range(experts)]
    panel = await make_panel(challenge=challenge, experts=people, chair=people[0])
    criteria = list(await challenge.criteria.all().order_by("position"))
    return challenge, bid, people, panel, criteria


def _scores(criteria, values, action="submit", opinion="总体可行"):
    data = {"action": action, "opinion": opinion}
    data.update({f"score_{c.id}": str(v) for c, v in zip(criteria, values)})
    return data


@pytest.mark.parametrize("path", ["/review/", "/review/profile", "/review/conflicts", "/review/assignments/1",
                                  "/review/panels/1", "/review/manage", "/review/manage/experts"])
async def test_anonymous_is_sent_to_sign_in(client, path):
    response = await client.get(path)
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")


async def test_other_roles_are_refused(client):
    bidder = await make_user(Role.BIDDER)
    await client.login(bidder.email)
    for path in ("/review/", "/review/profile", "/review/manage", "/review/manage/experts"):
        assert (await client.get(path)).status_code == 403, path
    expert = await make_expert()
    await client.login(expert.email)
    assert (await client.get("/review/manage")).status_code == 403
    response = await client.submit("/review/manage/experts/invite", {"email": "x@y.cn", "name": "某"})
    assert response.status_code == 403


async def test_only_the_assigned_expert_opens_a_bid(client, make_client):
    challenge, bid, (chair, expert, other), panel, criteria = await _setup()
    item = await assign(panel, bid, expert)
    await client.login(other.email)
    assert (await client.get(f"/review/assignments/{item.id}")).status_code == 404
    assert (await client.get(f"/review/assignments/{item.id}/files/1")).status_code == 404
    response = await client.submit(f"/review/assignments/{item.id}", _scores(criteria, [1, 2, 3]))
    assert response.status_code == 404
    assert (await client.get("/review/assignments/999999")).status_code == 404
    assert not await Score.filter(assignment=item).exists()
    # A proposal not yet confirmed, or a declined task, is not the expert's to open either.
    own = make_client()
    await own.login(expert.email)
    for status in (AssignmentStatus.PROPOSED, AssignmentStatus.DECLINED, AssignmentStatus.REVOKED):
        item.status = status
        await item.save()
        assert (await own.get(f"/review/assignments/{item.id}")).status_code == 404


async def test_a_conflicted_expert_never_sees_the_bid(client):
    challenge, bid, (chair, expert, other), panel, criteria = await _setup()
    item = await assign(panel, bid, expert)
    await client.login(expert.email)
    assert (await client.get(f"/review/assignments/{item.id}")).status_code == 200
    # A conflict recorded behind the system's back (no recheck ran): the page still refuses.
    await ConflictDeclaration.create(expert=expert, kind=ConflictKind.ORGANISATION, organisation_id=bid.lead_org_id)
    assert (await client.get(f"/review/assignments/{item.id}")).status_code == 404
    await item.refresh_from_db()
    assert item.status == AssignmentStatus.REVOKED and "利益冲突" in item.reason


async def test_draft_then_submit_locks_the_scores(client):
    challenge, bid, (chair, expert, other), panel, criteria = await _setup()
    item = await assign(panel, bid, expert)
    await client.login(expert.email)
    page = await client.get(f"/review/assignments/{item.id}")
    assert "评审要素1" in page.text and "权重 40%，满分 100 分" in page.text
    response = await client.submit(f"/review/assignments/{item.id}", _scores(criteria, [80, ""], "save", ""))
    assert response.status_code == 303
    await item.refresh_from_db()
    assert item.status == AssignmentStatus.IN_PROGRESS
    assert {s.criterion_id: s.value for s in await Score.filter(assignment=item)} == {
        criteria[0].id: Decimal("80.00"), criteria[1].id: None, criteria[2].id: None}
    response = await client.submit(f"/review/assignments/{item.id}", _scores(criteria, [80, 70.5, 90]))
    assert response.status_code == 303
    await item.refresh_from_db()
    assert item.status == AssignmentStatus.SUBMITTED and item.submitted_at is not None
    assert await AuditEntry.filter(action="review.submit", object_id=str(item.id)).exists()
    # Locked: a second submission changes nothing.
    response = await client.submit(f"/review/assignments/{item.id}", _scores(criteria, [10, 10, 10]))
    assert response.status_code == 400 and "锁定" in response.text
    assert sorted(s.value for s in await Score.filter(assignment=item)) == [Decimal("70.50"), Decimal("80.00"),
                                                                           Decimal("90.00")]
    page = await client.get(f"/review/assignments/{item.id}")
    assert 'name="score_' not in page.text and "评分已提交并锁定" in page.text


@pytest.mark.parametrize("values, message", [
    ([101, 50, 50], "不能大于 100"),
    ([-1, 50, 50], "不能小于 0"),
    (["八十", 50, 50], "请输入数字"),
    ([80.123, 50, 50], "最多保留 2 位小数"),
    ([80, "", 50], "此项为必填项"),
])
async def test_bad_scores_are_refused_with_a_message(client, values, message):
    challenge, bid, (chair, expert, other), panel, criteria = await _setup()
    item = await assign(panel, bid, expert)
    await client.login(expert.email)
    response = await client.submit(f"/review/assignments/{item.id}", _scores(criteria, values))
    assert response.status_code == 400 and message in response.text
    await item.refresh_from_db()
    assert item.status == AssignmentStatus.ASSIGNED and not await Score.filter(assignment=item).exists()
    assert f'value="{values[2]}"' in response.text  # what was typed is kept


async def test_submit_needs_the_overall_opinion(client):
    challenge, bid, (chair, expert, other), panel, criteria = await _setup()
    item = await assign(panel, bid, expert)
    await client.login(expert.email)
    response = await client.submit(f"/review/assignments/{item.id}", _scores(criteria, [1, 2, 3], opinion=""))
    assert response.status_code == 400
    await item.refresh_from_db()
    assert item.status == AssignmentStatus.ASSIGNED


async def test_no_expert_sees_other_scores_before_submitting_his_own(client, make_client):
    challenge, bid, (chair, expert, other), panel, criteria = await _setup()
    first = await submit(await assign(panel, bid, other), [91.25, 12, 13])
    mine = await assign(panel, bid, expert)
    await client.login(expert.email)
    page = await client.get(f"/review/assignments/{mine.id}")
    assert "91.25" not in page.text and "专家组评分" not in page.text
    assert (await client.submit(f"/review/assignments/{mine.id}", _scores(criteria, [50, 50, 50]))).status_code == 303
    page = await client.get(f"/review/assignments/{mine.id}")
    assert "91.25" in page.text and "专家组评分" in page.text
    # The chair sees every submitted score of the bid even before scoring it himself.
    chair_item = await assign(panel, bid, chair)
    chair_http = make_client()
    await chair_http.login(chair.email)
    assert "91.25" in (await chair_http.get(f"/review/assignments/{chair_item.id}")).text
    chair_page = await chair_http.get(f"/review/panels/{panel.id}")
    assert chair_page.status_code == 200 and first.expert_id == other.id and other.name in chair_page.text


async def test_only_the_chair_reopens_with_a_reason(client, make_client):
    challenge, bid, (chair, expert, other), panel, criteria = await _setup()
    item = await submit(await assign(panel, bid, expert), [80, 80, 80])
    await client.login(other.email)
    assert (await client.get(f"/review/panels/{panel.id}")).status_code == 404
    response = await client.submit(f"/review/panels/{panel.id}/reopen/{item.id}", {"reason": "想改"})
    assert response.status_code == 404
    await item.refresh_from_db()
    assert item.status == AssignmentStatus.SUBMITTED
    chair_http = make_client()
    await chair_http.login(chair.email)
    response = await chair_http.submit(f"/review/panels/{panel.id}/reopen/{item.id}", {"reason": ""})
    assert response.status_code == 303
    await item.refresh_from_db()
    assert item.status == AssignmentStatus.SUBMITTED
    response = await chair_http.submit(f"/review/panels/{panel.id}/reopen/{item.id}", {"reason": "第二项评分依据不足"})
    assert response.status_code == 303
    await item.refresh_from_db()
    assert item.status == AssignmentStatus.IN_PROGRESS and item.reopen_count == 1
    assert item.reason == "第二项评分依据不足" and item.submitted_at is None
    entry = await AuditEntry.get(action="review.reopen", object_id=str(item.id))
    assert entry.actor_id == chair.id and entry.note == "第二项评分依据不足"
    assert await Notification.filter(user=expert, subject__contains="退回").exists()
    assert await OutboxMessage.filter(to_address=expert.email, body__contains="第二项评分依据不足").exists()
    await client.login(expert.email)
    page = await client.get(f"/review/assignments/{item.id}")
    assert "第二项评分依据不足" in page.text and 'name="score_' in page.text
    # Reopening something not submitted is refused.
    response = await chair_http.submit(f"/review/panels/{panel.id}/reopen/{item.id}", {"reason": "再退"})
    await item.refresh_from_db()
    assert item.reopen_count == 1


async def test_decline_with_reason_proposes_the_least_loaded_replacement(client):
    challenge, bid, (chair, expert, other), panel, criteria = await _setup()
    second_bid = await make_review_bid(challenge)
    await assign(panel, second_bid, chair)  # the chair has one task, `other` none
    item = await assign(panel, bid, expert)
    await client.login(expert.email)
    response = await client.submit(f"/review/assignments/{item.id}/decline", {"reason": ""})
    assert response.status_code == 303
    await item.refresh_from_db()
    assert item.status == AssignmentStatus.ASSIGNED
    response = await client.submit(f"/review/assignments/{item.id}/decline", {"reason": "近期出国，无法按时完成"})
    assert response.status_code == 303 and response.headers["location"] == "/review/"
    await item.refresh_from_db()
    assert item.status == AssignmentStatus.DECLINED and item.reason == "近期出国，无法按时完成"
    replacement = await Assignment.get(panel=panel, bid=bid, status=AssignmentStatus.PROPOSED)
    assert replacement.expert_id == other.id
    organiser_note = await Notification.get(subject__contains="评审任务被拒绝")
    assert "近期出国" in organiser_note.body and "替补" in organiser_note.body
    assert (await client.get(f"/review/assignments/{item.id}")).status_code == 404


async def test_decline_refuses_a_conflicted_replacement(client):
    challenge, bid, (chair, expert, other), panel, criteria = await _setup()
    await ConflictDeclaration.create(expert=other, kind=ConflictKind.ORGANISATION, organisation_id=bid.lead_org_id)
    await ConflictDeclaration.create(expert=chair, kind=ConflictKind.ORGANISATION, organisation_id=bid.lead_org_id)
    item = await assign(panel, bid, expert)
    await client.login(expert.email)
    assert (await client.submit(f"/review/assignments/{item.id}/decline", {"reason": "身体原因"})).status_code == 303
    assert not await Assignment.filter(panel=panel, status=AssignmentStatus.PROPOSED).exists()
    assert "没有可替补的专家" in (await Notification.get(subject__contains="评审任务被拒绝")).body


async def test_task_list_shows_codes_and_chaired_panels(client):
    challenge, bid, (chair, expert, other), panel, criteria = await _setup()
    await assign(panel, bid, chair)
    await client.login(chair.email)
    page = await client.get("/review/")
    assert page.status_code == 200 and "申报 A" in page.text and f"/review/panels/{panel.id}" in page.text
