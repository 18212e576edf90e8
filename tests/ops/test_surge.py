"""The last minute of a national call on PostgreSQL, a real server with 2 workers, httpx async clients.

200 bidders submit at once just before the deadline and 20 more just after it; one expert's
score form is posted 200 times at once. No 5xx, no lost or duplicated submission, every
receipt verifies, nothing accepted after the deadline, exactly one score row per criterion.
"""

import asyncio
import time
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest

from challenge.bids.models import Bid, BidStatus, BidVersion
from challenge.bids.services import verify_version
from challenge.challenges.models import Challenge, RubricCriterion
from challenge.reviews.models import Score
from challenge.web.timefmt import now_utc
from conftest import Client
from factories.bids import make_complete_drafts
from factories.reviews import assign, make_expert, make_panel, make_review_bid, make_review_challenge
from factories.servers import BACKEND, LiveServer, with_orm_on

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(BACKEND != "postgres", reason="needs CHALLENGE_TEST_DATABASE_URL (PostgreSQL)")]
ON_TIME, LATE = 200, 20


async def signed_in(server: LiveServer, emails: list[str]) -> list[tuple[Client, str]]:
    """A client per person, signed in, with the CSRF token its form would carry.

    Idle connections are dropped after a second, before the server's keep-alive timeout (5 s)
    closes them under a request, as a browser does."""
    limits = httpx.Limits(max_connections=2, keepalive_expiry=1)

    async def one(email: str):
        http = Client(base_url=server.url, timeout=120, limits=limits)
        await http.login(email)
        return http, await http.csrf()

    people = []
    for batch in range(0, len(emails), 50):
        people += await asyncio.gather(*(one(email) for email in emails[batch:batch + 50]))
    return people


async def close_all(people) -> None:
    for http, _token in people:
        await http.aclose()


def set_deadline(database, challenge_id: int, seconds: float):
    async def work(settings):
        closes_at = now_utc() + timedelta(seconds=seconds)
        await Challenge.filter(id=challenge_id).update(closes_at=closes_at)
        return closes_at

    return asyncio.run(with_orm_on(database, work))


def test_200_bidders_submit_in_the_last_minute(database, migrated, cli):

    async def seed(settings):
        challenge, drafts = await make_complete_drafts(settings, ON_TIME + LATE)
        return challenge.id, [(bidder.email, bid.id) for bidder, bid in drafts]

    challenge_id, drafts = asyncio.run(with_orm_on(database, seed))
    with LiveServer(database, workers=2, CHALLENGE_DB_POOL_MAX="20") as server:
        async def surge():
            people = await signed_in(server, [email for email, _ in drafts])
            try:
                closes_at = await asyncio.to_thread(set_deadline, database, challenge_id, 20)
                on_time = [(http, token, bid_id) for (http, token), (_, bid_id) in zip(people[:ON_TIME], drafts)]
                late = [(http, token, bid_id) for (http, token), (_, bid_id) in zip(people[ON_TIME:], drafts[ON_TIME:])]

                async def submit(http, token, bid_id):
                    return await http.post(f"/bids/{bid_id}/submit", data={"csrf_token": token})

                started = time.monotonic()
                answers = await asyncio.gather(*(submit(*person) for person in on_time))
                took = time.monotonic() - started
                while now_utc() <= closes_at + timedelta(seconds=1):
                    await asyncio.sleep(0.2)
                refused = await asyncio.gather(*(submit(*person) for person in late))
                return closes_at, answers, refused, took
            finally:
                await close_all(people)

        closes_at, answers, refused, took = asyncio.run(surge())

    assert took < 20, f"200 submissions took {took:.1f} s: the deadline passed before they were all in"
    assert [a.status_code for a in answers + refused if a.status_code >= 500] == []
    for answer, (_, bid_id) in zip(answers, drafts):
        assert answer.status_code == 303 and answer.headers["location"] == f"/bids/{bid_id}/receipt/1"
    for answer, (_, bid_id) in zip(refused, drafts[ON_TIME:]):
        assert answer.status_code == 303 and answer.headers["location"] == f"/bids/{bid_id}"

    async def inspect(settings):
        bids = {bid.id: bid for bid in await Bid.filter(challenge_id=challenge_id)}
        versions = await BidVersion.filter(bid__challenge_id=challenge_id)
        return bids, versions

    bids, versions = asyncio.run(with_orm_on(database, inspect))
    on_time_ids = {bid_id for _, bid_id in drafts[:ON_TIME]}
    assert sorted(v.bid_id for v in versions) == sorted(on_time_ids)  # one version each: none lost, none twice
    assert all(verify_version(v) and v.submitted_at <= closes_at for v in versions)
    assert all(bids[i].status == BidStatus.SUBMITTED and bids[i].current_version == 1 for i in on_time_ids)
    assert all(bids[i].status == BidStatus.DRAFT and bids[i].current_version == 0
               for _, i in drafts[ON_TIME:])
    assert f"{ON_TIME} bid version(s) checked, 0 mismatch(es)" in cli("verify-receipts").stdout
    assert "audit chain intact" in cli("audit", "verify").stdout


def test_200_simultaneous_score_posts_leave_one_row_per_criterion(database, migrated, cli):

    async def seed(settings):
        challenge = await make_review_challenge()
        bid = await make_review_bid(challenge)
        expert = await make_expert()
        panel = await make_panel(challenge=challenge, experts=[expert])
        item = await assign(panel, bid, expert)
        criteria = list(await RubricCriterion.filter(challenge=challenge).order_by("position"))
        return expert.email, item.id, [c.id for c in criteria]

    email, assignment_id, criteria = asyncio.run(with_orm_on(database, seed))
    with LiveServer(database, workers=2, CHALLENGE_DB_POOL_MAX="20") as server:
        async def surge():
            async with Client(base_url=server.url, timeout=120, limits=httpx.Limits(max_connections=200)) as http:
                await http.login(email)
                token = await http.csrf()

                async def post(n: int):
                    data = {"csrf_token": token, "action": "save", "opinion": f"第{n}稿"}
                    data.update({f"score_{c}": str(n % 90 + position) for position, c in enumerate(criteria)})
                    return await http.post(f"/review/assignments/{assignment_id}", data=data)

                return await asyncio.gather(*(post(n) for n in range(200)))

        answers = asyncio.run(surge())
    assert [a.status_code for a in answers if a.status_code >= 500] == []
    assert all(a.status_code == 303 for a in answers), {a.status_code for a in answers}

    async def inspect(settings):
        return await Score.filter(assignment_id=assignment_id).values_list("criterion_id", "value")

    rows = asyncio.run(with_orm_on(database, inspect))
    assert sorted(criterion for criterion, _ in rows) == sorted(criteria)
    drafts = {n % 90 for n in range(200)}
    assert len({value - position for position, (_, value) in enumerate(sorted(rows))}) == 1
    assert all(value - position in {Decimal(d) for d in drafts} for position, (_, value) in enumerate(sorted(rows)))
