"""Streaming uploads through `receive_upload`: limits, types by content, names, dedup, failures."""

import asyncio
import hashlib

import httpx

from challenge.files.models import Blob
from factories.uploads import (
    BOUNDARY,
    CONTENT_TYPE,
    OLE_MAGIC,
    PDF,
    StreamedBody,
    docx_bytes,
    files_of,
    make_upload_app,
    ole_doc_bytes,
    part_header,
    stored_files,
    xlsx_bytes,
)

MB = 1024 * 1024


async def test_a_pdf_with_fields_is_stored_with_its_hash(http, settings):
    response = await http.post("/upload", data={"title": "碳捕集方案", "note": "第一版"},
                               files=files_of(("file", "技术方案.pdf", PDF)))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["form"] == {"title": "碳捕集方案", "note": "第一版"}
    [stored] = body["files"]
    assert stored["filename"] == "技术方案.pdf" and stored["size"] == len(PDF)
    assert stored["sha256"] == hashlib.sha256(PDF).hexdigest() and stored["kind"] == "pdf"
    blob = await Blob.get(id=stored["blob"])
    [path] = stored_files(settings.upload_dir)
    assert path.read_bytes() == PDF and path.name == blob.storage_key
    assert "技术方案" not in str(path)  # stored under a random name, never the user's


async def test_oversize_file_is_refused_while_streaming_and_leaves_nothing(http, settings):
    body = StreamedBody({"title": "大文件"}, "big.pdf", PDF, total=settings.max_upload_bytes + 40 * MB)
    response = await http.post("/upload", content=body, headers={"content-type": CONTENT_TYPE})
    assert response.status_code == 413
    assert "单个文件不能超过 5 MB" in response.text
    # Cut off soon after the limit, not after reading the whole 45 MB.
    assert body.sent < settings.max_upload_bytes + 2 * MB
    assert stored_files(settings.upload_dir) == []
    assert await Blob.all().count() == 0


async def test_declared_content_length_over_the_limit_is_refused_before_reading(http, settings):
    body = StreamedBody({}, "big.pdf", PDF, total=settings.max_upload_bytes + 10 * MB)
    declared = str(settings.max_upload_bytes + 10 * MB + 500)
    response = await http.post("/upload", content=body, headers={"content-type": CONTENT_TYPE,
                                                                 "content-length": declared})
    assert response.status_code == 413 and "单个文件不能超过" in response.text
    assert body.sent == 0
    assert stored_files(settings.upload_dir) == []


async def test_a_file_just_under_the_limit_is_accepted(http, settings):
    content = PDF + b"\0" * (settings.max_upload_bytes - len(PDF))
    response = await http.post("/upload", files=files_of(("file", "exact.pdf", content)))
    assert response.status_code == 200
    assert response.json()["files"][0]["size"] == settings.max_upload_bytes


async def test_a_pdf_that_is_not_a_pdf_is_refused_with_the_message(http, settings):
    response = await http.post("/upload", data={"title": "保留的标题"},
                               files=files_of(("file", "方案.pdf", b"MZ\x90\x00 this is an executable" * 50)))
    assert response.status_code == 400
    body = response.json()
    assert body["errors"]["file"] == "方案.pdf：文件内容与扩展名不符，请上传真实的 pdf 文件"
    assert body["form"] == {"title": "保留的标题"}  # what the user typed comes back
    assert stored_files(settings.upload_dir) == []
    assert await Blob.all().count() == 0


async def test_a_type_not_allowed_is_refused(http, settings):
    response = await http.post("/upload", files=files_of(("file", "run.exe", b"MZ\x90\x00" * 100)))
    assert response.status_code == 400
    assert "不支持该文件类型" in response.json()["errors"]["file"]
    # A real PDF renamed to .png is refused as well: the content decides.
    response = await http.post("/upload", files=files_of(("file", "photo.png", PDF)))
    assert "文件内容与扩展名不符" in response.json()["errors"]["file"]
    assert stored_files(settings.upload_dir) == []


async def test_an_empty_file_is_refused(http, settings):
    response = await http.post("/upload", files=files_of(("file", "empty.pdf", b"")))
    assert response.status_code == 400
    assert response.json()["errors"]["file"] == "empty.pdf：文件为空，请选择有内容的文件"
    assert stored_files(settings.upload_dir) == []


async def test_an_unselected_file_input_is_no_file(http, settings):
    # What a browser sends for a file input left empty: a part with filename="" and no content.
    body = (part_header("title") + "无附件".encode() + b"\r\n" + part_header("file", "")
            + f"\r\n--{BOUNDARY}--\r\n".encode())
    response = await http.post("/upload", content=body, headers={"content-type": CONTENT_TYPE})
    assert response.status_code == 200
    assert response.json() == {"form": {"title": "无附件"}, "files": []}


