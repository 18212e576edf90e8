"""A corpus of real documents that carry a bidder's name in every place a name hides, and the
search that proves it gone (bytes, every encoding, archives and PDF streams expanded)."""

import io
import zipfile

import pikepdf
from openpyxl import Workbook
from openpyxl.comments import Comment
from PIL import Image, PngImagePlugin

NAME = "张伟"
LATIN = "Zhang Wei"
ORG = "清华大学"
SECRETS = [NAME, LATIN, ORG, "zhangwei@tsinghua.edu.cn"]


def pdf_bytes(text: str = "技术方案") -> bytes:
    """A small valid PDF (one page)."""
    pdf = pikepdf.new()
    pdf.add_blank_page()
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def named_pdf() -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.docinfo["/Author"] = f"{NAME}, {ORG}"
    pdf.docinfo["/Creator"] = LATIN
    with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["dc:creator"] = [NAME]
        meta["dc:publisher"] = [ORG]
    page = pdf.pages[0]
    note = pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Text, Rect=[10, 10, 50, 50],
        T=pikepdf.String(f"{NAME}（{ORG}）"), Contents=pikepdf.String("请核对数据")))
    attached = pikepdf.AttachedFileSpec(pdf, f"联系人 {LATIN}".encode("utf-8"), filename=f"{ORG}-{NAME}.txt")
    pdf.attachments[f"{ORG}-{NAME}.txt"] = attached
    clip = pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.FileAttachment, Rect=[60, 60, 80, 80],
        T=pikepdf.String(LATIN), FS=attached.obj))
    page.obj["/Annots"] = pdf.make_indirect(pikepdf.Array([note, clip]))
    script = pdf.make_stream(f"app.alert('{LATIN}');".encode())
    pdf.Root.Names.JavaScript = pikepdf.Dictionary(Names=pikepdf.Array([
        pikepdf.String("hello"), pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=script)]))
    pdf.Root.OpenAction = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String(f"// {LATIN}"))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def named_jpeg(*, size=(64, 48)) -> bytes:
    image = Image.new("RGB", size, (30, 120, 200))
    exif = Image.Exif()
    exif[0x013B] = LATIN  # Artist
    exif[0x8298] = f"(c) {LATIN}"  # Copyright
    exif[0x0112] = 6  # orientation: the picture is turned when shown
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes(), comment=f"{LATIN} {NAME}".encode(),
               icc_profile=f"profile by {LATIN}".encode() * 4)
    return out.getvalue()


def named_png() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", LATIN)
    info.add_itxt("Description", f"{NAME} {ORG}")
    info.add_text("Comment", NAME, zip=True)
    out = io.BytesIO()
    Image.new("RGBA", (20, 20), (0, 0, 0, 0)).save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def named_gif() -> bytes:
    frames = [Image.new("P", (16, 16), i) for i in range(3)]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0,
                   comment=f"{LATIN} {ORG}".encode())
    return out.getvalue()


def named_webp() -> bytes:
    exif = Image.Exif()
    exif[0x013B] = LATIN
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 10, 10)).save(out, format="WEBP", exif=exif.tobytes(),
                                                   xmp=f"<x:xmpmeta>{NAME}</x:xmpmeta>".encode())
    return out.getvalue()


def named_xlsx() -> bytes:
    workbook = Workbook()
    workbook.properties.creator = NAME
    workbook.properties.lastModifiedBy = LATIN
    sheet = workbook.active
    sheet["A1"] = "捕集率"
    sheet["A1"].comment = Comment("请复核", f"{NAME} {ORG}")
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W15 = "http://schemas.microsoft.com/office/word/2012/wordml"


def named_docx(*, embedded: bytes | None = None, image: bytes | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as docx:
        docx.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                                             'package/2006/content-types"/>')
        docx.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        docx.writestr("docProps/core.xml", f'<?xml version="1.0"?><cp:coreProperties xmlns:cp="c" xmlns:dc="d">'
                                           f'<dc:creator>{NAME}</dc:creator><cp:lastModifiedBy>{LATIN}'
                                           f'</cp:lastModifiedBy></cp:coreProperties>')
        docx.writestr("docProps/app.xml", f'<?xml version="1.0"?><Properties><Company>{ORG}</Company>'
                                          f'<Manager>{NAME}</Manager></Properties>')
        docx.writestr("docProps/custom.xml", f'<?xml version="1.0"?><Properties><property name="Owner">'
                                             f'<vt:lpwstr>{LATIN}</vt:lpwstr></property></Properties>')
        docx.writestr("word/document.xml", f'<?xml version="1.0"?><w:document xmlns:w="{W}"><w:body><w:p>'
                                           f'<w:ins w:id="1" w:author="{NAME}" w:date="2025-01-01T00:00:00Z">'
                                           f'<w:r><w:t>技术路线说明</w:t></w:r></w:ins>'
                                           f'<w:del w:id="2" w:author="{LATIN}"><w:r><w:delText>旧</w:delText>'
                                           f'</w:r></w:del></w:p></w:body></w:document>')
        docx.writestr("word/comments.xml", f'<w:comments xmlns:w="{W}"><w:comment w:id="0" w:author="{NAME}" '
                                           f'w:initials="ZW"><w:p><w:r><w:t>意见</w:t></w:r></w:p></w:comment>'
                                           f'</w:comments>')
        docx.writestr("word/people.xml", f'<w15:people xmlns:w15="{W15}"><w15:person w15:author="{LATIN}">'
                                         f'<w15:presenceInfo w15:providerId="AD" '
                                         f'w15:userId="zhangwei@tsinghua.edu.cn"/></w15:person></w15:people>')
        docx.writestr("word/_rels/settings.xml.rels",
                      '<?xml version="1.0"?><Relationships><Relationship Id="rId1" Type="attachedTemplate" '
                      f'Target="file:///C:\\Users\\{LATIN}\\{ORG}\\Normal.dotm" TargetMode="External"/>'
                      '</Relationships>')
        if image is not None:
            docx.writestr("word/media/image1.jpeg", image)
        if embedded is not None:
            docx.writestr("word/embeddings/Microsoft_Excel_Worksheet.xlsx", embedded)
    return out.getvalue()


