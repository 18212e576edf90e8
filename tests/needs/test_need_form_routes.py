"""The need form over HTTP: drafts, submission, validation next to the fields, attachments."""

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest

from challenge.accounts.models import OrgStatus, Role
from challenge.audit.models import AuditEntry
from challenge.files.models import Attachment, Blob
from challenge.mail.models import Notification
from challenge.needs.models import MAX_ATTACHMENTS_PER_NEED, CampaignStatus, Need, NeedStatus
from challenge.web.timefmt import now_utc
from factories import make_org, make_organiser, make_user
from factories.needs import make_campaign, make_complete_need, make_submitter, need_form, pdf_bytes
from factories.uploads import stored_files as uploaded_files


# What a browser sends for a file input left empty: a part with an empty file name.
NO_FILE = {"attachments": ("", b"", "application/octet-stream")}


def stored_files(settings) -> list[Path]:
    return uploaded_files(Path(settings.upload_dir))


async def assert_nothing_saved(settings):
    assert await Need.all().count() == 0
    assert await Blob.all().count() == 0
    assert await Attachment.all().count() == 0
    assert stored_files(settings) == []


@pytest.fixture
async def submitter(client):
    user = await make_submitter()
    await client.login(user.email)
    return user


# -- the blank form ------------------------------------------------------------------------------
async def test_new_form_shows_the_open_campaign_and_its_instructions(client, submitter):
    campaign = await make_campaign(instructions="请于截止前提交，技术指标须量化。")
    response = await client.get("/needs/new")
    assert response.status_code == 200
    assert campaign.title in response.text and "技术指标须量化" in response.text
    assert 'enctype="multipart/form-data" data-upload' in response.text
    # A control named "action" would shadow form.action, which the upload script posts to.
    assert 'name="action"' not in response.text and 'name="intent" value="submit"' in response.text
    assert f'name="campaign_id" value="{campaign.id}"' in response.text
    assert f'value="{submitter.email}"' in response.text  # contact e-mail prefilled


async def test_new_form_lets_the_user_choose_among_several_campaigns(client, submitter):
    first, second = await make_campaign(), await make_campaign()
    response = await client.get("/needs/new")
    assert response.status_code == 200
    assert f"/needs/new?campaign={first.id}" in response.text and f"/needs/new?campaign={second.id}" in response.text


async def test_no_open_campaign_says_so(client, submitter):
    await make_campaign(status=CampaignStatus.CLOSED)
    response = await client.get("/needs/new")
    assert response.status_code == 200 and "目前没有正在征集的批次" in response.text


@pytest.mark.parametrize("values,status", [
    ({"status": CampaignStatus.CLOSED}, 409),
    ({"closes_at": now_utc() - timedelta(hours=1)}, 409),
    ({"status": CampaignStatus.DRAFT}, 404),
])
async def test_new_form_for_a_campaign_not_taking_needs(client, submitter, values, status):
    campaign = await make_campaign(**values)
    response = await client.get(f"/needs/new?campaign={campaign.id}")
    assert response.status_code == status


@pytest.mark.parametrize("raw", ["999999", "abc", "-1", "99999999999999999999"])
async def test_new_form_with_a_forged_campaign_id(client, submitter, raw):
    await make_campaign()
    assert (await client.get(f"/needs/new?campaign={raw}")).status_code == 404


# -- drafts --------------------------------------------------------------------------------------
async def test_save_a_draft_with_only_a_title(client, submitter, settings):
    campaign = await make_campaign()
    response = await client.submit("/needs/new", {"campaign_id": str(campaign.id), "title": "钢渣固碳技术需求",
                                                  "intent": "save"}, files=NO_FILE)
    assert response.status_code == 303
    need = await Need.get(title="钢渣固碳技术需求")
    assert response.headers["location"] == f"/needs/{need.id}/edit"
    assert need.status == NeedStatus.DRAFT and need.organisation_id == submitter.organisation_id
    assert need.created_by_id == submitter.id and need.campaign_id == campaign.id
    assert await AuditEntry.filter(action="need.create", object_id=str(need.id), actor_id=submitter.id).exists()
    page = await client.get(response.headers["location"])
    assert "草稿已保存" in page.text and 'value="钢渣固碳技术需求"' in page.text


