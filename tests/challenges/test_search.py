"""Text search over title, summary, description and targets that works for Chinese."""

import re

import pytest
from tortoise import connections

from challenge.challenges import search, services
from challenge.challenges.models import Challenge, ChallengeStatus, Mechanism
from challenge.challenges.services import ListFilters, TargetRow
from challenge.web import pagecache
from challenge.web.timefmt import now_utc
from factories import make_challenge, make_organiser
from factories.challenges import make_published


def titles(html: str) -> list[str]:
    return re.findall(r'class="challenge-card__title"><a href="/challenges/\d+">([^<]+)</a>', html)


@pytest.fixture
async def catalogue(db):
    organiser = await make_organiser()
    carbon = await make_published(actor=organiser)  # 高效低成本二氧化碳捕集技术
    steel = await make_published(actor=organiser, title="钢铁行业氢冶金关键技术", mechanism=Mechanism.HORSE_RACE,
                                 summary="氢基竖炉直接还原", description="",
                                 targets=[TargetRow("金属化率", "≥92", "%", "取样检测")])
    battery = await make_published(actor=organiser, title="废旧动力电池高值化回收利用技术",
                                   summary="退役电池梯次利用与锂回收", description="",
                                   targets=[TargetRow("锂综合回收率", "≥95", "%", "物料衡算")])
    return {"carbon": carbon, "steel": steel, "battery": battery}


async def found(q: str) -> set[str]:
    query = await services.filtered_challenges(ListFilters(q=q), now=now_utc())
    return {c.title for c in await query}


async def test_chinese_words_of_every_length(catalogue):
    assert await found("二氧化碳") == {"高效低成本二氧化碳捕集技术"}  # four characters: trigram index
    assert await found("氢冶金") == {"钢铁行业氢冶金关键技术"}  # three characters
    assert await found("电池") == {"废旧动力电池高值化回收利用技术"}  # two characters: LIKE fallback
    assert await found("锂") == {"废旧动力电池高值化回收利用技术"}  # one character
    assert await found("不存在的词") == set()


async def test_targets_summary_and_several_terms(catalogue):
    assert await found("锂综合回收率") == {"废旧动力电池高值化回收利用技术"}  # a target
    assert await found("竖炉") == {"钢铁行业氢冶金关键技术"}  # the summary
    assert await found("金属化率 取样") == {"钢铁行业氢冶金关键技术"}  # every term must match
    assert await found("金属化率 锂") == set()
    assert await found("回收") == {"废旧动力电池高值化回收利用技术"}


async def test_search_follows_edits(catalogue):
    carbon = catalogue["carbon"]
    data = await services.load_data(carbon)
    data.targets.append(TargetRow("吸收剂损耗速率", "≤0.3", "kg/t", "物料衡算"))
    await services.amend_challenge(challenge=carbon, data=data, actor=None, explanation="补充指标")
    assert await found("吸收剂损耗") == {"高效低成本二氧化碳捕集技术"}
    data = await services.load_data(carbon)
    data.title = "燃煤烟气碳捕集技术"
    await services.amend_challenge(challenge=carbon, data=data, actor=None, explanation="更名")
    assert await found("燃煤烟气") == {"燃煤烟气碳捕集技术"}
    assert await found("高效低成本") == set()  # the old title is gone
    assert await found("低能耗") == {"燃煤烟气碳捕集技术"}  # the summary is still searched
    await Challenge.filter(id=catalogue["steel"].id).delete()
    assert await found("氢冶金") == set()


async def test_hostile_input_is_inert(catalogue):
    for q in ['"', "'", "二氧化碳' OR 1=1 --", 'a" OR "b', "%", "_", "NEAR(a b)", "*", "二氧\x00化碳", "' ; DROP TABLE challenge; --"]:
        await found(q)  # no error
    assert await Challenge.all().count() == 3
    # LIKE wildcards are literal: "95%" would match "≥95 %" if % were a wildcard.
    assert await found("95%") == set() and await found("_") == set()


async def test_rows_written_before_the_index_are_found(db):
    # A challenge made by the shared factory (Challenge.create: save() builds the search text).
    made = await make_challenge(title="工业园区VOCs深度治理技术")
    assert await found("VOCs") == {made.title}
    assert await found("深度治理") == {made.title}


async def test_search_index_helper_is_idempotent(db):
    await search.ensure_search_index()
    search._ready.clear()
    await search.ensure_search_index()
    await make_published()
    assert await found("二氧化碳捕集") == {"高效低成本二氧化碳捕集技术"}


async def test_public_search_page(client, catalogue):
    response = await client.get("/challenges?q=二氧化碳")
    assert titles(response.text) == ["高效低成本二氧化碳捕集技术"]
    response = await client.get("/challenges?q=氢冶金&mechanism=horse_race")
    assert titles(response.text) == ["钢铁行业氢冶金关键技术"]
    response = await client.get("/challenges?q=碳")
    assert "高效低成本二氧化碳捕集技术" in titles(response.text)
    await Challenge.filter(id=catalogue["carbon"].id).update(status=ChallengeStatus.DRAFT)
    await pagecache.bump()  # written behind the services' back: tell the cached public pages
    assert titles((await client.get("/challenges?q=二氧化碳")).text) == []


async def test_index_is_rebuilt_when_rows_changed_behind_its_back(db):
    await make_published()
    assert await found("二氧化碳捕集") == {"高效低成本二氧化碳捕集技术"}
    connection = connections.get("default")
    if connection.capabilities.dialect != "sqlite":
        return
    # As a table rebuild or a restore would: the triggers are gone while a row changes.
    for name in ("ai", "ad", "au"):
        await connection.execute_script(f"DROP TRIGGER {search.FTS_TABLE}_{name}")
    await connection.execute_query("UPDATE challenge SET search_text = '垃圾焚烧飞灰资源化'")
    search._ready.clear()  # a new process
    assert await found("飞灰资源化") == {"高效低成本二氧化碳捕集技术"}
    assert await found("二氧化碳捕集") == set()
