"""Decision → notice → objections → announcement, through the services with explicit times."""

from datetime import date, datetime, timezone

import pytest

from challenge.audit.models import AuditEntry
from challenge.audit.services import verify_chain
from challenge.bids.models import Bid, BidStatus
from challenge.challenges.models import Challenge, ChallengeStatus
from challenge.errors import DomainError, InvalidTransition
from challenge.mail.models import Notification, OutboxMessage
from challenge.results import objections, services
from challenge.results.models import Decision, DecisionEntry, Notice, NoticeKind, NoticeStatus, ObjectionStatus, Remedy
from challenge.reviews.models import PanelStatus, Score
from factories import make_bid, make_user
from factories.results import concluded_review

pytestmark = pytest.mark.usefixtures("db")

# Thursday 24 September 2026, 10:00 in Beijing. A period from Monday 28 September of 5 working
# days runs 28, 29, 30 September, then (1–7 October off) 8 and 9 October.
PUBLISHED = datetime(2026, 9, 24, 2, 0, tzinfo=timezone.utc)
START = date(2026, 9, 28)
ENDS = datetime(2026, 10, 9, 9, 0, tzinfo=timezone.utc)  # 17:00 in Beijing
DURING = datetime(2026, 10, 8, 3, 0, tzinfo=timezone.utc)
AFTER = datetime(2026, 10, 10, 1, 0, tzinfo=timezone.utc)


async def _published(review, **choices) -> Notice:
    selected = {bid.id: index in choices.get("chosen", [0]) for index, bid in enumerate(review.bids)}
    decision = await services.record_decision(panel=review.panel, actor=review.organiser, selected=selected,
                                              reasons=choices.get("reasons", {}))
    return await services.publish_notice(decision=decision, actor=review.organiser, working_days=5,
                                         starts_on=START, now=PUBLISHED)


async def test_decision_prefills_from_the_recommendation_and_needs_a_reason_to_depart():
    review = await concluded_review(scores=[90, 80, 70], recommended=[0])
    rows = await services.decision_basis(review.panel)
    assert [(r.rank, r.in_top, r.recommended) for r in rows] == [(1, True, True), (2, False, False), (3, False, False)]
    assert services.default_selection(rows) == {review.bids[0].id: True, review.bids[1].id: False,
                                                review.bids[2].id: False}
    # Choosing the second instead of the first departs twice: both need a written reason.
    choice = {review.bids[0].id: False, review.bids[1].id: True, review.bids[2].id: False}
    with pytest.raises(DomainError) as refused:
        await services.record_decision(panel=review.panel, actor=review.organiser, selected=choice,
                                       reasons={review.bids[1].id: "现场核查表明其中试数据更可靠"})
    assert set(refused.value.errors) == {f"reason-{review.bids[0].id}"}
    assert not await Decision.exists()
    with pytest.raises(DomainError) as refused:
        await services.record_decision(panel=review.panel, actor=review.organiser, reasons={},
                                       selected={review.bids[0].id: False, review.bids[1].id: False,
                                                 review.bids[2].id: False})
    assert "selected" in refused.value.errors
    reasons = {review.bids[0].id: "存在未披露的在研同类项目", review.bids[1].id: "现场核查表明其中试数据更可靠",
               review.bids[2].id: "与本项无关的说明"}
    decision = await services.record_decision(panel=review.panel, actor=review.organiser, selected=choice,
                                              reasons=reasons)
    entries = {e.bid_id: e for e in await DecisionEntry.filter(decision=decision)}
    assert entries[review.bids[1].id].selected and entries[review.bids[1].id].reason
    assert entries[review.bids[2].id].reason == ""  # no departure, no reason kept
    assert len(decision.scores_sha256) == 64 and decision.scores_count == 3
    # Rewritten in place while unpublished.
    again = await services.record_decision(panel=review.panel, actor=review.organiser, reasons={},
                                           selected=services.default_selection(rows))
    assert again.id == decision.id and again.revision == 1
    assert await AuditEntry.filter(action="decision.record").count() == 2


async def test_publishing_the_notice_counts_working_days_and_tells_the_bidders():
    review = await concluded_review(scores=[90, 80], recommended=[0], bidder_locales=["zh_CN", "en"])
    notice = await _published(review)
    assert notice.kind == NoticeKind.RESULT and notice.status == NoticeStatus.OPEN and notice.revision == 1
    assert (notice.starts_on, notice.ends_on, notice.ends_at) == (START, date(2026, 10, 9), ENDS)
    assert (await Challenge.get(id=review.challenge.id)).status == ChallengeStatus.NOTICE
    winner, other = review.bidders
    assert await Notification.filter(user=winner, body__contains="列入拟揭榜名单（排名第 1）").exists()
    english = await Notification.get(user=other)
    assert english.subject.startswith("Public notice of review results") and "not on the list" in english.body
    assert await OutboxMessage.filter(to_address=other.email).exists()
    assert await AuditEntry.filter(action="notice.publish").exists()
    with pytest.raises(InvalidTransition):
        await services.publish_notice(decision=await Decision.get(), actor=review.organiser, working_days=5,
                                      starts_on=START, now=PUBLISHED)
    with pytest.raises(InvalidTransition):
        await services.record_decision(panel=review.panel, actor=review.organiser, reasons={},
                                       selected={b.id: True for b in review.bids})
    assert await Notice.all().count() == 1