async def test_a_draft_needs_a_title(client, submitter, settings):
    campaign = await make_campaign()
    response = await client.submit("/needs/new", {"campaign_id": str(campaign.id), "title": " ", "bottleneck": "余热",
                                                  "intent": "save"}, files=NO_FILE)
    assert response.status_code == 400
    assert 'id="error-title"' in response.text and "此项为必填项" in response.text
    assert ">余热</textarea>" in response.text
    await assert_nothing_saved(settings)


async def test_submit_requires_every_field_and_says_which(client, submitter, settings):
    campaign = await make_campaign()
    response = await client.submit("/needs/new", {"campaign_id": str(campaign.id), "title": "只有标题",
                                                  "intent": "submit"},
                                   files=NO_FILE)
    assert response.status_code == 400
    for field in ("domain_id", "bottleneck", "state_of_art", "target_indicators", "application_scenario",
                  "expected_results", "cofunding_wan", "hosts_scenario", "contact_name", "contact_phone",
                  "contact_email"):
        assert f'id="error-{field}"' in response.text, field
    assert 'href="#field-bottleneck"' in response.text  # the error summary links to the field
    await assert_nothing_saved(settings)


@pytest.mark.parametrize("field,value,message", [
    ("cofunding_wan", "五百", "请输入数字"),
    ("cofunding_wan", "-5", "不能小于 0"),
    ("cofunding_wan", "12.345", "最多保留 2 位小数"),
    ("cofunding_wan", "1e400", "不能大于"),
    ("cofunding_wan", "NaN", "请输入数字"),
    ("cofunding_wan", "100000000", "不能大于"),
    ("contact_email", "zhang@", "请输入有效的电子邮箱地址"),
    ("contact_phone", "电话号码", "请输入有效的电话号码"),
    ("domain_id", "999999", "所选项无效"),
    ("hosts_scenario", "maybe", "所选项无效"),
    ("title", "长" * 201, "不能超过 200 个字符"),
])
@pytest.mark.parametrize("action", ["save", "submit"])
async def test_bad_values_are_refused_next_to_the_field(client, submitter, settings, field, value, message, action):
    campaign = await make_campaign()
    data = await need_form(campaign=campaign, action=action, **{field: value})
    response = await client.submit("/needs/new", data, files=NO_FILE)
    assert response.status_code == 400
    assert f'id="error-{field}"' in response.text and message in response.text
    if field not in {"domain_id", "hosts_scenario"}:
        assert value in response.text  # what the user typed is kept
    assert data["bottleneck"] in response.text or field == "bottleneck"
    await assert_nothing_saved(settings)


async def test_submission_needs_more_than_a_few_words(client, submitter, settings):
    campaign = await make_campaign()
    response = await client.submit("/needs/new", await need_form(campaign=campaign, action="submit", bottleneck="太短"),
                                   files=NO_FILE)
    assert response.status_code == 400
    assert 'id="error-bottleneck"' in response.text and "请至少填写 10 个字" in response.text
    await assert_nothing_saved(settings)
    response = await client.submit("/needs/new", await need_form(campaign=campaign, action="save", bottleneck="太短"),
                                   files=NO_FILE)
    assert response.status_code == 303  # a draft may be short


