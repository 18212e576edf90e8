"""Blind review: codes instead of names, neutral file names, documents without their metadata.

Experts of a blind challenge see "申报 A", never the lead organisation, the partners or the
team. Attachments reach them as "申报A-技术方案-1.pdf", a copy whose document metadata (PDF
document info and XMP, Office core and app properties, comment and revision authors) is removed.
The stored original is never modified: the clean copy is a separate blob.
"""

import io
import re
import string
import zipfile

import pikepdf

from challenge.enums import N_
from challenge.web.i18n import _

CATEGORY_LABELS = {
    "proposal": N_("申报书"),
    "qualification": N_("资质证明"),
    "commitment": N_("承诺函"),
    "report": N_("阶段报告"),
    "other": N_("其他材料"),
}


def code_for(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA, ..."""
    letters = string.ascii_uppercase
    code = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        code = letters[remainder] + code
    return code


def label(code: str) -> str:
    return _("申报 %(code)s", code=code)


def neutral_filename(*, code: str, category: str, number: int, filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    extension = re.sub(r"[^a-z0-9]", "", extension)[:8] or "bin"
    kind = _(CATEGORY_LABELS.get(category, CATEGORY_LABELS["other"]))
    return _("申报%(code)s-%(kind)s-%(n)s", code=code, kind=kind, n=number) + f".{extension}"


def redact(text: str, names: list[str], replacement: str = "***") -> str:
    """Remove the given names (organisations, people) from free text; longest names first."""
    if not text:
        return text
    for name in sorted({n.strip() for n in names if n and len(n.strip()) >= 2}, key=len, reverse=True):
        text = text.replace(name, replacement)
    return text


# -- metadata removal --------------------------------------------------------------------------

def strip_pdf(data: bytes) -> bytes:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        if "/Info" in pdf.trailer:
            del pdf.trailer["/Info"]
        if "/Metadata" in pdf.Root:
            del pdf.Root["/Metadata"]
        for page in pdf.pages:
            if "/Metadata" in page.obj:
                del page.obj["/Metadata"]
        if "/PieceInfo" in pdf.Root:
            del pdf.Root["/PieceInfo"]
        out = io.BytesIO()
        pdf.save(out, fix_metadata_version=False, deterministic_id=True)
        return out.getvalue()


CORE_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"></cp:coreProperties>'
)
APP_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
    'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"></Properties>'
)
CUSTOM_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
    'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"></Properties>'
)
# Authors of comments and tracked changes in the document parts, and the parts that list people.
_AUTHOR_ATTR = re.compile(rb'\b(w:author|w:initials|w15:author|w15:userId|w15:providerId|author|initials|'
                          rb'userId|providerId|displayName)="[^"]*"')
_AUTHOR_ELEMENT = re.compile(rb"<author>[^<]*</author>")
_PPT_AUTHOR = re.compile(rb'(<p:cmAuthor\b[^>]*?\b)(name|initials)="[^"]*"')
ANONYMOUS = "匿名".encode()


def _anonymise_part(content: bytes) -> bytes:
    content = _AUTHOR_ATTR.sub(lambda m: m.group(1) + b'="' + ANONYMOUS + b'"', content)
    content = _AUTHOR_ELEMENT.sub(b"<author>" + ANONYMOUS + b"</author>", content)
    while True:
        replaced = _PPT_AUTHOR.sub(lambda m: m.group(1) + m.group(2) + b'="' + ANONYMOUS + b'"', content)
        if replaced == content:
            return content
        content = replaced


def strip_ooxml(data: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            name = info.filename
            if name == "docProps/core.xml":
                content = CORE_XML.encode()
            elif name == "docProps/app.xml":
                content = APP_XML.encode()
            elif name == "docProps/custom.xml":
                content = CUSTOM_XML.encode()
            elif name.endswith(".xml") and name.startswith(("word/", "xl/", "ppt/")):
                content = _anonymise_part(content)
            clone = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            clone.compress_type = zipfile.ZIP_DEFLATED
            clone.external_attr = info.external_attr
            target.writestr(clone, content)
    return out.getvalue()


def strip_jpeg(data: bytes) -> bytes:
    """Drop the APP1 (Exif, XMP), APP13 (IPTC) and comment segments of a JPEG."""
    if data[:2] != b"\xff\xd8":
        return data
    out = bytearray(data[:2])
    i = 2
    while i + 4 <= len(data) and data[i] == 0xFF:
        marker = data[i + 1]
        if marker == 0xDA:  # start of scan: the rest is image data
            break
        length = int.from_bytes(data[i + 2:i + 4], "big")
        segment = data[i:i + 2 + length]
        if marker not in (0xE1, 0xED, 0xFE):
            out += segment
        i += 2 + length
    out += data[i:]
    return bytes(out)


_PNG_TEXT_CHUNKS = {b"tEXt", b"iTXt", b"zTXt", b"eXIf", b"tIME"}


def strip_png(data: bytes) -> bytes:
    """Drop a PNG's text, Exif and time chunks."""
    signature = b"\x89PNG\r\n\x1a\n"
    if not data.startswith(signature):
        return data
    out = bytearray(signature)
    i = len(signature)
    while i + 8 <= len(data):
        length = int.from_bytes(data[i:i + 4], "big")
        kind = data[i + 4:i + 8]
        chunk = data[i:i + 12 + length]
        if kind not in _PNG_TEXT_CHUNKS:
            out += chunk
        i += 12 + length
    return bytes(out)


OOXML_KINDS = {"docx", "xlsx", "pptx"}
SANITISABLE_KINDS = {"pdf", "jpg", "png"} | OOXML_KINDS


def strip_metadata(kind: str, data: bytes) -> bytes:
    """A copy of the document without its metadata. Kinds without a cleaner are returned as they are."""
    if kind == "pdf":
        return strip_pdf(data)
    if kind in OOXML_KINDS:
        return strip_ooxml(data)
    if kind == "jpg":
        return strip_jpeg(data)
    if kind == "png":
        return strip_png(data)
    return data
