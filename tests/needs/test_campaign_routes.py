"""Organisers create, edit, open and close campaigns; submitters see open ones with their instructions."""

from datetime import datetime, timedelta, timezone

import pytest

from challenge.accounts.models import Role
from challenge.audit.models import AuditEntry
from challenge.needs.models import Campaign, CampaignStatus, NeedStatus
from challenge.web.timefmt import input_value, now_utc
from factories import domains, make_organiser, make_user
from factories.needs import make_campaign, make_complete_need, make_submitter


@pytest.fixture
async def organiser(client):
    user = await make_organiser()
    await client.login(user.email)
    return user


async def campaign_form(**overrides) -> list[tuple[str, str]]:
    all_domains = await domains()
    values = {"title": "2026年度绿色技术需求征集（第二批）", "instructions": "请如实填写。\n技术指标须量化。",
              "opens_at": "2026-03-01T09:00", "closes_at": "2026-04-30T17:00"}
    values.update({k: v for k, v in overrides.items() if k != "domains"})
    chosen = overrides.get("domains", [str(all_domains[0].id), str(all_domains[5].id)])
    return list(values.items()) + [("domains", d) for d in chosen]


async def test_create_a_campaign_in_beijing_time(client, organiser):
    all_domains = await domains()
    page = await client.get("/needs/campaigns/new")
    assert page.status_code == 200
    for domain in all_domains:  # every active domain offered, all ticked by default
        assert f'value="{domain.id}" checked' in page.text
    response = await client.submit("/needs/campaigns/new", await campaign_form())
    assert response.status_code == 303
    campaign = await Campaign.get(title="2026年度绿色技术需求征集（第二批）")
    assert response.headers["location"] == f"/needs/campaigns/{campaign.id}"
    assert campaign.status == CampaignStatus.DRAFT and campaign.created_by_id == organiser.id
    assert campaign.opens_at == datetime(2026, 3, 1, 1, 0, tzinfo=timezone.utc)
    assert campaign.closes_at == datetime(2026, 4, 30, 9, 0, tzinfo=timezone.utc)
    assert sorted(d.id for d in await campaign.domains.all()) == [all_domains[0].id, all_domains[5].id]
    assert await AuditEntry.filter(action="campaign.create", object_id=str(campaign.id)).exists()
    page = await client.get(response.headers["location"])
    assert "2026年3月1日 09:00 北京时间" in page.text and "技术指标须量化" in page.text and "未开放" in page.text


@pytest.mark.parametrize("overrides,field,message", [
    ({"title": ""}, "title", "此项为必填项"),
    ({"domains": []}, "domains", "请至少选择一项"),
    ({"domains": ["999999"]}, "domains", "所选项无效"),
    ({"opens_at": ""}, "opens_at", "此项为必填项"),
    ({"closes_at": "2026-02-30T10:00"}, "closes_at", "时间格式应为"),
    ({"closes_at": "下个月"}, "closes_at", "时间格式应为"),
    ({"closes_at": "2026-03-01T08:00"}, "closes_at", "截止时间须晚于开始时间"),
])
async def test_bad_campaign_input(client, organiser, overrides, field, message):
    response = await client.submit("/needs/campaigns/new", await campaign_form(**overrides))
    assert response.status_code == 400
    assert f'id="error-{field}"' in response.text and message in response.text
    assert "请如实填写" in response.text  # input kept
    assert await Campaign.all().count() == 0


async def test_an_inactive_domain_cannot_be_chosen(client, organiser):
    all_domains = await domains()
    all_domains[2].is_active = False
    await all_domains[2].save()
    page = await client.get("/needs/campaigns/new")
    assert f'value="{all_domains[2].id}"' not in page.text
    response = await client.submit("/needs/campaigns/new", await campaign_form(domains=[str(all_domains[2].id)]))
    assert response.status_code == 400 and await Campaign.all().count() == 0


async def test_edit_a_campaign(client, organiser):
    campaign = await make_campaign(status=CampaignStatus.OPEN)
    page = await client.get(f"/needs/campaigns/{campaign.id}/edit")
    assert page.status_code == 200 and f'value="{input_value(campaign.closes_at)}"' in page.text
    response = await client.submit(f"/needs/campaigns/{campaign.id}/edit",
                                   await campaign_form(title="改名后的批次", closes_at="2030-01-01T12:00"))
    assert response.status_code == 303
    fresh = await Campaign.get(id=campaign.id)
    assert fresh.title == "改名后的批次" and fresh.status == CampaignStatus.OPEN
    assert fresh.closes_at == datetime(2030, 1, 1, 4, 0, tzinfo=timezone.utc)
    assert len(await fresh.domains.all()) == 2
    assert await AuditEntry.filter(action="campaign.update", object_id=str(campaign.id)).exists()


