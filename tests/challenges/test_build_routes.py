"""Organisers build challenges from accepted needs through the form; everyone else is refused."""

import pytest

from challenge.accounts.models import Role
from challenge.audit.models import AuditEntry
from challenge.challenges import services
from challenge.challenges.models import Challenge, ChallengeStatus
from challenge.needs.models import NeedStatus
from factories import domains, make_need, make_organiser, make_user
from factories.challenges import form_fields, make_accepted_need, make_draft, make_published


async def test_organiser_builds_draft_from_accepted_needs(client):
    organiser = await make_organiser()
    need_a = await make_accepted_need()
    need_b = await make_accepted_need()
    await client.login(organiser.email)
    page = await client.get(f"/challenges/new?need_id={need_a.id}")
    assert page.status_code == 200
    assert need_a.title in page.text and f'value="{need_a.id}" checked' in page.text
    response = await client.submit("/challenges/new", form_fields([need_a.id, need_b.id]))
    assert response.status_code == 303, response.text[:3000]
    challenge = await Challenge.get(title="工业园区VOCs深度治理技术")
    assert response.headers["location"] == f"/challenges/{challenge.id}"
    assert challenge.status == ChallengeStatus.DRAFT
    assert challenge.created_by_id == organiser.id
    # The link is kept both ways; issuers default to the needs' organisations.
    assert sorted(await challenge.needs.all().values_list("id", flat=True)) == sorted([need_a.id, need_b.id])
    assert [c.id for c in await need_a.challenges.all()] == [challenge.id]
    assert sorted(await challenge.issuers.all().values_list("id", flat=True)) == sorted(
        [need_a.organisation_id, need_b.organisation_id])
    assert challenge.domain_id == need_a.domain_id
    assert [t.name for t in await challenge.targets.all()] == ["VOCs去除率", "运行成本"]
    assert [c.weight for c in await challenge.criteria.all()] == [50, 30, 20]
    assert await AuditEntry.filter(action="challenge.create", object_id=str(challenge.id)).count() == 1
    detail = await client.get(f"/challenges/{challenge.id}")
    assert detail.status_code == 200
    assert "草稿" in detail.text and "VOCs去除率" in detail.text and need_b.title in detail.text


async def test_add_rows_without_javascript_rerenders_and_saves_nothing(client):
    organiser = await make_organiser()
    need = await make_accepted_need()
    await client.login(organiser.email)
    response = await client.submit("/challenges/new", form_fields([need.id], action="add_target"))
    assert response.status_code == 200
    assert 'name="target-5-name"' in response.text  # 3 sent + 3 more
    assert 'value="VOCs去除率"' in response.text  # what was typed is kept
    assert await Challenge.all().count() == 0


async def test_removed_and_blank_rows_are_dropped(client):
    organiser = await make_organiser()
    need = await make_accepted_need()
    await client.login(organiser.email)
    response = await client.submit("/challenges/new", form_fields([need.id], **{"target-1-remove": "1"}))
    assert response.status_code == 303
    challenge = await Challenge.get()
    assert [t.name for t in await challenge.targets.all()] == ["VOCs去除率"]


async def test_bad_row_values_are_shown_next_to_the_row(client):
    organiser = await make_organiser()
    need = await make_accepted_need()
    await client.login(organiser.email)
    response = await client.submit("/challenges/new", form_fields(
        [need.id], **{"criterion-1-weight": "三十", "target-1-value": ""}))
    assert response.status_code == 400
    assert "请输入整数" in response.text and "第 2 项考核指标：请填写目标值" in response.text
    assert 'id="field-criterion-1-weight"' in response.text and 'value="三十"' in response.text
    assert await Challenge.all().count() == 0


