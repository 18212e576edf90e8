"""Streaming multipart uploads: files go to storage chunk by chunk, hashed as they pass.

`request.form()` would spool every file to a temporary file and copy it again; here the body
is parsed as it arrives, each file part is type-checked on its first bytes, written through the
storage interface and hashed, and the request is cut off with 413 the moment it exceeds the
limit. On any failure every partial file is removed. Text fields come back in a MultiDict so a
handler can re-render the form with what the user typed.
"""

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.datastructures import MultiDict
from starlette.requests import Request

from challenge.files import sniff
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


async def receive_upload(request: Request, storage, *, max_bytes: int, allowed: tuple[str, ...]) -> ParsedUpload:
    content_type = request.headers.get("content-type", "")
    kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise BadUpload("expected multipart/form-data")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes + MAX_TEXT_FIELD:
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
                if problem:
                    part.error = gettext(problem, ext=sniff.extension_of(part.filename) or "?",
                                         allowed="、".join(allowed))
                else:
                    part.extension = extension
                    part.writer = await storage.writer()
            if part.error:
                part.pending.clear()
                return
        if part.writer is not None and (final or len(part.pending) >= CHUNK):
            await part.writer.write(bytes(part.pending))
            part.pending.clear()

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
                await _settle(parts.pop(0), fields, result)
        parser.finalize()
        if not completed:
            # The body stopped before the closing boundary: a cut-off upload, never a short file.
            raise BadUpload("incomplete multipart body")
        for part in parts:
            await flush(part, final=True)
            await _settle(part, fields, result)
    except BaseException as error:
        # Anything at all (a refusal, a disconnect, a cancelled task, a storage failure):
        # no partial file may stay behind.
        await result.discard()
        for part in parts:
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