async def test_a_score_changed_after_the_decision_stops_the_notice():
    review = await concluded_review(scores=[90, 80], recommended=[0])
    decision = await services.record_decision(panel=review.panel, actor=review.organiser, reasons={},
                                              selected={review.bids[0].id: True, review.bids[1].id: False})
    await Score.filter(assignment__bid_id=review.bids[1].id).update(value=95)
    with pytest.raises(DomainError) as refused:
        await services.publish_notice(decision=decision, actor=review.organiser, working_days=5, starts_on=START,
                                      now=PUBLISHED)
    assert "评分发生了变化" in refused.value.message
    with pytest.raises(DomainError) as refused:
        await services.publish_notice(decision=decision, actor=review.organiser, working_days=0,
                                      starts_on=date(2026, 9, 1), now=PUBLISHED)
    assert set(refused.value.errors) == {"working_days", "starts_on"}
    assert not await Notice.exists()
    assert (await Challenge.get(id=review.challenge.id)).status == ChallengeStatus.REVIEWING


async def test_objections_are_taken_during_the_period_only_and_block_the_announcement():
    review = await concluded_review(scores=[90, 80], recommended=[0], bidder_locales=["zh_CN", "en"])
    notice = await _published(review)
    objector = review.bidders[1]
    details = {"real_name": "周研究员", "contact": "13800000000", "reasons": "第一名的中试数据与申报书不一致，请核查。"}
    objection = await objections.file_objection(notice=notice, user=objector, now=DURING, **details)
    assert objection.status == ObjectionStatus.OPEN
    with pytest.raises(DomainError) as refused:
        await objections.file_objection(notice=notice, user=objector, now=ENDS, **details)
    assert "公示期已于 2026年10月9日 17:00 北京时间 结束，不再受理异议" in refused.value.message
    with pytest.raises(DomainError) as refused:
        await objections.file_objection(notice=notice, user=objector, now=DURING,
                                        **{**details, "real_name": "", "reasons": "太短"})
    assert set(refused.value.errors) == {"real_name", "reasons"}
    with pytest.raises(InvalidTransition) as refused:
        await services.announce(notice=notice, actor=review.organiser, now=DURING)
    assert "期满后方可发布结果公告" in refused.value.message
    with pytest.raises(InvalidTransition) as refused:
        await services.announce(notice=notice, actor=review.organiser, now=AFTER)
    assert "还有 1 件异议尚未处理" in refused.value.message
    with pytest.raises(DomainError) as refused:
        await objections.answer_objection(objection=objection, actor=review.organiser, upheld=False, answer="")
    assert "answer" in refused.value.errors
    await objections.answer_objection(objection=objection, actor=review.organiser, upheld=False,
                                      answer="经核查，中试数据以第三方检测报告为准，与申报书一致。", now=AFTER)
    told = await Notification.filter(user=objector, link=f"/results/objections/{objection.id}").get()
    assert "has been handled" in told.subject and "Objection not upheld" in told.body  # in the objector's language
    with pytest.raises(InvalidTransition):
        await objections.answer_objection(objection=objection, actor=review.organiser, upheld=True,
                                          answer="改判", remedy=Remedy.NEW_DECISION)
    assert (await Notice.get(id=notice.id)).status == NoticeStatus.OPEN


async def test_announcement_makes_winners_and_tells_everyone_in_their_language():
    review = await concluded_review(scores=[90, 80], recommended=[0], bidder_locales=["zh_CN", "en"])
    outsider_bid = await make_bid(challenge=review.challenge, status=BidStatus.FORMAL_FAILED)
    outsider = await make_user(organisation=await outsider_bid.lead_org, locale="en")
    notice = await _published(review)
    await services.announce(notice=notice, actor=review.organiser, text="请于一个月内签订任务书。", now=AFTER)
    stored = await Notice.get(id=notice.id)
    assert stored.status == NoticeStatus.ANNOUNCED and stored.closed_at == AFTER
    assert stored.announcement == "请于一个月内签订任务书。"
    # Announced, and delivering at once: the winner's project starts (the delivery area's reaction).
    assert (await Challenge.get(id=review.challenge.id)).status == ChallengeStatus.DELIVERING
    statuses = {b.id: b.status for b in await Bid.filter(challenge=review.challenge)}
    assert statuses == {review.bids[0].id: BidStatus.WINNER, review.bids[1].id: BidStatus.NOT_SELECTED,
                        outsider_bid.id: BidStatus.FORMAL_FAILED}
    winner_note = await Notification.filter(user=review.bidders[0], subject__startswith="揭榜成功").get()
    assert "确定为" in winner_note.body
    loser_note = await Notification.filter(user=review.bidders[1]).order_by("-id").first()
    assert "was not selected" in loser_note.body
    outsider_note = await Notification.get(user=outsider)
    assert outsider_note.subject.startswith("Results announced")
    assert await AuditEntry.filter(action="notice.announced").exists()
    assert await AuditEntry.filter(action="bid.announce_winner").count() == 1
    with pytest.raises(InvalidTransition):
        await services.announce(notice=notice, actor=review.organiser, now=AFTER)
    assert (await verify_chain()).ok