async def test_only_accepted_needs_can_be_used(client):
    organiser = await make_organiser()
    submitted = await make_need(status=NeedStatus.SUBMITTED)
    await client.login(organiser.email)
    response = await client.submit("/challenges/new", form_fields([submitted.id]))
    assert response.status_code == 400
    assert "只能使用已采纳的技术需求" in response.text
    response = await client.submit("/challenges/new", form_fields([]))
    assert response.status_code == 400 and "请至少选择一项已采纳的技术需求" in response.text
    response = await client.submit("/challenges/new", form_fields([999999]))
    assert response.status_code == 400 and "所选技术需求不存在" in response.text
    assert await Challenge.all().count() == 0


async def test_save_and_publish_in_one_step(client):
    organiser = await make_organiser()
    need = await make_accepted_need()
    await client.login(organiser.email)
    response = await client.submit("/challenges/new", form_fields([need.id], action="publish"))
    assert response.status_code == 303
    challenge = await Challenge.get()
    assert challenge.status == ChallengeStatus.PUBLISHED and challenge.published_at is not None
    public = await client.get("/challenges")
    assert challenge.title in public.text


async def test_edit_draft_keeps_row_ids(client):
    organiser = await make_organiser()
    challenge = await make_draft(actor=organiser)
    target_ids = await challenge.targets.all().values_list("id", flat=True)
    await client.login(organiser.email)
    page = await client.get(f"/challenges/{challenge.id}/edit")
    assert page.status_code == 200 and 'value="捕集能耗"' in page.text
    need_ids = await challenge.needs.all().values_list("id", flat=True)
    fields = form_fields(need_ids, title="新的名称", **{
        "target_rows": "2", "target-0-id": str(target_ids[0]), "target-0-name": "捕集能耗（修订）",
        "target-1-id": str(target_ids[1]), "target-1-name": "捕集率", "target-1-value": "≥92"})
    response = await client.submit(f"/challenges/{challenge.id}/edit", fields)
    assert response.status_code == 303
    targets = await challenge.targets.all()
    assert [t.id for t in targets] == list(target_ids)
    assert [t.name for t in targets] == ["捕集能耗（修订）", "捕集率"]
    await challenge.refresh_from_db()
    assert challenge.title == "新的名称"


async def test_forged_row_id_of_another_challenge_is_refused(client):
    organiser = await make_organiser()
    mine = await make_draft(actor=organiser)
    other = await make_draft(actor=organiser, title="其他榜单")
    foreign = (await other.targets.all())[0]
    await client.login(organiser.email)
    need_ids = await mine.needs.all().values_list("id", flat=True)
    response = await client.submit(f"/challenges/{mine.id}/edit", form_fields(
        need_ids, **{"target-0-id": str(foreign.id)}))
    assert response.status_code == 400
    await foreign.refresh_from_db()
    assert foreign.name == "捕集能耗" and foreign.challenge_id == other.id


async def test_direct_edit_of_published_challenge_is_refused(client):
    organiser = await make_organiser()
    challenge = await make_published(actor=organiser)
    await client.login(organiser.email)
    need_ids = await challenge.needs.all().values_list("id", flat=True)
    response = await client.submit(f"/challenges/{challenge.id}/edit", form_fields(need_ids, title="偷偷改名"))
    assert response.status_code == 303
    assert response.headers["location"] == f"/challenges/{challenge.id}/amend"
    page = await client.get(response.headers["location"])
    assert "不能直接修改" in page.text and "补充通知" in page.text
    await challenge.refresh_from_db()
    assert challenge.title == "高效低成本二氧化碳捕集技术" and challenge.version == 1
    get = await client.get(f"/challenges/{challenge.id}/edit")
    assert get.status_code == 303 and get.headers["location"] == f"/challenges/{challenge.id}/amend"


@pytest.mark.parametrize("path", ["/challenges/manage", "/challenges/new", "/challenges/manage/export?format=csv"])
async def test_organiser_pages_refuse_anonymous_and_other_roles(client, path):
    response = await client.get(path)
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")
    for role in (Role.SUBMITTER, Role.BIDDER, Role.EXPERT):
        user = await make_user(role)
        await client.login(user.email)
        assert (await client.get(path)).status_code == 403
        await client.submit("/logout")


