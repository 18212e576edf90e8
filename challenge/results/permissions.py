"""Who may see and do what with notices and objections; shared by handlers and templates."""

from datetime import datetime

from challenge.results.models import Notice, Objection


def can_manage_results(user) -> bool:
    return user is not None and user.is_organiser


def can_object(user, notice: Notice, now: datetime) -> bool:
    return user is not None and notice.accepts_objections(now)


def can_view_objection(user, objection: Objection) -> bool:
    """An objection is confidential: its objector and the organisers."""
    return user is not None and (user.is_organiser or objection.objector_id == user.id)
