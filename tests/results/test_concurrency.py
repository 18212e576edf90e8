"""Two organisers at once: one notice per decision, one announcement per notice (run it on
PostgreSQL too: CHALLENGE_TEST_DATABASE_URL)."""

import asyncio
from datetime import date, datetime, timezone

from challenge.audit.models import AuditEntry
from challenge.bids.models import Bid, BidStatus
from challenge.errors import DomainError
from challenge.results import services
from challenge.results.models import Notice, NoticeStatus
from factories.results import concluded_review

PUBLISHED = datetime(2026, 9, 24, 2, 0, tzinfo=timezone.utc)
AFTER = datetime(2026, 10, 10, 1, 0, tzinfo=timezone.utc)


async def test_concurrent_publications_and_announcements_happen_once(db):
    review = await concluded_review(scores=[90, 80], recommended=[0])
    decision = await services.record_decision(panel=review.panel, actor=review.organiser, reasons={},
                                              selected={review.bids[0].id: True, review.bids[1].id: False})

    async def publish():
        return await services.publish_notice(decision=decision, actor=review.organiser, working_days=5,
                                             starts_on=date(2026, 9, 28), now=PUBLISHED)

    outcomes = await asyncio.gather(publish(), publish(), return_exceptions=True)
    assert sum(isinstance(o, Notice) for o in outcomes) == 1
    assert all(isinstance(o, (Notice, DomainError)) for o in outcomes), outcomes
    notice = await Notice.get()

    async def announce():
        return await services.announce(notice=notice, actor=review.organiser, now=AFTER)

    outcomes = await asyncio.gather(announce(), announce(), return_exceptions=True)
    assert sum(isinstance(o, Notice) for o in outcomes) == 1
    assert all(isinstance(o, (Notice, DomainError)) for o in outcomes), outcomes
    assert (await Notice.get()).status == NoticeStatus.ANNOUNCED
    assert (await Bid.get(id=review.bids[0].id)).status == BidStatus.WINNER
    assert await AuditEntry.filter(action="notice.publish").count() == 1
    assert await AuditEntry.filter(action="bid.announce_winner").count() == 1
