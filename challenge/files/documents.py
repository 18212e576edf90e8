"""Documents parsed at upload, and cleaned of what names their authors for a blind review.

`check()` runs on every uploaded file before it is accepted: a PDF must open with pikepdf, an
image must decode with Pillow, an OOXML document or a ZIP must be a sound archive within the
limits (total bytes expanded, expansion ratio, entries, nesting). For a blind challenge it runs
`clean()` itself, so that a file the platform cannot clean is refused at upload, with a message
for the bidder, and never fails when an expert downloads it.

`clean()` writes a copy without what identifies the authors:
- PDF (pikepdf): document information, XMP metadata (on any object), piece information,
  annotation authors (/T of markup annotations), embedded and associated files, file-attachment
  annotations, document-level JavaScript, JavaScript and launch actions (open action,
  additional actions, annotation actions).
- OOXML (docx, xlsx, pptx): core, app and custom properties replaced by empty ones; authors and
  initials of comments, tracked changes and people (people.xml, persons, comment authors)
  replaced by "匿名"; external relationship targets that are file paths (which carry user
  names) replaced; images inside re-encoded; embedded OOXML documents cleaned the same way;
  embedded objects that cannot be cleaned (OLE objects, macros) refused.
- images (JPEG, PNG, GIF, WebP, also TIFF and BMP inside documents): re-encoded by Pillow from
  their pixels, without Exif, XMP, ICC profiles, comments or text chunks (JPEG keeps its
  quantisation tables, so there is no further loss; the Exif orientation is applied first).
- ZIP archives: every entry cleaned as its kind (nested archives too), renamed to a neutral
  name (001.pdf, 002.docx, ...), no archive or entry comment, no extra fields, a fixed date.
  Entries of kinds the platform cannot clean are refused (plain text and CSV carry no metadata
  and pass unchanged).

Archives are read entry by entry in chunks (never an entry whole in memory): the expanded bytes
are counted as they come, not taken from the headers, so a zip bomb stops at the limit.
XML parts are rewritten as they stream, cut before the last "<" of each chunk (no tag is ever
split, as "<" cannot appear raw inside a tag).
"""

import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pikepdf
import pypdf
from PIL import Image, ImageOps, ImageSequence, JpegImagePlugin, UnidentifiedImageError

from challenge.web.i18n import gettext as _

MB = 1024 * 1024
CHUNK = MB
# Pixel counts are checked against Limits.max_pixels right after the header is read (before
# any pixel is decoded); Pillow's own global guard would only warn, and at another number.
Image.MAX_IMAGE_PIXELS = None

OOXML_KINDS = {"docx", "xlsx", "pptx"}
IMAGE_KINDS = {"jpg", "png", "gif", "webp"}
# What the platform can clean for a blind review.
CLEANABLE_KINDS = {"pdf", "zip"} | OOXML_KINDS | IMAGE_KINDS
# Inside a ZIP: kinds without metadata, passed unchanged.
PLAIN_KINDS = {"txt", "csv"}
PARSED_KINDS = CLEANABLE_KINDS
PIL_FORMATS = {"jpg": "JPEG", "jpeg": "JPEG", "png": "PNG", "gif": "GIF", "webp": "WEBP", "tif": "TIFF",
               "tiff": "TIFF", "bmp": "BMP"}


@dataclass(frozen=True)
class Limits:
    max_expanded: int = 1024 * MB  # bytes expanded from one upload, nested archives included
    max_ratio: int = 200  # expanded / compressed size of an entry, checked beyond RATIO_FLOOR
    max_entries: int = 10_000
    max_depth: int = 3  # documents and archives inside archives
    max_pixels: int = 50_000_000  # of one image, all frames together

RATIO_FLOOR = MB


def kind_of_extension(extension: str) -> str:
    return {"jpeg": "jpg"}.get(extension.lower(), extension.lower())


