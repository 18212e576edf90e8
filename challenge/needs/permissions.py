"""Who may see and do what with campaigns and needs. Shared by handlers, services and templates."""

from datetime import datetime

from challenge.needs.models import (
    EDITABLE_NEED_STATES,
    ORGANISER_VISIBLE_NEED_STATES,
    PUBLIC_CAMPAIGN_STATES,
    SCREENABLE_NEED_STATES,
    Campaign,
    CampaignStatus,
    Need,
)
from challenge.web.timefmt import now_utc


def is_organiser(user) -> bool:
    return bool(user is not None and user.is_organiser)


def is_active_submitter(user) -> bool:
    """A submitter whose organisation an organiser has approved: may fill and submit needs."""
    return bool(
        user is not None and user.is_submitter and user.organisation is not None
        and user.organisation.is_approved
    )


def can_use_needs(user) -> bool:
    """May open /needs at all (submitters see their organisation's needs, organisers all sent ones)."""
    return bool(user is not None and (user.is_submitter or user.is_organiser))


def campaign_state(campaign: Campaign, now: datetime | None = None) -> CampaignStatus:
    """The status as it stands now: an open campaign past its closing time is closed."""
    now = now or now_utc()
    if campaign.status == CampaignStatus.OPEN and now >= campaign.closes_at:
        return CampaignStatus.CLOSED
    return campaign.status


def is_campaign_open(campaign: Campaign, now: datetime | None = None) -> bool:
    """Submissions are accepted: opened by an organiser and inside its window."""
    now = now or now_utc()
    return campaign.status == CampaignStatus.OPEN and campaign.opens_at <= now < campaign.closes_at


def can_view_campaign(user, campaign: Campaign) -> bool:
    if is_organiser(user):
        return True
    return bool(user is not None and user.is_submitter and campaign.status in PUBLIC_CAMPAIGN_STATES)


def is_own_need(user, need: Need) -> bool:
    return bool(user is not None and user.is_submitter and user.organisation_id is not None
                and user.organisation_id == need.organisation_id)


def can_view_need(user, need: Need) -> bool:
    """Own organisation's needs; organisers see every need once it has been submitted."""
    if is_own_need(user, need):
        return True
    return is_organiser(user) and need.status in ORGANISER_VISIBLE_NEED_STATES


def can_edit_need(user, need: Need) -> bool:
    return is_active_submitter(user) and is_own_need(user, need) and need.status in EDITABLE_NEED_STATES


def can_submit_need(user, need: Need, now: datetime | None = None) -> bool:
    return can_edit_need(user, need) and is_campaign_open(need.campaign, now)


def can_screen_need(user, need: Need) -> bool:
    return is_organiser(user) and need.status in SCREENABLE_NEED_STATES


def can_download_attachments(user, need: Need) -> bool:
    """The owner's organisation (any of its users) and organisers, when the need is visible to them."""
    if user is None:
        return False
    if user.organisation_id is not None and user.organisation_id == need.organisation_id:
        return True
    return is_organiser(user) and need.status in ORGANISER_VISIBLE_NEED_STATES
