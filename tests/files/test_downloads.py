"""Downloads: streamed back byte for byte, with a Content-Disposition no file name can break."""

from urllib.parse import quote, unquote

import pytest

from challenge.files.services import content_disposition
from factories.uploads import PDF, files_of


async def upload(http, name: str, content: bytes = PDF) -> int:
    response = await http.post("/upload", files=files_of(("file", name, content)))
    assert response.status_code == 200, response.text
    return response.json()["files"][0]["blob"]


async def test_download_returns_the_content_with_safe_headers(http):
    content = PDF + b"x" * 3000
    blob_id = await upload(http, "方案.pdf", content)
    name = '技术"方案"第2版.pdf'
    response = await http.get(f"/download/{blob_id}", params={"name": name})
    assert response.status_code == 200
    assert response.content == content
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-length"] == str(len(content))
    assert response.headers["cache-control"] == "private, no-store"
    header = response.headers["content-disposition"]
    assert header.isascii()
    assert f"filename*=UTF-8''{quote(name, safe='')}" in header
    # Read as a browser does (RFC 6266): the filename* form wins and decodes to the original name;
    # the quoted ASCII filename is only the fallback for old clients.
    kind, *parts = [part.strip() for part in header.split(";")]
    params = dict(part.split("=", 1) for part in parts)
    assert kind == "attachment"
    charset, _, encoded = params["filename*"].partition("''")
    assert charset == "UTF-8" and unquote(encoded) == name
    assert params["filename"].startswith('"') and params["filename"].isascii()


@pytest.mark.parametrize("name", [
    '技术"方案".pdf',
    "报告\\草稿.pdf",
    "evil\r\nSet-Cookie: x=1.pdf",
    "a;b=c, d.pdf",
    "résumé 100%.pdf",
    "全中文名称.docx",
    "",
])
def test_content_disposition_cannot_be_broken_by_a_name(name):
    header = content_disposition(name)
    assert header.isascii() and "\r" not in header and "\n" not in header
    fallback = header.split('filename="', 1)[1].split('"', 1)[0]
    assert '"' not in fallback and "\\" not in fallback and fallback
    encoded = header.split("filename*=UTF-8''", 1)[1]
    assert unquote(encoded) == (name.replace("\r", "").replace("\n", "") or "download")
    assert all(ch not in encoded for ch in ' ";,\\/')


def test_ascii_fallback_keeps_the_extension():
    header = content_disposition("全中文名称.docx")
    fallback = header.split('filename="', 1)[1].split('"', 1)[0]
    assert fallback.endswith(".docx") and len(fallback) > len(".docx")