class Refused(Exception):
    """The file cannot be accepted (or cleaned); the message says why, for the person who sent it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def uncleanable_message(kind: str) -> str:
    return _("匿名评审的榜单只接受平台能去除作者信息的文件（PDF、DOCX、XLSX、PPTX、JPG、PNG、GIF、ZIP），"
             "不接受 .%(ext)s 文件：请另存为 PDF 或 DOCX/XLSX/PPTX 后上传。", ext=kind)


class _Budget:
    """Bytes expanded so far from one upload, shared by every nested archive."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.expanded = 0

    def take(self, size: int) -> None:
        self.expanded += size
        if self.expanded > self.limits.max_expanded:
            raise Refused(_bomb_message(self.limits))


def _bomb_message(limits: Limits) -> str:
    return _("压缩文件解压后过大（超过 %(mb)s MB 或压缩比超过 %(ratio)s 倍），疑似“压缩炸弹”，已拒收。"
             "请拆分文件或直接上传其中的文档。", mb=limits.max_expanded // MB, ratio=limits.max_ratio)


def _damaged(kind: str) -> Refused:
    return Refused(_("文件已损坏或不是有效的 %(ext)s 文件，无法打开：请用原软件重新导出后上传。", ext=kind.upper()))


# -- the two entry points ----------------------------------------------------------------------

def check(path: Path, kind: str, *, blind: bool, limits: Limits = Limits()) -> None:
    """Refuse (raise Refused) a file that does not parse, is too large expanded, or, for a blind
    review, cannot be cleaned."""
    if blind:
        if kind not in CLEANABLE_KINDS:
            raise Refused(uncleanable_message(kind))
        with tempfile.TemporaryDirectory(prefix="challenge-check-") as folder:
            clean(path, Path(folder) / f"clean.{kind}", kind, limits=limits)
        return
    if kind == "pdf":
        _open_pdf(path).close()
    elif kind in OOXML_KINDS or kind == "zip":
        _walk_archive(path, kind, _Budget(limits))
    elif kind in IMAGE_KINDS:
        with _open_image(path, kind, limits) as image:
            image.load()


def clean(source: Path, target: Path, kind: str, *, limits: Limits = Limits()) -> None:
    """Write to `target` a copy of `source` without what names its authors (see the module doc)."""
    budget = _Budget(limits)
    with tempfile.TemporaryDirectory(prefix="challenge-clean-") as folder:
        _clean(source, target, kind, budget, Path(folder), depth=0)


def _clean(source: Path, target: Path, kind: str, budget: _Budget, work: Path, depth: int) -> None:
    if depth > budget.limits.max_depth:
        raise Refused(_("压缩文件或文档嵌套层数过多（超过 %(n)s 层），无法处理。", n=budget.limits.max_depth))
    if kind == "pdf":
        clean_pdf(source, target)
    elif kind in OOXML_KINDS:
        _clean_ooxml(source, target, kind, budget, work, depth)
    elif kind == "zip":
        _clean_zip(source, target, budget, work, depth)
    elif kind in IMAGE_KINDS or kind in PIL_FORMATS:
        clean_image(source, target, kind, budget.limits)
    else:
        raise Refused(uncleanable_message(kind))


# -- PDF -----------------------------------------------------------------------------------------

def _open_pdf(path: Path) -> pikepdf.Pdf:
    try:
        pdf = pikepdf.open(path)
        if len(pdf.pages) == 0:
            pdf.close()
            raise _damaged("pdf")
    except pikepdf.PasswordError:
        raise Refused(_("PDF 文件设有打开密码，无法审阅：请去除密码后上传。")) from None
    except (pikepdf.PdfError, OSError, ValueError):
        raise _damaged("pdf") from None
    return pdf


_UNSAFE_ACTIONS = {"/JavaScript", "/Launch", "/ImportData", "/SubmitForm", "/GoToE"}


def _unsafe_action(action) -> bool:
    return isinstance(action, pikepdf.Dictionary) and str(action.get("/S", "")) in _UNSAFE_ACTIONS


def clean_pdf(source: Path, target: Path) -> None:
    with _open_pdf(source) as pdf:
        root = pdf.Root
        if "/Info" in pdf.trailer:
            del pdf.trailer["/Info"]
        for key in ("/Metadata", "/PieceInfo", "/AF", "/Collection", "/AA"):
            if key in root:
                del root[key]
        if "/OpenAction" in root and _unsafe_action(root.OpenAction):
            del root["/OpenAction"]
        names = root.get("/Names")
        if isinstance(names, pikepdf.Dictionary):
            for key in ("/EmbeddedFiles", "/JavaScript"):
                if key in names:
                    del names[key]
        for page in pdf.pages:
            for key in ("/Metadata", "/PieceInfo", "/AF", "/AA"):
                if key in page.obj:
                    del page.obj[key]
            _clean_annotations(page.obj)
        # XMP metadata and piece information may hang from any object (images, fonts, forms).
        for obj in pdf.objects:
            if isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
                for key in ("/Metadata", "/PieceInfo"):
                    if key in obj:
                        del obj[key]
        pdf.save(target, fix_metadata_version=False, deterministic_id=True)


def _clean_annotations(page) -> None:
    annotations = page.get("/Annots")
    if not isinstance(annotations, pikepdf.Array):
        return
    kept = pikepdf.Array()
    for annotation in annotations:
        if not isinstance(annotation, pikepdf.Dictionary):
            continue
        subtype = str(annotation.get("/Subtype", ""))
        if subtype == "/FileAttachment":
            continue
        if subtype != "/Widget" and "/T" in annotation:  # a form field's /T is its name, not an author
            del annotation["/T"]
        for key in ("/AA", "/AF"):
            if key in annotation:
                del annotation[key]
        if "/A" in annotation and _unsafe_action(annotation.A):
            del annotation["/A"]
        kept.append(annotation)
    page["/Annots"] = kept


def pdf_text(path: Path, *, max_pages: int = 200) -> list[tuple[int, str]]:
    """(page number, text) of the first pages of a PDF, by pypdf's text extraction; [] when the
    text cannot be read (scanned pages, unusual fonts): a warning aid, never a check."""
    try:
        reader = pypdf.PdfReader(path)
        return [(number, page.extract_text() or "") for number, page in enumerate(reader.pages[:max_pages], start=1)]
    except Exception:  # noqa: BLE001 - pypdf raises many kinds on odd files; no text is the answer
        return []


# -- images --------------------------------------------------------------------------------------

def _open_image(path: Path, kind: str, limits: Limits) -> Image.Image:
    try:
        image = Image.open(path)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise _damaged(kind) from None
    width, height = image.size
    if width * height * getattr(image, "n_frames", 1) > limits.max_pixels:
        image.close()
        raise Refused(_("图片尺寸过大（超过 %(mp)s 百万像素），请缩小后上传。", mp=limits.max_pixels // 1_000_000))
    return image


# Properties that are part of the picture itself, kept when it is re-encoded.
_PICTURE_INFO = ("transparency", "duration", "loop", "background", "disposal")


def clean_image(source: Path, target: Path, kind: str, limits: Limits) -> None:
    with _open_image(source, kind, limits) as image:
        fmt = "JPEG" if image.format == "MPO" else image.format
        params = {}
        try:
            if fmt == "JPEG":
                params = {"qtables": image.quantization, "subsampling": JpegImagePlugin.get_sampling(image)}
                if params["subsampling"] == -1:
                    del params["subsampling"]
                frames = [ImageOps.exif_transpose(image)]
            else:
                frames = [frame.copy() for frame in ImageSequence.Iterator(image)]
        except (OSError, ValueError, SyntaxError, EOFError):
            raise _damaged(kind) from None
    for frame in frames:
        frame.info = {key: frame.info[key] for key in _PICTURE_INFO if key in frame.info}
    extra = {"save_all": True, "append_images": frames[1:]} if len(frames) > 1 else {}
    if "duration" in frames[0].info and extra:
        extra["duration"] = [frame.info.get("duration", 100) for frame in frames]
    if "loop" in frames[0].info and extra:
        extra["loop"] = frames[0].info["loop"]
    try:
        frames[0].save(target, format=fmt or PIL_FORMATS.get(kind, "PNG"), **params, **extra)
    except (OSError, ValueError) as error:
        raise _damaged(kind) from error


# -- archives ------------------------------------------------------------------------------------

def _open_zip(path: Path, kind: str, limits: Limits) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _damaged(kind) from None
    entries = archive.infolist()
    if len(entries) > limits.max_entries:
        archive.close()
        raise Refused(_("压缩文件中的文件过多（超过 %(n)s 个），请拆分后上传。", n=limits.max_entries))
    if kind in OOXML_KINDS and "[Content_Types].xml" not in {e.filename for e in entries}:
        archive.close()
        raise _damaged(kind)
    return archive


def _chunks(archive: zipfile.ZipFile, info: zipfile.ZipInfo, kind: str, budget: _Budget):
    """The entry's bytes in chunks, counted against the limits as they are expanded."""
    if info.flag_bits & 0x1:
        raise Refused(_("压缩文件中的“%(name)s”设有密码，无法检查：请去除密码后上传。", name=info.filename))
    expanded = 0
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(CHUNK):
                expanded += len(chunk)
                budget.take(len(chunk))
                if expanded > RATIO_FLOOR and expanded > budget.limits.max_ratio * max(info.compress_size, 1):
                    raise Refused(_bomb_message(budget.limits))
                yield chunk
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError, RuntimeError):
        raise _damaged(kind) from None


def _walk_archive(path: Path, kind: str, budget: _Budget) -> None:
    """Expand every entry once (and throw the bytes away): sound, within the limits, CRCs right."""
    with _open_zip(path, kind, budget.limits) as archive:
        for info in archive.infolist():
            if not info.is_dir():
                for _chunk in _chunks(archive, info, kind, budget):
                    pass


def _extract(archive, info, kind: str, budget: _Budget, path: Path) -> None:
    with path.open("wb") as handle:
        for chunk in _chunks(archive, info, kind, budget):
            handle.write(chunk)


def _neutral_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def _write_file(target: zipfile.ZipFile, name: str, path: Path) -> None:
    with path.open("rb") as source, target.open(_neutral_info(name), "w", force_zip64=True) as out:
        shutil.copyfileobj(source, out, CHUNK)


def _kind_of(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name.rsplit("/", 1)[-1] else ""


def _clean_zip(source: Path, target: Path, budget: _Budget, work: Path, depth: int) -> None:
    with _open_zip(source, "zip", budget.limits) as archive, zipfile.ZipFile(target, "w") as out:
        number = 0
        for info in archive.infolist():
            if info.is_dir():
                continue
            kind = {"jpeg": "jpg"}.get(_kind_of(info.filename), _kind_of(info.filename))
            if kind not in CLEANABLE_KINDS | PLAIN_KINDS:
                raise Refused(_("压缩文件中的“%(name)s”不是平台能去除作者信息的文件类型，匿名评审不接受："
                                "请删除它，或另存为 PDF 后重新打包。", name=info.filename))
            number += 1
            raw, cleaned = work / f"{depth}-{number}-in.{kind}", work / f"{depth}-{number}-out.{kind}"
            _extract(archive, info, "zip", budget, raw)
            if kind in PLAIN_KINDS:
                raw.replace(cleaned)
            else:
                try:
                    _clean(raw, cleaned, kind, budget, work, depth + 1)
                except Refused as refusal:
                    raise Refused(_("压缩文件中的“%(name)s”：%(reason)s", name=info.filename,
                                    reason=refusal.message)) from None
            _write_file(out, f"{number:03d}.{kind}", cleaned)
            raw.unlink(missing_ok=True)
            cleaned.unlink(missing_ok=True)


# -- OOXML ---------------------------------------------------------------------------------------

CORE_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"></cp:coreProperties>'
).encode()
APP_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
    'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"></Properties>'
).encode()
CUSTOM_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
    'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"></Properties>'
).encode()
PROPERTY_PARTS = {"docProps/core.xml": CORE_XML, "docProps/app.xml": APP_XML, "docProps/custom.xml": CUSTOM_XML}
ANONYMOUS = "匿名".encode()
# Authors and initials of comments and tracked changes, people.xml, persons, comment authors.
_AUTHOR_ATTR = re.compile(rb'(?<![\w:.-])((?:\w+:)?(?:author|initials|userId|providerId|displayName))="[^"]*"')
_AUTHOR_ELEMENT = re.compile(rb"<((?:\w+:)?author)>[^<]*</\1>")
_NAMED_AUTHOR = re.compile(rb'(<(?:\w+:)?(?:cmAuthor|author|person)\b[^>]*?\s)(name)="[^"]*"')
# An external relationship to a file path names a folder of the author's computer.
_LOCAL_TARGET = re.compile(rb'Target="(?:file:|[A-Za-z]:\\|\\\\|/)[^"]*"')
XML_CARRY_LIMIT = 4 * MB


