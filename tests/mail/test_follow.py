"""Following a challenge by e-mail, through the real SMTP server: double opt-in, mails on
amendments, answers and notices, and the one-click unsubscribe of RFC 8058."""

import re

import httpx
import pytest

from challenge.app import create_app
from challenge.audit.models import AuditEntry
from challenge.challenges import services as challenges
from challenge.follow import services
from challenge.follow.models import Subscription
from challenge.mail.models import OutboxMessage
from challenge.mail.services import deliver_pending
from conftest import Client
from factories import make_organiser, make_user
from factories.challenges import make_draft, make_published
from factories.results import concluded_review, open_notice

LINK_RE = re.compile(r"http://testserver(/follow/(?:confirm|unsubscribe)/[A-Za-z0-9_.\-]+)")


@pytest.fixture
async def smtp_app(db, smtp_settings):
    return create_app(smtp_settings, manage_orm=False)


@pytest.fixture
async def browser(smtp_app):
    async with Client(transport=httpx.ASGITransport(app=smtp_app), base_url="http://testserver") as http:
        yield http


def mail_client(app) -> httpx.AsyncClient:
    """A mail client's own HTTP: no cookie, no session, no CSRF token."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def amend(challenge, organiser, explanation: str):
    data = await challenges.load_data(challenge)
    data.summary += "（补充）"
    return await challenges.amend_challenge(challenge=challenge, data=data, explanation=explanation, actor=organiser)


def sent_to(smtp_server, address: str):
    return [m for m in smtp_server.recorder.messages if m["To"] == address]


async def test_double_opt_in_then_news_then_one_click_unsubscribe(browser, smtp_app, smtp_server, smtp_settings):
    organiser = await make_organiser()
    challenge = await make_published(actor=organiser, title="高效低成本二氧化碳捕集技术")
    page = await browser.get(f"/challenges/{challenge.id}")
    assert f'action="/follow/challenges/{challenge.id}"' in page.text
    assert f'href="/challenges/{challenge.id}/feed.atom"' in page.text

    response = await browser.submit(f"/follow/challenges/{challenge.id}", {"email": "Reader@Example.cn"})
    assert response.status_code == 303 and response.headers["location"] == f"/challenges/{challenge.id}"
    [confirmation] = sent_to(smtp_server, "reader@example.cn")
    assert confirmation["Subject"] == f"请确认订阅：{challenge.title}"
    assert "List-Unsubscribe" not in confirmation
    confirm_path = LINK_RE.search(confirmation.get_content()).group(1)
    assert confirm_path.startswith("/follow/confirm/")
    # Asked again at once: the same answer, no second mail.
    again = await browser.submit(f"/follow/challenges/{challenge.id}", {"email": "reader@example.cn"})
    assert again.status_code == 303 and len(sent_to(smtp_server, "reader@example.cn")) == 1

    # Nothing is sent before the confirmation.
    await amend(challenge, organiser, "截止时间前的第一次补充通知")
    await deliver_pending(smtp_settings)
    assert len(sent_to(smtp_server, "reader@example.cn")) == 1

    # Opening the link confirms nothing (mail scanners open links); the button does.
    shown = await browser.get(confirm_path)
    assert shown.status_code == 200 and "确认订阅" in shown.text
    assert not (await Subscription.get(email="reader@example.cn")).is_confirmed
    confirmed = await browser.submit(confirm_path)
    assert confirmed.status_code == 303
    assert (await Subscription.get(email="reader@example.cn")).is_confirmed
    assert await AuditEntry.filter(action="subscription.confirm").exists()

    await amend(challenge, organiser, "截止时间前的第二次补充通知")
    question = await challenges.ask_question(challenge=challenge, user=await make_user(), body="联合体成员可以有几家？")
    await challenges.answer_question(question=question, actor=organiser, answer="不超过 5 家。")
    await deliver_pending(smtp_settings)
    news = sent_to(smtp_server, "reader@example.cn")[1:]
    assert [m["Subject"] for m in news] == [f"榜单发布补充通知（第 3 版）：{challenge.title}", f"答疑：{challenge.title}"]
    assert "第二次补充通知" in news[0].get_content()
    assert "联合体成员可以有几家？" in news[1].get_content() and "不超过 5 家。" in news[1].get_content()
    for message in news:
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        header_path = re.fullmatch(r"<http://testserver(/follow/unsubscribe/\S+)>", message["List-Unsubscribe"]).group(1)
        assert header_path in message.get_content()  # the same link in the body

    # One click, as a mail client does it (RFC 8058): a POST without session or CSRF token.
    async with mail_client(smtp_app) as client:
        response = await client.post(header_path, content=b"List-Unsubscribe=One-Click",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert response.status_code == 200 and "已退订" in response.text
        assert not await Subscription.exists(email="reader@example.cn")
        # A second click answers the same and changes nothing.
        assert (await client.post(header_path, content=b"List-Unsubscribe=One-Click")).status_code == 200
    await amend(challenge, organiser, "退订后的补充通知")
    await deliver_pending(smtp_settings)
    assert len(sent_to(smtp_server, "reader@example.cn")) == 3
    # Other POSTs still need their CSRF token.
    async with mail_client(smtp_app) as client:
        assert (await client.post(f"/follow/challenges/{challenge.id}", data={"email": "x@example.cn"})).status_code == 403


async def test_followers_hear_of_the_notice(browser, smtp_server, smtp_settings):
    review = await concluded_review(scores=[90, 80], recommended=[0])
    subscription = await services.subscribe(challenge=review.challenge, email="watcher@example.cn", locale="en")
    await services.confirm(subscription=subscription)
    await open_notice(review)
    await deliver_pending(smtp_settings)
    messages = sent_to(smtp_server, "watcher@example.cn")
    assert messages[0]["Subject"].startswith("Please confirm")  # in the language chosen when subscribing
    assert messages[-1]["Subject"] == f"Public notice of review results: {review.challenge.title}"
    assert "/results/" in messages[-1].get_content()


async def test_bad_addresses_drafts_and_forged_tokens(browser, smtp_server):
    challenge = await make_published()
    refused = await browser.submit(f"/follow/challenges/{challenge.id}", {"email": "not-an-address"})
    assert refused.status_code == 400
    assert "请输入有效的电子邮箱地址" in refused.text and 'value="not-an-address"' in refused.text
    draft = await make_draft()
    assert (await browser.submit(f"/follow/challenges/{draft.id}", {"email": "a@example.cn"})).status_code == 404
    assert not await Subscription.exists() and not await OutboxMessage.exists()
    assert (await browser.get("/follow/confirm/forged")).status_code == 404
    assert not smtp_server.recorder.envelopes
    # An unsubscribe token is not a confirmation token (and the other way round).
    subscription = await services.subscribe(challenge=challenge, email="b@example.cn", locale="zh_CN")
    leave = services.unsubscribe_link(subscription)
    assert (await browser.get(leave.replace("/unsubscribe/", "/confirm/"))).status_code == 404
