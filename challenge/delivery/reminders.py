"""Milestone reminders, sent by `challenge remind` (with the experts' review reminders): the team,
some days before a milestone is due while its report is still to be filed (or revised); the
organisers, once a milestone is overdue (due date passed, no accepted report).

Each reminder goes once to each person: what was sent is recorded (`Reminder`, unique per kind,
milestone and person) in the transaction that queues the mail, so running the command twice in a
row sends nothing the second time, and two runs at once cannot both send one.
"""

from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from challenge.accounts.models import User
from challenge.delivery.models import (
    OPEN_PROJECT_STATES,
    ProgressReport,
    ProjectMilestone,
    Reminder,
    ReminderKind,
    ReportStatus,
)
from challenge.delivery.projects import overdue_milestones, project_link, today
from challenge.mail.services import notify
from challenge.web.i18n import _
from challenge.web.timefmt import format_date, now_utc

# A filed report awaiting review, or an accepted one, needs no reminder to the team.
FILED = {ReportStatus.SUBMITTED, ReportStatus.ACCEPTED}


async def send_milestone_reminders(*, days: int, now: datetime | None = None) -> tuple[int, int]:
    """Remind teams of milestones due within `days` days and organisers of overdue ones.
    Returns (team reminders sent, organiser reminders sent)."""
    now = now or now_utc()
    day = today(now)
    soon = await ProjectMilestone.filter(project__status__in=list(OPEN_PROJECT_STATES), due_date__gte=day,
                                         due_date__lte=day + timedelta(days=days)).select_related(
        "project", "project__bid").order_by("due_date", "id")
    late = await overdue_milestones(ProjectMilestone.all(), day).select_related("project", "project__bid").order_by(
        "due_date", "id")
    statuses = dict(await ProgressReport.filter(milestone_id__in=[m.id for m in soon] or [0]).values_list(
        "milestone_id", "status"))
    soon = [m for m in soon if statuses.get(m.id) not in FILED]
    teams: dict[int, list[User]] = {}
    for user in await User.filter(organisation_id__in=list({m.project.bid.lead_org_id for m in soon}) or [0],
                                  is_active=True):
        teams.setdefault(user.organisation_id, []).append(user)
    organisers = list(await User.filter(is_organiser=True, is_active=True))
    sent_team = await _send(ReminderKind.MILESTONE_DUE, [(m, teams.get(m.project.bid.lead_org_id, [])) for m in soon],
                            now)
    sent_office = await _send(ReminderKind.MILESTONE_OVERDUE, [(m, organisers) for m in late], now)
    return sent_team, sent_office


async def _send(kind: ReminderKind, items: list[tuple[ProjectMilestone, list[User]]], now: datetime) -> int:
    sent = set(await Reminder.filter(kind=kind, milestone_id__in=[m.id for m, _users in items] or [0])
               .values_list("milestone_id", "user_id"))
    count = 0
    for milestone, users in items:
        for user in users:
            if (milestone.id, user.id) in sent:
                continue
            try:
                async with in_transaction():
                    await Reminder.create(kind=kind, milestone=milestone, user=user, sent_at=now)
                    await _notify(kind, milestone, user)
            except IntegrityError:
                continue  # another run sent it a moment ago
            count += 1
    return count


async def _notify(kind: ReminderKind, milestone: ProjectMilestone, user: User) -> None:
    project = milestone.project
    link = project_link(project) + f"#milestone-{milestone.id}"
    if kind == ReminderKind.MILESTONE_DUE:
        await notify(user=user, link=link,
                     subject=lambda: _("节点即将到期：%(title)s", title=project.title),
                     body=lambda: _("攻关节点“%(milestone)s”将于 %(day)s 到期，请在到期前提交进展报告及相关材料。",
                                    milestone=milestone.title, day=format_date(milestone.due_date)))
    else:
        await notify(user=user, link=link,
                     subject=lambda: _("节点已逾期：%(title)s", title=project.title),
                     body=lambda: _("攻关节点“%(milestone)s”已于 %(day)s 到期，尚无通过审核的进展报告，请督促项目团队。",
                                    milestone=milestone.title, day=format_date(milestone.due_date)))
