"""Attachments through the bid form: limits while streaming, cut-off bodies, bad files and names,
the same file stored once. Each refusal leaves no file and no change to the bid."""

import hashlib

import pytest

from challenge.bids.models import Bid, BidStatus, BidVersion
from challenge.challenges.models import AssessmentTarget
from challenge.files.models import Attachment, Blob
from factories.bids import PDF, form_fields, make_draft, make_submitted, tiny_pdf
from factories.uploads import stored_files as uploaded_files

MB = 1024 * 1024
BOUNDARY = "----bid-upload-test-boundary-3f9a"


def stored_files(settings) -> list:
    return uploaded_files(settings.upload_dir)


def part(name: str, value: bytes = b"", filename: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
    head = f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n"
    if filename is not None:
        head += "Content-Type: application/pdf\r\n"
    return head.encode() + b"\r\n" + value + (b"\r\n" if filename is None else b"")


async def state(bid_id: int):
    bid = await Bid.get(id=bid_id)
    return (bid.title, bid.status, bid.current_version, await BidVersion.filter(bid_id=bid_id).count(),
            await Attachment.filter(owner_type="bid", owner_id=bid_id).count(), await Blob.all().count())


@pytest.fixture
async def draft(client, settings):
    bid, bidder = await make_draft()
    await client.login(bidder.email)
    targets = await AssessmentTarget.filter(challenge_id=bid.challenge_id)
    return bid, form_fields(targets, title="上传时填写的标题", action="submit")


async def test_oversize_file_is_413_while_streaming_and_leaves_nothing(client, settings, draft):
    bid, fields = draft
    before = await state(bid.id)
    big = PDF + b"\0" * (settings.max_upload_bytes + MB)
    response = await client.submit(f"/bids/{bid.id}/edit", fields,
                                   files={"file-proposal": ("大文件.pdf", big, "application/pdf")})
    assert response.status_code == 413 and "单个文件不能超过 5 MB" in response.text
    assert stored_files(settings) == []
    assert await state(bid.id) == before


async def test_oversize_is_refused_before_the_body_is_read_when_announced(client, settings, draft):
    bid, _fields = draft
    token = await client.csrf()
    read = []

    async def body():
        yield part("csrf_token", token.encode()) + part("file-proposal", PDF, filename="a.pdf")
        for _ in range(20):
            read.append(MB)
            yield b"\0" * MB
        yield f"\r\n--{BOUNDARY}--\r\n".encode()

    response = await client.post(f"/bids/{bid.id}/edit", content=body(), headers={
        "content-type": f"multipart/form-data; boundary={BOUNDARY}",
        "content-length": str(settings.max_upload_bytes * 4)})
    assert response.status_code == 413
    assert sum(read) < 20 * MB  # refused on the announced length, before the file was read
    assert stored_files(settings) == []


async def test_body_without_closing_boundary_saves_nothing(client, settings, draft):
    bid, _fields = draft
    before = await state(bid.id)
    token = await client.csrf()
    body = (part("csrf_token", token.encode()) + part("title", "被截断的请求".encode()) + part("intent", b"save")
            + part("file-proposal", PDF + b"\0" * 100_000, filename="half.pdf"))  # no closing boundary
    response = await client.post(f"/bids/{bid.id}/edit", content=body,
                                 headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}"})
    assert response.status_code == 400 and "上传的数据不完整" in response.text
    assert stored_files(settings) == []
    assert await state(bid.id) == before


async def test_stream_that_fails_midway_leaves_no_file_and_no_change(client, settings, draft):
    bid, _fields = draft
    before = await state(bid.id)
    token = await client.csrf()
    seen_partial = []

    async def body():
        yield part("csrf_token", token.encode()) + part("title", "中途失败".encode()) + part("intent", b"save")
        yield part("file-proposal", PDF, filename="big.pdf")
        for _ in range(3):
            yield b"\0" * MB
        seen_partial.extend(stored_files(settings))
        raise ConnectionResetError("the client went away")

    with pytest.raises(ConnectionResetError):
        await client.post(f"/bids/{bid.id}/edit", content=body(),
                          headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}"})
    assert seen_partial, "the test must catch the upload in the middle"
    assert stored_files(settings) == []
    assert await state(bid.id) == before


async def test_client_disconnect_midway_leaves_no_file_and_no_change(client, app, settings, draft):
    bid, _fields = draft
    before = await state(bid.id)
    token = await client.csrf()
    chunks = [part("csrf_token", token.encode()) + part("title", "断开".encode()) + part("intent", b"save")
              + part("file-proposal", PDF, filename="half.pdf"), b"\0" * (2 * MB), b"\0" * (2 * MB)]
    messages = [{"type": "http.request", "body": chunk, "more_body": True} for chunk in chunks]
    messages.append({"type": "http.disconnect"})
    seen_partial = []

    async def receive():
        if len(messages) == 1:
            seen_partial.extend(stored_files(settings))
        return messages.pop(0)

    async def send(message):
        pass

    cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    path = f"/bids/{bid.id}/edit"
    scope = {"type": "http", "method": "POST", "path": path, "raw_path": path.encode(), "query_string": b"",
             "headers": [(b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode()),
                         (b"cookie", cookie.encode()), (b"host", b"testserver")],
             "http_version": "1.1", "scheme": "http", "server": ("testserver", 80), "client": ("127.0.0.1", 5000),
             "root_path": "", "app": app}
    try:
        await app(scope, receive, send)
    except Exception:  # noqa: BLE001 - the server's answer to a gone client is not the point
        pass
    assert seen_partial, "the test must catch the upload in the middle"
    assert stored_files(settings) == []
    assert await state(bid.id) == before


async def test_a_text_file_renamed_to_pdf_is_refused(client, settings, draft):
    bid, fields = draft
    before = await state(bid.id)
    response = await client.submit(f"/bids/{bid.id}/edit", fields,
                                   files={"file-proposal": ("方案.pdf", b"this is not a pdf at all\n" * 50, "application/pdf")})
    assert response.status_code == 400
    assert "方案.pdf" in response.text and "文件内容与扩展名不符" in response.text
    assert 'value="上传时填写的标题"' in response.text
    assert stored_files(settings) == [] and await state(bid.id) == before


async def test_an_empty_file_is_refused(client, settings, draft):
    bid, fields = draft
    before = await state(bid.id)
    response = await client.submit(f"/bids/{bid.id}/edit", fields,
                                   files={"file-proposal": ("空文件.pdf", b"", "application/pdf")})
    assert response.status_code == 400 and "文件为空" in response.text
    assert stored_files(settings) == [] and await state(bid.id) == before


async def test_a_path_in_the_file_name_is_neutralised(client, settings, draft):
    bid, fields = draft
    response = await client.submit(f"/bids/{bid.id}/edit", fields,
                                   files={"file-proposal": ("../../x.pdf", PDF, "application/pdf")})
    assert response.status_code == 303, response.text[-3000:]
    attachment = await Attachment.get(owner_type="bid", owner_id=bid.id)
    assert attachment.filename == "x.pdf"
    blob = await Blob.get(id=attachment.blob_id)
    files = stored_files(settings)
    assert len(files) == 1 and files[0].name == blob.storage_key and files[0].is_relative_to(settings.upload_dir)
    assert (await Bid.get(id=bid.id)).status == BidStatus.SUBMITTED


async def test_the_same_file_twice_is_stored_once(client, settings):
    first, bidder, _ = await make_submitted(settings)
    second, _ = await make_draft(bidder=bidder)
    await client.login(bidder.email)
    data = tiny_pdf("one shared letter")
    for bid in (first, second):
        response = await client.submit(f"/bids/{bid.id}/attachments", {"category": "commitment"},
                                       files={"file": ("承诺函.pdf", data, "application/pdf")})
        assert response.status_code == 303
    digest = hashlib.sha256(data).hexdigest()
    assert await Blob.filter(sha256=digest).count() == 1
    assert await Attachment.filter(blob__sha256=digest).count() == 2
    assert len(stored_files(settings)) == await Blob.all().count()


async def test_file_download_streams_content_with_safe_headers(client, settings):
    bid, bidder, _ = await make_submitted(settings)
    await client.login(bidder.email)
    attachment = await Attachment.get(owner_type="bid", owner_id=bid.id).select_related("blob")
    response = await client.get(f"/bids/{bid.id}/attachments/{attachment.id}")
    assert response.status_code == 200
    assert hashlib.sha256(response.content).hexdigest() == attachment.blob.sha256
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "private, no-store"
    assert "filename*=UTF-8''" in response.headers["content-disposition"]
