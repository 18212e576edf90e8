"""Organisers export the filtered need list as XLSX and CSV, with every field."""

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from challenge.accounts.models import Role
from challenge.needs.models import NeedStatus
from challenge.needs.services import export_header
from factories import domains, make_org, make_organiser, make_user
from factories.needs import make_campaign, make_complete_need, make_submitter, need_form, pdf_bytes


@pytest.fixture
async def organiser(client):
    user = await make_organiser()
    await client.login(user.email)
    return user


def read_csv(response) -> list[list[str]]:
    assert response.headers["content-type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def read_xlsx(response) -> list[list]:
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


async def test_xlsx_export_has_every_field_and_applies_the_filter(client, organiser):
    all_domains = await domains()
    org = await make_org(name="江苏某钢铁集团", region_code="320500")
    accepted = await make_complete_need(title="氢冶金需求", organisation=org, status=NeedStatus.ACCEPTED,
                                        domain=all_domains[3], cofunding_wan=Decimal("1234.5"))
    await make_complete_need(title="仍在筛选", status=NeedStatus.SUBMITTED)
    await make_complete_need(title="别人的草稿", status=NeedStatus.DRAFT)
    response = await client.get("/needs/export.xlsx?status=accepted")
    assert response.status_code == 200
    assert "needs-" in response.headers["content-disposition"]
    rows = read_xlsx(response)
    assert rows[0] == export_header()
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1]))
    assert row["编号"] == accepted.id and row["需求名称"] == "氢冶金需求"
    assert row["状态"] == "已采纳" and row["所属领域"] == all_domains[3].name
    assert row["提交单位"] == "江苏某钢铁集团" and row["所在地区"] == "江苏省 苏州市"
    assert row["配套资金（万元）"] == 1234.5
    assert row["是否提供应用场景"] == "是" and row["联系邮箱"] == "zhang@example.cn"
    assert row["技术瓶颈"].startswith("焦化企业") and row["预期成果"].startswith("建成千吨级")


async def test_csv_export_applies_filters_and_never_contains_others_drafts(client, organiser):
    all_domains = await domains()
    campaign = await make_campaign()
    for n in range(3):
        await make_complete_need(title=f"领域零-{n}", campaign=campaign, domain=all_domains[0],
                                 status=NeedStatus.SUBMITTED)
    await make_complete_need(title="领域零-草稿", campaign=campaign, domain=all_domains[0])
    await make_complete_need(title="领域五", campaign=campaign, domain=all_domains[5], status=NeedStatus.SUBMITTED)
    response = await client.get(f"/needs/export.csv?campaign={campaign.id}&domain={all_domains[0].id}&sort=title")
    assert response.status_code == 200
    rows = read_csv(response)
    assert rows[0] == export_header()
    assert [r[2] for r in rows[1:]] == ["领域零-0", "领域零-1", "领域零-2"]
    response = await client.get("/needs/export.csv?q=领域五")
    assert [r[2] for r in read_csv(response)[1:]] == ["领域五"]


async def test_export_lists_attachment_names(client, make_client, organiser):
    submitter = await make_submitter()
    campaign = await make_campaign()
    other = make_client()
    await other.login(submitter.email)
    data = await need_form(campaign=campaign, action="submit", title="带附件的需求")
    response = await other.submit("/needs/new", data, files=[
        ("attachments", ("论证报告.pdf", pdf_bytes("a"), "application/pdf")),
        ("attachments", ("现场照片.pdf", pdf_bytes("b"), "application/pdf")),
    ])
    assert response.status_code == 303
    rows = read_csv(await client.get("/needs/export.csv"))
    row = dict(zip(rows[0], rows[1]))
    assert row["附件"] == "论证报告.pdf；现场照片.pdf"


async def test_formula_like_text_is_neutralised(client, organiser):
    await make_complete_need(title="=HYPERLINK(\"http://evil\")", status=NeedStatus.SUBMITTED)
    rows = read_csv(await client.get("/needs/export.csv"))
    assert rows[1][2].startswith("'=")


async def test_an_unknown_format_is_not_found(client, organiser):
    assert (await client.get("/needs/export.pdf")).status_code == 404


@pytest.mark.parametrize("role", [Role.SUBMITTER, Role.BIDDER])
async def test_only_organisers_export(client, role):
    user = await make_user(role)
    await make_complete_need(organisation=user.organisation, status=NeedStatus.SUBMITTED)
    await client.login(user.email)
    for fmt in ("csv", "xlsx"):
        assert (await client.get(f"/needs/export.{fmt}")).status_code == 403
    page = await client.get("/needs/") if role == Role.SUBMITTER else None
    if page is not None:
        assert "/needs/export.csv" not in page.text


async def test_export_links_carry_the_current_filters(client, organiser):
    page = await client.get("/needs/?status=accepted&region=320000")
    assert 'href="/needs/export.xlsx?region=320000&amp;status=accepted&amp;sort=-created"' in page.text
    assert 'href="/needs/export.csv?region=320000&amp;status=accepted&amp;sort=-created"' in page.text
