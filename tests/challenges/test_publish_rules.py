"""Publishing is refused, naming each problem, and nothing changes."""

from datetime import timedelta

import pytest

from challenge.audit.models import AuditEntry
from challenge.challenges import services
from challenge.challenges.models import Challenge, ChallengeStatus, Mechanism, RubricCriterion, Stage
from challenge.challenges.services import CriterionRow, StageRow
from challenge.errors import DomainError
from challenge.web.timefmt import now_utc
from factories import make_organiser
from factories.challenges import challenge_data, form_fields, make_accepted_need, make_draft

pytestmark = pytest.mark.usefixtures("db")
NOW = now_utc()

CASES = {
    "no rubric": ({"criteria": []}, "criteria", "尚未设置评审细则"),
    "weights not 100": ({"criteria": [CriterionRow("技术", 40, 100), CriterionRow("团队", 30, 100)]},
                        "criteria", "权重合计须为 100，当前为 70"),
    "no window": ({"opens_at": None, "closes_at": None}, "closes_at", "请填写揭榜截止时间"),
    "closes before it opens": ({"opens_at": NOW + timedelta(days=5), "closes_at": NOW + timedelta(days=2)},
                               "closes_at", "截止时间必须晚于开始时间"),
    "already closed": ({"opens_at": NOW - timedelta(days=10), "closes_at": NOW - timedelta(days=1)},
                       "closes_at", "截止时间已过"),
    "no target": ({"targets": []}, "targets", "至少需要一项考核指标"),
    "no funding": ({"funding_wan": None}, "funding_wan", "榜单金额"),
    "no summary": ({"summary": ""}, "summary", "榜单简介"),
    "horse race without stages": ({"mechanism": Mechanism.HORSE_RACE, "stages": []}, "stages",
                                  "赛马榜单至少需要一个阶段"),
    "stages out of order": ({"mechanism": Mechanism.HORSE_RACE, "stages": [
        StageRow("中试", "", NOW + timedelta(days=300), 2), StageRow("小试", "", NOW + timedelta(days=100), 1)]},
        "stages", "按先后顺序"),
    "stage before the window closes": ({"mechanism": Mechanism.HORSE_RACE, "stages": [
        StageRow("小试", "", NOW + timedelta(days=3), 1)]}, "stages", "晚于揭榜截止时间"),
    "more teams advance later": ({"mechanism": Mechanism.HORSE_RACE, "stages": [
        StageRow("小试", "", NOW + timedelta(days=100), 2), StageRow("中试", "", NOW + timedelta(days=300), 3)]},
        "stages", "不能多于前一阶段"),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_publishing_refused_changes_nothing(case):
    overrides, field, message = CASES[case]
    organiser = await make_organiser()
    challenge = await services.save_draft(challenge=None, data=await challenge_data(**overrides), actor=organiser)
    audit_before = await AuditEntry.all().count()
    with pytest.raises(DomainError) as refused:
        await services.set_challenge_status(challenge=challenge, status=ChallengeStatus.PUBLISHED, actor=organiser)
    assert message in refused.value.errors[field]
    stored = await Challenge.get(id=challenge.id)
    assert stored.status == ChallengeStatus.DRAFT and stored.published_at is None
    assert await AuditEntry.all().count() == audit_before


async def test_every_problem_is_named_at_once():
    data = await challenge_data(criteria=[], targets=[], opens_at=None, closes_at=None)
    problems = services.publish_problems(data, now=NOW)
    assert {"criteria", "targets", "opens_at", "closes_at"} <= set(problems)


async def test_a_complete_horse_race_publishes_with_ordered_stages():
    challenge = await make_draft(mechanism=Mechanism.HORSE_RACE, title="钢铁行业氢冶金关键技术")
    await services.set_challenge_status(challenge=challenge, status=ChallengeStatus.PUBLISHED, actor=None)
    assert [s.name for s in await Stage.filter(challenge=challenge).order_by("position")] == [
        "小试验证", "中试放大", "工程示范"]


async def test_save_and_publish_refused_saves_nothing_at_all():
    organiser = await make_organiser()
    draft = await make_draft(actor=organiser)
    data = await services.load_data(draft)
    data.title = "修改后的名称"
    data.criteria = [CriterionRow("技术", 50, 100)]
    with pytest.raises(DomainError):
        await services.save_and_publish(challenge=draft, data=data, actor=organiser)
    stored = await Challenge.get(id=draft.id)
    assert stored.title == "高效低成本二氧化碳捕集技术" and stored.status == ChallengeStatus.DRAFT
    assert await RubricCriterion.filter(challenge=draft).count() == 3


async def test_publish_button_shows_the_problems_on_the_form(client):
    organiser = await make_organiser()
    draft = await make_draft(actor=organiser, criteria=[CriterionRow("技术", 60, 100), CriterionRow("团队", 30, 100)])
    await client.login(organiser.email)
    response = await client.submit(f"/challenges/{draft.id}/status", {"status": "published"})
    assert response.status_code == 400
    assert "榜单未发布" in response.text
    assert "评审要素的权重合计须为 100，当前为 90" in response.text
    assert 'href="#field-criteria"' in response.text and 'id="field-criteria"' in response.text
    assert f'action="/challenges/{draft.id}/edit"' in response.text
    assert (await Challenge.get(id=draft.id)).status == ChallengeStatus.DRAFT


async def test_save_and_publish_from_the_form_refused_keeps_input_and_saves_nothing(client):
    organiser = await make_organiser()
    draft = await make_draft(actor=organiser)
    need_ids = await draft.needs.all().values_list("id", flat=True)
    await client.login(organiser.email)
    fields = form_fields(need_ids, action="publish", title="新的名称", opens_at="2099-12-31T09:00",
                         closes_at="2099-01-01T17:00", **{"criterion-0-weight": "10"})
    response = await client.submit(f"/challenges/{draft.id}/edit", fields)
    assert response.status_code == 400
    assert "榜单未发布，也未保存本次修改" in response.text
    assert "揭榜截止时间必须晚于开始时间" in response.text and "当前为 60" in response.text
    assert 'value="新的名称"' in response.text
    stored = await Challenge.get(id=draft.id)
    assert stored.title == "高效低成本二氧化碳捕集技术" and stored.status == ChallengeStatus.DRAFT


async def test_new_challenge_published_with_problems_is_not_created(client):
    organiser = await make_organiser()
    need = await make_accepted_need()
    await client.login(organiser.email)
    fields = [(k, v) for k, v in form_fields([need.id], action="publish") if not k.startswith("criterion-")]
    response = await client.submit("/challenges/new", fields)
    assert response.status_code == 400 and "尚未设置评审细则" in response.text
    assert await Challenge.all().count() == 0
