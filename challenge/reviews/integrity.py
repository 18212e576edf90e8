"""Scores against the audit log: a submitted score must be the value its submission recorded.

Each submission's audit entry (`review.submit`) carries the score values (criterion id -> value)
and the audit chain is keyed, so a score edited in the database afterwards no longer matches its
entry, and the entry cannot be rewritten to match without the key.
"""

from challenge.audit.models import AuditEntry
from challenge.reviews.models import Assignment, AssignmentStatus, Score
from challenge.reviews.services import score_text


async def score_mismatches() -> list[str]:
    """One line per submitted assignment whose scores differ from its latest submission entry."""
    submitted = set(await Assignment.filter(status=AssignmentStatus.SUBMITTED).values_list("id", flat=True))
    if not submitted:
        return []
    recorded: dict[int, dict[str, str | None]] = {}
    for object_id, after in await AuditEntry.filter(action="review.submit", object_type="assignment").order_by(
            "seq").values_list("object_id", "after"):
        if int(object_id) in submitted and isinstance(after, dict) and "scores" in after:
            recorded[int(object_id)] = after["scores"]
    current: dict[int, dict[str, str | None]] = {}
    for assignment_id, criterion_id, value in await Score.filter(
            assignment_id__in=list(submitted)).values_list("assignment_id", "criterion_id", "value"):
        current.setdefault(assignment_id, {})[str(criterion_id)] = score_text(value)
    problems = []
    for assignment_id in sorted(submitted):
        if assignment_id not in recorded:
            problems.append(f"assignment {assignment_id}: submitted, but no submission entry records its scores")
        elif recorded[assignment_id] != current.get(assignment_id, {}):
            problems.append(f"assignment {assignment_id}: scores {current.get(assignment_id, {})} differ from "
                            f"the submitted {recorded[assignment_id]}")
    return problems
