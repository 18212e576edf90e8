"""Funding tranches (拨付计划): the organiser plans each tranche (amount and date, tied to a milestone)
and records its release; the team and the organiser see them on the project's page."""

from datetime import date, datetime
from decimal import Decimal

from tortoise.functions import Sum
from tortoise.transactions import in_transaction

from challenge.accounts.models import User
from challenge.audit.services import record
from challenge.delivery.models import FundingTranche, Project, ProjectMilestone, ProjectStatus
from challenge.delivery.projects import project_link, today
from challenge.errors import DomainError, InvalidTransition, PermissionDenied
from challenge.mail.services import notify
from challenge.web.numfmt import format_wan
from challenge.web.i18n import _
from challenge.web.timefmt import format_date

NOTE_MAX = 500


def _check_organiser(actor: User) -> None:
    if actor is None or not actor.is_organiser:
        raise PermissionDenied(_("只有管理员可以登记拨付"))


async def planned_total(project: Project) -> Decimal:
    row = await FundingTranche.filter(project_id=project.id).annotate(total=Sum("planned_wan")).values("total")
    return Decimal(row[0]["total"] or 0) if row else Decimal("0")


async def add_tranche(*, project: Project, actor: User, milestone_id: int | None, planned_wan: Decimal,
                      planned_on: date, note: str = "") -> FundingTranche:
    """Plan a tranche. Refused for a terminated project, a milestone of another project, and when
    the planned tranches would exceed the funds the bid requested. Audit `tranche.plan`; the team
    is told."""
    _check_organiser(actor)
    if project.status == ProjectStatus.TERMINATED:
        raise InvalidTransition(_("项目已终止，不能再登记拨付计划"))
    errors = {}
    if milestone_id is not None and not await ProjectMilestone.exists(id=milestone_id, project_id=project.id):
        errors["milestone"] = _("所选节点不属于本项目")
    if planned_wan is None or planned_wan <= 0:
        errors["planned_wan"] = _("请填写大于 0 的计划拨付金额（万元）")
    elif project.requested_wan > 0 and await planned_total(project) + planned_wan > project.requested_wan:
        errors["planned_wan"] = _("计划拨付合计不能超过申请资金 %(total)s", total=format_wan(project.requested_wan))
    if planned_on is None:
        errors["planned_on"] = _("请填写计划拨付日期")
    if len(note) > NOTE_MAX:
        errors["note"] = _("不能超过 %(n)s 个字", n=NOTE_MAX)
    if errors:
        raise DomainError(next(iter(errors.values())), errors=errors)
    async with in_transaction():
        tranche = await FundingTranche.create(project=project, milestone_id=milestone_id, planned_wan=planned_wan,
                                              planned_on=planned_on, note=note, created_by=actor)
        await record(actor=actor, action="tranche.plan", obj=tranche,
                     after={"project_id": project.id, "milestone_id": milestone_id, "planned_wan": planned_wan,
                            "planned_on": planned_on})
        await _tell_team(project, lambda: _("拨付计划已登记：%(amount)s，计划于 %(day)s 拨付。",
                                            amount=format_wan(planned_wan), day=format_date(planned_on)))
    return tranche


async def release_tranche(*, tranche: FundingTranche, actor: User, released_wan: Decimal, released_on: date,
                          now: datetime | None = None) -> FundingTranche:
    """Record that a planned tranche was paid: an amount up to the planned one, on a day not in
    the future. Once only. Audit `tranche.release`; the team is told."""
    _check_organiser(actor)
    errors = {}
    if released_wan is None or released_wan <= 0:
        errors["released_wan"] = _("请填写大于 0 的实际拨付金额（万元）")
    elif released_wan > tranche.planned_wan:
        errors["released_wan"] = _("实际拨付金额不能超过计划金额 %(amount)s", amount=format_wan(tranche.planned_wan))
    if released_on is None:
        errors["released_on"] = _("请填写实际拨付日期")
    elif released_on > today(now):
        errors["released_on"] = _("实际拨付日期不能晚于今天")
    if errors:
        raise DomainError(next(iter(errors.values())), errors=errors)
    async with in_transaction():
        updated = await FundingTranche.filter(id=tranche.id, released_on__isnull=True).update(
            released_wan=released_wan, released_on=released_on, released_by_id=actor.id)
        if not updated:
            raise InvalidTransition(_("该批次已登记拨付"))
        await tranche.refresh_from_db()
        await record(actor=actor, action="tranche.release", obj=tranche,
                     after={"released_wan": released_wan, "released_on": released_on})
        project = await Project.get(id=tranche.project_id)
        await _tell_team(project, lambda: _("已拨付 %(amount)s（%(day)s）。", amount=format_wan(released_wan),
                                            day=format_date(released_on)))
    return tranche


async def _tell_team(project: Project, body) -> None:
    bid = await project.bid
    for user in await User.filter(organisation_id=bid.lead_org_id, is_active=True):
        await notify(user=user, subject=lambda: _("项目拨付：%(title)s", title=project.title), body=body,
                     link=project_link(project) + "#tranches")
