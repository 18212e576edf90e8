"""Blind review: codes instead of names, neutral file names, documents without their metadata.

Experts of a blind challenge see "申报 A", never the lead organisation, the partners or the
team. Attachments reach them as "申报A-技术方案-1.pdf", a copy cleaned of what names its authors
(`files.documents.clean`: PDF, OOXML, images, ZIP archives). The stored original is never
modified: the clean copy is a separate blob.
"""

import asyncio
import hashlib
import re
import string
import tempfile
from pathlib import Path

import aiofiles
from tortoise.exceptions import IntegrityError

from challenge.enums import N_
from challenge.errors import NotFound
from challenge.files import documents
from challenge.files.models import Blob
from challenge.files.storage import CHUNK
from challenge.reviews.models import SanitisedBlob
from challenge.web.i18n import _

CATEGORY_LABELS = {
    "proposal": N_("申报书"),
    "qualification": N_("资质证明"),
    "commitment": N_("承诺函"),
    "report": N_("阶段报告"),
    "evidence": N_("证明材料"),
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


# -- clean copies for experts -------------------------------------------------------------------

def can_clean(kind: str) -> bool:
    return documents.kind_of_extension(kind) in documents.CLEANABLE_KINDS


async def sanitised_copy(*, storage, blob: Blob, limits: documents.Limits = documents.Limits()) -> Blob:
    """The blob without what names its authors (`files.documents.clean`), made once and kept as a
    separate blob; the original is never changed.

    The content streams from storage to a local temporary file, is cleaned there in a worker
    thread (archives entry by entry, within the same limits as at upload), and streams back to
    storage, hashed on the way: memory stays flat whatever the size. A kind that cannot be
    cleaned raises NotFound (experts are shown it is withheld, and uploads on a blind challenge
    refuse it); so does a file that fails to clean (only a file stored before these checks can).
    """
    kind = documents.kind_of_extension(blob.kind)
    if not can_clean(kind):
        raise NotFound(_("该文件格式无法去除作者信息，按匿名评审规则不向专家提供"))
    cached = await SanitisedBlob.get_or_none(original=blob).select_related("sanitised")
    if cached is not None:
        return cached.sanitised
    with tempfile.TemporaryDirectory(prefix="challenge-blind-") as folder:
        source, target = Path(folder) / f"in.{kind}", Path(folder) / f"out.{kind}"
        async with aiofiles.open(source, "wb") as handle:
            async for chunk in storage.read(blob.storage_key):
                await handle.write(chunk)
        try:
            await asyncio.to_thread(documents.clean, source, target, kind, limits=limits)
        except documents.Refused as refusal:
            raise NotFound(_("该文件无法去除作者信息，为保护匿名评审不向专家提供：%(reason)s",
                             reason=refusal.message)) from None
        copy = await _store(storage, target, blob)
    try:
        await SanitisedBlob.create(original=blob, sanitised=copy)
    except IntegrityError:
        pass  # made by a concurrent request a moment ago
    return copy


async def _store(storage, path: Path, original: Blob) -> Blob:
    digest, size = hashlib.sha256(), 0
    writer = await storage.writer()
    try:
        async with aiofiles.open(path, "rb") as handle:
            while chunk := await handle.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                await writer.write(chunk)
    except BaseException:
        await writer.abort()
        raise
    sha256 = digest.hexdigest()
    existing = await Blob.get_or_none(sha256=sha256)
    if existing is not None:
        await writer.abort()
        return existing
    key = await writer.commit()
    try:
        return await Blob.create(sha256=sha256, size=size, kind=original.kind, content_type=original.content_type,
                                 storage_key=key)
    except IntegrityError:
        await storage.delete(key)
        return await Blob.get(sha256=sha256)
