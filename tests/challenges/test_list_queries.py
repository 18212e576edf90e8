"""The public list answers with a constant number of queries per page, whatever the table size."""

from datetime import timedelta
from decimal import Decimal

import pytest
from tortoise import connections

from challenge.challenges.models import Challenge, ChallengeStatus, Mechanism
from challenge.web.timefmt import now_utc
from factories import domains
from factories.challenges import make_issuer
from querylog import count_queries

pytestmark = pytest.mark.slow
TOTAL = 10_000


async def seed() -> None:
    all_domains = await domains()
    issuers = [await make_issuer(code) for code in ("320500", "110000", "440300")]
    now = now_utc()
    rows = []
    for i in range(TOTAL):
        title = f"二氧化碳捕集技术攻关第{i}号" if i % 2 else f"钢铁行业节能技术第{i}号"
        rows.append(Challenge(
            mechanism=Mechanism.HORSE_RACE if i % 3 == 0 else Mechanism.OPEN_CALL, title=title, summary="概要",
            domain_id=all_domains[i % 6].id,
            status=ChallengeStatus.DRAFT if i % 10 == 0 else ChallengeStatus.PUBLISHED,
            funding_wan=Decimal(100 + i % 5000), opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=1 + i % 90), published_at=now - timedelta(minutes=i), search_text=title))
    await Challenge.bulk_create(rows, batch_size=1000)
    ids = await Challenge.all().order_by("id").values_list("id", flat=True)
    connection = connections.get("default")
    placeholder = "$1, $2" if connection.capabilities.dialect == "postgres" else "?, ?"
    await connection.execute_many(
        f"INSERT INTO challenge_issuer (challenge_id, organisation_id) VALUES ({placeholder})",
        [[challenge_id, issuers[n % 3].id] for n, challenge_id in enumerate(ids)])


def domain_names_shown(html: str) -> bool:
    cards = html.split('class="challenge-card"')[1:]
    return all('<span class="meta">' in card for card in cards)


async def test_constant_queries_on_ten_thousand_challenges(client):
    await seed()
    public = TOTAL - TOTAL // 10
    first, page1 = await count_queries(client, "/challenges")
    assert f"共 {public} 条" in page1 and page1.count('class="challenge-card"') == 20
    later, page300 = await count_queries(client, "/challenges?page=300")
    assert page300.count('class="challenge-card"') == 20 and "aria-current=\"page\">300<" in page300
    last, page_last = await count_queries(client, "/challenges?page=99999")  # clamps to the last page
    assert page_last.count('class="challenge-card"') == 20 and f'aria-current="page">{public // 20}<' in page_last
    assert first == later == last, (first, later, last)
    assert first <= 6  # count, page (with domain joined), issuers (through table, organisations), domains
    # Issuers and domains come from the batched queries (the template would fail on an unfetched relation).
    assert "测试单位" in page1 and domain_names_shown(page1)

    # The first search on a connection checks the search index once; later ones do not.
    await client.get("/challenges?q=预热")
    domain = (await domains())[1]
    url = (f"/challenges?q=二氧化碳&domain={domain.id}&mechanism=open_call&status=published&region=110000"
           f"&funding_min=200&funding_max=4000&sort=deadline")
    filtered, text = await count_queries(client, url)
    filtered_later, later_text = await count_queries(client, url + "&page=5")
    assert filtered == filtered_later == first, (filtered, filtered_later, first)
    assert text.count('class="challenge-card"') == later_text.count('class="challenge-card"') == 20
    two_chars, text = await count_queries(client, "/challenges?q=钢铁&page=7&sort=funding")
    assert two_chars == first and text.count('class="challenge-card"') == 20
