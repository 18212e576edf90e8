"""Progress reports (进展报告): the team reports on each milestone with text and files, every
submission a version with its receipt; the organiser accepts the report or asks for more (with
a reason), and the team revises it.

`set_report_status()` is the only writer of `ProgressReport.status`.
"""

from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from challenge.accounts.models import User
from challenge.audit.services import record
from challenge.bids.models import Bid
from challenge.delivery import permissions, receipts
from challenge.delivery.models import (
    OPEN_PROJECT_STATES,
    REPORT_TRANSITIONS,
    DeliveryVersion,
    ProgressReport,
    Project,
    ProjectMilestone,
    ReportStatus,
    VersionKind,
)
from challenge.delivery.projects import project_link
from challenge.errors import DomainError, InvalidTransition, PermissionDenied
from challenge.files.uploads import UploadedFile
from challenge.mail.services import notify
from challenge.web.i18n import _
from challenge.web.timefmt import format_datetime, now_utc

TEXT_MAX = 20000
REASON_MAX = 2000
FILE_CATEGORY = "report"


async def set_report_status(*, report: ProgressReport, status: ReportStatus, actor: User | None, reason: str = "",
                            action: str = "", now: datetime | None = None) -> ProgressReport:
    """The only writer of `ProgressReport.status` (REPORT_TRANSITIONS), in the caller's transaction.
    Side effects: the reason kept (asked for more), the decision's author and time; the audit
    entry `report.<action or status>`."""
    status = ReportStatus(status)
    if status not in REPORT_TRANSITIONS[report.status]:
        raise InvalidTransition(_("报告当前状态为“%(a)s”，不能变更为“%(b)s”", a=report.status.label, b=status.label))
    before = {"status": report.status.value}
    report.status = status
    if status in (ReportStatus.ACCEPTED, ReportStatus.RETURNED):
        report.reason, report.decided_by, report.decided_at = reason, actor, now or now_utc()
    await report.save(update_fields=["status", "reason", "decided_by_id", "decided_at"])
    await record(actor=actor, action=f"report.{action or status.value}", obj=report, before=before,
                 after={"status": status.value, "milestone_id": report.milestone_id, "version": report.current_version},
                 note=reason)
    return report


async def submit_report(*, project: Project, milestone: ProjectMilestone, actor: User, text: str,
                        uploads: list[UploadedFile] = (), remove_ids: list[int] = (), storage=None,
                        now: datetime | None = None) -> DeliveryVersion:
    """File (or revise) the team's report on a milestone: the next version with its receipt, the
    report back to 待审核. Refused, nothing saved, for anyone but the team, a project no longer
    running, an accepted report, and without text. The organisers are told."""
    uploads = [(FILE_CATEGORY, upload) for upload in uploads]
    now = now or now_utc()
    try:
        bid = await Bid.get(id=project.bid_id).select_related("lead_org")
        _check(project, milestone, bid, actor, text)
        existing = await ProgressReport.get_or_none(milestone_id=milestone.id)
        if existing is not None and existing.status == ReportStatus.ACCEPTED:
            raise InvalidTransition(_("该节点的进展报告已通过审核，不能再修改"))
    except DomainError:
        await receipts.discard(uploads)
        raise
    files = await receipts.store(storage, uploads)
    async with in_transaction():
        report = await _locked_report(project, milestone)
        if report.status == ReportStatus.ACCEPTED:
            raise InvalidTransition(_("该节点的进展报告已通过审核，不能再修改"))
        attachments = await receipts.replace_files(report, actor, files, list(remove_ids))
        report.text = text.strip()
        version = await receipts.freeze(kind=VersionKind.REPORT, owner=report, actor=actor, now=now, content={
            "project": {"id": project.id, "number": project.number, "title": project.title},
            "milestone": {"id": milestone.id, "title": milestone.title, "due_date": milestone.due_date.isoformat(),
                          "deliverable": milestone.deliverable},
            "text": report.text,
            "attachments": receipts.file_entries(attachments),
        })
        await report.save(update_fields=["text", "current_version", "submitted_at"])
        first = version.version == 1
        await set_report_status(report=report, status=ReportStatus.SUBMITTED, actor=actor,
                                action="submit" if first else "revise", now=now)
        for organiser in await User.filter(is_organiser=True, is_active=True):
            await notify(user=organiser, email=False,
                         subject=lambda: _("进展报告待审核：%(title)s", title=project.title),
                         body=lambda: _("“%(milestone)s”的进展报告（第 %(v)s 版）已于 %(when)s 提交。",
                                        milestone=milestone.title, v=version.version,
                                        when=format_datetime(version.submitted_at)),
                         link=project_link(project) + f"#milestone-{milestone.id}")
    return version