async def test_submit_a_complete_need_with_an_attachment(client, submitter, settings):
    organiser = await make_organiser()
    campaign = await make_campaign()
    content = pdf_bytes("brief")
    data = await need_form(campaign=campaign, action="submit", title="焦炉煤气制氢耦合碳捕集")
    response = await client.submit("/needs/new", data, files={"attachments": ("需求论证.pdf", content, "application/pdf")})
    assert response.status_code == 303, response.text
    need = await Need.get(title="焦炉煤气制氢耦合碳捕集")
    assert response.headers["location"] == f"/needs/{need.id}"
    assert need.status == NeedStatus.SUBMITTED and need.submitted_at is not None
    assert str(need.cofunding_wan) == "500.50" and need.hosts_scenario is True
    attachment = await Attachment.get(owner_type="need", owner_id=need.id).select_related("blob")
    assert attachment.filename == "需求论证.pdf"
    assert attachment.blob.sha256 == hashlib.sha256(content).hexdigest() and attachment.blob.kind == "pdf"
    assert stored_files(settings)[0].read_bytes() == content
    assert await Notification.filter(user=organiser, link=f"/needs/{need.id}").exists()
    page = await client.get(f"/needs/{need.id}")
    assert "需求已提交" in page.text and "已提交" in page.text and "需求论证.pdf" in page.text
    assert "提交需求" in page.text and "上传附件" in page.text  # history in words


async def test_oversize_file_is_refused_with_413_and_nothing_is_saved(client, submitter, settings):
    campaign = await make_campaign()
    big = b"%PDF-1.4\n" + b"0" * (settings.max_upload_bytes + 1)
    data = await need_form(campaign=campaign, action="save")
    response = await client.submit("/needs/new", data, files={"attachments": ("big.pdf", big, "application/pdf")})
    assert response.status_code == 413
    assert f"{settings.max_upload_mb} MB" in response.text
    await assert_nothing_saved(settings)


async def test_a_pdf_that_is_not_a_pdf_is_refused_next_to_the_field(client, submitter, settings):
    campaign = await make_campaign()
    data = await need_form(campaign=campaign, action="submit", title="伪装文件测试")
    response = await client.submit("/needs/new", data,
                                   files={"attachments": ("方案.pdf", b"MZ\x90\x00 this is a program", "application/pdf")})
    assert response.status_code == 400
    assert 'id="error-attachments"' in response.text and "文件内容与扩展名不符" in response.text
    assert 'value="伪装文件测试"' in response.text
    await assert_nothing_saved(settings)


async def test_an_empty_file_is_refused(client, submitter, settings):
    campaign = await make_campaign()
    data = await need_form(campaign=campaign, action="save")
    response = await client.submit("/needs/new", data, files={"attachments": ("empty.pdf", b"", "application/pdf")})
    assert response.status_code == 400
    assert 'id="error-attachments"' in response.text and "文件为空" in response.text
    await assert_nothing_saved(settings)


async def test_a_type_not_allowed_is_refused(client, submitter, settings):
    campaign = await make_campaign()
    data = await need_form(campaign=campaign, action="save")
    response = await client.submit("/needs/new", data, files={"attachments": ("run.exe", b"MZ\x90\x00", "x/y")})
    assert response.status_code == 400 and "不支持该文件类型" in response.text
    await assert_nothing_saved(settings)


async def test_a_path_in_the_file_name_is_dropped(client, submitter):
    campaign = await make_campaign()
    data = await need_form(campaign=campaign, action="save", title="路径测试")
    response = await client.submit("/needs/new", data, files={"attachments": ("../../x.pdf", pdf_bytes(), "application/pdf")})
    assert response.status_code == 303
    need = await Need.get(title="路径测试")
    assert [a.filename for a in await Attachment.filter(owner_id=need.id)] == ["x.pdf"]


@pytest.mark.parametrize("campaign_values", [{"status": CampaignStatus.DRAFT}, None])
async def test_a_forged_campaign_in_the_form_is_not_found(client, submitter, settings, campaign_values):
    campaign_id = (await make_campaign(**campaign_values)).id if campaign_values else 424242
    data = await need_form(action="save", campaign_id=str(campaign_id))
    response = await client.submit("/needs/new", data, files={"attachments": ("a.pdf", pdf_bytes(), "application/pdf")})
    assert response.status_code == 404
    await assert_nothing_saved(settings)


