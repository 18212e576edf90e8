"""Files kept across a form that comes back with errors.

A form re-rendered with errors would lose the files the person had chosen (a browser never
refills a file input). Instead the handler stores them (`keep()`: blobs, deduplicated by
SHA-256, attached to nothing yet) and the page lists them as kept, each with a checked box whose
value is a signed token: the next post brings them back (`kept_uploads()`) as finished uploads
that `store_blob` resolves to the same blob, so nothing is uploaded or stored twice. Unticking
the box drops the file. A token names its user: nobody can claim another person's file.
"""

from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

from challenge.files.models import Blob
from challenge.files.services import store_blobs
from challenge.files.uploads import UploadedFile
from challenge.web.i18n import _

FIELD = "kept_file"


class _AlreadyStored:
    """The writer of a kept file: its content is already a blob, so there is nothing to write."""

    async def abort(self) -> None:
        return None

    async def commit(self) -> str:
        raise KeptFileGone(_("之前保留的文件已不存在，请重新选择该文件。"))


class KeptFileGone(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class KeptFile:
    token: str
    field: str
    filename: str
    size: int
    kind: str


def _signer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt="challenge.files.kept")


async def keep(storage, uploads: list[UploadedFile], *, user_id: int, secret: str,
               stored_only: bool = False) -> list[KeptFile]:
    """Store the uploads of a refused post and return them as kept files (tokens for the page).
    `stored_only`: the post was refused by a service that discards its uploads when it refuses
    early, so only those whose content it had already stored can be kept."""
    if stored_only:
        known = set(await Blob.filter(sha256__in=[u.sha256 for u in uploads]).values_list("sha256", flat=True))
        uploads = [upload for upload in uploads if upload.sha256 in known]
    stored = await store_blobs(storage, uploads)
    signer = _signer(secret)
    return [KeptFile(token=signer.dumps([user_id, blob.id, upload.field, upload.filename]), field=upload.field,
                     filename=upload.filename, size=blob.size, kind=blob.kind) for upload, blob in stored]


async def kept_uploads(tokens: list[str], *, user_id: int, secret: str) -> list[tuple[str, UploadedFile]]:
    """The kept files a post brings back, as (token, finished upload); forged or foreign tokens
    are ignored."""
    signer = _signer(secret)
    wanted = []
    for token in dict.fromkeys(tokens):
        try:
            owner, blob_id, field, filename = signer.loads(token)
        except (BadSignature, ValueError, TypeError):
            continue
        if owner == user_id:
            wanted.append((token, blob_id, field, filename))
    blobs = {blob.id: blob for blob in await Blob.filter(id__in=[w[1] for w in wanted])}
    return [(token, UploadedFile(field=field, filename=filename, extension=blobs[blob_id].kind,
                                 size=blobs[blob_id].size, sha256=blobs[blob_id].sha256, writer=_AlreadyStored()))
            for token, blob_id, field, filename in wanted if blob_id in blobs]


def as_kept(brought: list[tuple[str, UploadedFile]]) -> list[KeptFile]:
    """Kept files brought back by a post, to list again if the form is refused once more."""
    return [KeptFile(token=token, field=upload.field, filename=upload.filename, size=upload.size, kind=upload.extension)
            for token, upload in brought]


async def fresh_only(brought: list[tuple[str, UploadedFile]], uploads: list[UploadedFile]) -> list[UploadedFile]:
    """The new uploads that are not already kept (same field and content): a kept file chosen
    again is neither stored nor attached twice. The duplicates' partial content is dropped."""
    seen, fresh = {(upload.field, upload.sha256) for _token, upload in brought}, []
    for upload in uploads:
        key = (upload.field, upload.sha256)
        if key in seen:
            await upload.writer.abort()
            continue
        seen.add(key)
        fresh.append(upload)
    return fresh
