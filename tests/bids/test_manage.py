"""Organisers: the bids of a challenge with filters, exports, the attachments ZIP, the formal check."""

import csv
import hashlib
import io
import json
import re
import zipfile

from openpyxl import load_workbook

from challenge.audit.models import AuditEntry
from challenge.bids import services
from challenge.bids.models import Bid, BidMessage, BidStatus, BidVersion
from challenge.files.models import Attachment, Blob
from challenge.mail.models import Notification
from factories import make_challenge, make_org, make_organiser
from factories.bids import full_content, make_bidder, make_draft, make_submitted, proposal_upload, storage_of


async def _three_bids(settings):
    challenge = await make_challenge(title="碳捕集榜单")
    first, first_bidder, _ = await make_submitted(settings, challenge=challenge,
                                                  bidder=await make_bidder(await make_org(name="甲大学")))
    second, _, _ = await make_submitted(settings, challenge=challenge, bidder=await make_bidder(await make_org(name="乙研究所")))
    draft, _ = await make_draft(challenge=challenge, bidder=await make_bidder(await make_org(name="丙公司")))
    return challenge, first, second, draft, first_bidder


async def test_list_filters_and_hides_drafts(client, settings):
    challenge, first, second, draft, _ = await _three_bids(settings)
    await Bid.filter(id=second.id).update(status=BidStatus.IN_REVIEW)
    await client.login((await make_organiser()).email)
    page = await client.get(f"/bids/manage?challenge_id={challenge.id}")
    assert page.status_code == 200
    assert "甲大学" in page.text and "乙研究所" in page.text and "丙公司" not in page.text
    assert first.number in page.text and f"/bids/{draft.id}\"" not in page.text
    page = await client.get(f"/bids/manage?challenge_id={challenge.id}&status=in_review")
    assert "乙研究所" in page.text and "甲大学" not in page.text
    page = await client.get(f"/bids/manage?challenge_id={challenge.id}&q=甲大")
    assert "甲大学" in page.text and "乙研究所" not in page.text
    page = await client.get(f"/bids/manage?challenge_id={challenge.id}&q={second.number}")
    assert "乙研究所" in page.text and "甲大学" not in page.text
    page = await client.get(f"/bids/manage?challenge_id={challenge.id}&status=draft")  # not a filter value
    assert "甲大学" in page.text
    index = await client.get("/bids/manage")
    assert index.status_code == 200 and f"/bids/manage?challenge_id={challenge.id}" in index.text
    alias = await client.get(f"/bids/challenge/{challenge.id}")
    assert alias.status_code == 303 and alias.headers["location"] == f"/bids/manage?challenge_id={challenge.id}"


async def test_csv_and_xlsx_exports(client, settings):
    challenge, first, second, _draft, _ = await _three_bids(settings)
    await client.login((await make_organiser()).email)
    response = await client.get(f"/bids/manage/export?challenge_id={challenge.id}&format=csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "申报编号" and len(rows) == 3
    by_number = {row[0]: row for row in rows[1:]}
    version = await BidVersion.get(bid_id=first.id, version=1)
    row = by_number[first.number]
    assert row[2] == "甲大学" and row[7] == "已提交" and row[8] == "1" and row[14] == version.sha256
    assert row[10] == "1000.00" and row[12] == "1500.00" and row[5] == "某某环境工程有限公司"
    response = await client.get(f"/bids/manage/export?challenge_id={challenge.id}&format=xlsx&q=乙")
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.values)
    assert len(values) == 2 and values[1][0] == second.number and values[1][2] == "乙研究所"