async def test_submitting_to_a_closed_campaign_keeps_the_draft(client, submitter):
    campaign = await make_campaign(closes_at=now_utc() - timedelta(minutes=5))
    data = await need_form(campaign=campaign, action="submit", title="截止后提交的需求")
    response = await client.submit("/needs/new", data, files=NO_FILE)
    assert response.status_code == 303
    need = await Need.get(title="截止后提交的需求")
    assert need.status == NeedStatus.DRAFT and need.bottleneck == data["bottleneck"]
    assert response.headers["location"] == f"/needs/{need.id}/edit"
    page = await client.get(response.headers["location"])
    assert "不在征集时间内" in page.text and "草稿已保留" in page.text
    assert not await AuditEntry.filter(action="need.submit").exists()


# -- editing -------------------------------------------------------------------------------------
async def test_edit_a_draft_and_submit_it(client, submitter):
    need = await make_complete_need(organisation=submitter.organisation, title="旧标题")
    page = await client.get(f"/needs/{need.id}/edit")
    assert page.status_code == 200 and 'value="旧标题"' in page.text
    data = await need_form(action="save", title="新标题", domain_id=str(need.domain_id))
    response = await client.submit(f"/needs/{need.id}/edit", data, files=NO_FILE)
    assert response.status_code == 303
    fresh = await Need.get(id=need.id)
    assert fresh.title == "新标题" and fresh.status == NeedStatus.DRAFT
    entry = await AuditEntry.get(action="need.update", object_id=str(need.id))
    assert "title" in entry.after["fields"]
    data["intent"] = "submit"
    response = await client.submit(f"/needs/{need.id}/edit", data, files=NO_FILE)
    assert response.status_code == 303 and response.headers["location"] == f"/needs/{need.id}"
    assert (await Need.get(id=need.id)).status == NeedStatus.SUBMITTED


async def test_a_returned_need_is_revised_and_resubmitted(client, submitter):
    need = await make_complete_need(organisation=submitter.organisation, status=NeedStatus.RETURNED,
                                    status_reason="请量化技术指标")
    page = await client.get(f"/needs/{need.id}/edit")
    assert "请量化技术指标" in page.text
    data = await need_form(action="submit", title=need.title, domain_id=str(need.domain_id),
                           target_indicators="能耗降低 20%，成本低于 200 元/吨")
    response = await client.submit(f"/needs/{need.id}/edit", data, files=NO_FILE)
    assert response.status_code == 303
    fresh = await Need.get(id=need.id)
    assert fresh.status == NeedStatus.SUBMITTED and fresh.target_indicators.startswith("能耗降低")


@pytest.mark.parametrize("status", [NeedStatus.SUBMITTED, NeedStatus.ACCEPTED, NeedStatus.REJECTED,
                                    NeedStatus.MERGED])
async def test_a_need_in_the_office_hands_cannot_be_edited(client, submitter, status):
    need = await make_complete_need(organisation=submitter.organisation, status=status, title="不能改")
    assert (await client.get(f"/needs/{need.id}/edit")).status_code == 403
    data = await need_form(action="save", title="改了", domain_id=str(need.domain_id))
    response = await client.submit(f"/needs/{need.id}/edit", data, files={"attachments": ("a.pdf", pdf_bytes(), "x")})
    assert response.status_code == 403
    assert (await Need.get(id=need.id)).title == "不能改"
    assert await Attachment.all().count() == 0


async def test_another_organisations_need_is_not_found(client, submitter):
    need = await make_complete_need(title="别人的需求")
    for url in (f"/needs/{need.id}", f"/needs/{need.id}/edit"):
        assert (await client.get(url)).status_code == 404
    data = await need_form(action="save", title="篡改", domain_id=str(need.domain_id))
    assert (await client.submit(f"/needs/{need.id}/edit", data, files=NO_FILE)).status_code == 404
    assert (await client.submit(f"/needs/{need.id}/submit")).status_code == 404
    assert (await Need.get(id=need.id)).title == "别人的需求"


