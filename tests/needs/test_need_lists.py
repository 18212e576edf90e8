"""Need lists: who sees what, filters, sorting, pagination, and a constant number of queries."""

import re
from decimal import Decimal

import pytest

from challenge.needs.models import NeedStatus
from factories import domains, make_org, make_organiser
from factories.needs import make_campaign, make_complete_need, make_submitter
from querylog import count_queries


def titles(html: str) -> list[str]:
    return re.findall(r'<a href="/needs/\d+">([^<]+)</a>', html)


@pytest.fixture
async def organiser(client):
    user = await make_organiser()
    await client.login(user.email)
    return user


async def test_needs_without_a_slash_is_the_entry_point(client, organiser):
    response = await client.get("/needs", follow_redirects=True)
    assert response.status_code == 200 and str(response.url).endswith("/needs/")
    assert "征集批次管理" in response.text and "/needs/export.xlsx" in response.text


async def test_submitters_see_their_organisations_needs_only(client):
    submitter = await make_submitter()
    colleague_need = await make_complete_need(organisation=submitter.organisation, title="本单位草稿")
    sent = await make_complete_need(organisation=submitter.organisation, title="本单位已提交",
                                    status=NeedStatus.SUBMITTED)
    await make_complete_need(title="别的单位的需求", status=NeedStatus.ACCEPTED)
    await client.login(submitter.email)
    page = await client.get("/needs/")
    assert sorted(titles(page.text)) == sorted([colleague_need.title, sent.title])


async def test_organisers_see_every_sent_need_and_no_drafts(client, organiser):
    for status in NeedStatus:
        await make_complete_need(title=f"状态-{status.value}", status=status)
    page = await client.get("/needs/")
    assert sorted(titles(page.text)) == sorted(f"状态-{s.value}" for s in NeedStatus if s != NeedStatus.DRAFT)
    assert (await client.get("/needs/?status=draft")).status_code == 200
    assert titles((await client.get("/needs/?status=draft")).text) == []


async def test_filters(client, organiser):
    all_domains = await domains()
    first, second = await make_campaign(), await make_campaign()
    suzhou = await make_org(region_code="320500")
    nanjing = await make_org(region_code="320100")
    hangzhou = await make_org(region_code="330100")
    sent = NeedStatus.SUBMITTED
    await make_complete_need(title="苏州余热", organisation=suzhou, campaign=first, domain=all_domains[0], status=sent)
    await make_complete_need(title="南京碳捕集 CCUS", organisation=nanjing, campaign=second, domain=all_domains[5],
                             status=NeedStatus.ACCEPTED)
    await make_complete_need(title="杭州污水", organisation=hangzhou, campaign=first, domain=all_domains[1],
                             status=sent, bottleneck="高盐废水难以处理，膜污染严重，运行成本高")

    async def listed(query: str) -> list[str]:
        response = await client.get("/needs/?" + query)
        assert response.status_code == 200
        return sorted(titles(response.text))

    assert await listed(f"campaign={first.id}") == ["杭州污水", "苏州余热"]
    assert await listed(f"domain={all_domains[5].id}") == ["南京碳捕集 CCUS"]
    assert await listed("region=320000") == ["南京碳捕集 CCUS", "苏州余热"]  # a province includes its cities
    assert await listed("region=320500") == ["苏州余热"]
    assert await listed("region=330000") == ["杭州污水"]
    assert await listed("status=accepted") == ["南京碳捕集 CCUS"]
    assert await listed("q=ccus") == ["南京碳捕集 CCUS"]  # case-insensitive
    assert await listed("q=膜污染") == ["杭州污水"]  # the bottleneck is searched too
    assert await listed(f"campaign={first.id}&region=320000&status=submitted") == ["苏州余热"]
    page = await client.get(f"/needs/?campaign={first.id}&region=320000")
    assert 'option value="320000" selected' in page.text  # the filter form keeps its values


@pytest.mark.parametrize("query", ["status=bogus", "campaign=abc", "campaign=99999999999", "region=999999",
                                   "domain=-3", "sort=drop table", "page=abc", "page=-1", "page=99999"])
async def test_malformed_filters_are_ignored(client, organiser, query):
    await make_complete_need(title="仍然列出", status=NeedStatus.SUBMITTED)
    response = await client.get("/needs/?" + query)
    assert response.status_code == 200 and "仍然列出" in response.text


async def test_sorting_and_sortable_headers(client, organiser):
    for title, amount in (("乙需求", "300"), ("甲需求", "50"), ("丙需求", "1200.5")):
        await make_complete_need(title=title, cofunding_wan=Decimal(amount), status=NeedStatus.SUBMITTED)
    assert titles((await client.get("/needs/?sort=-cofunding")).text) == ["丙需求", "乙需求", "甲需求"]
    assert titles((await client.get("/needs/?sort=cofunding")).text) == ["甲需求", "乙需求", "丙需求"]
    assert titles((await client.get("/needs/?sort=-created")).text) == ["丙需求", "甲需求", "乙需求"]
    assert titles((await client.get("/needs/?sort=created")).text) == ["乙需求", "甲需求", "丙需求"]
    page = await client.get("/needs/?sort=-cofunding&status=submitted")
    assert 'aria-sort="descending"' in page.text
    # Clicking the sorted header flips the direction and keeps the filters.
    assert 'href="?status=submitted&amp;sort=cofunding"' in page.text
    assert 'href="?status=submitted&amp;sort=title"' in page.text
    assert "1,200.5 万元" in page.text


async def test_pagination_keeps_the_filters(client, organiser):
    campaign = await make_campaign()
    for n in range(23):
        await make_complete_need(title=f"需求{n:02d}", campaign=campaign, status=NeedStatus.SUBMITTED)
    await make_complete_need(title="别的批次", status=NeedStatus.SUBMITTED)
    first = await client.get(f"/needs/?campaign={campaign.id}&sort=title")
    assert titles(first.text) == [f"需求{n:02d}" for n in range(20)]
    assert f'href="?campaign={campaign.id}&amp;sort=title&amp;page=2"' in first.text
    second = await client.get(f"/needs/?campaign={campaign.id}&sort=title&page=2")
    assert titles(second.text) == ["需求20", "需求21", "需求22"]
    assert "共 23 条" in second.text


async def test_list_and_detail_take_a_constant_number_of_queries(client, organiser):
    campaign = await make_campaign()
    need = await make_complete_need(campaign=campaign, status=NeedStatus.SUBMITTED)
    few, _ = await count_queries(client, "/needs/")
    detail_few, _ = await count_queries(client, f"/needs/{need.id}")
    for _ in range(12):
        await make_complete_need(campaign=campaign, status=NeedStatus.SUBMITTED, organisation=await make_org())
    assert (await count_queries(client, "/needs/"))[0] == few
    assert (await count_queries(client, f"/needs/{need.id}"))[0] == detail_few
