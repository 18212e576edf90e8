"""Blind review that holds: a corpus of documents naming the team (PDF information, XMP,
annotation authors, attachments and JavaScript; OOXML properties, comments, tracked changes,
people, embedded documents and pictures; image Exif, XMP, ICC and comments; ZIP comments, entry
names and nested archives) reaches the expert with the names nowhere, bytes searched in every
encoding with archives and PDF streams expanded; what cannot be cleaned is refused at upload."""

import io
import re
import tracemalloc
import zipfile
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from challenge.bids.models import BidStatus
from challenge.challenges.models import AssessmentTarget
from challenge.files import documents
from challenge.files.models import Attachment
from factories import make_challenge, make_organiser
from factories.bids import form_fields, make_draft
from factories.documents import NAME, corpus, leaks, named_docx, named_jpeg, named_pdf, named_webp
from factories.reviews import assign, make_expert, make_panel, make_review_bid, make_review_challenge, \
    make_submitted_version
from factories.uploads import ole_doc_bytes

pytestmark = pytest.mark.db_independent

MB = 1024 * 1024


def _clean(tmp_path: Path, kind: str, data: bytes, limits=documents.Limits()) -> bytes:
    source, target = tmp_path / f"in.{kind}", tmp_path / f"out.{kind}"
    source.write_bytes(data)
    documents.clean(source, target, kind, limits=limits)
    return target.read_bytes()


@pytest.mark.parametrize("filename", list(corpus()))
def test_every_document_of_the_corpus_comes_out_without_the_names(tmp_path, filename):
    kind, data = corpus()[filename]
    assert leaks(data), "the corpus file must carry the names for this test to mean anything"
    assert leaks(_clean(tmp_path, kind, data)) == []


def test_what_is_cleaned_keeps_the_content(tmp_path):
    with pikepdf.open(io.BytesIO(_clean(tmp_path, "pdf", named_pdf()))) as pdf:
        assert len(pdf.pages) == 1 and dict(pdf.docinfo) == {} and "/Metadata" not in pdf.Root
        [note] = pdf.pages[0].Annots  # the file-attachment annotation is gone, the note stays
        assert str(note.Contents) == "请核对数据" and "/T" not in note
        assert "/OpenAction" not in pdf.Root and not pdf.attachments
    docx = zipfile.ZipFile(io.BytesIO(_clean(tmp_path, "docx", named_docx(image=named_jpeg()))))
    assert "技术路线说明" in docx.read("word/document.xml").decode()
    assert 'w:author="匿名"' in docx.read("word/comments.xml").decode()
    with Image.open(io.BytesIO(docx.read("word/media/image1.jpeg"))) as picture:
        assert picture.size == (48, 64)  # the Exif orientation applied before the Exif went
        assert not picture.info.get("exif") and not picture.info.get("icc_profile")
    webp = _clean(tmp_path, "webp", named_webp())
    assert leaks(webp) == [] and Image.open(io.BytesIO(webp)).size == (16, 16)
    archive = zipfile.ZipFile(io.BytesIO(_clean(tmp_path, "zip", corpus()["数据.zip"][1])))
    assert archive.namelist() == ["001.pdf", "002.docx", "003.csv", "004.zip", "005.gif"]
    assert archive.read("003.csv") == "温度,压力\n40,1.2\n".encode() and archive.comment == b""
    assert zipfile.ZipFile(io.BytesIO(archive.read("004.zip"))).namelist() == ["001.png"]


def test_what_cannot_be_cleaned_is_refused(tmp_path):
    with_ole = io.BytesIO()
    with zipfile.ZipFile(with_ole, "w") as docx:
        docx.writestr("[Content_Types].xml", "<Types/>")
        docx.writestr("word/embeddings/oleObject1.bin", ole_doc_bytes())
    with pytest.raises(documents.Refused, match="oleObject1.bin"):
        _clean(tmp_path, "docx", with_ole.getvalue())
    odd = io.BytesIO()
    with zipfile.ZipFile(odd, "w") as archive:
        archive.writestr(f"{NAME}/setup.exe", b"MZ" + b"\0" * 100)
    with pytest.raises(documents.Refused, match="setup.exe"):
        _clean(tmp_path, "zip", odd.getvalue())
    for kind in ("doc", "xls", "ppt"):
        path = tmp_path / f"legacy.{kind}"
        path.write_bytes(ole_doc_bytes())
        with pytest.raises(documents.Refused, match=f"不接受 .{kind} 文件"):
            documents.check(path, kind, blind=True)
        documents.check(path, kind, blind=False)  # an open review takes them as they are


