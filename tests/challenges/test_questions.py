"""Public Q&A (答疑): anyone signed in asks, organisers answer, askers stay anonymous to the public."""

from datetime import timedelta

import pytest

from challenge.accounts.models import Role
from challenge.challenges import services
from challenge.challenges.models import Challenge, Question
from challenge.errors import DomainError, PermissionDenied
from challenge.mail.models import Notification
from challenge.web.timefmt import now_utc
from factories import make_org, make_organiser, make_user
from factories.challenges import make_draft, make_published


async def test_question_lifecycle_keeps_the_asker_anonymous(client, make_client):
    organiser = await make_organiser()
    org = await make_org(name="某某大学碳中和研究院")
    bidder = await make_user(Role.BIDDER, organisation=org, name="张三丰")
    challenge = await make_published(actor=organiser)
    await client.login(bidder.email)
    response = await client.submit(f"/challenges/{challenge.id}/questions",
                                   {"body": "捕集率是否须在满负荷工况下测试？"})
    assert response.status_code == 303
    question = await Question.get(challenge=challenge)
    assert question.asked_by_id == bidder.id and not question.is_answered
    assert response.headers["location"] == f"/challenges/{challenge.id}#question-{question.id}"
    # The asker sees his own unanswered question; the public and other users do not.
    own = await client.get(f"/challenges/{challenge.id}")
    assert "捕集率是否须在满负荷工况下测试？" in own.text and "待答复" in own.text
    public = make_client()
    assert "捕集率是否须在满负荷工况下测试" not in (await public.get(f"/challenges/{challenge.id}")).text
    other = make_client()
    await other.login((await make_user(Role.BIDDER)).email)
    assert "捕集率是否须在满负荷工况下测试" not in (await other.get(f"/challenges/{challenge.id}")).text
    # Organisers see it and answer.
    admin = make_client()
    await admin.login(organiser.email)
    page = await admin.get(f"/challenges/{challenge.id}")
    assert "捕集率是否须在满负荷工况下测试？" in page.text and "待答复的提问：1 个" in page.text
    response = await admin.submit(f"/challenges/{challenge.id}/questions/{question.id}/answer",
                                  {"answer": "测试期间机组负荷不低于额定负荷的 75%。"})
    assert response.status_code == 303
    await question.refresh_from_db()
    assert question.is_answered and question.answered_by_id == organiser.id
    assert await Notification.filter(user=bidder, subject__contains="您的提问已答复").exists()
    # Now public, without the asker.
    text = (await public.get(f"/challenges/{challenge.id}")).text
    assert "捕集率是否须在满负荷工况下测试？" in text and "测试期间机组负荷不低于额定负荷的 75%。" in text
    assert "张三丰" not in text and "某某大学碳中和研究院" not in text and bidder.email not in text


async def test_asking_requires_sign_in_and_an_open_window(client):
    challenge = await make_published()
    response = await client.submit(f"/challenges/{challenge.id}/questions", {"body": "匿名能提问吗？"})
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    draft = await make_draft()
    user = await make_user(Role.BIDDER)
    await client.login(user.email)
    assert (await client.submit(f"/challenges/{draft.id}/questions", {"body": "草稿能提问吗？"})).status_code == 404
    assert (await client.submit("/challenges/999999/questions", {"body": "不存在的榜单？"})).status_code == 404
    await Challenge.filter(id=challenge.id).update(closes_at=now_utc() - timedelta(minutes=1))
    response = await client.submit(f"/challenges/{challenge.id}/questions", {"body": "截止后还能提问吗？"})
    assert response.status_code == 400 and "只能在揭榜期间" in response.text
    response = await client.submit(f"/challenges/{challenge.id}/questions", {"body": ""})
    assert await Question.all().count() == 0


async def test_only_organisers_answer(client):
    challenge = await make_published()
    asker = await make_user(Role.BIDDER)
    question = await services.ask_question(challenge=challenge, user=asker, body="请问经费如何拨付？")
    await client.login(asker.email)
    response = await client.submit(f"/challenges/{challenge.id}/questions/{question.id}/answer", {"answer": "自问自答"})
    assert response.status_code == 403
    await question.refresh_from_db()
    assert not question.is_answered


async def test_answer_to_a_question_of_another_challenge_is_not_found(client):
    organiser = await make_organiser()
    one = await make_published(actor=organiser)
    two = await make_published(actor=organiser, title="另一个榜单")
    question = await services.ask_question(challenge=one, user=await make_user(Role.BIDDER), body="请问经费如何拨付？")
    await client.login(organiser.email)
    response = await client.submit(f"/challenges/{two.id}/questions/{question.id}/answer", {"answer": "错位答复"})
    assert response.status_code == 404
    await question.refresh_from_db()
    assert question.answer == ""


@pytest.mark.usefixtures("db")
async def test_service_rules():
    challenge = await make_published()
    user = await make_user(Role.SUBMITTER)
    with pytest.raises(DomainError):
        await services.ask_question(challenge=challenge, user=user, body="短")
    question = await services.ask_question(challenge=challenge, user=user, body="可以由需求方提问吗？")
    with pytest.raises(PermissionDenied):
        await services.answer_question(question=question, actor=user, answer="可以")
    organiser = await make_organiser()
    with pytest.raises(DomainError):
        await services.answer_question(question=question, actor=organiser, answer="  ")
    await services.answer_question(question=question, actor=organiser, answer="可以。")
    await services.answer_question(question=question, actor=organiser, answer="可以，问题与答复均公开。")
    await question.refresh_from_db()
    assert question.answer == "可以，问题与答复均公开。"
    visible = services.visible_questions([question], None)
    assert visible == [question]


async def test_a_question_over_the_limit_keeps_its_text_with_a_clear_error(client):
    challenge = await make_published()
    await client.login((await make_user(Role.BIDDER)).email)
    page = await client.get(f"/challenges/{challenge.id}")
    assert 'maxlength="2000"' in page.text and 'data-count-for="field-body"' in page.text
    long = "请问" + "测" * 2100
    response = await client.submit(f"/challenges/{challenge.id}/questions", {"body": long})
    assert response.status_code == 400
    assert "问题不能超过 2000 字，现为 2102 字" in response.text
    assert f">{long}</textarea>" in response.text  # what was typed is still there
    assert await Question.all().count() == 0