async def test_posts_refuse_other_roles_and_change_nothing(client):
    draft = await make_draft()
    bidder = await make_user(Role.BIDDER)
    await client.login(bidder.email)
    need_ids = await draft.needs.all().values_list("id", flat=True)
    assert (await client.submit("/challenges/new", form_fields(need_ids))).status_code == 403
    assert (await client.submit(f"/challenges/{draft.id}/edit", form_fields(need_ids, title="x"))).status_code == 403
    assert (await client.submit(f"/challenges/{draft.id}/status", {"status": "published"})).status_code == 403
    assert (await client.submit(f"/challenges/{draft.id}/amend", {"explanation": "x"})).status_code == 403
    await draft.refresh_from_db()
    assert draft.status == ChallengeStatus.DRAFT and draft.title == "高效低成本二氧化碳捕集技术"
    assert await Challenge.all().count() == 1


async def test_drafts_are_not_found_for_the_public_and_non_organisers(client):
    draft = await make_draft()
    assert (await client.get(f"/challenges/{draft.id}")).status_code == 404
    submitter = await make_user(Role.SUBMITTER)
    await client.login(submitter.email)
    assert (await client.get(f"/challenges/{draft.id}")).status_code == 404
    assert (await client.get("/challenges/987654")).status_code == 404


async def test_forged_ids_are_not_found_for_organisers(client):
    organiser = await make_organiser()
    await client.login(organiser.email)
    assert (await client.get("/challenges/987654/edit")).status_code == 404
    assert (await client.submit("/challenges/987654/status", {"status": "published"})).status_code == 404
    assert (await client.get("/challenges/987654/amend")).status_code == 404
    assert (await client.submit("/challenges/987654/questions/1/answer", {"answer": "x"})).status_code == 404


async def test_manage_lists_drafts_with_filters(client):
    organiser = await make_organiser()
    draft = await make_draft(actor=organiser, title="草稿榜单甲")
    published = await make_published(actor=organiser, title="已发布榜单乙")
    await client.login(organiser.email)
    page = await client.get("/challenges/manage")
    assert draft.title in page.text and published.title in page.text
    page = await client.get("/challenges/manage?status=draft")
    assert draft.title in page.text and published.title not in page.text
    page = await client.get("/challenges/manage?q=榜单乙")
    assert draft.title not in page.text and published.title in page.text
    domain = (await domains())[0]
    page = await client.get(f"/challenges/manage?domain={domain.id}")
    assert "没有符合条件的榜单" in page.text


async def test_anonymous_posts_go_to_sign_in_and_change_nothing(client):
    draft = await make_draft()
    published = await make_published()
    question = await services.ask_question(challenge=published, user=await make_user(Role.BIDDER),
                                           body="匿名用户能答复吗？")
    need_ids = await draft.needs.all().values_list("id", flat=True)
    posts = [
        ("/challenges/new", form_fields(need_ids)),
        (f"/challenges/{draft.id}/edit", form_fields(need_ids, title="匿名修改")),
        (f"/challenges/{draft.id}/status", {"status": "published"}),
        (f"/challenges/{published.id}/status", {"status": "cancelled", "reason": "匿名撤销"}),
        (f"/challenges/{published.id}/amend", {"title": "匿名补充", "explanation": "x"}),
        (f"/challenges/{published.id}/questions/{question.id}/answer", {"answer": "匿名答复"}),
    ]
    for url, data in posts:
        response = await client.submit(url, data)
        assert response.status_code == 303 and response.headers["location"].startswith("/login?next="), url
    await draft.refresh_from_db()
    await published.refresh_from_db()
    await question.refresh_from_db()
    assert draft.status == ChallengeStatus.DRAFT and draft.title == "高效低成本二氧化碳捕集技术"
    assert published.status == ChallengeStatus.PUBLISHED and published.version == 1
    assert question.answer == "" and await Challenge.all().count() == 2