async def test_a_colleague_edits_the_organisations_draft(client, submitter):
    colleague = await make_submitter(organisation=submitter.organisation)
    need = await make_complete_need(organisation=submitter.organisation, created_by=colleague)
    assert (await client.get(f"/needs/{need.id}/edit")).status_code == 200


async def test_organisers_cannot_edit_a_submitters_content(client):
    organiser = await make_organiser()
    need = await make_complete_need(status=NeedStatus.RETURNED, title="需求方的内容")
    draft = await make_complete_need(status=NeedStatus.DRAFT)
    await client.login(organiser.email)
    response = await client.get(f"/needs/{need.id}/edit")
    assert response.status_code == 403 and "管理员不能修改" in response.text
    data = await need_form(action="save", title="管理员改的", domain_id=str(need.domain_id))
    assert (await client.submit(f"/needs/{need.id}/edit", data, files=NO_FILE)).status_code == 403
    assert (await client.get(f"/needs/{draft.id}/edit")).status_code == 404
    assert (await client.get("/needs/new")).status_code == 403
    assert (await Need.get(id=need.id)).title == "需求方的内容"


async def test_a_submitter_of_a_pending_organisation_cannot_fill_needs(client):
    org = await make_org(status=OrgStatus.PENDING)
    user = await make_submitter(organisation=org)
    campaign = await make_campaign()
    await client.login(user.email)
    response = await client.get("/needs/")
    assert response.status_code == 200 and "尚未通过审核" in response.text
    response = await client.get(f"/needs/new?campaign={campaign.id}")
    assert response.status_code == 403 and "尚未通过审核" in response.text
    data = await need_form(campaign=campaign, action="save")
    assert (await client.submit("/needs/new", data, files=NO_FILE)).status_code == 403
    assert await Need.all().count() == 0


async def test_a_bidder_cannot_fill_needs(client):
    bidder = await make_user(Role.BIDDER)
    campaign = await make_campaign()
    await client.login(bidder.email)
    assert (await client.get("/needs/new")).status_code == 403
    data = await need_form(campaign=campaign, action="save")
    assert (await client.submit("/needs/new", data, files=NO_FILE)).status_code == 403
    assert await Need.all().count() == 0


async def test_anonymous_is_sent_to_sign_in(client):
    campaign = await make_campaign()
    response = await client.get(f"/needs/new?campaign={campaign.id}")
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=/needs/new")


# -- submit from the detail page -----------------------------------------------------------------
async def test_submit_button_submits_a_complete_draft(client, submitter):
    need = await make_complete_need(organisation=submitter.organisation)
    page = await client.get(f"/needs/{need.id}")
    assert f'action="/needs/{need.id}/submit"' in page.text
    response = await client.submit(f"/needs/{need.id}/submit")
    assert response.status_code == 303
    assert (await Need.get(id=need.id)).status == NeedStatus.SUBMITTED


async def test_submit_button_on_an_incomplete_draft_shows_what_is_missing(client, submitter):
    need = await make_complete_need(organisation=submitter.organisation, expected_results="", contact_phone="")
    response = await client.submit(f"/needs/{need.id}/submit")
    assert response.status_code == 400
    assert 'id="error-expected_results"' in response.text and 'id="error-contact_phone"' in response.text
    assert (await Need.get(id=need.id)).status == NeedStatus.DRAFT


async def test_submit_button_after_the_deadline_keeps_the_draft(client, submitter):
    campaign = await make_campaign(closes_at=now_utc() - timedelta(seconds=1))
    need = await make_complete_need(organisation=submitter.organisation, campaign=campaign)
    page = await client.get(f"/needs/{need.id}")
    assert f'action="/needs/{need.id}/submit"' not in page.text
    response = await client.submit(f"/needs/{need.id}/submit")
    assert response.status_code == 303
    assert "不在征集时间内" in (await client.get(response.headers["location"])).text
    assert (await Need.get(id=need.id)).status == NeedStatus.DRAFT