def _bomb(size: int, *, name: str = "word/fonts/font1.odttf", kind: str = "docx") -> bytes:
    """A small archive that expands to `size` bytes of zeros (written in chunks, never whole)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        if kind == "docx":
            archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open(name, "w", force_zip64=True) as entry:
            chunk = b"\0" * MB
            for _ in range(size // MB):
                entry.write(chunk)
    return out.getvalue()


def test_a_zip_bomb_stops_at_the_limits_with_flat_memory(tmp_path):
    bomb = _bomb(512 * MB, name="word/document.xml")
    assert len(bomb) < 1 * MB
    path = tmp_path / "bomb.docx"
    path.write_bytes(bomb)
    # Cleaning an XML part stops even earlier: megabytes without a single tag are no document.
    for blind, refusal in ((False, "压缩炸弹"), (True, "没有任何标记"), (True, "压缩炸弹")):
        if refusal == "压缩炸弹" and blind:
            path = tmp_path / "bomb.zip"
            path.write_bytes(_bomb(512 * MB, name="data.csv", kind="zip"))
        tracemalloc.start()
        try:
            with pytest.raises(documents.Refused, match=refusal):
                documents.check(path, path.suffix[1:], blind=blind)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 16 * MB, f"peak {peak / MB:.1f} MiB"
    # The total is capped too, whatever the ratio: here every entry is within the ratio.
    many = io.BytesIO()
    with zipfile.ZipFile(many, "w", zipfile.ZIP_STORED) as archive:
        for number in range(4):
            archive.writestr(f"{number}.csv", b"1,2\n" * (MB // 2))
    limits = documents.Limits(max_expanded=3 * MB)
    with pytest.raises(documents.Refused, match="压缩炸弹"):
        _clean(tmp_path, "zip", many.getvalue(), limits)
    with pytest.raises(documents.Refused, match="压缩炸弹"):
        documents.check(Path(tmp_path / "in.zip"), "zip", blind=False, limits=limits)


def test_damaged_files_are_refused_at_parsing(tmp_path):
    cases = {"pdf": b"%PDF-1.4\n" + bytes(range(256)) * 40, "png": b"\x89PNG\r\n\x1a\n" + b"\0" * 100,
             "jpg": b"\xff\xd8\xff\xe0" + b"\0" * 100, "docx": b"PK\x03\x04" + b"\0" * 100,
             "zip": named_pdf()[:0] + b"PK\x03\x04\x14\0" + b"\xff" * 60}
    for kind, data in cases.items():
        path = tmp_path / f"bad.{kind}"
        path.write_bytes(data)
        for blind in (False, True):
            with pytest.raises(documents.Refused, match="已损坏"):
                documents.check(path, kind, blind=blind)


# -- through the app --------------------------------------------------------------------------

async def test_the_expert_downloads_the_corpus_without_any_name(app, client, make_client):
    organiser = await make_organiser()
    challenge = await make_review_challenge(blind_review=True, experts_per_bid=1)
    bid = await make_review_bid(challenge, title="吸收剂联合攻关")
    files = [("other", name, data, kind, "application/octet-stream") for name, (kind, data) in corpus().items()]
    await make_submitted_version(bid, storage=app.state.storage, files=files)
    expert = await make_expert()
    panel = await make_panel(challenge=challenge, experts=[expert], organiser=organiser)
    item = await assign(panel, bid, expert)
    await client.login(expert.email)
    page = await client.get(f"/review/assignments/{item.id}")
    assert page.status_code == 200 and "申报A-其他材料-8.zip" in page.text
    assert leaks(page.text.encode()) == []
    for number, (name, (kind, data)) in enumerate(corpus().items(), start=1):
        response = await client.get(f"/review/assignments/{item.id}/files/{number}")
        assert response.status_code == 200, name
        assert leaks(response.content) == [], name
        assert leaks(response.headers["content-disposition"].encode()) == []
    # The originals stay as they were uploaded.
    attachment = await Attachment.filter(owner_id=bid.id).select_related("blob").first()
    stored = b"".join([chunk async for chunk in app.state.storage.read(attachment.blob.storage_key)])
    assert leaks(stored)


async def test_a_stored_bomb_is_not_cleaned_at_download_and_memory_stays_flat(app, client):
    organiser = await make_organiser()
    challenge = await make_review_challenge(blind_review=True, experts_per_bid=1)
    bid = await make_review_bid(challenge)
    # Stored before the checks at upload existed (or by another way in): 51 KB, 512 MiB expanded.
    await make_submitted_version(bid, storage=app.state.storage, files=[
        ("proposal", "方案.docx", _bomb(512 * MB), "docx", "application/octet-stream")])
    expert = await make_expert()
    panel = await make_panel(challenge=challenge, experts=[expert], organiser=organiser)
    item = await assign(panel, bid, expert)
    await client.login(expert.email)
    tracemalloc.start()
    try:
        response = await client.get(f"/review/assignments/{item.id}/files/1")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 404 and "压缩炸弹" in response.text
    assert peak < 24 * MB, f"peak {peak / MB:.1f} MiB"


async def _blind_draft(client, *, blind: bool = True):
    challenge = await make_challenge(blind_review=blind)
    bid, bidder = await make_draft(challenge=challenge)
    await client.login(bidder.email)
    targets = await AssessmentTarget.filter(challenge_id=bid.challenge_id)
    return bid, form_fields(targets, title="盲评申报", action="save")


@pytest.mark.parametrize("filename, content, message", [
    ("技术方案.doc", ole_doc_bytes(), "不接受 .doc 文件"),
    ("指标.xls", ole_doc_bytes(), "不接受 .xls 文件"),
    ("方案.pdf", b"%PDF-1.4\n" + bytes(range(256)) * 40, "文件已损坏"),
    ("方案.docx", _bomb(64 * MB), "压缩炸弹"),
    ("数据.zip", _bomb(8 * MB, name="data/readme.bin", kind="zip"), "不是平台能去除作者信息的文件类型"),
])
async def test_the_blind_bid_form_refuses_at_upload_next_to_the_field(client, settings, filename, content, message):
    bid, fields = await _blind_draft(client)
    response = await client.submit(f"/bids/{bid.id}/edit", fields,
                                   files={"file-proposal": (filename, content, "application/octet-stream")})
    assert response.status_code == 400
    error = re.search(r'<p class="field-error" id="error-file-proposal">(.*?)</p>', response.text, re.S)
    assert error is not None and message in error.group(1) and filename in error.group(1)
    assert not await Attachment.filter(owner_id=bid.id).exists()
    assert 'value="盲评申报"' in response.text  # the rest of the form is kept


async def test_an_open_review_takes_legacy_office_files_but_not_damaged_ones(client):
    bid, fields = await _blind_draft(client, blind=False)
    response = await client.submit(f"/bids/{bid.id}/edit", fields,
                                   files={"file-proposal": ("技术方案.doc", ole_doc_bytes(), "application/msword")})
    assert response.status_code == 303
    response = await client.submit(f"/bids/{bid.id}/edit", fields,
                                   files={"file-other": ("坏.pdf", b"%PDF-1.4\n" + b"\x01" * 4000, "application/pdf")})
    assert response.status_code == 400 and "文件已损坏" in response.text
    assert await Attachment.filter(owner_id=bid.id).count() == 1


async def test_the_blind_bid_form_accepts_and_keeps_a_cleanable_zip(client):
    bid, fields = await _blind_draft(client)
    response = await client.submit(f"/bids/{bid.id}/edit", fields,
                                   files={"file-other": ("数据.zip", corpus()["数据.zip"][1], "application/zip")})
    assert response.status_code == 303
    await bid.refresh_from_db()
    assert bid.status == BidStatus.DRAFT and await Attachment.filter(owner_id=bid.id).count() == 1
