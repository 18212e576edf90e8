"""Who may see and do what in delivery: small predicates shared by handlers, services and templates.

A team is the bidder users of a bid's lead organisation (approved members); the organisers see
and manage everything; nobody else sees a project's reports, tranches or reviews, and the public
sees published acceptance results only.
"""

from challenge.accounts.models import OrgStatus, User
from challenge.bids.models import Bid
from challenge.delivery.models import OPEN_PROJECT_STATES, Project


def is_team(user: User | None, bid: Bid) -> bool:
    """A bidder of the bid's lead organisation, whose organisation is approved."""
    return bool(user is not None and user.is_bidder and user.organisation_id == bid.lead_org_id
                and user.organisation is not None and user.organisation.status == OrgStatus.APPROVED)


def can_manage(user: User | None) -> bool:
    return bool(user is not None and user.is_organiser)


def can_view_bid_delivery(user: User | None, bid: Bid) -> bool:
    """The team and the organisers see a bid's stage deliverables and its project."""
    return can_manage(user) or is_team(user, bid)


def can_report(user: User | None, project: Project, bid: Bid) -> bool:
    """The team files progress and acceptance reports while the project runs."""
    return is_team(user, bid) and project.status in OPEN_PROJECT_STATES
