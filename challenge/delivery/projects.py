"""Projects (攻关项目): each winning bid becomes one when its result is announced, with the bid's
submitted milestones and budget as its plan; the challenge then moves announced → delivering,
and to finished once every project has its final result.

`set_project_status()` is the only writer of `Project.status`. The results area announces
(`results.services.ANNOUNCEMENT_HOOKS`) and the challenges area changes a challenge's status
(`challenges.services.STATUS_HOOKS`) without knowing this area: it registers its reactions here.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from challenge.accounts.models import User
from challenge.audit.services import record
from challenge.bids.models import Bid
from challenge.challenges import services as challenges
from challenge.challenges.models import Challenge, ChallengeStatus
from challenge.delivery.models import (
    FINAL_PROJECT_STATES,
    OPEN_PROJECT_STATES,
    PROJECT_TRANSITIONS,
    Project,
    ProjectMilestone,
    ProjectStatus,
    ReportStatus,
)
from challenge.enums import N_, LabelledStrEnum
from challenge.errors import InvalidTransition
from challenge.mail.services import notify
from challenge.results import services as results
from challenge.reviews.queries import review_content
from challenge.web.i18n import _
from challenge.web.timefmt import now_utc, to_beijing

DUE_SOON_DAYS = 30


def project_link(project: Project) -> str:
    return f"/delivery/projects/{project.id}"


def today(now: datetime | None = None) -> date:
    """The date in Beijing: milestones are due on Beijing dates."""
    return to_beijing(now or now_utc()).date()


# -- milestones as the pages show them ------------------------------------------------------------

class MilestoneState(LabelledStrEnum):
    DONE = "done", N_("已完成")
    AWAITING = "awaiting", N_("报告待审核")
    RETURNED = "returned", N_("报告需补充")
    OVERDUE = "overdue", N_("已逾期")
    DUE_SOON = "due_soon", N_("即将到期")
    UPCOMING = "upcoming", N_("未到期")


def milestone_state(milestone: ProjectMilestone, report_status: ReportStatus | None, day: date) -> MilestoneState:
    """Overdue: the due date has passed and no report of it has been accepted."""
    if report_status == ReportStatus.ACCEPTED:
        return MilestoneState.DONE
    if milestone.due_date < day:
        return MilestoneState.OVERDUE
    if report_status == ReportStatus.SUBMITTED:
        return MilestoneState.AWAITING
    if report_status == ReportStatus.RETURNED:
        return MilestoneState.RETURNED
    if milestone.due_date <= day + timedelta(days=DUE_SOON_DAYS):
        return MilestoneState.DUE_SOON
    return MilestoneState.UPCOMING


def overdue_milestones(query, day: date):
    """Milestones of running projects due before `day` without an accepted report (a queryset,
    for lists and counts: the reminders use it, and so can a desk)."""
    return query.filter(Q(report__id__isnull=True) | Q(report__status__in=[ReportStatus.SUBMITTED,
                                                                            ReportStatus.RETURNED]),
                        due_date__lt=day, project__status__in=list(OPEN_PROJECT_STATES))


# -- creation -------------------------------------------------------------------------------------

async def on_announced(*, notice, challenge: Challenge, winner_ids: list[int], actor: User | None,
                       now: datetime) -> None:
    """The winners of an announced result start their projects; the challenge is then delivering."""
    if not winner_ids:
        return
    for bid in await Bid.filter(id__in=winner_ids).order_by("id"):
        await create_project(bid=bid, challenge=challenge, actor=actor, now=now)
    if challenge.status == ChallengeStatus.ANNOUNCED:
        await challenges.set_challenge_status(challenge=challenge, status=ChallengeStatus.DELIVERING, actor=actor,
                                              now=now)


def _total(items: list[dict], key: str) -> Decimal:
    return sum((Decimal(item.get(key) or 0) for item in items), Decimal("0")).quantize(Decimal("0.01"))


async def create_project(*, bid: Bid, challenge: Challenge, actor: User | None, now: datetime) -> Project:
    """The project of a winning bid: its plan is what the bid last submitted (milestones, budget).
    Audit entry `project.create`; the team is told (inbox and mail)."""
    version, content = await review_content(bid)
    items = content.get("budget", {}).get("items", [])
    async with in_transaction():
        project = await Project.create(challenge=challenge, bid=bid, title=content.get("title") or bid.title or bid.number,
                                       plan_version=version or 0, requested_wan=_total(items, "requested_wan"),
                                       own_wan=_total(items, "own_wan"), started_at=now)
        await ProjectMilestone.bulk_create([
            ProjectMilestone(project=project, position=position, title=row["title"],
                             due_date=date.fromisoformat(row["due_date"]), deliverable=row.get("deliverable", ""))
            for position, row in enumerate(content.get("milestones", []))
        ])
        await record(actor=actor, action="project.create", obj=project,
                     after={"bid_id": bid.id, "challenge_id": challenge.id, "plan_version": project.plan_version,
                            "milestones": len(content.get("milestones", [])),
                            "requested_wan": project.requested_wan})
        for user in await User.filter(organisation_id=bid.lead_org_id, is_active=True):
            await notify(user=user, subject=lambda: _("攻关项目已建立：%(title)s", title=project.title),
                         body=lambda: _("按申报的攻关计划，请在各节点到期前提交进展报告；项目完成后提交验收报告。"),
                         link=project_link(project))
    return project


# -- the status -----------------------------------------------------------------------------------

async def set_project_status(*, project: Project, status: ProjectStatus, actor: User | None, reason: str = "",
                             now: datetime | None = None) -> Project:
    """The only writer of `Project.status` (PROJECT_TRANSITIONS).

    Side effects, in the caller's transaction: `finished_at` when the project reaches a final
    state; the audit entry `project.<status>`; and when every project of the challenge is final,
    the challenge moves delivering → finished (through the challenges area's status function).
    """
    now = now or now_utc()
    status = ProjectStatus(status)
    if status not in PROJECT_TRANSITIONS[project.status]:
        raise InvalidTransition(_("项目当前状态为“%(a)s”，不能变更为“%(b)s”", a=project.status.label, b=status.label))
    before = {"status": project.status.value}
    project.status = status
    if status in FINAL_PROJECT_STATES:
        project.finished_at = now
    await project.save(update_fields=["status", "finished_at", "rectify_by", "acceptance_round"])
    await record(actor=actor, action=f"project.{status.value}", obj=project, before=before,
                 after={"status": status.value, "rectify_by": project.rectify_by,
                        "acceptance_round": project.acceptance_round}, note=reason)
    if status in FINAL_PROJECT_STATES:
        await _finish_when_done(project.challenge_id, actor, now)
    return project


async def _finish_when_done(challenge_id: int, actor: User | None, now: datetime) -> None:
    challenge = await Challenge.get(id=challenge_id)
    if challenge.status != ChallengeStatus.DELIVERING:
        return
    if await Project.filter(challenge_id=challenge_id, status__in=list(OPEN_PROJECT_STATES)).exists():
        return
    await challenges.set_challenge_status(challenge=challenge, status=ChallengeStatus.FINISHED, actor=actor, now=now)


async def on_challenge_status(*, challenge: Challenge, status: ChallengeStatus, actor: User | None, reason: str,
                              now: datetime) -> None:
    """A cancelled challenge ends its running projects."""
    if status != ChallengeStatus.CANCELLED:
        return
    for project in await Project.filter(challenge_id=challenge.id, status__in=list(OPEN_PROJECT_STATES)):
        await set_project_status(project=project, status=ProjectStatus.TERMINATED, actor=actor, now=now,
                                 reason=reason)


results.ANNOUNCEMENT_HOOKS.append(on_announced)
challenges.STATUS_HOOKS.append(on_challenge_status)
