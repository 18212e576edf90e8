"""XLSX and CSV exports of tabular data, streamed to the client.

CSV rows are produced as they are read (UTF-8 with a BOM, so Excel opens Chinese text
correctly). XLSX uses openpyxl's write-only mode into a temporary file, which is then streamed,
so memory stays flat for long exports.
"""

import csv
import io
import tempfile
from collections.abc import AsyncIterable, Iterable, Sequence
from datetime import datetime

import aiofiles
from openpyxl import Workbook
from starlette.responses import StreamingResponse
from starlette.background import BackgroundTask

from challenge.files.services import content_disposition
from challenge.web.timefmt import to_beijing

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NO_STORE = {"Cache-Control": "private, no-store"}


def cell(value):
    """Values as a spreadsheet should show them: Beijing time, labels for enums."""
    if isinstance(value, datetime):
        return to_beijing(value).strftime("%Y-%m-%d %H:%M")
    if hasattr(value, "label"):
        return value.label
    if value is None:
        return ""
    return value


def _safe_text(value):
    # A cell starting with = + - @ is a formula to Excel: neutralise user text (CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


async def _aiter(rows: Iterable | AsyncIterable):
    if hasattr(rows, "__aiter__"):
        async for row in rows:
            yield row
    else:
        for row in rows:
            yield row


def csv_response(filename: str, header: Sequence[str], rows: Iterable | AsyncIterable) -> StreamingResponse:
    async def generate():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")
        writer.writerow([_safe_text(h) for h in header])
        async for row in _aiter(rows):
            writer.writerow([_safe_text(cell(v)) for v in row])
            if buffer.tell() > 64 * 1024:
                yield buffer.getvalue().encode("utf-8")
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode("utf-8")

    return StreamingResponse(generate(), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": content_disposition(filename), **NO_STORE})


async def xlsx_response(filename: str, header: Sequence[str], rows: Iterable | AsyncIterable,
                        sheet_title: str = "Sheet1") -> StreamingResponse:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title[:31])
    sheet.append([_safe_text(h) for h in header])
    async for row in _aiter(rows):
        sheet.append([_safe_text(cell(v)) for v in row])
    handle = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False)
    handle.close()
    workbook.save(handle.name)

    async def stream():
        async with aiofiles.open(handle.name, "rb") as source:
            while chunk := await source.read(1024 * 1024):
                yield chunk

    def cleanup():
        import os

        os.unlink(handle.name)

    return StreamingResponse(stream(), media_type=XLSX_TYPE,
                             headers={"Content-Disposition": content_disposition(filename), **NO_STORE},
                             background=BackgroundTask(cleanup))


async def export_response(fmt: str, basename: str, header: Sequence[str], rows) -> StreamingResponse:
    """`fmt` is "xlsx" or "csv"; anything else is CSV."""
    if fmt == "xlsx":
        return await xlsx_response(f"{basename}.xlsx", header, rows)
    return csv_response(f"{basename}.csv", header, rows)
