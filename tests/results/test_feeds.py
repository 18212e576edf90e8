"""Each challenge's own Atom feed: its publication, amendments, answers, notices and announcement."""

from datetime import timedelta

import feedparser

from challenge.challenges import services as challenges
from challenge.challenges.models import Challenge, ChallengeStatus
from challenge.challenges.services import CriterionRow
from challenge.results import services
from challenge.results.models import Notice
from challenge.web.timefmt import now_utc
from factories import make_organiser, make_user
from factories.challenges import make_published
from factories.results import concluded_review


async def test_challenge_feed_has_amendments_answers_notice_and_announcement(client):
    organiser = await make_organiser()
    challenge = await make_published(actor=organiser, criteria=[CriterionRow("技术方案", 100, 100, "")])
    other = await make_published(actor=organiser, title="另一个榜单")
    question = await challenges.ask_question(challenge=challenge, user=await make_user(), body="测试工况如何确定？")
    await challenges.answer_question(question=question, actor=organiser, answer="按榜单附件执行。")
    data = await challenges.load_data(challenge)
    data.summary = "补充了测试工况说明"
    await challenges.amend_challenge(challenge=challenge, data=data, actor=organiser, explanation="补充测试工况")
    await Challenge.filter(id=challenge.id).update(status=ChallengeStatus.REVIEWING, closes_at=now_utc())
    review = await concluded_review(scores=[90, 80], recommended=[0], challenge=await Challenge.get(id=challenge.id))
    decision = await services.record_decision(panel=review.panel, actor=review.organiser, reasons={},
                                              selected={review.bids[0].id: True, review.bids[1].id: False})
    notice = await services.publish_notice(decision=decision, actor=review.organiser, working_days=5,
                                           starts_on=services.default_start(now_utc()))
    await Notice.filter(id=notice.id).update(ends_at=now_utc() - timedelta(minutes=1))
    await services.announce(notice=notice, actor=review.organiser)
    response = await client.get(f"/challenges/{challenge.id}/feed.atom")
    feed = feedparser.parse(response.content)
    assert not feed.bozo and response.headers["content-type"].startswith("application/atom+xml")
    assert feed.feed.link == f"http://testserver/challenges/{challenge.id}"
    titles = [entry.title for entry in feed.entries]
    winner = (await review.bids[0].lead_org).name
    assert titles[0] == f"结果公告：{challenge.title}"  # newest first
    assert {f"评审结果公示：{challenge.title}", f"答疑：{challenge.title}", f"补充通知（第 2 版）：{challenge.title}",
            f"发布榜单：{challenge.title}"} <= set(titles)
    answer = next(e for e in feed.entries if e.title.startswith("答疑"))
    assert "按榜单附件执行。" in answer.summary and answer.link.endswith(f"#question-{question.id}")
    assert winner in feed.entries[0].summary
    assert all(other.title not in title for title in titles)
    page = await client.get(f"/challenges/{challenge.id}")
    assert f'href="/challenges/{challenge.id}/feed.atom"' in page.text


async def test_results_pages_in_english(client):
    review = await concluded_review(scores=[90, 80], recommended=[0])
    decision = await services.record_decision(panel=review.panel, actor=review.organiser, reasons={},
                                              selected={review.bids[0].id: True, review.bids[1].id: False})
    notice = await services.publish_notice(decision=decision, actor=review.organiser, working_days=5,
                                           starts_on=services.default_start(now_utc()))
    await client.submit("/locale", {"locale": "en", "next": "/results"})
    page = await client.get(f"/results/notices/{notice.id}")
    assert page.status_code == 200 and "Public notice of review results" in page.text
    assert "Beijing time" in page.text and "working days" in page.text
    assert "Under public notice" in (await client.get("/results")).text
    await client.login(review.organiser.email)
    await client.submit("/locale", {"locale": "en", "next": "/results"})
    for url, text in (("/results/manage", "Results: decisions, public notices"),
                      (f"/results/manage/notices/{notice.id}", "Announcement of results"),
                      (f"/results/manage/panels/{review.panel.id}/decision", "Proposed winner")):
        response = await client.get(url)
        assert response.status_code == 200 and text in response.text