async def test_an_upheld_objection_withdraws_the_notice_and_a_revised_one_follows():
    review = await concluded_review(scores=[90, 80], recommended=[0])
    notice = await _published(review)
    details = {"real_name": "周研究员", "contact": "zhou@example.cn", "reasons": "第一名的牵头单位存在失信记录，请核查。"}
    first = await objections.file_objection(notice=notice, user=review.bidders[1], now=DURING, **details)
    second = await objections.file_objection(notice=notice, user=review.bidders[1], now=DURING, **details)
    with pytest.raises(DomainError) as refused:
        await objections.answer_objection(objection=first, actor=review.organiser, upheld=True, answer="属实")
    assert "remedy" in refused.value.errors
    await objections.answer_objection(objection=first, actor=review.organiser, upheld=True, now=DURING,
                                      answer="经核实属实，撤销其拟揭榜资格。", remedy=Remedy.NEW_DECISION)
    withdrawn = await Notice.get(id=notice.id)
    assert withdrawn.status == NoticeStatus.SUPERSEDED
    assert (await Challenge.get(id=review.challenge.id)).status == ChallengeStatus.REVIEWING
    await review.panel.refresh_from_db()
    assert review.panel.status == PanelStatus.CONCLUDED
    # The other objection can still be answered; it changes nothing more.
    await objections.answer_objection(objection=second, actor=review.organiser, upheld=True, answer="同上",
                                      remedy=Remedy.REOPEN_REVIEW, now=DURING)
    assert review.panel.status == PanelStatus.CONCLUDED
    # A new decision (revision 2) and a revised notice with a new period.
    revised_choice = {review.bids[0].id: False, review.bids[1].id: True}
    decision = await services.record_decision(panel=review.panel, actor=review.organiser, selected=revised_choice,
                                              reasons={review.bids[0].id: "异议成立：存在失信记录",
                                                       review.bids[1].id: "第一名资格撤销后依次递补"})
    assert decision.revision == 2
    revised = await services.publish_notice(decision=decision, actor=review.organiser, working_days=3,
                                            starts_on=date(2026, 10, 12), now=datetime(2026, 10, 9, 1, 0,
                                                                                     tzinfo=timezone.utc))
    assert revised.revision == 2 and revised.replaces_id == notice.id
    assert revised.ends_on == date(2026, 10, 14)
    assert (await Challenge.get(id=review.challenge.id)).status == ChallengeStatus.NOTICE


async def test_upholding_with_a_reopened_review_sends_the_panel_back():
    review = await concluded_review(scores=[90, 80], recommended=[0])
    notice = await _published(review)
    objection = await objections.file_objection(notice=notice, user=review.bidders[1], now=DURING,
                                                real_name="周研究员", contact="zhou@example.cn",
                                                reasons="专家评分存在明显计算错误，请复核。")
    await objections.answer_objection(objection=objection, actor=review.organiser, upheld=True, now=DURING,
                                      answer="评分需复核，退回专家组重新评审。", remedy=Remedy.REOPEN_REVIEW)
    await review.panel.refresh_from_db()
    assert review.panel.status == PanelStatus.REVIEWING
    assert await AuditEntry.filter(action="panel.reviewing", object_id=str(review.panel.id)).exists()
    with pytest.raises(InvalidTransition):
        await services.record_decision(panel=review.panel, actor=review.organiser, reasons={},
                                       selected={b.id: True for b in review.bids})


async def test_the_notice_keeps_the_audit_head_of_its_publication_and_announcement(client):
    review = await concluded_review(scores=[90, 80], recommended=[0])
    notice = await _published(review)
    published = await AuditEntry.filter(action="notice.publish").order_by("-seq").first()
    stored = await Notice.get(id=notice.id)
    assert stored.published_head["seq"] == published.seq and stored.published_head["hash"] == published.hash
    assert stored.announced_head is None
    await services.announce(notice=notice, actor=review.organiser, now=AFTER)
    # The head after the announcement's last entry (the winner's project, which it starts).
    announced = await AuditEntry.all().order_by("-seq").first()
    assert announced.action == "challenge.delivering"
    stored = await Notice.get(id=notice.id)
    assert stored.announced_head["hash"] == announced.hash
    assert stored.announced_head["count"] == await AuditEntry.all().count()
    page = (await client.get(f"/results/notices/{notice.id}")).text
    assert "公示发布时的审计日志校验值" in page and published.hash in page
    assert "结果公告时的审计日志校验值" in page and announced.hash in page