def named_pptx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as pptx:
        pptx.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        pptx.writestr("docProps/core.xml", f'<?xml version="1.0"?><cp:coreProperties xmlns:cp="c">'
                                           f'<dc:creator xmlns:dc="d">{NAME}</dc:creator></cp:coreProperties>')
        pptx.writestr("ppt/commentAuthors.xml", f'<p:cmAuthorLst xmlns:p="p"><p:cmAuthor id="0" name="{NAME}" '
                                                f'initials="ZW" lastIdx="1" clrIdx="0"/></p:cmAuthorLst>')
        pptx.writestr("ppt/authors.xml", f'<p188:authorLst xmlns:p188="q"><p188:author id="1" name="{LATIN}" '
                                         f'initials="ZW" userId="{LATIN}" providerId="None"/></p188:authorLst>')
        pptx.writestr("ppt/slides/slide1.xml", '<p:sld xmlns:p="p"><p:cSld/></p:sld>')
    return out.getvalue()


def named_zip() -> bytes:
    """Entry names, comments and nested documents (and a nested archive) all naming the team."""
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as nested:
        nested.writestr(f"{NAME}的照片.png", named_png())
        nested.comment = LATIN.encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        folder = f"{ORG}-{NAME}-测试数据/"
        archive.writestr(folder + "报告.pdf", named_pdf())
        archive.writestr(folder + f"{LATIN} 方案.docx", named_docx(embedded=named_xlsx(), image=named_jpeg()))
        archive.writestr(folder + "数据.csv", "温度,压力\n40,1.2\n")
        info = zipfile.ZipInfo(folder + "嵌套.zip")
        info.comment = NAME.encode()
        archive.writestr(info, inner.getvalue())
        archive.writestr(folder + "封面.gif", named_gif())
        archive.comment = f"{ORG} {NAME}".encode()
    return out.getvalue()


def corpus() -> dict[str, tuple[str, bytes]]:
    """file name -> (kind, content), each naming the team."""
    return {
        "方案.pdf": ("pdf", named_pdf()),
        "方案.docx": ("docx", named_docx(embedded=named_xlsx(), image=named_jpeg())),
        "指标.xlsx": ("xlsx", named_xlsx()),
        "汇报.pptx": ("pptx", named_pptx()),
        "照片.jpg": ("jpg", named_jpeg()),
        "图.png": ("png", named_png()),
        "动图.gif": ("gif", named_gif()),
        "数据.zip": ("zip", named_zip()),
    }


def expanded(data: bytes, depth: int = 0) -> list[bytes]:
    """The bytes and everything inside them: archive entries (and their names and comments) and
    PDF objects with their streams decoded, recursively."""
    found = [data]
    if depth > 5:
        return found
    if data.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            found.append(archive.comment)
            for info in archive.infolist():
                found += [info.filename.encode(), info.comment, info.extra]
                found += expanded(archive.read(info), depth + 1)
    elif data.startswith(b"%PDF"):
        with pikepdf.open(io.BytesIO(data)) as pdf:
            plain = io.BytesIO()
            pdf.save(plain, compress_streams=False, stream_decode_level=pikepdf.StreamDecodeLevel.all,
                     object_stream_mode=pikepdf.ObjectStreamMode.disable)
            found.append(plain.getvalue())
            for obj in pdf.objects:
                if isinstance(obj, pikepdf.Stream):
                    try:
                        found.append(obj.read_bytes())
                    except pikepdf.PdfError:
                        found.append(obj.read_raw_bytes())
    return found


def leaks(data: bytes, secrets=SECRETS) -> list[str]:
    """Every secret found anywhere in `data`, in UTF-8, UTF-16 (both orders) or GBK."""
    found = []
    for blob in expanded(data):
        for secret in secrets:
            for encoding in ("utf-8", "utf-16-be", "utf-16-le", "gbk"):
                if secret.encode(encoding) in blob:
                    found.append(f"{secret} ({encoding})")
    return sorted(set(found))
