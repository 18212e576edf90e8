"""Builders for upload tests: a test-only upload app, multipart bodies, real Office files.

`make_upload_app` is a tiny Starlette app (never part of the product) whose route calls
`receive_upload` and `store_blobs` exactly as a product handler does and uses the product's
413/400 error handlers; it answers JSON so tests can read the outcome.
"""

import io
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

from openpyxl import Workbook
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from challenge.app import bad_upload, upload_too_large
from challenge.files.models import Blob
from challenge.files.services import download_response, store_blobs
from challenge.files.storage import LocalStorage
from challenge.files.uploads import BadUpload, UploadTooLarge, receive_upload

BOUNDARY = "----challenge-test-boundary-7MA4YWxkTrZu0gW"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"
# A real one-page PDF (uploads are parsed): what comes after %%EOF, such as the zeros that make
# a large test file, is ignored by PDF readers.
PDF = (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
       b"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n"
       b"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>\nendobj\n"
       b"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000058 00000 n \n0000000115 00000 n \n"
       b"trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n186\n%%EOF\n")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def make_upload_app(settings, *, max_bytes: int | None = None, storage=None) -> Starlette:
    storage = storage or LocalStorage(settings.upload_dir)

    async def upload(request: Request):
        parsed = await receive_upload(request, storage, max_bytes=max_bytes or settings.max_upload_bytes,
                                      allowed=settings.allowed_upload_types)
        if parsed.errors:
            await parsed.discard()
            return JSONResponse({"errors": parsed.errors, "form": dict(parsed.form)}, status_code=400)
        stored = await store_blobs(storage, parsed.files)
        return JSONResponse({
            "form": dict(parsed.form),
            "files": [{"field": u.field, "filename": u.filename, "size": u.size, "sha256": u.sha256,
                       "blob": blob.id, "kind": blob.kind} for u, blob in stored],
        })

    async def download(request: Request):
        blob = await Blob.get(id=int(request.path_params["blob_id"]))
        return download_response(storage, blob, request.query_params["name"])

    app = Starlette(
        routes=[Route("/upload", upload, methods=["POST"]), Route("/download/{blob_id:int}", download)],
        exception_handlers={UploadTooLarge: upload_too_large, BadUpload: bad_upload},
    )
    app.state.settings = settings
    app.state.storage = storage
    return app


def stored_files(root: Path) -> list[Path]:
    """Every file under the upload folder, temporary ones included (not the writing process's empty lock file)."""
    if not root.exists():
        return []
    return sorted(path for path in root.rglob("*") if path.is_file() and path.suffix != ".lock")


def part_header(name: str, filename: str | None = None, content_type: str = "application/octet-stream") -> bytes:
    if filename is None:
        return f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
    return (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n").encode()


class StreamedBody:
    """A multipart body produced chunk by chunk; counts how much the server actually read."""

    def __init__(self, fields: dict[str, str], filename: str, head: bytes, total: int, chunk: int = 256 * 1024):
        self.fields, self.filename, self.head, self.total, self.chunk = fields, filename, head, total, chunk
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for name, value in self.fields.items():
            yield self._count(part_header(name) + value.encode() + b"\r\n")
        yield self._count(part_header("file", self.filename) + self.head)
        filler = b"\0" * self.chunk
        remaining = self.total - len(self.head)
        while remaining > 0:
            piece = filler if remaining >= self.chunk else filler[:remaining]
            remaining -= len(piece)
            yield self._count(piece)
        yield self._count(f"\r\n--{BOUNDARY}--\r\n".encode())

    def _count(self, data: bytes) -> bytes:
        self.sent += len(data)
        return data



def xlsx_bytes() -> bytes:
    workbook = Workbook()
    workbook.active.append(["指标", "目标值"])
    workbook.active.append(["捕集率", "90%"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def docx_bytes() -> bytes:
    """A minimal but valid WordprocessingML package."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'wordprocessingml.document.main+xml"/></Types>'))
        package.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="word/document.xml"/></Relationships>'))
        package.writestr("word/document.xml", (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            '<w:body><w:p><w:r><w:t>技术方案</w:t></w:r></w:p></w:body></w:document>'))
    return buffer.getvalue()


def ole_doc_bytes() -> bytes:
    """The header of a Compound File Binary (legacy .doc/.xls): magic, then the fixed header fields."""
    header = OLE_MAGIC + b"\0" * 16 + b"\x3e\x00\x03\x00\xfe\xff\x09\x00" + b"\x06\x00" + b"\0" * 10
    return header + b"\0" * (512 - len(header)) + b"\xff" * 4096


def files_of(*items: tuple[str, str, bytes]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [(field, (name, content, "application/octet-stream")) for field, name, content in items]
