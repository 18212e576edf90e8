"""Versions and receipts of what a team hands in during delivery, the way bids have them: each
submission is the canonical JSON of its content (files by their SHA-256) and the SHA-256 of that
JSON, written once (`DeliveryVersion`). `challenge verify-receipts` recomputes them all.

The files of the thing handed in are its attachments; a submission keeps the current ones,
drops those the team removed and adds the new uploads (stored before the transaction, so no file
I/O happens inside it).
"""

import json
from datetime import datetime

from tortoise.exceptions import IntegrityError

from challenge.accounts.models import User
from challenge.bids.services import canonical_json, document_sha256
from challenge.delivery.models import DeliveryVersion, VersionKind
from challenge.errors import DomainError
from challenge.files.models import Attachment, Blob
from challenge.files.services import attach, store_blobs
from challenge.files.uploads import UploadedFile
from challenge.web.i18n import _

DOCUMENT_FORMAT = "challenge.delivery/1"
MAX_FILES = 20

StoredFile = tuple[str, str, Blob]  # (category, file name, blob)


def version_document(*, kind: VersionKind, owner_id: int, version: int, submitted_at: datetime,
                     content: dict) -> dict:
    return {
        "format": DOCUMENT_FORMAT,
        "kind": kind.value,
        "owner_id": owner_id,
        "version": version,
        "submitted_at": submitted_at.isoformat(timespec="microseconds"),
        "content": content,
    }


async def freeze(*, kind: VersionKind, owner, content: dict, actor: User, now: datetime) -> DeliveryVersion:
    """Inside the owner's locked transaction: the next version of `owner` (which has
    `current_version` and `submitted_at`, both updated here and saved by the caller)."""
    number = owner.current_version + 1
    text = canonical_json(version_document(kind=kind, owner_id=owner.id, version=number, submitted_at=now,
                                           content=content))
    try:
        row = await DeliveryVersion.create(kind=kind, owner_id=owner.id, version=number, document=text,
                                           sha256=document_sha256(text), submitted_at=now, submitted_by=actor)
    except IntegrityError:
        raise DomainError(_("提交时发生冲突，请刷新页面后重试")) from None
    owner.current_version, owner.submitted_at = number, now
    return row


def verify_version(version: DeliveryVersion) -> bool:
    """The stored document still gives the stored hash, and is canonical."""
    return (document_sha256(version.document) == version.sha256
            and canonical_json(json.loads(version.document)) == version.document)


async def verify_all_versions(batch: int = 500) -> tuple[int, list[DeliveryVersion]]:
    """Recompute every version's hash, in batches: (versions checked, those that do not match)."""
    checked, broken, last_id = 0, [], 0
    while rows := await DeliveryVersion.filter(id__gt=last_id).order_by("id").limit(batch):
        for row in rows:
            checked += 1
            if not verify_version(row):
                broken.append(row)
        last_id = rows[-1].id
    return checked, broken


def content_of(version: DeliveryVersion | None) -> dict | None:
    return json.loads(version.document)["content"] if version is not None else None


async def latest(kind: VersionKind, owner_ids: list[int]) -> dict[int, DeliveryVersion]:
    """owner id -> its latest version."""
    rows = await DeliveryVersion.filter(kind=kind, owner_id__in=owner_ids or [0]).order_by("owner_id", "version")
    return {row.owner_id: row for row in rows}


async def history(kind: VersionKind, owner_id: int) -> list[DeliveryVersion]:
    return list(await DeliveryVersion.filter(kind=kind, owner_id=owner_id).only(
        "id", "kind", "owner_id", "version", "sha256", "submitted_at").order_by("version"))


# -- files ----------------------------------------------------------------------------------------

def owner_type(owner) -> str:
    return type(owner).__name__.lower()


async def files_of(owner) -> list[Attachment]:
    return list(await Attachment.filter(owner_type=owner_type(owner), owner_id=owner.id).select_related("blob")
                .order_by("id"))


async def store(storage, uploads: list[tuple[str, UploadedFile]]) -> list[StoredFile]:
    """Commit the uploads to storage (before the transaction): (category, name, blob) each."""
    stored = await store_blobs(storage, [upload for _category, upload in uploads])
    return [(category, upload.filename, blob) for (category, _upload), (upload, blob) in zip(uploads, stored)]


async def discard(uploads: list[tuple[str, UploadedFile]]) -> None:
    for _category, upload in uploads:
        await upload.writer.abort()


async def replace_files(owner, actor: User, files: list[StoredFile], remove_ids: list[int]) -> list[Attachment]:
    """Inside the transaction: drop the attachments the team removed, attach the new files; the
    attachments as they are now."""
    kind = owner_type(owner)
    if remove_ids:
        await Attachment.filter(owner_type=kind, owner_id=owner.id, id__in=remove_ids).delete()
    if await Attachment.filter(owner_type=kind, owner_id=owner.id).count() + len(files) > MAX_FILES:
        raise DomainError(_("附件最多 %(n)s 个，请先删除多余的文件", n=MAX_FILES), field="files")
    for category, filename, blob in files:
        await attach(blob=blob, owner=owner, filename=filename, category=category, user=actor)
    return await files_of(owner)


def file_entries(attachments: list[Attachment]) -> list[dict]:
    """The attachments as a version records them."""
    return [{"category": a.category, "filename": a.filename, "sha256": a.blob.sha256, "size": a.blob.size,
             "blob_id": a.blob_id} for a in attachments]
