"""Blind review: no expert-facing page, download, export or e-mail names the bid's organisations
or people, and documents reach experts without their metadata (the stored original untouched)."""

import csv
import hashlib
import html
import io
import zipfile

import pikepdf

from challenge.bids.models import BidPartner, TeamMember
from challenge.files.models import Attachment, Blob
from challenge.mail.models import Notification, OutboxMessage
from challenge.reviews import blind
from factories import make_org, make_organiser
from factories.reviews import (
    assign,
    make_expert,
    make_panel,
    make_review_bid,
    make_review_challenge,
    make_submitted_version,
)

LEAD = "北方碳捕集研究院"
PARTNER = "南方新材料股份有限公司"
UNREGISTERED = "西部节能科技有限公司"
MEMBER = "欧阳明远"
MEMBER_EMAIL = "ouyang.mingyuan@bid-team.cn"
SECRETS = [LEAD, PARTNER, UNREGISTERED, MEMBER, MEMBER_EMAIL, "北方碳捕集", "91110000MA00000001"]


def _pdf_with_author() -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.docinfo["/Author"] = MEMBER
    pdf.docinfo["/Title"] = f"{LEAD}技术方案"
    pdf.docinfo["/Producer"] = "WPS Office"
    pdf.docinfo["/Creator"] = f"{PARTNER} 文档中心"
    pdf.docinfo["/Subject"] = UNREGISTERED
    pdf.docinfo["/Keywords"] = MEMBER_EMAIL
    with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["dc:creator"] = [MEMBER]
        meta["dc:title"] = f"{LEAD}技术方案"
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def _docx_with_properties() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as docx:
        docx.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        docx.writestr("docProps/core.xml",
                      f'<?xml version="1.0"?><cp:coreProperties xmlns:cp="x" xmlns:dc="y"><dc:creator>{MEMBER}'
                      f'</dc:creator><cp:lastModifiedBy>{MEMBER}</cp:lastModifiedBy></cp:coreProperties>')
        docx.writestr("docProps/app.xml", f'<?xml version="1.0"?><Properties><Company>{LEAD}</Company>'
                                          f'<Manager>{MEMBER}</Manager></Properties>')
        docx.writestr("word/document.xml", '<?xml version="1.0"?><w:document xmlns:w="w"><w:body>'
                                           f'<w:ins w:author="{MEMBER}" w:id="1"/>技术路线说明</w:body></w:document>')
        docx.writestr("word/comments.xml", f'<w:comments xmlns:w="w"><w:comment w:author="{MEMBER}" '
                                           f'w:initials="OY">意见</w:comment></w:comments>')
    return out.getvalue()


def _assert_clean(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} leaked in {where}"


def _assert_clean_bytes(data: bytes, where: str) -> None:
    for secret in SECRETS:
        for encoding in ("utf-8", "utf-16-be", "utf-16-le"):
            assert secret.encode(encoding) not in data, f"{secret!r} ({encoding}) leaked in {where}"


