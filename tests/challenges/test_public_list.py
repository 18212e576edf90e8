"""/challenges: only public states, filters, sorting, pagination and a clear empty state."""

import re
from datetime import timedelta
from decimal import Decimal

from challenge.accounts.models import Role
from challenge.bids.models import BidStatus
from challenge.challenges.models import Challenge, ChallengeStatus, Mechanism
from challenge.web.timefmt import now_utc
from factories import domains, make_bid, make_org, make_organiser, make_user
from factories.challenges import make_draft, make_issuer, make_published


def titles(html: str) -> list[str]:
    return re.findall(r'class="challenge-card__title"><a href="/challenges/\d+">([^<]+)</a>', html)


async def test_only_public_states_are_listed(client):
    organiser = await make_organiser()
    await make_draft(actor=organiser, title="草稿不应出现")
    shown = await make_published(actor=organiser, title="已发布的榜单")
    cancelled = await make_published(actor=organiser, title="已撤销的榜单")
    await Challenge.filter(id=cancelled.id).update(status=ChallengeStatus.CANCELLED)
    response = await client.get("/challenges")
    assert response.status_code == 200
    assert sorted(titles(response.text)) == sorted([shown.title, cancelled.title])
    assert "草稿不应出现" not in response.text
    # The mount's own path answers too.
    assert titles((await client.get("/challenges/")).text) == titles(response.text)
    # A forged status filter cannot reveal drafts.
    assert "草稿不应出现" not in (await client.get("/challenges?status=draft")).text


async def test_filters_domain_mechanism_status_region_funding(client):
    organiser = await make_organiser()
    all_domains = await domains()
    suzhou = await make_issuer("320500")
    nanjing = await make_issuer("320100")
    beijing = await make_issuer("110000")
    carbon = await make_published(actor=organiser, title="碳捕集榜单", issuers=[suzhou], funding_wan=Decimal("3000"))
    steel = await make_published(actor=organiser, title="氢冶金赛道", mechanism=Mechanism.HORSE_RACE,
                                 issuers=[beijing], funding_wan=Decimal("8000"), domain_id=all_domains[3].id)
    water = await make_published(actor=organiser, title="废水治理榜单", issuers=[nanjing, beijing],
                                 funding_wan=Decimal("1500"), domain_id=all_domains[1].id)
    await Challenge.filter(id=water.id).update(closes_at=now_utc() - timedelta(hours=1))  # window passed

    async def listed(query: str) -> set[str]:
        response = await client.get("/challenges?" + query)
        assert response.status_code == 200
        return set(titles(response.text))

    assert await listed(f"domain={all_domains[3].id}") == {steel.title}
    assert await listed("mechanism=horse_race") == {steel.title}
    assert await listed("mechanism=open_call") == {carbon.title, water.title}
    # Published with the window passed counts as closed, before any job flips it.
    assert await listed("status=published") == {carbon.title, steel.title}
    assert await listed("status=closed") == {water.title}
    # A province includes its cities; a city only itself.
    assert await listed("region=320000") == {carbon.title, water.title}
    assert await listed("region=320500") == {carbon.title}
    assert await listed("region=110000") == {steel.title, water.title}
    assert await listed("funding_min=2000") == {carbon.title, steel.title}
    assert await listed("funding_min=2000&funding_max=5000") == {carbon.title}
    assert await listed("region=320000&funding_max=2000") == {water.title}
    # Bad values are ignored with a note, never a 500.
    response = await client.get("/challenges?funding_min=abc&domain=x&region=999999&mechanism=nope")
    assert response.status_code == 200 and "部分筛选条件无效" in response.text
    assert set(titles(response.text)) == {carbon.title, steel.title, water.title}


async def test_sorting(client):
    organiser = await make_organiser()
    now = now_utc()
    a = await make_published(actor=organiser, title="甲榜单", funding_wan=Decimal("100"),
                             closes_at=now + timedelta(days=50))
    b = await make_published(actor=organiser, title="乙榜单", funding_wan=Decimal("900"),
                             closes_at=now + timedelta(days=10))
    c = await make_published(actor=organiser, title="丙榜单", funding_wan=Decimal("500"),
                             closes_at=now + timedelta(days=30))
    assert titles((await client.get("/challenges?sort=deadline")).text) == [b.title, c.title, a.title]
    assert titles((await client.get("/challenges?sort=funding")).text) == [b.title, c.title, a.title]
    assert titles((await client.get("/challenges?sort=newest")).text) == [c.title, b.title, a.title]


