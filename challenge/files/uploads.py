"""Streaming multipart uploads: files go to storage chunk by chunk, hashed as they pass.

`request.form()` would spool every file to a temporary file and copy it again; here the body
is parsed as it arrives, each file part is type-checked on its first bytes, written through the
storage interface and hashed, and the request is cut off with 413 the moment it exceeds the
limit. On any failure every partial file is removed. Text fields come back in a MultiDict so a
handler can re-render the form with what the user typed.

Documents (PDF, OOXML, images, ZIP) are also parsed before they are accepted
(`documents.check`): their bytes are copied, as they pass, to a local temporary file that the
parser reads in a worker thread once the part is complete, then removed. For a blind review
(`blind=True`) the file must also be one the platform can clean, and cleaning must succeed.
A refused file comes back in `errors` under its field, with the reason.
"""

import asyncio
import hashlib
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import aiofiles
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.datastructures import MultiDict
from starlette.requests import Request

from challenge.files import documents, sniff
from challenge.files.storage import CHUNK
from challenge.web.i18n import gettext

MAX_TEXT_FIELD = 1024 * 1024
MAX_PARTS = 200


class UploadTooLarge(Exception):
    def __init__(self, limit_bytes: int) -> None:
        super().__init__(limit_bytes)
        self.limit_bytes = limit_bytes


class BadUpload(Exception):
    pass


@dataclass
class UploadedFile:
    field: str
    filename: str
    extension: str
    size: int
    sha256: str
    writer: object  # the storage writer holding the finished, not yet committed, content


@dataclass
class ParsedUpload:
    form: MultiDict
    files: list[UploadedFile] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    async def discard(self) -> None:
        for upload in self.files:
            await upload.writer.abort()
        self.files.clear()


def clean_filename(raw: str) -> str:
    """The last path component, without control characters; never empty."""
    name = re.split(r"[\\/]", raw)[-1]
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch)[0] != "C")
    name = name.strip().lstrip(".").strip()
    if len(name) > 200:
        stem, _, extension = name.rpartition(".")
        name = (stem[:190] + "." + extension) if stem else name[:200]
    return name or "file"


class _Part:
    def __init__(self) -> None:
        self.header_field = b""
        self.header_value = b""
        self.headers: dict[bytes, bytes] = {}
        self.name = ""
        self.filename: str | None = None
        self.pending = bytearray()  # data not yet written (file) or the whole value (text)
        self.head = bytearray()  # first bytes of a file, kept for type sniffing
        self.size = 0
        self.hasher = hashlib.sha256()
        self.writer = None
        self.extension: str | None = None
        self.error: str | None = None
        self.decided = False
        self.ended = False
        self.spool = None  # local copy of a document, for the parser
        self.spool_path: Path | None = None

    async def drop_spool(self) -> None:
        if self.spool is not None:
            await self.spool.close()
            self.spool = None
        if self.spool_path is not None:
            await asyncio.to_thread(self.spool_path.unlink, True)
            self.spool_path = None


def limits_of(request: Request) -> documents.Limits:
    settings = getattr(request.app.state, "settings", None)
    if settings is None:
        return documents.Limits()
    return documents.Limits(max_expanded=settings.max_expanded_mb * documents.MB,
                            max_ratio=settings.max_compression_ratio)