def _check(project: Project, milestone: ProjectMilestone, bid: Bid, actor: User, text: str) -> None:
    if not permissions.is_team(actor, bid):
        raise PermissionDenied(_("只有本项目团队（牵头单位的揭榜方用户）可以提交进展报告"))
    if milestone.project_id != project.id:
        raise DomainError(_("该节点不属于本项目"))
    if project.status not in OPEN_PROJECT_STATES:
        raise InvalidTransition(_("项目当前状态为“%(s)s”，不再接受进展报告", s=project.status.label))
    if not text.strip():
        raise DomainError(_("请填写进展情况"), field="text")
    if len(text) > TEXT_MAX:
        raise DomainError(_("进展情况不能超过 %(n)s 个字", n=TEXT_MAX), field="text")


async def _locked_report(project: Project, milestone: ProjectMilestone) -> ProgressReport:
    existing = await ProgressReport.filter(milestone_id=milestone.id).select_for_update().first()
    if existing is not None:
        return existing
    try:
        async with in_transaction():
            return await ProgressReport.create(project=project, milestone=milestone)
    except IntegrityError:
        return await ProgressReport.filter(milestone_id=milestone.id).select_for_update().get()


async def decide_report(*, report: ProgressReport, actor: User, accept: bool, reason: str = "",
                        now: datetime | None = None) -> ProgressReport:
    """The organiser accepts a report awaiting review, or asks for more with a reason the team
    sees. The team is told (inbox and mail, in each recipient's language)."""
    if actor is None or not actor.is_organiser:
        raise PermissionDenied(_("只有管理员可以审核进展报告"))
    reason = reason.strip()
    if not accept and not reason:
        raise DomainError(_("请说明需要补充的内容，团队将看到这段说明"), field="reason")
    if len(reason) > REASON_MAX:
        raise DomainError(_("不能超过 %(n)s 个字", n=REASON_MAX), field="reason")
    async with in_transaction():
        locked = await ProgressReport.filter(id=report.id).select_for_update().get()
        if locked.status != ReportStatus.SUBMITTED:
            raise InvalidTransition(_("只有待审核的报告可以审核"))
        status = ReportStatus.ACCEPTED if accept else ReportStatus.RETURNED
        await set_report_status(report=locked, status=status, actor=actor, reason=reason,
                                action="accept" if accept else "return", now=now)
        project = await Project.get(id=locked.project_id).select_related("bid")
        milestone = await ProjectMilestone.get(id=locked.milestone_id)

        def body() -> str:
            if accept:
                return _("“%(milestone)s”的进展报告已通过审核。", milestone=milestone.title) + (
                    "\n" + _("说明：%(reason)s", reason=reason) if reason else "")
            return _("“%(milestone)s”的进展报告需要补充：%(reason)s\n请修改后重新提交。", milestone=milestone.title,
                     reason=reason)

        for user in await User.filter(organisation_id=project.bid.lead_org_id, is_active=True):
            await notify(user=user, subject=lambda: _("进展报告审核结果：%(title)s", title=project.title), body=body,
                         link=project_link(project) + f"#milestone-{milestone.id}")
    report.status = locked.status
    return locked
