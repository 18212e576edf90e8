"""Objections (异议) to a notice: filed by anyone signed in during the period, answered by the
organiser. `set_objection_status()` is the only writer of `Objection.status`.

An objection is confidential: its objector and the organisers see it; the public sees only how
many there are and their outcomes. Upholding one withdraws the notice (a revised notice starts a
new period) and reopens the review: the panel back to reviewing, or a new decision.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from tortoise.transactions import in_transaction

from challenge.accounts.models import User
from challenge.audit.services import record
from challenge.challenges.models import Challenge, ChallengeStatus
from challenge.challenges.services import set_challenge_status
from challenge.errors import DomainError, InvalidTransition, PermissionDenied
from challenge.files.models import Attachment
from challenge.files.services import attach, store_blobs
from challenge.files.uploads import UploadedFile
from challenge.mail.services import notify
from challenge.results.models import (
    OBJECTION_TRANSITIONS,
    Decision,
    Notice,
    NoticeKind,
    NoticeStatus,
    Objection,
    ObjectionStatus,
    Remedy,
)
from challenge.results.services import set_notice_status, settles_challenge
from challenge.reviews.models import Panel, PanelStatus
from challenge.reviews.services import set_panel_status
from challenge.web.i18n import _
from challenge.web.timefmt import format_datetime, now_utc

ATTACHMENT_OWNER = "objection"  # Attachment.owner_type of an objection's evidence
ATTACHMENT_CATEGORY = "evidence"
MAX_FILES = 10
REASONS_MIN, REASONS_MAX = 10, 5000
ANSWER_MAX = 5000


@dataclass(frozen=True)
class NoticeHooks:
    """What an area above does for its own kind of notice, one not tied to a challenge."""

    title: Callable[[Notice], Awaitable[str]]  # what the organisers and the objector are told it is
    reopen: Callable[..., Awaitable[None]]  # (notice=, actor=, now=) after an upheld objection withdrew it
    link: Callable[[Notice], str]  # the notice's public page
    manage_link: Callable[[Objection], str]  # where the organiser answers an objection


# Kinds of notices other areas publish (promotion: the catalogue notice), registered at import.
OTHER_NOTICES: dict[NoticeKind, NoticeHooks] = {}


async def notice_subject(notice: Notice) -> str:
    """The title of what the notice is about, as told in notifications."""
    if notice.kind in OTHER_NOTICES:
        return await OTHER_NOTICES[notice.kind].title(notice)
    return (await Challenge.get(id=notice.challenge_id)).title


def closed_message(notice: Notice, now: datetime) -> str:
    """Why no objection is taken now ("" while the period runs)."""
    if notice.status != NoticeStatus.OPEN:
        return _("该公示当前状态为“%(s)s”，不再受理异议", s=notice.status.label)
    if notice.period_over(now):
        return _("公示期已于 %(end)s 结束，不再受理异议", end=format_datetime(notice.ends_at))
    return ""


def objection_errors(*, real_name: str, contact: str, reasons: str, files: int) -> dict[str, str]:
    errors = {}
    if not 2 <= len(real_name) <= 50:
        errors["real_name"] = _("请填写真实姓名（2 至 50 个字）")
    if not contact:
        errors["contact"] = _("请填写联系电话或电子邮箱，以便核实和答复")
    elif len(contact) > 200:
        errors["contact"] = _("不能超过 %(n)s 个字符", n=200)
    if len(reasons) < REASONS_MIN:
        errors["reasons"] = _("请写明异议的事实和理由（至少 %(n)s 个字）", n=REASONS_MIN)
    elif len(reasons) > REASONS_MAX:
        errors["reasons"] = _("不能超过 %(n)s 个字", n=REASONS_MAX)
    if files > MAX_FILES:
        errors["file"] = _("最多上传 %(n)s 个证明材料", n=MAX_FILES)
    return errors


async def file_objection(*, notice: Notice, user: User, real_name: str, contact: str, reasons: str,
                         uploads: list[UploadedFile] = (), storage=None, now: datetime | None = None) -> Objection:
    """File an objection during the notice period, with evidence attached (already streamed to
    storage, uncommitted: refused uploads are discarded, accepted ones stored once by SHA-256).

    Refused after the end of the period or once the notice is closed, and on incomplete input.
    Side effects, in one transaction: the objection and its attachments; the audit entry
    `objection.file` (no content: it is confidential); the organisers are told (inbox and mail).
    """
    uploads = list(uploads)
    now = now or now_utc()
    real_name, contact, reasons = real_name.strip(), contact.strip(), reasons.strip()
    try:
        if user is None:
            raise PermissionDenied(_("请登录后提出异议"))
        refusal = closed_message(notice, now)
        if refusal:
            raise DomainError(refusal, field="reasons")
        errors = objection_errors(real_name=real_name, contact=contact, reasons=reasons, files=len(uploads))
        if errors:
            raise DomainError(_("异议未提交，请先解决以下问题"), errors=errors)
    except DomainError:
        for upload in uploads:
            await upload.writer.abort()
        raise
    stored = await store_blobs(storage, uploads) if uploads else []
    async with in_transaction():
        locked = await Notice.filter(id=notice.id).select_for_update().get()
        refusal = closed_message(locked, now)
        if refusal:
            raise DomainError(refusal, field="reasons")
        objection = await Objection.create(notice=locked, objector=user, real_name=real_name, contact=contact,
                                           reasons=reasons, filed_at=now)
        for upload, blob in stored:
            await attach(blob=blob, owner=objection, filename=upload.filename, category=ATTACHMENT_CATEGORY,
                         user=user)
        await record(actor=user, action="objection.file", obj=objection,
                     after={"notice_id": locked.id, "status": objection.status, "attachments": len(stored)})
        title = await notice_subject(locked)
        for organiser in await User.filter(is_organiser=True, is_active=True):
            await notify(user=organiser, subject=lambda: _("收到异议：%(title)s", title=title),
                         body=lambda: _("公示期内收到一件异议，请及时核实处理；异议处理完毕前不能发布结果公告。"),
                         link=_manage_link(locked, objection))
    return objection


def _manage_link(notice: Notice, objection: Objection) -> str:
    if notice.kind in OTHER_NOTICES:
        return OTHER_NOTICES[notice.kind].manage_link(objection)
    return f"/results/manage/objections/{objection.id}"


async def evidence(objection: Objection) -> list[Attachment]:
    return await Attachment.filter(owner_type=ATTACHMENT_OWNER, owner_id=objection.id).select_related("blob") \
        .order_by("id")


async def set_objection_status(*, objection: Objection, status: ObjectionStatus, actor: User, answer: str,
                               remedy: Remedy | None, now: datetime) -> Objection:
    """The only writer of `Objection.status`: open → dismissed | upheld, with the answer.

    Call it inside the caller's transaction. Side effects: the answer, remedy, who and when; the
    audit entry `objection.<status>` (the remedy, not the confidential text).
    """
    if status not in OBJECTION_TRANSITIONS[objection.status]:
        raise InvalidTransition(_("该异议已处理（%(s)s）", s=objection.status.label))
    before = {"status": objection.status.value}
    objection.status, objection.answer, objection.remedy = status, answer, remedy
    objection.answered_by, objection.answered_at = actor, now
    await objection.save(update_fields=["status", "answer", "remedy", "answered_by_id", "answered_at"])
    await record(actor=actor, action=f"objection.{status.value}", obj=objection, before=before,
                 after={"status": status.value, "notice_id": objection.notice_id,
                        "remedy": remedy.value if remedy else None})
    return objection


async def answer_objection(*, objection: Objection, actor: User, upheld: bool | None, answer: str,
                           remedy: Remedy | None = None, now: datetime | None = None) -> Objection:
    """The organiser's answer: dismissed with reasons, or upheld with a remedy.

    Upholding an objection to a notice that is still open withdraws the notice (`superseded`; it
    stays visible), moves the challenge back to reviewing (not for a stage), and either sends
    the panel back to reviewing (REOPEN_REVIEW: experts revise, the chair concludes again) or
    leaves it concluded for a new decision (NEW_DECISION); a revised notice then starts a new
    period. The objector is told the outcome and the answer (inbox and mail, in their language).
    """
    if actor is None or not actor.is_organiser:
        raise PermissionDenied(_("只有管理员可以处理异议"))
    now = now or now_utc()
    answer = answer.strip()
    errors = {}
    if upheld is None:
        errors["outcome"] = _("请选择处理结果")
    if not answer:
        errors["answer"] = _("请写明处理意见和理由，异议人将收到这段答复")
    elif len(answer) > ANSWER_MAX:
        errors["answer"] = _("不能超过 %(n)s 个字", n=ANSWER_MAX)
    if upheld and remedy is None:
        errors["remedy"] = _("异议成立时，请选择如何重新评审")
    if errors:
        raise DomainError(_("处理意见未保存，请先解决以下问题"), errors=errors)
    async with in_transaction():
        locked = await Objection.filter(id=objection.id).select_for_update().get()
        status = ObjectionStatus.UPHELD if upheld else ObjectionStatus.DISMISSED
        await set_objection_status(objection=locked, status=status, actor=actor, answer=answer,
                                   remedy=remedy if upheld else None, now=now)
        notice = await Notice.filter(id=locked.notice_id).select_for_update().get()
        title = await notice_subject(notice)
        if upheld and notice.status == NoticeStatus.OPEN:
            if notice.kind in OTHER_NOTICES:
                await set_notice_status(notice=notice, status=NoticeStatus.SUPERSEDED, actor=actor, now=now,
                                        note=remedy.label)
                await OTHER_NOTICES[notice.kind].reopen(notice=notice, actor=actor, now=now)
            else:
                await _reopen(notice, await Challenge.get(id=notice.challenge_id), actor, remedy, now)
        objector = await User.get(id=locked.objector_id)
        await notify(user=objector,
                     subject=lambda: _("您对“%(title)s”公示提出的异议已处理", title=title),
                     body=lambda: _("处理结果：%(outcome)s\n\n%(answer)s", outcome=status.label, answer=answer),
                     link=(OTHER_NOTICES[notice.kind].link(notice) if notice.kind in OTHER_NOTICES
                           else f"/results/objections/{locked.id}"))
    objection.status = locked.status
    return locked


async def _reopen(notice: Notice, challenge: Challenge, actor: User, remedy: Remedy, now: datetime) -> None:
    await set_notice_status(notice=notice, status=NoticeStatus.SUPERSEDED, actor=actor, now=now,
                            note=remedy.label)
    if challenge.status == ChallengeStatus.NOTICE and await settles_challenge(notice):
        await set_challenge_status(challenge=challenge, status=ChallengeStatus.REVIEWING, actor=actor, now=now,
                                   reason=remedy.label)
    decision = await Decision.get(id=notice.decision_id)
    panel = await Panel.get(id=decision.panel_id)
    if remedy == Remedy.REOPEN_REVIEW and panel.status == PanelStatus.CONCLUDED:
        await set_panel_status(panel=panel, status=PanelStatus.REVIEWING, actor=actor, note=remedy.label)
