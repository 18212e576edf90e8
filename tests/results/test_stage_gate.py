"""A horse-race stage gate applies the organiser's decision, never a silent top N of the ranking."""

from datetime import date, datetime, timezone

from challenge.audit.models import AuditEntry
from challenge.bids.models import Bid, BidStatus
from challenge.challenges.models import ChallengeStatus
from challenge.mail.models import Notification
from challenge.results import services
from challenge.results.models import NoticeKind
from challenge.reviews.models import StageResult
from factories.results import concluded_review

PUBLISHED = datetime(2026, 2, 11, 2, 0, tzinfo=timezone.utc)  # Wednesday 11 February 2026, Beijing 10:00
AFTER = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)


async def test_a_recommended_team_the_score_alone_would_eliminate_goes_on_with_its_reason(client):
    # Two teams go on. By score: A (90), B (85), C (70), D (60); the panel recommends A and C.
    review = await concluded_review(scores=[90, 85, 70, 60], recommended=[0, 2], stage_advance=2)
    a, b, c, d = review.bids
    rows = await services.decision_basis(review.panel)
    assert [(r.bid.id, r.in_top, r.recommended) for r in rows] == [
        (a.id, True, True), (b.id, True, False), (c.id, False, True), (d.id, False, False)]
    assert services.default_selection(rows) == {a.id: True, b.id: False, c.id: True, d.id: False}
    reasons = {b.id: "中试装置能耗数据未通过现场复核，专家组未予推荐",
               c.id: "专家组推荐：工艺路线可放大性最好，小试能耗指标领先"}
    decision = await services.record_decision(panel=review.panel, actor=review.organiser, reasons=reasons,
                                              selected={a.id: True, b.id: False, c.id: True, d.id: False})
    # 11 Feb, then 12, 13, Sat 14 (make-up day), [15–23 February off], 24: five working days.
    notice = await services.publish_notice(decision=decision, actor=review.organiser, working_days=5,
                                           starts_on=date(2026, 2, 11), now=PUBLISHED)
    assert notice.kind == NoticeKind.STAGE and notice.ends_on == date(2026, 2, 24)
    await review.challenge.refresh_from_db()
    assert review.challenge.status == ChallengeStatus.DELIVERING
    assert not await StageResult.exists()  # nothing happens before the notice period is over

    page = await client.get(f"/results/notices/{notice.id}")
    assert page.status_code == 200
    proposed = page.text.split('id="h-proposed"')[1].split("</section>")[0]
    assert (await c.lead_org).name in proposed and reasons[c.id] in proposed
    assert (await b.lead_org).name not in proposed  # named nowhere: only its rank, score and reason
    assert "排名第 2（专家组得分 85.00）：中试装置能耗数据未通过现场复核" in proposed
    assert "小试验证" in page.text and "阶段晋级公示" in page.text

    await services.announce(notice=notice, actor=review.organiser, now=AFTER)
    results = {r.bid_id: (r.rank, r.outcome.value) for r in await StageResult.filter(stage_id=review.panel.stage_id)}
    assert results == {a.id: (1, "advanced"), b.id: (2, "eliminated"), c.id: (3, "advanced"),
                       d.id: (4, "eliminated")}
    statuses = {bid.id: bid.status for bid in await Bid.filter(id__in=[a.id, b.id, c.id, d.id])}
    assert statuses == {a.id: BidStatus.ADVANCED, b.id: BidStatus.NOT_SELECTED, c.id: BidStatus.ADVANCED,
                        d.id: BidStatus.NOT_SELECTED}
    told = await Notification.filter(user=review.bidders[2]).order_by("-id").first()
    assert "第 3 名，晋级下一阶段" in told.body and reasons[c.id] in told.body
    gate = await AuditEntry.get(action="stage.gate")
    assert gate.after["advanced"] == [a.id, c.id] and gate.after["reasons"][str(c.id)] == reasons[c.id]
    page = await client.get(f"/challenges/{review.challenge.id}")
    race = page.text.split('id="h-stages"')[1].split("</section>")[0]
    assert (await c.lead_org).name in race and (await b.lead_org).name not in race