async def receive_upload(request: Request, storage, *, max_bytes: int, allowed: tuple[str, ...],
                         blind: bool = False) -> ParsedUpload:
    content_type = request.headers.get("content-type", "")
    kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise BadUpload("expected multipart/form-data")
    declared = request.headers.get("content-length")
    if declared and declared.isascii() and declared.isdigit() and int(declared) > max_bytes + MAX_TEXT_FIELD:
        raise UploadTooLarge(max_bytes)

    fields: list[tuple[str, str]] = []
    result = ParsedUpload(form=MultiDict())
    parts: list[_Part] = []
    current: list[_Part] = []

    def on_part_begin() -> None:
        if len(parts) >= MAX_PARTS:
            raise BadUpload("too many parts")
        part = _Part()
        parts.append(part)
        current[:] = [part]

    def on_header_field(data: bytes, start: int, end: int) -> None:
        current[0].header_field += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        current[0].header_value += data[start:end]

    def on_header_end() -> None:
        part = current[0]
        part.headers[part.header_field.lower()] = part.header_value
        part.header_field = part.header_value = b""

    def on_headers_finished() -> None:
        part = current[0]
        _, disposition = parse_options_header(part.headers.get(b"content-disposition", b""))
        part.name = disposition.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in disposition:
            raw = disposition[b"filename"].decode("utf-8", "replace")
            # An empty file input still sends a part, with an empty file name: "no file".
            part.filename = clean_filename(raw) if raw else ""

    def on_part_data(data: bytes, start: int, end: int) -> None:
        part = current[0]
        chunk = data[start:end]
        part.size += len(chunk)
        if part.filename is None:
            if part.size > MAX_TEXT_FIELD:
                raise BadUpload("text field too large")
            part.pending += chunk
            return
        if part.size > max_bytes:
            raise UploadTooLarge(max_bytes)
        if part.error or not part.filename:
            return
        part.hasher.update(chunk)
        if not part.decided:
            part.head += chunk[: sniff.SNIFF_BYTES - len(part.head)]
        part.pending += chunk

    def on_part_end() -> None:
        current[0].ended = True

    completed: list[bool] = []

    def on_end() -> None:
        completed.append(True)

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
            "on_end": on_end,
        },
    )

    async def flush(part: _Part, final: bool) -> None:
        if not part.filename or part.error:
            return
        if not part.decided and (len(part.head) >= sniff.SNIFF_BYTES or final):
            part.decided = True
            if part.size == 0:
                part.error = gettext("文件为空，请选择有内容的文件")
            else:
                extension, problem = sniff.check(part.filename, bytes(part.head), allowed)
                kind = documents.kind_of_extension(extension or "")
                if problem:
                    part.error = gettext(problem, ext=sniff.extension_of(part.filename) or "?",
                                         allowed="、".join(allowed))
                elif blind and kind not in documents.CLEANABLE_KINDS:
                    part.error = documents.uncleanable_message(extension)
                else:
                    part.extension = extension
                    part.writer = await storage.writer()
                    if blind or kind in documents.PARSED_KINDS:
                        handle, name = tempfile.mkstemp(prefix="challenge-upload-", suffix=f".{kind}")
                        os.close(handle)
                        part.spool_path = Path(name)
                        part.spool = await aiofiles.open(part.spool_path, "wb")
            if part.error:
                part.pending.clear()
                return
        if part.writer is not None and (final or len(part.pending) >= CHUNK):
            data = bytes(part.pending)
            await part.writer.write(data)
            if part.spool is not None:
                await part.spool.write(data)
            part.pending.clear()

    async def settle(part: _Part) -> None:
        if part.spool is not None and not part.error:
            await part.spool.close()
            part.spool = None
            try:
                await asyncio.to_thread(documents.check, part.spool_path,
                                        documents.kind_of_extension(part.extension), blind=blind, limits=limits)
            except documents.Refused as refusal:
                part.error = refusal.message
                await part.writer.abort()
                part.writer = None
        await part.drop_spool()
        await _settle(part, fields, result)

    limits = limits_of(request)
    total = 0
    try:
        async for chunk in request.stream():
            total += len(chunk)
            if total > max_bytes + MAX_TEXT_FIELD:
                raise UploadTooLarge(max_bytes)
            parser.write(chunk)
            for part in parts:
                await flush(part, final=part.ended)
            # Finished parts are settled: text into the form, files into the result.
            while parts and parts[0].ended:
                await settle(parts.pop(0))
        parser.finalize()
        if not completed:
            # The body stopped before the closing boundary: a cut-off upload, never a short file.
            raise BadUpload("incomplete multipart body")
        for part in parts:
            await flush(part, final=True)
            await settle(part)
    except BaseException as error:
        # Anything at all (a refusal, a disconnect, a cancelled task, a storage failure):
        # no partial file may stay behind.
        await result.discard()
        for part in parts:
            await part.drop_spool()
            if part.writer is not None:
                await part.writer.abort()
        if isinstance(error, ValueError) and not isinstance(error, (UploadTooLarge, BadUpload)):
            raise BadUpload(str(error)) from error
        raise
    result.form = MultiDict(fields)
    return result


async def _settle(part: _Part, fields: list[tuple[str, str]], result: ParsedUpload) -> None:
    if part.filename is None:
        fields.append((part.name, bytes(part.pending).decode("utf-8", "replace")))
        return
    if not part.filename:
        return
    if part.error:
        result.errors.setdefault(part.name, f"{part.filename}：{part.error}")
        return
    result.files.append(
        UploadedFile(
            field=part.name,
            filename=part.filename,
            extension=part.extension,
            size=part.size,
            sha256=part.hasher.hexdigest(),
            writer=part.writer,
        )
    )
