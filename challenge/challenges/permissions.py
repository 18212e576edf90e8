"""Who may see and do what with a challenge; shared by handlers and templates."""

from datetime import datetime

from challenge.accounts.models import User
from challenge.challenges.models import Challenge, ChallengeStatus, Question


def is_organiser(user: User | None) -> bool:
    return user is not None and user.is_organiser


def can_view_challenge(user: User | None, challenge: Challenge) -> bool:
    """Drafts exist only for organisers: anyone else gets a 404."""
    return challenge.is_public or is_organiser(user)


def can_edit_challenge(user: User | None, challenge: Challenge) -> bool:
    return is_organiser(user) and challenge.status == ChallengeStatus.DRAFT


def can_amend_challenge(user: User | None, challenge: Challenge, now: datetime) -> bool:
    return is_organiser(user) and challenge.amendable(now)


def can_ask_question(user: User | None, challenge: Challenge, now: datetime) -> bool:
    return user is not None and challenge.accepting_bids(now)


def can_answer_question(user: User | None, question: Question) -> bool:
    return is_organiser(user)


def can_bid(user: User | None, challenge: Challenge, now: datetime) -> bool:
    """Shows the 我要揭榜 button; the bids area enforces its own rules on submission."""
    return user is not None and user.is_bidder and challenge.accepting_bids(now)
