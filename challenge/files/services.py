"""Attachments: finished uploads become deduplicated blobs and named attachments."""

import unicodedata
from urllib.parse import quote

from starlette.responses import StreamingResponse
from tortoise.exceptions import IntegrityError

from challenge.files import sniff
from challenge.files.models import Attachment, Blob
from challenge.files.uploads import UploadedFile


async def store_blob(storage, upload: UploadedFile) -> Blob:
    """Commit an upload's content once per SHA-256: a second identical file reuses the first."""
    existing = await Blob.get_or_none(sha256=upload.sha256)
    if existing is not None:
        await upload.writer.abort()
        return existing
    key = await upload.writer.commit()
    try:
        return await Blob.create(
            sha256=upload.sha256,
            size=upload.size,
            kind=upload.extension,
            content_type=sniff.CONTENT_TYPES.get(upload.extension, "application/octet-stream"),
            storage_key=key,
        )
    except IntegrityError:
        # The same content was stored by a concurrent request a moment ago.
        await storage.delete(key)
        return await Blob.get(sha256=upload.sha256)


async def store_blobs(storage, uploads: list[UploadedFile]) -> list[tuple[UploadedFile, Blob]]:
    return [(upload, await store_blob(storage, upload)) for upload in uploads]


async def attach(*, blob: Blob, owner, filename: str, category: str = "other", user=None) -> Attachment:
    return await Attachment.create(
        blob=blob,
        owner_type=type(owner).__name__.lower(),
        owner_id=owner.id,
        category=category,
        filename=filename,
        uploaded_by=user,
    )


async def attachments_of(owner) -> list[Attachment]:
    return await Attachment.filter(owner_type=type(owner).__name__.lower(), owner_id=owner.id).select_related("blob")


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """RFC 6266: an ASCII fallback (other characters become "_") and the exact name in UTF-8."""
    filename = "".join(ch for ch in filename if unicodedata.category(ch)[0] != "C") or "download"
    fallback = "".join(ch if " " <= ch <= "~" and ch not in '"\\' else "_" for ch in filename)
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def download_response(storage, blob: Blob, filename: str) -> StreamingResponse:
    return StreamingResponse(
        storage.read(blob.storage_key),
        media_type=blob.content_type,
        headers={
            "Content-Disposition": content_disposition(filename),
            "Content-Length": str(blob.size),
            "Cache-Control": "private, no-store",
        },
    )
