"""After publishing, changes are amendments: versioned, dated, before/after, public, told to bidders."""

from datetime import timedelta
from decimal import Decimal

import pytest

from challenge.accounts.models import Role
from challenge.audit.models import AuditEntry
from challenge.challenges import services
from challenge.challenges.models import Amendment, AssessmentTarget, Challenge, ChallengeStatus
from challenge.challenges.forms import challenge_form_data
from challenge.errors import DomainError
from challenge.mail.models import Notification, OutboxMessage
from challenge.web.timefmt import now_utc
from factories import make_bid, make_organiser, make_user
from factories.challenges import make_draft, make_published

pytestmark = pytest.mark.usefixtures("db")


async def test_amendment_is_versioned_with_before_and_after():
    organiser = await make_organiser()
    challenge = await make_published(actor=organiser)
    old_close = challenge.closes_at
    data = await services.load_data(challenge)
    data.closes_at = old_close + timedelta(days=14)
    data.funding_wan = Decimal("3500")
    amendment = await services.amend_challenge(challenge=challenge, data=data, actor=organiser,
                                               explanation="截止时间延长 14 天，榜单金额调整为 3500 万元")
    stored = await Challenge.get(id=challenge.id)
    assert stored.version == 2 and amendment.version == 2
    assert stored.closes_at == old_close + timedelta(days=14) and stored.funding_wan == Decimal("3500")
    changes = {c["field"]: c for c in amendment.changes}
    assert set(changes) == {"closes_at", "funding_wan"}
    assert changes["funding_wan"]["before"] == "3000.00" and changes["funding_wan"]["after"] == "3500.00"
    assert changes["closes_at"]["before"] == old_close.isoformat()
    entry = await AuditEntry.get(action="challenge.amend")
    assert entry.before["funding_wan"] == "3000.00" and entry.after["version"] == 2
    # A second amendment gets the next version.
    data = await services.load_data(stored)
    data.targets[0].target_value = "≤2.0"
    second = await services.amend_challenge(challenge=stored, data=data, actor=organiser, explanation="收紧能耗指标")
    assert second.version == 3 and (await Challenge.get(id=challenge.id)).version == 3
    assert [a.version for a in await Amendment.filter(challenge=challenge).order_by("version")] == [2, 3]


async def test_target_amendment_updates_rows_in_place_and_search():
    challenge = await make_published()
    ids = list(await AssessmentTarget.filter(challenge=challenge).order_by("position").values_list("id", flat=True))
    data = await services.load_data(challenge)
    data.targets[1].name = "二氧化碳捕集率"
    data.targets.append(services.TargetRow("吸收剂损耗", "≤0.3", "kg/tCO2", "物料衡算"))
    amendment = await services.amend_challenge(challenge=challenge, data=data, actor=None, explanation="补充指标")
    targets = await AssessmentTarget.filter(challenge=challenge).order_by("position")
    assert [t.id for t in targets][:2] == ids and targets[2].name == "吸收剂损耗"
    change = amendment.changes[0]
    assert change["field"] == "targets" and len(change["before"]) == 2 and len(change["after"]) == 3
    stored = await Challenge.get(id=challenge.id)
    assert "吸收剂损耗" in stored.search_text


@pytest.mark.parametrize("case", ["no explanation", "no change", "earlier close", "empty targets", "zero funding"])
async def test_refused_amendments_change_nothing(case):
    organiser = await make_organiser()
    challenge = await make_published(actor=organiser)
    data = await services.load_data(challenge)
    explanation = "说明"
    expected_field = {"no explanation": "explanation", "no change": "changes", "earlier close": "closes_at",
                      "empty targets": "targets", "zero funding": "funding_wan"}[case]
    if case == "no explanation":
        explanation, data.title = "", "新名称"
    elif case == "earlier close":
        data.closes_at = challenge.closes_at - timedelta(days=1)
    elif case == "empty targets":
        data.targets = []
    elif case == "zero funding":
        data.funding_wan = Decimal("0")
    before = await AuditEntry.all().count()
    with pytest.raises(DomainError) as refused:
        await services.amend_challenge(challenge=challenge, data=data, actor=organiser, explanation=explanation)
    assert expected_field in refused.value.errors
    stored = await Challenge.get(id=challenge.id)
    assert stored.version == 1 and stored.title == "高效低成本二氧化碳捕集技术" and stored.closes_at == challenge.closes_at
    assert await Amendment.all().count() == 0 and await AuditEntry.all().count() == before
    assert await AssessmentTarget.filter(challenge=challenge).count() == 2


