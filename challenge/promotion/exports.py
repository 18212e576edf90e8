"""A catalogue version as XLSX, CSV (web.exports) and PDF (reportlab, with its built-in
`STSong-Light` CID font for Chinese, so no font file ships with the app). Every format is made
from the version's frozen document, so a download of version n is the same on any day."""

import asyncio
import os
import tempfile

import aiofiles
from starlette.background import BackgroundTask
from starlette.responses import StreamingResponse

from challenge.files.services import content_disposition
from challenge.web import exports
from challenge.web.i18n import _

PDF_FONT = "STSong-Light"


def header() -> list[str]:
    return [_("编号"), _("技术名称"), _("所属领域"), _("持有单位"), _("适用范围"), _("核心工艺"), _("主要技术参数"),
            _("综合效益"), _("状态"), _("列入日期")]


def parameters_text(parameters: list[dict]) -> str:
    return "；".join(f"{p['name']}：{p['value']}{(' ' + p['unit']) if p.get('unit') else ''}" for p in parameters)


def rows(document: dict, *, listed_only: bool = True) -> list[list]:
    status = {"listed": _("有效"), "withdrawn": _("已撤销")}
    return [[e["number"], e["name"], e["domain"], e["holder"], e["scope"], e["core_process"],
             parameters_text(e["parameters"]), e["benefits"], status.get(e["status"], e["status"]), e["listed_at"]]
            for e in document["entries"] if not listed_only or e["status"] == "listed"]


def basename(document: dict) -> str:
    return f"green-technology-catalogue-v{document['version']}"


async def xlsx(document: dict) -> StreamingResponse:
    return await exports.xlsx_response(f"{basename(document)}.xlsx", header(), rows(document, listed_only=False),
                                       sheet_title=_("推广目录"))


def csv(document: dict) -> StreamingResponse:
    return exports.csv_response(f"{basename(document)}.csv", header(), rows(document, listed_only=False))


def _write_pdf(path: str, document: dict, title: str, subtitle: str) -> None:
    # Imported here: reportlab registers fonts at import, only the PDF download needs it.
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
    from xml.sax.saxutils import escape

    pdfmetrics.registerFont(UnicodeCIDFont(PDF_FONT))
    body = ParagraphStyle("body", fontName=PDF_FONT, fontSize=8, leading=11, wordWrap="CJK")
    heading = ParagraphStyle("heading", fontName=PDF_FONT, fontSize=15, leading=20)
    small = ParagraphStyle("small", fontName=PDF_FONT, fontSize=8, leading=11, wordWrap="CJK",
                           textColor=colors.HexColor("#444444"))
    names = header()
    wanted = [0, 1, 2, 4, 5, 6, 7, 8]
    data = [[Paragraph(escape(names[i]), body) for i in wanted]]
    for row in rows(document, listed_only=False):
        data.append([Paragraph(escape(str(row[i])), body) for i in wanted])
    table = Table(data, colWidths=[28, 95, 70, 120, 120, 120, 120, 40], repeatRows=1)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    pdf = SimpleDocTemplate(path, pagesize=landscape(A4), title=title, leftMargin=24, rightMargin=24,
                            topMargin=24, bottomMargin=24)
    pdf.build([Paragraph(escape(title), heading), Paragraph(escape(subtitle), small), Spacer(1, 8), table])


async def pdf(document: dict, sha256: str) -> StreamingResponse:
    title = _("绿色技术推广目录（第 %(n)s 版）", n=document["version"])
    subtitle = _("发布时间：%(at)s　SHA-256：%(sha)s", at=document["published_at"], sha=sha256)
    handle = tempfile.NamedTemporaryFile(suffix=".pdf", delete=False)
    handle.close()
    await asyncio.to_thread(_write_pdf, handle.name, document, title, subtitle)

    async def stream():
        async with aiofiles.open(handle.name, "rb") as source:
            while chunk := await source.read(1024 * 1024):
                yield chunk

    return StreamingResponse(stream(), media_type="application/pdf",
                             headers={"Content-Disposition": content_disposition(f"{basename(document)}.pdf"),
                                      "Cache-Control": "public, max-age=300"},
                             background=BackgroundTask(os.unlink, handle.name))