def anonymise_xml(content: bytes) -> bytes:
    content = _AUTHOR_ATTR.sub(lambda m: m.group(1) + b'="' + ANONYMOUS + b'"', content)
    content = _AUTHOR_ELEMENT.sub(lambda m: b"<" + m.group(1) + b">" + ANONYMOUS + b"</" + m.group(1) + b">", content)
    return _NAMED_AUTHOR.sub(lambda m: m.group(1) + m.group(2) + b'="' + ANONYMOUS + b'"', content)


def anonymise_rels(content: bytes) -> bytes:
    return _LOCAL_TARGET.sub(b'Target="#"', content)


def _stream_xml(chunks, write, rewrite) -> None:
    """Rewrite an XML part as it streams: each piece is cut before its last "<", so no tag is split."""
    carry = bytearray()
    for chunk in chunks:
        carry += chunk
        cut = carry.rfind(b"<")
        if cut <= 0:
            if len(carry) > XML_CARRY_LIMIT:
                raise Refused(_("文档中有一段超过 %(mb)s MB 的内容中间没有任何标记，不是正常的文档，无法处理。",
                                mb=XML_CARRY_LIMIT // MB))
            continue
        write(rewrite(bytes(carry[:cut])))
        del carry[:cut]
    write(rewrite(bytes(carry)))


_MEDIA = {"jpg", "jpeg", "png", "gif", "webp", "tif", "tiff", "bmp"}


def _clean_ooxml(source: Path, target: Path, kind: str, budget: _Budget, work: Path, depth: int) -> None:
    with _open_zip(source, kind, budget.limits) as archive, zipfile.ZipFile(target, "w") as out:
        for number, info in enumerate(archive.infolist()):
            name = info.filename
            if info.is_dir():
                continue
            entry_kind = _kind_of(name)
            if name in PROPERTY_PARTS:
                for _chunk in _chunks(archive, info, kind, budget):  # still checked, then replaced
                    pass
                out.writestr(_neutral_info(name), PROPERTY_PARTS[name])
            elif entry_kind in {"xml", "rels", "vml"}:
                rewrite = anonymise_rels if entry_kind == "rels" else anonymise_xml
                with out.open(_neutral_info(name), "w", force_zip64=True) as stream:
                    _stream_xml(_chunks(archive, info, kind, budget), stream.write, rewrite)
            elif entry_kind in _MEDIA or entry_kind in OOXML_KINDS or entry_kind == "pdf":
                raw, cleaned = work / f"{depth}-{number}-in.{entry_kind}", work / f"{depth}-{number}-out.{entry_kind}"
                _extract(archive, info, kind, budget, raw)
                _clean(raw, cleaned, {"jpeg": "jpg"}.get(entry_kind, entry_kind), budget, work, depth + 1)
                _write_file(out, name, cleaned)
                raw.unlink(missing_ok=True)
                cleaned.unlink(missing_ok=True)
            elif "/embeddings/" in f"/{name}" or entry_kind == "bin" and "vbaProject" in name:
                raise Refused(_("文档中嵌入了平台无法去除作者信息的对象（%(name)s）：请删除该嵌入对象，"
                                "或另存为 PDF 后上传。", name=name.rsplit("/", 1)[-1]))
            else:
                with out.open(_neutral_info(name), "w", force_zip64=True) as stream:
                    for chunk in _chunks(archive, info, kind, budget):
                        stream.write(chunk)
