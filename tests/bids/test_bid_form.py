"""The bid form over HTTP: start, save, repeated rows without JavaScript, submit, revise,
withdraw and submit again, bad input kept on the form, the bidder's page."""

import hashlib
import re
from datetime import timedelta

from challenge.bids.models import Bid, BidMessage, BidPartner, BidStatus, BidVersion, BudgetItem, Milestone, TeamMember
from challenge.challenges.models import AssessmentTarget, Challenge, ChallengeStatus
from challenge.files.models import Attachment
from challenge.web.timefmt import now_utc
from factories import credit_code, make_challenge, make_organiser
from factories.bids import PDF, form_fields, make_bidder, make_submitted, tiny_pdf
from factories.uploads import stored_files


async def _targets(challenge):
    return await AssessmentTarget.filter(challenge_id=challenge.id).order_by("position")


# A browser sends an empty file input as a part with an empty file name: still multipart.
NO_FILE = {"file-other": ("", b"", "application/octet-stream")}


def _pdf(name="申报书.pdf", data=None):
    return {"file-proposal": (name, data or PDF, "application/pdf")}


async def test_new_bid_form_and_draft(client):
    challenge = await make_challenge()
    bidder = await make_bidder()
    await client.login(bidder.email)
    page = await client.get(f"/bids/new?challenge_id={challenge.id}")
    assert page.status_code == 200
    assert 'enctype="multipart/form-data" data-upload' in page.text
    assert 'name="partner-0-credit_code"' in page.text and 'name="budget-2-item"' in page.text
    for target in await _targets(challenge):
        assert f'name="target-{target.id}-value"' in page.text
    response = await client.submit(f"/bids/new?challenge_id={challenge.id}",
                                   {"title": "草稿一", "approach": "路线", "intent": "save"}, files=NO_FILE)
    assert response.status_code == 303
    bid = await Bid.get(challenge_id=challenge.id)
    assert response.headers["location"] == f"/bids/{bid.id}/edit"
    assert bid.status == BidStatus.DRAFT and bid.title == "草稿一" and bid.created_by_id == bidder.id
    edit = await client.get(f"/bids/{bid.id}/edit")
    assert 'value="草稿一"' in edit.text and "草稿已保存" in edit.text
    # Starting again goes to the existing bid.
    again = await client.get(f"/bids/new?challenge_id={challenge.id}")
    assert again.status_code == 303 and again.headers["location"] == f"/bids/{bid.id}/edit"
    assert await Bid.filter(challenge_id=challenge.id).count() == 1


async def test_new_bid_refused_for_closed_or_unpublished_challenge(client):
    bidder = await make_bidder()
    await client.login(bidder.email)
    closed = await make_challenge(closes_at=now_utc() - timedelta(minutes=1))
    page = await client.get(f"/bids/new?challenge_id={closed.id}")
    assert page.status_code == 409 and "不在申报期内" in page.text
    draft = await make_challenge(status=ChallengeStatus.DRAFT)
    assert (await client.get(f"/bids/new?challenge_id={draft.id}")).status_code == 404
    response = await client.submit(f"/bids/new?challenge_id={closed.id}", {"title": "迟到的申报"}, files=NO_FILE)
    assert response.status_code == 409 and 'value="迟到的申报"' in response.text and "截止" in response.text
    assert await Bid.all().count() == 0


async def test_rows_are_added_without_javascript(client):
    challenge = await make_challenge()
    bidder = await make_bidder()
    await client.login(bidder.email)
    fields = {"title": "方案", "intent": "add:partner", "blank-partner": "1", "partner-0-name": "甲公司",
              "partner-0-org_type": "enterprise", "partner-0-credit_code": credit_code()}
    response = await client.submit(f"/bids/new?challenge_id={challenge.id}", fields, files=NO_FILE)
    bid = await Bid.get(challenge_id=challenge.id)
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"/bids/{bid.id}/edit?") and "blank-partner=2" in response.headers["location"]
    page = await client.get(response.headers["location"])
    # One saved partner and two blank rows.
    assert 'value="甲公司"' in page.text and 'name="partner-2-name"' in page.text and 'name="partner-3-name"' not in page.text
    # Blank rows are ignored, removed rows dropped, the rest renumbered.
    fields = {"title": "方案", "intent": "save",
              "member-0-name": "", "member-3-name": "李四", "member-5-name": "王五", "member-5-remove": "1",
              "milestone-1-title": "中试", "milestone-1-due_date": "2027-01-31",
              "budget-4-item": "设备", "budget-4-own": "1,200.5", "budget-4-requested": "300"}
    response = await client.submit(f"/bids/{bid.id}/edit", fields, files=NO_FILE)
    assert response.status_code == 303
    assert [m.name for m in await TeamMember.filter(bid_id=bid.id)] == ["李四"]
    assert [m.title for m in await Milestone.filter(bid_id=bid.id)] == ["中试"]
    line = await BudgetItem.get(bid_id=bid.id)
    assert str(line.own_wan) == "1200.50" and line.position == 0
    assert await BidPartner.filter(bid_id=bid.id).count() == 0  # the partner row was not posted again
    page = await client.get(f"/bids/{bid.id}/edit")
    assert "1,500.5 万元" in page.text  # the total computed by the server


