"""Acceptance reviews (验收): besides scoring on the rubric, each expert judges every assessment
target (考核指标) met or not met. The judgements are saved with the scores (a draft, or the
submission, which needs one for every target and locks them with the scores); the organiser's
result counts the submitted ones (`tally`)."""

from decimal import Decimal

from tortoise.transactions import in_transaction

from challenge.accounts.models import User
from challenge.audit.services import record
from challenge.challenges.models import AssessmentTarget, RubricCriterion
from challenge.errors import DomainError, InvalidTransition, NotFound
from challenge.reviews import services
from challenge.reviews.models import (
    EDITABLE_ASSIGNMENT_STATES,
    Assignment,
    AssignmentStatus,
    Panel,
    PanelPurpose,
    TargetJudgement,
)
from challenge.web.i18n import gettext as _


async def targets_of(panel: Panel) -> list[AssessmentTarget]:
    """The targets an expert of this panel judges: all of the challenge's, for an acceptance."""
    if panel.purpose != PanelPurpose.ACCEPTANCE:
        return []
    return list(await AssessmentTarget.filter(challenge_id=panel.challenge_id).order_by("position", "id"))


async def saved(assignment: Assignment) -> dict[int, TargetJudgement]:
    return {j.target_id: j for j in await TargetJudgement.filter(assignment_id=assignment.id)}


async def save_review(*, assignment: Assignment, panel: Panel, criteria: list[RubricCriterion],
                      values: dict[int, Decimal | None], comments: dict[int, str], opinion: str,
                      judgements: dict[int, bool | None], notes: dict[int, str], submit: bool,
                      actor: User) -> Assignment:
    """Save the expert's judgements and scores together; nothing is saved when either is refused.
    Submitting needs a judgement for every target (audit entry `review.judge` with them)."""
    targets = await targets_of(panel)
    if assignment.expert_id != actor.id:
        raise NotFound(_("未找到该评审任务"))
    if assignment.status not in EDITABLE_ASSIGNMENT_STATES:
        raise InvalidTransition(_("评分已提交并锁定；如需修改，请联系专家组组长退回"))
    errors = {f"judge_{t.id}": _("提交前请判断“%(name)s”是否达到", name=t.name)
              for t in targets if submit and judgements.get(t.id) is None}
    if errors:
        raise DomainError(next(iter(errors.values())), errors=errors)
    async with in_transaction():
        current = await saved(assignment)
        for target in targets:
            met, note = judgements.get(target.id), notes.get(target.id, "")
            row = current.get(target.id)
            if row is None:
                await TargetJudgement.create(assignment=assignment, target=target, met=met, comment=note)
            elif (row.met, row.comment) != (met, note):
                row.met, row.comment = met, note
                await row.save(update_fields=["met", "comment", "updated_at"])
        if targets and submit:
            await record(actor=actor, action="review.judge", obj=assignment,
                         after={"judgements": {str(t.id): judgements[t.id] for t in targets}})
        await services.save_scores(assignment=assignment, criteria=criteria, values=values, comments=comments,
                                   opinion=opinion, submit=submit, actor=actor)
    return assignment


async def tally(panel: Panel) -> dict[int, dict[int, tuple[int, int]]]:
    """bid id -> target id -> (experts who judged it met, experts who judged it), over the
    submitted reviews."""
    rows = await TargetJudgement.filter(assignment__panel_id=panel.id, assignment__status=AssignmentStatus.SUBMITTED,
                                        met__isnull=False).values_list("assignment__bid_id", "target_id", "met")
    counts: dict[int, dict[int, tuple[int, int]]] = {}
    for bid_id, target_id, met in rows:
        yes, total = counts.setdefault(bid_id, {}).get(target_id, (0, 0))
        counts[bid_id][target_id] = (yes + bool(met), total + 1)
    return counts