async def test_submitting_twice_is_refused(client, submitter):
    need = await make_complete_need(organisation=submitter.organisation, status=NeedStatus.SUBMITTED)
    assert (await client.submit(f"/needs/{need.id}/submit")).status_code == 403
    assert await AuditEntry.filter(action="need.submit").count() == 0


# -- attachments on a draft ----------------------------------------------------------------------
async def test_add_and_remove_attachments_of_a_draft(client, submitter):
    need = await make_complete_need(organisation=submitter.organisation)
    data = await need_form(action="save", title=need.title, domain_id=str(need.domain_id))
    response = await client.submit(f"/needs/{need.id}/edit", data, files=[
        ("attachments", ("一.pdf", pdf_bytes("one"), "application/pdf")),
        ("attachments", ("二.pdf", pdf_bytes("two"), "application/pdf")),
    ])
    assert response.status_code == 303
    attachments = await Attachment.filter(owner_type="need", owner_id=need.id).order_by("id")
    assert [a.filename for a in attachments] == ["一.pdf", "二.pdf"]
    page = await client.get(f"/needs/{need.id}/edit")
    assert f'action="/needs/{need.id}/attachments/{attachments[0].id}/delete"' in page.text
    response = await client.submit(f"/needs/{need.id}/attachments/{attachments[0].id}/delete")
    assert response.status_code == 303 and response.headers["location"] == f"/needs/{need.id}/edit"
    assert [a.filename for a in await Attachment.filter(owner_id=need.id)] == ["二.pdf"]
    assert await AuditEntry.filter(action="need.attachment_remove", note="一.pdf").exists()


async def test_attachments_of_a_submitted_need_cannot_be_removed(client, submitter):
    need = await make_complete_need(organisation=submitter.organisation)
    data = await need_form(action="submit", title=need.title, domain_id=str(need.domain_id))
    await client.submit(f"/needs/{need.id}/edit", data, files={"attachments": ("a.pdf", pdf_bytes(), "application/pdf")})
    attachment = await Attachment.get(owner_id=need.id)
    assert (await client.submit(f"/needs/{need.id}/attachments/{attachment.id}/delete")).status_code == 403
    assert await Attachment.filter(id=attachment.id).exists()


async def test_removing_another_needs_attachment_through_this_need_is_not_found(client, submitter):
    mine = await make_complete_need(organisation=submitter.organisation)
    theirs = await make_complete_need(organisation=submitter.organisation)
    data = await need_form(action="save", title=theirs.title, domain_id=str(theirs.domain_id))
    await client.submit(f"/needs/{theirs.id}/edit", data, files={"attachments": ("a.pdf", pdf_bytes(), "application/pdf")})
    attachment = await Attachment.get(owner_id=theirs.id)
    assert (await client.submit(f"/needs/{mine.id}/attachments/{attachment.id}/delete")).status_code == 404
    assert (await client.submit(f"/needs/{mine.id}/attachments/987654/delete")).status_code == 404
    assert await Attachment.filter(id=attachment.id).exists()


async def test_attachment_limit(client, submitter, settings):
    need = await make_complete_need(organisation=submitter.organisation)
    data = await need_form(action="save", title=need.title, domain_id=str(need.domain_id))
    files = [("attachments", (f"{i}.pdf", pdf_bytes(f"file {i}"), "application/pdf"))
             for i in range(MAX_ATTACHMENTS_PER_NEED + 1)]
    response = await client.submit(f"/needs/{need.id}/edit", data, files=files)
    assert response.status_code == 400 and f"最多 {MAX_ATTACHMENTS_PER_NEED} 个附件" in response.text
    assert await Attachment.all().count() == 0 and stored_files(settings) == []
