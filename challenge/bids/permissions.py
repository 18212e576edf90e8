"""Who may see and do what with a bid: small predicates shared by handlers and templates."""

from datetime import datetime

from challenge.accounts.models import OrgStatus, User
from challenge.bids.models import (
    EDITABLE_BID_STATES,
    FORMAL_FAIL_FROM,
    FORMAL_PASS_FROM,
    SUBMITTABLE_BID_STATES,
    WITHDRAWABLE_BID_STATES,
    Bid,
)
from challenge.bids.services import window_open


def can_bid(user: User | None) -> bool:
    """A bidder whose organisation has been approved may start and edit bids."""
    return bool(
        user is not None and user.is_bidder and user.organisation is not None
        and user.organisation.status == OrgStatus.APPROVED
    )


def is_own_bid(user: User | None, bid: Bid) -> bool:
    return bool(user is not None and user.is_bidder and user.organisation_id == bid.lead_org_id)


def can_view_bid(user: User | None, bid: Bid) -> bool:
    """The lead organisation's bidders and the organisers (experts see bids through the reviews area)."""
    return bool(user is not None and (user.is_organiser or is_own_bid(user, bid)))


def can_download_attachments(user: User | None, bid: Bid) -> bool:
    return can_view_bid(user, bid)


def can_edit_bid(user: User | None, bid: Bid, now: datetime | None = None) -> bool:
    return can_bid(user) and is_own_bid(user, bid) and bid.status in EDITABLE_BID_STATES \
        and window_open(bid.challenge, now)


def can_submit_bid(user: User | None, bid: Bid, now: datetime | None = None) -> bool:
    return can_edit_bid(user, bid, now) and bid.status in SUBMITTABLE_BID_STATES


def can_withdraw_bid(user: User | None, bid: Bid, now: datetime | None = None) -> bool:
    return can_bid(user) and is_own_bid(user, bid) and bid.status in WITHDRAWABLE_BID_STATES \
        and window_open(bid.challenge, now)


def can_check_bid(user: User | None, bid: Bid) -> bool:
    """The organiser's formal check: pass or fail a submitted bid, pass a failed one on second look."""
    return bool(user is not None and user.is_organiser
                and (bid.status in FORMAL_FAIL_FROM or bid.status in FORMAL_PASS_FROM))


def can_manage_bids(user: User | None) -> bool:
    return bool(user is not None and user.is_organiser)