async def test_path_components_are_dropped_from_the_name(http, settings):
    response = await http.post("/upload", files=files_of(("file", "../../x.pdf", PDF), ("more", "..\\..\\y.pdf", PDF + b"1")))
    assert response.status_code == 200
    assert [f["filename"] for f in response.json()["files"]] == ["x.pdf", "y.pdf"]
    for path in stored_files(settings.upload_dir):
        assert settings.upload_dir in path.parents
    assert not (settings.upload_dir.parent / "x.pdf").exists()


async def test_real_office_files_are_accepted(http):
    response = await http.post("/upload", files=files_of(
        ("a", "指标表.xlsx", xlsx_bytes()), ("b", "技术方案.docx", docx_bytes()), ("c", "旧版申报书.doc", ole_doc_bytes())))
    assert response.status_code == 200, response.text
    assert [(f["filename"], f["kind"]) for f in response.json()["files"]] == [
        ("指标表.xlsx", "xlsx"), ("技术方案.docx", "docx"), ("旧版申报书.doc", "doc")]
    blobs = {blob.kind: blob.content_type for blob in await Blob.all()}
    assert blobs["docx"] == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert blobs["doc"] == "application/msword"


async def test_an_ole_file_is_not_a_docx(http):
    response = await http.post("/upload", files=files_of(("file", "x.docx", OLE_MAGIC + b"\0" * 600)))
    assert response.status_code == 400 and "文件内容与扩展名不符" in response.json()["errors"]["file"]


async def test_the_same_content_twice_is_stored_once(http, settings):
    content = PDF + b"same content"
    first = await http.post("/upload", files=files_of(("file", "一.pdf", content)))
    second = await http.post("/upload", files=files_of(("file", "二.pdf", content), ("again", "三.pdf", content)))
    assert first.status_code == second.status_code == 200
    ids = {f["blob"] for f in first.json()["files"] + second.json()["files"]}
    assert len(ids) == 1
    assert await Blob.all().count() == 1
    assert len(stored_files(settings.upload_dir)) == 1  # no leftover temporary copies either


async def test_a_body_cut_off_midway_leaves_no_file(upload_app, settings):
    """The client goes away in the middle of a file: nothing is kept, temporary file included."""
    chunks = [part_header("file", "half.pdf") + PDF, b"\0" * (2 * MB), b"\0" * (2 * MB)]
    messages = [{"type": "http.request", "body": chunk, "more_body": True} for chunk in chunks]
    messages.append({"type": "http.disconnect"})
    seen_partial = []

    async def receive():
        if len(messages) == 1:  # about to disconnect: the partial file exists right now
            seen_partial.extend(stored_files(settings.upload_dir))
        return messages.pop(0)

    sent = []

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/upload", "raw_path": b"/upload", "query_string": b"",
             "headers": [(b"content-type", CONTENT_TYPE.encode())], "http_version": "1.1", "scheme": "http",
             "server": ("testserver", 80), "client": ("127.0.0.1", 5000), "root_path": "", "app": upload_app}
    try:
        await upload_app(scope, receive, send)
    except Exception:  # noqa: BLE001 - what the server does with the disconnect is not the point here
        pass
    assert seen_partial, "the test must catch the upload in the middle"
    assert stored_files(settings.upload_dir) == []
    assert await Blob.all().count() == 0


async def test_a_body_without_its_closing_boundary_is_refused(http, settings):
    body = part_header("file", "short.pdf") + PDF + b"\0" * 1000  # no closing boundary
    response = await http.post("/upload", content=body, headers={"content-type": CONTENT_TYPE})
    assert response.status_code == 400
    assert "上传的数据不完整" in response.text
    assert stored_files(settings.upload_dir) == []


async def test_a_cancelled_upload_leaves_no_file(db, settings):
    """A request task cancelled mid-upload (server shutdown, timeout) cleans up as well."""
    started = asyncio.Event()

    async def body():
        yield part_header("file", "cancel.pdf") + PDF
        for _ in range(3):
            yield b"\0" * MB
        started.set()
        await asyncio.sleep(30)
        yield f"\r\n--{BOUNDARY}--\r\n".encode()

    async def post():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=upload_app), base_url="http://t") as client:
            await client.post("/upload", content=body(), headers={"content-type": CONTENT_TYPE})

    upload_app = make_upload_app(settings, max_bytes=50 * MB)
    task = asyncio.create_task(post())
    await asyncio.wait_for(started.wait(), 10)
    await asyncio.sleep(0.2)  # let the server write what it has
    assert stored_files(settings.upload_dir), "the test must catch the upload in the middle"
    task.cancel()
    try:
        await task
    except (asyncio.CancelledError, Exception):  # noqa: BLE001
        pass
    assert stored_files(settings.upload_dir) == []


async def test_malformed_multipart_is_a_400_not_a_500(http, settings):
    response = await http.post("/upload", content=b"garbage without boundary",
                               headers={"content-type": CONTENT_TYPE})
    assert response.status_code == 400
    response = await http.post("/upload", content=b"a=1", headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400
    assert stored_files(settings.upload_dir) == []
