"""Review rules: panels, assignments, scoring, conflicts rechecks, results."""

from tortoise.transactions import in_transaction

from challenge.accounts.models import User
from challenge.audit.services import record
from challenge.mail.services import notify
from challenge.reviews.conflicts import conflicts_for_challenge
from challenge.reviews.models import (
    ACTIVE_ASSIGNMENT_STATES,
    Assignment,
    AssignmentStatus,
)
from challenge.web.i18n import gettext as _


async def set_assignment_status(*, assignment: Assignment, status: AssignmentStatus, actor: User | None,
                                reason: str = "", action: str = "") -> Assignment:
    """The only writer of `Assignment.status`.

    Side effects: the audit entry `review.<action or status>` in the caller's transaction, and
    `reason` stored on the assignment when given. Notifications are the caller's business
    (their wording depends on the event).
    """
    before = {"status": assignment.status.value, "reason": assignment.reason}
    assignment.status = status
    if reason:
        assignment.reason = reason
    await assignment.save(update_fields=["status", "reason", "submitted_at", "reopen_count", "updated_at"])
    await record(
        actor=actor,
        action=f"review.{action or status.value}",
        obj=assignment,
        before=before,
        after={"status": status.value, "bid_id": assignment.bid_id, "expert_id": assignment.expert_id,
               "panel_id": assignment.panel_id},
        note=reason,
    )
    return assignment


async def recheck_conflicts(*, bid, actor: User | None = None) -> list:
    """Re-run the conflict rule for every active assignment on the challenge of `bid`.

    Called by the bids area after any change of a consortium (partners, members, lead). A change
    to one bid can conflict an expert with every bid of the challenge ("bid on the same
    challenge"), so all of the challenge's assignments are checked. Conflicted assignments are
    revoked (status REVOKED with the reason), scores kept for the record but no longer counted,
    the organiser who created the panel is notified (the expert too, without naming the bid's
    parties). Returns the revoked assignments.
    """
    assignments = await Assignment.filter(
        panel__challenge_id=bid.challenge_id, status__in=list(ACTIVE_ASSIGNMENT_STATES)
    ).select_related("panel", "panel__created_by", "expert")
    if not assignments:
        return []
    pairs = await conflicts_for_challenge(
        challenge_id=bid.challenge_id,
        expert_ids=sorted({a.expert_id for a in assignments}),
        bid_ids=sorted({a.bid_id for a in assignments}),
    )
    revoked = []
    async with in_transaction():
        for assignment in assignments:
            reasons = pairs.get((assignment.expert_id, assignment.bid_id))
            if not reasons:
                continue
            reason = _("利益冲突:%(reasons)s", reasons="、".join(reasons))
            await set_assignment_status(assignment=assignment, status=AssignmentStatus.REVOKED, actor=actor,
                                        reason=reason, action="conflict_revoke")
            revoked.append(assignment)
            panel = assignment.panel
            if panel.created_by is not None:
                await notify(
                    user=panel.created_by,
                    subject=_("评审分配因利益冲突被撤销:%(panel)s", panel=panel.name),
                    body=_("专家 %(expert)s 与申报 #%(bid)s 存在利益冲突(%(reasons)s),分配已撤销,请补充评审专家。",
                           expert=assignment.expert.name, bid=assignment.bid_id, reasons="、".join(reasons)),
                    link=f"/review/manage/panels/{panel.id}",
                )
            await notify(
                user=assignment.expert,
                subject=_("一项评审任务已撤销"),
                body=_("因利益冲突规则,您在“%(panel)s”中的一项评审任务已撤销。", panel=panel.name),
                link="/review",
            )
    return revoked
