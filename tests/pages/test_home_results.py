"""Home page: open challenges closing soonest first, counts by domain from one GROUP BY query."""

from datetime import timedelta

import pytest

from challenge.challenges import services
from challenge.challenges.models import Challenge
from challenge.web.timefmt import now_utc
from factories import domains, make_organiser
from factories.challenges import make_draft, make_published
from querylog import captured_sql


async def test_home_lists_open_challenges_and_domain_counts(client):
    organiser = await make_organiser()
    all_domains = await domains()
    now = now_utc()
    later = await make_published(actor=organiser, title="晚截止榜单", closes_at=now + timedelta(days=40))
    sooner = await make_published(actor=organiser, title="早截止榜单", closes_at=now + timedelta(days=5))
    past = await make_published(actor=organiser, title="已过截止榜单", domain_id=all_domains[0].id)
    await Challenge.filter(id=past.id).update(closes_at=now - timedelta(hours=1))
    await make_draft(actor=organiser, title="草稿榜单", domain_id=all_domains[0].id)
    response = await client.get("/")
    assert response.status_code == 200
    text = response.text
    assert text.index(sooner.title) < text.index(later.title)
    assert "已过截止榜单" not in text.split('id="h-domains"')[0] and "草稿榜单" not in text
    assert "揭榜挂帅" in text and "赛马" in text and 'href="/challenges?mechanism=horse_race"' in text
    assert f'href="/challenges?domain={all_domains[5].id}"' in text
    assert "已公开发布的榜单共 3 个" in text


@pytest.mark.usefixtures("db")
async def test_domain_counts_are_one_group_by_query():
    organiser = await make_organiser()
    all_domains = await domains()
    for index in (0, 0, 1, 5):
        await make_published(actor=organiser, domain_id=all_domains[index].id)
    await make_draft(actor=organiser, domain_id=all_domains[1].id)
    with captured_sql() as seen:
        counts = await services.public_counts_by_domain()
    assert {d.id: n for d, n in counts} == {
        all_domains[0].id: 2, all_domains[1].id: 1, all_domains[2].id: 0, all_domains[3].id: 0,
        all_domains[4].id: 0, all_domains[5].id: 1}
    grouped = [s for s in seen if "GROUP BY" in s]
    assert len(grouped) == 1 and "COUNT" in grouped[0]
    assert len([s for s in seen if s.lstrip().upper().startswith("SELECT")]) == 2  # counts, then domain names


async def test_results_page_prints_the_audit_chain_head(client):
    from challenge.audit.services import current_head

    organiser = await make_organiser()
    await make_published(actor=organiser, title="有审计记录的榜单")
    head = await current_head()
    assert head is not None and head.count == head.seq
    page = await client.get("/results")
    assert page.status_code == 200
    assert head.hash in page.text and "审计日志校验值" in page.text
    assert f"<dd>{head.count}</dd>" in page.text