async def test_attachments_zip_is_streamed_with_safe_names(client, settings):
    challenge, first, second, draft, first_bidder = await _three_bids(settings)
    storage = storage_of(settings)
    # A tricky name on the first bid, the same name twice, and a file only in a draft (not included).
    content = await full_content(challenge)
    await services.submit_bid(bid=first, actor=first_bidder, content=content, storage=storage, uploads=[
        ("other", (await proposal_upload(storage, name="..\\..\\evil.pdf", field="file-other"))[1]),
        ("other", (await proposal_upload(storage, name="same.pdf", field="file-other"))[1]),
        ("other", (await proposal_upload(storage, name="same.pdf", field="file-other"))[1]),
    ])
    await Attachment.create(blob=await Blob.first(), owner_type="bid", owner_id=draft.id, filename="draft.pdf",
                            category="proposal")
    await client.login((await make_organiser()).email)
    response = await client.get(f"/bids/manage/attachments.zip?challenge_id={challenge.id}")
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    assert "content-length" not in response.headers  # streamed, not built first
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.testzip() is None
    names = archive.namelist()
    assert all(not n.startswith("/") and ".." not in n.split("/") and "\\" not in n for n in names)
    assert f"{first.number}/other/evil.pdf" in names
    assert f"{first.number}/other/same.pdf" in names and f"{first.number}/other/same (2).pdf" in names
    assert not any("draft" in n or n.startswith(draft.number) for n in names)
    expected = 0
    for bid in (first, second):
        version = await BidVersion.get(bid_id=bid.id, version=bid.current_version if bid.id != first.id else 2)
        for item in json.loads(version.document)["content"]["attachments"]:
            expected += 1
            matching = [n for n in names if n.startswith(f"{bid.number}/{item['category']}/")]
            assert any(hashlib.sha256(archive.read(n)).hexdigest() == item["sha256"] for n in matching)
    assert len(names) == expected == 5


async def test_formal_check_over_http_and_the_bidder_sees_it(make_client, settings):
    bid, bidder, _ = await make_submitted(settings)
    organiser = await make_organiser()
    admin, team = make_client(), make_client()
    await admin.login(organiser.email)
    await team.login(bidder.email)
    # Fail without a reason: refused, nothing changes.
    response = await admin.submit(f"/bids/{bid.id}/formal-check", {"decision": "fail", "reason": ""})
    assert response.status_code == 303
    assert "不通过时请填写原因" in (await admin.get(f"/bids/{bid.id}")).text
    assert (await Bid.get(id=bid.id)).status == BidStatus.SUBMITTED
    response = await admin.submit(f"/bids/{bid.id}/formal-check", {"decision": "maybe"})
    assert (await Bid.get(id=bid.id)).status == BidStatus.SUBMITTED
    response = await admin.submit(f"/bids/{bid.id}/formal-check", {"decision": "fail", "reason": "缺少资质证明"})
    assert response.status_code == 303
    assert (await Bid.get(id=bid.id)).status == BidStatus.FORMAL_FAILED
    page = await team.get(f"/bids/{bid.id}")
    assert "形式审查未通过" in page.text and "缺少资质证明" in page.text
    assert "缺少资质证明" in (await team.get("/bids/")).text
    assert await Notification.filter(user_id=bidder.id, subject__contains="形式审查未通过").exists()
    # The bidder fixes it and submits again; the organiser passes it.
    assert (await team.submit(f"/bids/{bid.id}/submit", {})).status_code == 303
    response = await admin.submit(f"/bids/{bid.id}/formal-check", {"decision": "pass", "reason": ""})
    assert (await Bid.get(id=bid.id)).status == BidStatus.IN_REVIEW
    page = await team.get(f"/bids/{bid.id}")
    assert "形式审查已通过" in page.text and "修改申报" not in page.text
    assert await BidMessage.filter(bid_id=bid.id).count() == 2
    assert await AuditEntry.filter(action__in=["bid.formal_fail", "bid.formal_pass"], object_id=str(bid.id)).count() == 2


async def test_export_links_keep_the_filters_encoded(client, settings):
    challenge, *_ = await _three_bids(settings)
    await client.login((await make_organiser()).email)
    page = await client.get(f"/bids/manage?challenge_id={challenge.id}&q=甲&status=submitted")
    links = re.findall(r"/bids/manage/export\?[^\"]*", page.text)
    assert f"/bids/manage/export?challenge_id={challenge.id}&amp;status=submitted&amp;q=%E7%94%B2&format=xlsx" in links, links
