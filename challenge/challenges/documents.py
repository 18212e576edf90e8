"""The organiser's documents on a challenge page (申报指南, 申报书模板, the official notice as PDF).

They are attachments of the challenge (owner type "challenge"), their kind kept as the
attachment's category. Anyone may download them once the challenge is public; only organisers
add or remove them, each change with its audit entry.
"""

from tortoise.transactions import in_transaction

from challenge.accounts.models import User
from challenge.audit import services as audit
from challenge.challenges.models import Challenge, DocumentKind
from challenge.errors import DomainError, PermissionDenied
from challenge.files.models import Attachment
from challenge.files.services import attach, store_blobs
from challenge.files.uploads import UploadedFile
from challenge.web.i18n import _

OWNER_TYPE = "challenge"
MAX_DOCUMENTS = 20
# The official notice is the document of record: a PDF, as published notices are.
REQUIRED_KIND = {DocumentKind.NOTICE: "pdf"}


def _check_organiser(actor: User) -> None:
    if not actor.is_organiser:
        raise PermissionDenied(_("只有管理员可以管理榜单文件"))


async def add_documents(*, challenge: Challenge, kind: DocumentKind, uploads: list[UploadedFile], actor: User,
                        storage) -> list[Attachment]:
    """Attach uploaded files of one kind. Refused (nothing stored, the uploads discarded by the
    caller) without a file, over MAX_DOCUMENTS, or when a notice is not a PDF."""
    _check_organiser(actor)
    kind = DocumentKind(kind)
    if not uploads:
        raise DomainError(_("请选择要上传的文件"), field="files")
    wanted = REQUIRED_KIND.get(kind)
    if wanted and any(upload.extension != wanted for upload in uploads):
        raise DomainError(_("正式通知须为 PDF 文件，请另存为 PDF 后上传"), field="files")
    existing = await Attachment.filter(owner_type=OWNER_TYPE, owner_id=challenge.id).count()
    if existing + len(uploads) > MAX_DOCUMENTS:
        raise DomainError(_("每个榜单最多 %(n)s 个文件，请删除不需要的文件后再上传", n=MAX_DOCUMENTS), field="files")
    stored = await store_blobs(storage, uploads)
    attached = []
    async with in_transaction():
        for upload, blob in stored:
            attached.append(await attach(blob=blob, owner=challenge, filename=upload.filename, category=kind.value,
                                         user=actor))
            await audit.record(actor=actor, action="challenge.document_add", obj=challenge, note=upload.filename,
                               after={"kind": kind, "filename": upload.filename, "sha256": blob.sha256,
                                      "size": blob.size})
    return attached


async def remove_document(*, challenge: Challenge, document: Attachment, actor: User) -> None:
    """Take a document off the page (its content stays for any other owner of the same file)."""
    _check_organiser(actor)
    if document.owner_type != OWNER_TYPE or document.owner_id != challenge.id:
        raise DomainError(_("该文件不属于这个榜单"))
    async with in_transaction():
        await document.delete()
        await audit.record(actor=actor, action="challenge.document_remove", obj=challenge, note=document.filename,
                           before={"kind": document.category, "filename": document.filename})


async def documents_of(challenge: Challenge) -> list[Attachment]:
    """The challenge's documents in the order of their kinds, then as uploaded."""
    order = {kind.value: position for position, kind in enumerate(DocumentKind)}
    rows = await Attachment.filter(owner_type=OWNER_TYPE, owner_id=challenge.id).select_related("blob")
    return sorted(rows, key=lambda a: (order.get(a.category, len(order)), a.id))


async def document_of(challenge: Challenge, document_id: int) -> Attachment | None:
    return await Attachment.get_or_none(id=document_id, owner_type=OWNER_TYPE,
                                        owner_id=challenge.id).select_related("blob")