async def test_pagination_and_empty_states(client):
    organiser = await make_organiser()
    assert "目前还没有公开发布的榜单" in (await client.get("/challenges")).text
    base = await make_published(actor=organiser, title="分页榜单0")
    rows = [Challenge(mechanism=Mechanism.OPEN_CALL, title=f"分页榜单{i}", status=ChallengeStatus.PUBLISHED,
                      funding_wan=Decimal("10"), opens_at=base.opens_at, closes_at=base.closes_at,
                      published_at=now_utc() + timedelta(seconds=i), search_text=f"分页榜单{i}")
            for i in range(1, 25)]
    await Challenge.bulk_create(rows)
    first = await client.get("/challenges")
    assert len(titles(first.text)) == 20 and "第 1–20 条，共 25 条" in first.text
    second = await client.get("/challenges?page=2")
    assert len(titles(second.text)) == 5
    assert not set(titles(first.text)) & set(titles(second.text))
    beyond = await client.get("/challenges?page=99")
    assert titles(beyond.text) == titles(second.text)
    empty = await client.get("/challenges?q=不存在的技术名称")
    assert "没有符合条件的榜单" in empty.text and "清除筛选" in empty.text


async def test_challenge_page_has_what_a_bidder_needs(client):
    organiser = await make_organiser()
    issuer = await make_issuer("320500", name="苏州市生态环境局")
    challenge = await make_published(actor=organiser, issuers=[issuer], mechanism=Mechanism.HORSE_RACE,
                                     allowed_org_types=["university"], allowed_regions=["320000"],
                                     consortium_required=True, max_partners=3)
    need = (await challenge.needs.all())[0]
    page = (await client.get(f"/challenges/{challenge.id}")).text
    for text in ("3,000 万元", "36 个月", "苏州市生态环境局", "江苏省 苏州市", need.title, "捕集能耗", "≤2.2",
                 "GJ/tCO2", "第三方检测", "技术路线先进性", "40%", "小试验证", "中试放大", "工程示范",
                 "第 1 阶段：小试验证", "高等院校", "江苏省", "须组成产学研联合体申报", "合作单位不超过 3 家",
                 "data-countdown=", "北京时间", "登录后揭榜"):
        assert text in page, text
    assert f"/bids/new?challenge_id={challenge.id}" not in page  # anonymous: sign in first
    bidder = await make_user(Role.BIDDER)
    await client.login(bidder.email)
    page = (await client.get(f"/challenges/{challenge.id}")).text
    assert f'href="/bids/new?challenge_id={challenge.id}"' in page and "我要揭榜" in page
    await Challenge.filter(id=challenge.id).update(closes_at=now_utc() - timedelta(seconds=1))
    page = (await client.get(f"/challenges/{challenge.id}")).text
    assert "我要揭榜" not in page and "揭榜已截止" in page and "已截止" in page


async def test_submitter_sees_no_bid_button(client):
    challenge = await make_published()
    await client.login((await make_user(Role.SUBMITTER)).email)
    page = (await client.get(f"/challenges/{challenge.id}")).text
    assert "我要揭榜" not in page and "揭榜申报需使用揭榜方账户" in page


async def test_horse_race_page_shows_the_teams_still_in_the_race(client):
    race = await make_published(mechanism=Mechanism.HORSE_RACE, title="钢铁行业氢冶金关键技术")
    await make_bid(challenge=race, lead_org=await make_org(name="晋级的研究院"), status=BidStatus.ADVANCED)
    await make_bid(challenge=race, lead_org=await make_org(name="评审中的大学"), status=BidStatus.IN_REVIEW)
    await make_bid(challenge=race, lead_org=await make_org(name="出局的企业"), status=BidStatus.NOT_SELECTED)
    page = (await client.get(f"/challenges/{race.id}")).text
    teams = page.split("仍在赛程中的团队")[1].split("</section>")[0]
    assert "晋级的研究院" in teams and "评审中的大学" not in page and "出局的企业" not in page