async def test_nothing_is_amended_once_the_window_has_closed():
    """Bidders could no longer act on a change, and the review judges bids against what was published."""
    organiser = await make_organiser()
    challenge = await make_published(actor=organiser)
    data = await services.load_data(challenge)
    data.targets[1].target_value = "≥95"
    after_close = challenge.closes_at + timedelta(hours=1)
    with pytest.raises(DomainError) as refused:
        await services.amend_challenge(challenge=challenge, data=data, actor=organiser, explanation="提高捕集率",
                                       now=after_close)
    assert "截止，不能再发布补充通知" in refused.value.message
    for status in (ChallengeStatus.CLOSED, ChallengeStatus.REVIEWING, ChallengeStatus.NOTICE):
        await Challenge.filter(id=challenge.id).update(status=status)
        with pytest.raises(DomainError) as refused:
            await services.amend_challenge(challenge=challenge, data=data, actor=organiser, explanation="提高捕集率")
        assert "不能再发布补充通知" in refused.value.message
    assert await Amendment.all().count() == 0
    assert (await AssessmentTarget.filter(challenge=challenge).order_by("position"))[1].target_value == "≥90"
    # Before the close the same amendment goes through.
    await Challenge.filter(id=challenge.id).update(status=ChallengeStatus.PUBLISHED)
    amendment = await services.amend_challenge(challenge=challenge, data=data, actor=organiser,
                                               explanation="提高捕集率", now=challenge.closes_at - timedelta(hours=1))
    assert amendment.version == 2


async def test_drafts_and_finished_challenges_are_not_amended():
    draft = await make_draft()
    data = await services.load_data(draft)
    data.title = "新名称"
    with pytest.raises(DomainError):
        await services.amend_challenge(challenge=draft, data=data, actor=None, explanation="x")
    with pytest.raises(services.EditAfterPublish):
        published = await make_published()
        await services.save_draft(challenge=published, data=await services.load_data(published), actor=None)


async def test_bidders_with_a_bid_are_notified():
    organiser = await make_organiser()
    challenge = await make_published(actor=organiser)
    bidder = await make_user(Role.BIDDER)
    colleague = await make_user(Role.SUBMITTER, organisation=bidder.organisation)
    stranger = await make_user(Role.BIDDER)
    await make_bid(challenge=challenge, lead_org=bidder.organisation)
    data = await services.load_data(challenge)
    data.summary = "更新后的简介"
    await services.amend_challenge(challenge=challenge, data=data, actor=organiser, explanation="更新简介")
    assert await Notification.filter(user=bidder, subject__contains="补充通知（第 2 版）").exists()
    assert not await Notification.filter(user=colleague).exists()  # not a bidder
    assert not await Notification.filter(user=stranger).exists()  # no bid
    assert await OutboxMessage.filter(to_address=bidder.email).exists()