async def test_bad_input_is_kept_and_nothing_saved(client):
    challenge = await make_challenge()
    bidder = await make_bidder()
    await client.login(bidder.email)
    await client.submit(f"/bids/new?challenge_id={challenge.id}", {"title": "原标题"}, files=NO_FILE)
    bid = await Bid.get(challenge_id=challenge.id)
    bad_code = credit_code()[:-1] + "I"
    fields = {"title": "新标题", "intent": "save", "partner-0-name": "乙公司", "partner-0-org_type": "enterprise",
              "partner-0-credit_code": bad_code, "milestone-0-title": "节点", "milestone-0-due_date": "2027-13-01",
              "budget-0-item": "设备", "budget-0-own": "-5", "budget-0-requested": "abc",
              "member-0-name": "张三", "member-0-email": "not-an-email"}
    response = await client.submit(f"/bids/{bid.id}/edit", fields, files=_pdf())
    assert response.status_code == 400
    text = response.text
    assert "请修改以下问题" in text and "统一社会信用代码无效" in text and "日期格式" in text
    assert "不能小于 0" in text and "请输入数字" in text and "有效的电子邮箱" in text
    assert 'value="新标题"' in text and f'value="{bad_code}"' in text and 'value="2027-13-01"' in text
    assert "已保留的文件" in text and "申报书.pdf" in text  # the chosen file is kept, not lost
    bid = await Bid.get(id=bid.id)
    assert bid.title == "原标题" and await BidPartner.filter(bid_id=bid.id).count() == 0
    assert await Attachment.filter(owner_type="bid", owner_id=bid.id).count() == 0


async def test_submit_revise_withdraw_and_submit_again(client, settings):
    challenge = await make_challenge(funding_wan=1000)
    targets = await _targets(challenge)
    bidder = await make_bidder()
    await client.login(bidder.email)
    code = credit_code()
    response = await client.submit(f"/bids/new?challenge_id={challenge.id}",
                                   form_fields(targets, partner_code=code, action="submit"), files=_pdf())
    bid = await Bid.get(challenge_id=challenge.id)
    assert response.status_code == 303 and response.headers["location"] == f"/bids/{bid.id}/receipt/1"
    assert bid.status == BidStatus.SUBMITTED and bid.current_version == 1
    receipt = await client.get(f"/bids/{bid.id}/receipt/1")
    version = await BidVersion.get(bid_id=bid.id, version=1)
    assert receipt.status_code == 200 and version.sha256 in receipt.text and "已核验" in receipt.text
    assert "data-print" in receipt.text and "申报已提交" in receipt.text
    document = await client.get(f"/bids/{bid.id}/receipt/1.json")
    assert hashlib.sha256(document.content).hexdigest() == version.sha256
    assert hashlib.sha256(PDF).hexdigest() in document.text

    # Revise: change the title and add a qualification file; version 2.
    fields = form_fields(targets, title="修订后的申报", partner_code=code, action="submit")
    files = {"file-qualification": ("资质.pdf", tiny_pdf("qualification"), "application/pdf")}
    response = await client.submit(f"/bids/{bid.id}/edit", fields, files=files)
    assert response.status_code == 303 and response.headers["location"] == f"/bids/{bid.id}/receipt/2"
    v1, v2 = await BidVersion.filter(bid_id=bid.id).order_by("version")
    assert '"title":"联合攻关方案"' in v1.document and '"title":"修订后的申报"' in v2.document
    assert v2.document.count('"category":"qualification"') == 1

    # Withdraw, then submit the same bid again.
    response = await client.submit(f"/bids/{bid.id}/withdraw", {"reason": "补充材料"})
    assert response.status_code == 303
    assert (await Bid.get(id=bid.id)).status == BidStatus.WITHDRAWN
    page = await client.get(f"/bids/{bid.id}")
    assert "本申报已撤回" in page.text and "重新提交申报" in page.text
    response = await client.submit(f"/bids/{bid.id}/submit", {})
    assert response.status_code == 303 and response.headers["location"] == f"/bids/{bid.id}/receipt/3"
    bid = await Bid.get(id=bid.id)
    assert bid.status == BidStatus.SUBMITTED and bid.current_version == 3

    mine = await client.get("/bids/")
    assert mine.status_code == 200 and "修订后的申报" in mine.text
    for n in (1, 2, 3):
        assert f"/bids/{bid.id}/receipt/{n}" in mine.text