async def test_open_close_and_reopen(client, organiser):
    campaign = await make_campaign(status=CampaignStatus.DRAFT)
    response = await client.submit(f"/needs/campaigns/{campaign.id}/open")
    assert response.status_code == 303 and (await Campaign.get(id=campaign.id)).status == CampaignStatus.OPEN
    assert "已开放征集" in (await client.get(response.headers["location"])).text
    await client.submit(f"/needs/campaigns/{campaign.id}/close")
    assert (await Campaign.get(id=campaign.id)).status == CampaignStatus.CLOSED
    await client.submit(f"/needs/campaigns/{campaign.id}/open")
    assert (await Campaign.get(id=campaign.id)).status == CampaignStatus.OPEN
    actions = await AuditEntry.filter(object_type="campaign").order_by("seq").values_list("action", flat=True)
    assert actions == ["campaign.open", "campaign.close", "campaign.open"]


async def test_reopening_after_the_closing_time_asks_to_move_it(client, organiser):
    campaign = await make_campaign(status=CampaignStatus.CLOSED, closes_at=now_utc() - timedelta(days=2))
    response = await client.submit(f"/needs/campaigns/{campaign.id}/open")
    assert response.status_code == 303
    assert "请先修改截止时间" in (await client.get(response.headers["location"])).text
    assert (await Campaign.get(id=campaign.id)).status == CampaignStatus.CLOSED


async def test_closing_a_draft_campaign_is_refused(client, organiser):
    campaign = await make_campaign(status=CampaignStatus.DRAFT)
    response = await client.submit(f"/needs/campaigns/{campaign.id}/close")
    assert "不能执行此操作" in (await client.get(response.headers["location"])).text
    assert (await Campaign.get(id=campaign.id)).status == CampaignStatus.DRAFT


async def test_an_open_campaign_past_its_closing_time_shows_as_closed(client, organiser):
    campaign = await make_campaign(closes_at=now_utc() - timedelta(minutes=1))
    page = await client.get(f"/needs/campaigns/{campaign.id}")
    assert "已截止" in page.text and "系统已停止接收提交" in page.text


async def test_campaign_list_for_organisers_counts_sent_needs(client, organiser):
    campaign = await make_campaign()
    draft_campaign = await make_campaign(status=CampaignStatus.DRAFT)
    await make_complete_need(campaign=campaign, status=NeedStatus.SUBMITTED)
    await make_complete_need(campaign=campaign)  # a draft: not counted for organisers
    page = await client.get("/needs/campaigns")
    assert campaign.title in page.text and draft_campaign.title in page.text
    assert f'<a href="/needs/?campaign={campaign.id}">1</a>' in page.text


async def test_submitters_see_open_campaigns_with_instructions(client):
    submitter = await make_submitter()
    open_campaign = await make_campaign(instructions="重点征集钢铁行业需求")
    closed = await make_campaign(status=CampaignStatus.CLOSED)
    draft = await make_campaign(status=CampaignStatus.DRAFT)
    await client.login(submitter.email)
    page = await client.get("/needs/")
    assert open_campaign.title in page.text and "重点征集钢铁行业需求" in page.text
    assert f"/needs/new?campaign={open_campaign.id}" in page.text
    assert f"/needs/new?campaign={closed.id}" not in page.text
    listing = await client.get("/needs/campaigns")
    assert open_campaign.title in listing.text and closed.title in listing.text and draft.title not in listing.text
    detail = await client.get(f"/needs/campaigns/{open_campaign.id}")
    assert detail.status_code == 200 and "填报技术需求" in detail.text and "批次管理" not in detail.text
    assert (await client.get(f"/needs/campaigns/{draft.id}")).status_code == 404
    assert (await client.get("/needs/campaigns/424242")).status_code == 404


async def test_submitters_cannot_manage_campaigns(client):
    submitter = await make_submitter()
    campaign = await make_campaign(status=CampaignStatus.DRAFT)
    await client.login(submitter.email)
    assert (await client.get("/needs/campaigns/new")).status_code == 403
    assert (await client.submit("/needs/campaigns/new", await campaign_form())).status_code == 403
    assert (await client.get(f"/needs/campaigns/{campaign.id}/edit")).status_code == 403
    assert (await client.submit(f"/needs/campaigns/{campaign.id}/edit", await campaign_form())).status_code == 403
    assert (await client.submit(f"/needs/campaigns/{campaign.id}/open")).status_code == 403
    assert await Campaign.all().count() == 1
    assert (await Campaign.get(id=campaign.id)).status == CampaignStatus.DRAFT


@pytest.mark.parametrize("url", ["/needs/", "/needs/campaigns", "/needs/campaigns/1", "/needs/campaigns/new",
                                 "/needs/export.csv"])
async def test_anonymous_goes_to_sign_in(client, url):
    await make_campaign()
    response = await client.get(url)
    assert response.status_code == 303 and response.headers["location"] == f"/login?next={url}"


@pytest.mark.parametrize("role", [Role.BIDDER, Role.EXPERT])
async def test_other_roles_are_refused(client, role):
    user = await make_user(role)
    campaign = await make_campaign()
    await client.login(user.email)
    for url in ("/needs/", "/needs/campaigns", f"/needs/campaigns/{campaign.id}", "/needs/campaigns/new"):
        assert (await client.get(url)).status_code == 403, url
    assert (await client.submit(f"/needs/campaigns/{campaign.id}/close")).status_code == 403
    assert (await Campaign.get(id=campaign.id)).status == CampaignStatus.OPEN