async def _blind_setup(app):
    organiser = await make_organiser()
    challenge = await make_review_challenge(blind_review=True, experts_per_bid=2)
    lead = await make_org(name=LEAD, credit_code="91110000MA00000001")
    bid = await make_review_bid(challenge, lead_org=lead, title=f"{LEAD}联合攻关方案",
                                approach=f"由{MEMBER}牵头，联合{PARTNER}开展吸收剂研究。",
                                foundation=f"{UNREGISTERED}提供中试场地。")
    partner = await make_org(name=PARTNER)
    await BidPartner.create(bid=bid, organisation=partner, name=PARTNER, org_type="enterprise")
    await BidPartner.create(bid=bid, name=UNREGISTERED, org_type="enterprise", credit_code=None)
    await TeamMember.create(bid=bid, name=MEMBER, title="研究员", role="负责人", organisation_name=LEAD,
                            email=MEMBER_EMAIL, contact="13800000000")
    pdf, docx = _pdf_with_author(), _docx_with_properties()
    await make_submitted_version(bid, storage=app.state.storage, files=[
        ("proposal", f"{LEAD}-技术方案-{MEMBER}.pdf", pdf, "pdf", "application/pdf"),
        ("other", f"{PARTNER}合作协议.docx", docx, "docx",
         "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ])
    chair, expert = await make_expert(), await make_expert()
    panel = await make_panel(challenge=challenge, experts=[chair, expert], chair=chair, organiser=organiser)
    return organiser, challenge, bid, panel, chair, expert, pdf


async def test_expert_pages_downloads_exports_and_mail_name_no_party(app, client, make_client):
    organiser, challenge, bid, panel, chair, expert, original_pdf = await _blind_setup(app)
    await client.login(organiser.email)
    assert (await client.submit(f"/review/manage/panels/{panel.id}/propose")).status_code == 303
    assert (await client.submit(f"/review/manage/panels/{panel.id}/confirm")).status_code == 303
    # The organiser does see the names (so the checks below can fail).
    assert LEAD in (await client.get(f"/review/manage/panels/{panel.id}/assign")).text

    http = make_client()
    await http.login(expert.email)
    item = await expert.review_assignments.all().first()
    pages = {"/review/": await http.get("/review/")}
    page = await http.get(f"/review/assignments/{item.id}")
    pages["assignment"] = page
    assert page.status_code == 200 and "申报 A" in page.text
    assert "申报A-申报书-1.pdf" in page.text and "申报A-其他材料-1.docx" in page.text
    assert "吸收剂研究" in page.text  # the content is there, the names are not

    # Downloads: neutral names, metadata removed, the original untouched.
    pdf_response = await http.get(f"/review/assignments/{item.id}/files/1")
    assert pdf_response.status_code == 200
    assert "%E7%94%B3%E6%8A%A5A-%E7%94%B3%E6%8A%A5%E4%B9%A6-1.pdf" in pdf_response.headers["content-disposition"]
    _assert_clean(pdf_response.headers["content-disposition"], "download name")
    with pikepdf.open(io.BytesIO(pdf_response.content)) as pdf:
        assert dict(pdf.docinfo) == {}
        assert "/Metadata" not in pdf.Root
        assert len(pdf.pages) == 1
    _assert_clean_bytes(pdf_response.content, "the PDF")
    docx_response = await http.get(f"/review/assignments/{item.id}/files/2")
    with zipfile.ZipFile(io.BytesIO(docx_response.content)) as docx:
        for name in docx.namelist():
            _assert_clean_bytes(docx.read(name), f"docx part {name}")
        assert "技术路线说明" in docx.read("word/document.xml").decode()
    original = await Attachment.get(owner_id=bid.id, category="proposal").select_related("blob")
    stored = b"".join([chunk async for chunk in app.state.storage.read(original.blob.storage_key)])
    assert stored == original_pdf and hashlib.sha256(stored).hexdigest() == original.blob.sha256
    assert await Blob.filter(sanitised_from__original_id=original.blob_id).count() == 1
    assert (await http.get(f"/review/assignments/{item.id}/files/3")).status_code == 404

    # Scores, then the pages after submitting and the chair's views and exports.
    criteria = await challenge.criteria.all()
    data = {"action": "submit", "opinion": "方案可行"}
    data.update({f"score_{c.id}": "80" for c in criteria})
    assert (await http.submit(f"/review/assignments/{item.id}", data)).status_code == 303
    pages["submitted"] = await http.get(f"/review/assignments/{item.id}")
    chair_http = make_client()
    await chair_http.login(chair.email)
    chair_item = await chair.review_assignments.all().first()
    await chair_http.submit(f"/review/assignments/{chair_item.id}", data)
    pages["chair"] = await chair_http.get(f"/review/panels/{panel.id}")
    assert pages["chair"].status_code == 200 and "申报 A" in pages["chair"].text
    await chair_http.submit(f"/review/panels/{panel.id}/reopen/{item.id}", {"reason": "请补充评语"})
    pages["reopened"] = await http.get(f"/review/assignments/{item.id}")
    pages["inbox"] = await http.get("/inbox")
    for name, response in pages.items():
        assert response.status_code == 200, name
        _assert_clean(response.text, name)

    csv_export = await chair_http.get(f"/review/panels/{panel.id}/ranking.csv")
    rows = list(csv.reader(io.StringIO(csv_export.content.decode("utf-8-sig"))))
    assert rows[1][1] == "申报 A"
    _assert_clean(csv_export.content.decode("utf-8-sig"), "CSV export")
    xlsx_export = await chair_http.get(f"/review/panels/{panel.id}/ranking.xlsx")
    with zipfile.ZipFile(io.BytesIO(xlsx_export.content)) as book:
        # openpyxl writes non-ASCII text as character references: unescape before searching.
        text = html.unescape("".join(book.read(name).decode("utf-8", "replace") for name in book.namelist()))
    assert "申报 A" in text
    _assert_clean(text, "XLSX export")

    # Mail and inbox items to the experts.
    for user in (expert, chair):
        for message in await OutboxMessage.filter(to_address=user.email):
            _assert_clean(message.subject + message.body, f"mail to {user.email}")
        for note in await Notification.filter(user=user):
            _assert_clean(note.subject + note.body, f"inbox of {user.email}")
    assert await OutboxMessage.filter(to_address=expert.email).count() >= 2  # assigned, reopened


async def test_open_review_shows_the_parties(app, client):
    organiser, challenge, bid, panel, chair, expert, _pdf = await _blind_setup(app)
    challenge.blind_review = False
    await challenge.save()
    item = await assign(panel, bid, expert)
    await client.login(expert.email)
    page = await client.get(f"/review/assignments/{item.id}")
    assert LEAD in page.text and MEMBER in page.text
    response = await client.get(f"/review/assignments/{item.id}/files/1")
    assert response.content == (b"".join([c async for c in app.state.storage.read(
        (await Attachment.get(owner_id=bid.id, category="proposal").select_related("blob")).blob.storage_key)]))


def test_codes():
    assert [blind.code_for(i) for i in (0, 1, 25, 26, 27, 499)] == ["A", "B", "Z", "AA", "AB", "SF"]