async def test_incomplete_submission_lists_problems_and_keeps_draft(client):
    challenge = await make_challenge(funding_wan=100, consortium_required=True)
    targets = await _targets(challenge)
    bidder = await make_bidder()
    await client.login(bidder.email)
    fields = form_fields(targets, action="submit")
    fields.pop("commitment_accepted")
    fields[f"target-{targets[0].id}-value"] = ""
    fields["budget-0-requested"] = "150"
    response = await client.submit(f"/bids/new?challenge_id={challenge.id}", fields, files=NO_FILE)
    assert response.status_code == 400
    text = response.text
    for expected in ["提交前须阅读并接受诚信承诺", "请上传申报书", "超过榜单金额 100 万元", "联合体形式揭榜",
                     "请填写对考核指标"]:
        assert expected in text, expected
    assert 'href="#field-consortium_required"' in text and 'id="field-consortium_required"' in text
    assert "内容已保存为草稿，但尚未提交" in text
    bid = await Bid.get(challenge_id=challenge.id)
    assert bid.status == BidStatus.DRAFT and bid.title == "联合攻关方案"
    assert await BidVersion.filter(bid_id=bid.id).count() == 0
    # The form now posts to the bid that was created, so the next try continues it.
    assert f'action="/bids/{bid.id}/edit"' in text


async def test_form_opened_before_close_and_sent_after_is_refused(client, settings):
    bid, bidder, _version = await make_submitted(settings)
    await client.login(bidder.email)
    page = await client.get(f"/bids/{bid.id}/edit")
    assert page.status_code == 200
    await Challenge.filter(id=bid.challenge_id).update(closes_at=now_utc() - timedelta(seconds=1))
    targets = await _targets(await Challenge.get(id=bid.challenge_id))
    for action in ("submit", "save"):
        fields = form_fields(targets, title="截止后才发出的修改", action=action)
        response = await client.submit(f"/bids/{bid.id}/edit", fields, files=_pdf())
        assert response.status_code == 409
        assert "截止" in response.text and 'value="截止后才发出的修改"' in response.text
        assert "未保存、未提交" in response.text
    bid_after = await Bid.get(id=bid.id)
    assert bid_after.title == "联合攻关方案" and bid_after.current_version == 1
    assert await BidVersion.filter(bid_id=bid.id).count() == 1
    assert await Attachment.filter(owner_type="bid", owner_id=bid.id).count() == 1
    assert not [path for path in stored_files(settings.upload_dir) if path.suffix == ".part"]
    response = await client.submit(f"/bids/{bid.id}/withdraw", {})
    assert response.status_code == 303
    assert (await Bid.get(id=bid.id)).status == BidStatus.SUBMITTED
    assert "截止" in (await client.get(f"/bids/{bid.id}")).text


async def test_upload_only_form_adds_files(client, settings):
    bid, bidder, _version = await make_submitted(settings)
    await client.login(bidder.email)
    response = await client.submit(f"/bids/{bid.id}/attachments", {"category": "commitment"},
                                   files={"file": ("承诺函.pdf", tiny_pdf("letter"), "application/pdf")})
    assert response.status_code == 303
    assert await Attachment.filter(owner_type="bid", owner_id=bid.id, category="commitment").count() == 1
    assert (await Bid.get(id=bid.id)).has_unsubmitted_changes
    response = await client.submit(f"/bids/{bid.id}/attachments", {"category": "bogus"},
                                   files={"file": ("x.pdf", tiny_pdf("x"), "application/pdf")})
    assert response.status_code == 303
    assert "所选项无效" in (await client.get(f"/bids/{bid.id}")).text
    assert await Attachment.filter(owner_type="bid", owner_id=bid.id).count() == 2


async def test_attachment_delete_from_form_keeps_version_file(client, settings):
    bid, bidder, version = await make_submitted(settings)
    await client.login(bidder.email)
    attachment = await Attachment.get(owner_type="bid", owner_id=bid.id)
    fields = {"title": "联合攻关方案", "intent": "save", "delete_attachment": str(attachment.id)}
    assert (await client.submit(f"/bids/{bid.id}/edit", fields, files=NO_FILE)).status_code == 303
    assert not await Attachment.filter(id=attachment.id).exists()
    # The file of version 1 stays downloadable from the receipt.
    response = await client.get(f"/bids/{bid.id}/versions/1/files/{attachment.blob_id}")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert attachment.filename in response.headers["content-disposition"] or "filename*=" in response.headers["content-disposition"]


async def test_bidder_page_shows_messages_and_open_challenges(client, settings):
    bid, bidder, _version = await make_submitted(settings)
    other = await make_challenge(title="另一个开放榜单")
    organiser = await make_organiser()
    await BidMessage.create(bid=bid, author=organiser, status=BidStatus.FORMAL_FAILED, body="请补充盖章页")
    await client.login(bidder.email)
    page = await client.get("/bids/")
    assert "请补充盖章页" in page.text and "管理员意见" in page.text
    assert "另一个开放榜单" in page.text and f"/bids/new?challenge_id={other.id}" in page.text
    assert f"/bids/new?challenge_id={bid.challenge_id}\"" not in page.text
    assert re.search(r"第 1 版回执", page.text)
