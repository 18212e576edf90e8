"""Who may do what in the review area. Shared by the handlers and the templates."""

from challenge.reviews.models import (
    EDITABLE_ASSIGNMENT_STATES,
    LIVE_ASSIGNMENT_STATES,
    Assignment,
    AssignmentStatus,
    Panel,
    PanelStatus,
)


def can_manage_reviews(user) -> bool:
    return user is not None and user.is_organiser


def is_chair(user, chair_id: int | None) -> bool:
    return user is not None and chair_id is not None and user.id == chair_id


def can_open_assignment(user, assignment: Assignment) -> bool:
    """The expert's own confirmed task (conflicts are checked separately, from the facts)."""
    return user is not None and assignment.expert_id == user.id and assignment.status in LIVE_ASSIGNMENT_STATES


def can_edit_scores(assignment: Assignment) -> bool:
    return assignment.status in EDITABLE_ASSIGNMENT_STATES


def can_decline(assignment: Assignment) -> bool:
    return assignment.status in EDITABLE_ASSIGNMENT_STATES


def can_see_panel_scores(user, assignment: Assignment, chair_id: int | None) -> bool:
    """No expert sees another's scores before he has submitted his own; the chair sees all."""
    return is_chair(user, chair_id) or assignment.status == AssignmentStatus.SUBMITTED


def can_reopen(user, assignment: Assignment, panel: Panel, chair_id: int | None) -> bool:
    return (is_chair(user, chair_id) and assignment.status == AssignmentStatus.SUBMITTED
            and panel.status != PanelStatus.CONCLUDED)


def can_edit_members(panel: Panel) -> bool:
    return panel.status == PanelStatus.FORMING


def can_assign(panel: Panel) -> bool:
    return panel.status != PanelStatus.CONCLUDED
