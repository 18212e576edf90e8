"""Two submissions of the same review at once: one wins, the other finds the scores locked."""

import asyncio
from decimal import Decimal

from challenge.audit.models import AuditEntry
from challenge.errors import InvalidTransition
from challenge.reviews import services
from challenge.reviews.models import Assignment, Score
from factories.reviews import assign, make_expert, make_panel, make_review_bid, make_review_challenge


async def test_concurrent_submissions_lock_once(db):
    challenge = await make_review_challenge()
    bid = await make_review_bid(challenge)
    expert = await make_expert()
    panel = await make_panel(challenge=challenge, experts=[expert])
    item = await assign(panel, bid, expert)
    criteria = list(await challenge.criteria.all())

    async def attempt(value):
        copy = await Assignment.get(id=item.id)
        return await services.save_scores(assignment=copy, criteria=criteria,
                                          values={c.id: Decimal(value) for c in criteria}, comments={},
                                          opinion="意见", submit=True, actor=expert)

    results = await asyncio.gather(attempt(60), attempt(90), return_exceptions=True)
    assert sum(isinstance(r, InvalidTransition) for r in results) == 1
    assert sum(isinstance(r, Assignment) for r in results) == 1
    assert await AuditEntry.filter(action="review.submit").count() == 1
    values = set(await Score.filter(assignment_id=item.id).values_list("value", flat=True))
    assert len(values) == 1 and await Score.filter(assignment_id=item.id).count() == len(criteria)