async def test_amendment_form_and_public_before_after(client):
    organiser = await make_organiser()
    challenge = await make_published(actor=organiser)
    data = await services.load_data(challenge)
    await client.login(organiser.email)
    page = await client.get(f"/challenges/{challenge.id}/amend")
    assert page.status_code == 200 and "发布补充通知" in page.text and 'value="捕集能耗"' in page.text
    fields = {k: v for k, v in challenge_form_data(data).items()}
    fields.update({"funding_wan": "4000", "target-0-value": "≤2.0", "explanation": "追加经费并收紧能耗指标"})
    response = await client.submit(f"/challenges/{challenge.id}/amend", fields)
    assert response.status_code == 303, response.text[:2000]
    assert response.headers["location"] == f"/challenges/{challenge.id}#amendment-2"
    await client.submit("/logout")
    public = await client.get(f"/challenges/{challenge.id}")
    assert "补充通知（第 2 版）" in public.text and "追加经费并收紧能耗指标" in public.text
    assert "3,000 万元" in public.text and "4,000 万元" in public.text
    assert "1. 捕集能耗：≤2.2 GJ/tCO2（第三方检测）" in public.text
    assert "1. 捕集能耗：≤2.0 GJ/tCO2（第三方检测）" in public.text
    notice = public.text.split('id="amendment-2"')[1].split("</article>")[0]
    assert "捕集率" not in notice  # the unchanged target is not repeated


async def test_amendment_form_errors_keep_input(client):
    organiser = await make_organiser()
    challenge = await make_published(actor=organiser)
    fields = challenge_form_data(await services.load_data(challenge))
    await client.login(organiser.email)
    response = await client.submit(f"/challenges/{challenge.id}/amend", {**fields, "explanation": ""})
    assert response.status_code == 400 and "请说明修改的内容和理由" in response.text
    response = await client.submit(f"/challenges/{challenge.id}/amend", {**fields, "explanation": "无改动"})
    assert response.status_code == 400 and "没有修改任何内容" in response.text
    assert (await Challenge.get(id=challenge.id)).version == 1


async def test_amendment_route_denials(client):
    challenge = await make_published()
    response = await client.get(f"/challenges/{challenge.id}/amend")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    bidder = await make_user(Role.BIDDER)
    await client.login(bidder.email)
    assert (await client.get(f"/challenges/{challenge.id}/amend")).status_code == 403
    response = await client.submit(f"/challenges/{challenge.id}/amend", {"title": "x", "explanation": "x"})
    assert response.status_code == 403
    assert (await Challenge.get(id=challenge.id)).title == "高效低成本二氧化碳捕集技术"


async def test_amendment_of_a_finished_challenge_is_refused_on_the_page(client):
    organiser = await make_organiser()
    challenge = await make_published(actor=organiser)
    await Challenge.filter(id=challenge.id).update(status=ChallengeStatus.FINISHED)
    await client.login(organiser.email)
    response = await client.get(f"/challenges/{challenge.id}/amend")
    assert response.status_code == 303 and response.headers["location"] == f"/challenges/{challenge.id}"
    assert "不能再发布补充通知" in (await client.get(f"/challenges/{challenge.id}")).text


async def test_amendment_page_refuses_once_the_window_has_closed(client):
    organiser = await make_organiser()
    challenge = await make_published(actor=organiser)
    await Challenge.filter(id=challenge.id).update(closes_at=now_utc() - timedelta(minutes=1))
    await client.login(organiser.email)
    response = await client.get(f"/challenges/{challenge.id}/amend")
    assert response.status_code == 303 and response.headers["location"] == f"/challenges/{challenge.id}"
    page = await client.get(f"/challenges/{challenge.id}")
    assert "截止，不能再发布补充通知" in page.text and "发布补充通知</a>" not in page.text
    fields = challenge_form_data(await services.load_data(challenge))
    response = await client.submit(f"/challenges/{challenge.id}/amend", {**fields, "funding_wan": "9000",
                                                                           "explanation": "追加经费"})
    assert response.status_code == 303
    stored = await Challenge.get(id=challenge.id)
    assert stored.version == 1 and stored.funding_wan == Decimal("3000")
    manage = await client.get("/challenges/manage")
    assert f'href="/challenges/{challenge.id}/amend"' not in manage.text
