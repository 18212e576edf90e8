"""Who may see and do what with technology offers and 对接 requests. Shared by handlers, services and templates."""

from challenge.supply.models import (
    EDITABLE_OFFER_STATES,
    ORGANISER_VISIBLE_OFFER_STATES,
    SCREENABLE_OFFER_STATES,
    ContactRequest,
    ContactStatus,
    Offer,
    OfferStatus,
)


def is_organiser(user) -> bool:
    return bool(user is not None and user.is_organiser)


def can_publish_offers(user) -> bool:
    """A member of an approved organisation (not the programme office, which screens offers)."""
    return bool(user is not None and not user.is_organiser and user.organisation is not None
                and user.organisation.is_approved)


def is_own_offer(user, offer: Offer) -> bool:
    return bool(user is not None and user.organisation_id is not None and user.organisation_id == offer.organisation_id)


def can_view_offer(user, offer: Offer) -> bool:
    """Published offers are public; the owner's organisation sees its own; organisers every sent one."""
    if offer.status == OfferStatus.PUBLISHED or is_own_offer(user, offer):
        return True
    return is_organiser(user) and offer.status in ORGANISER_VISIBLE_OFFER_STATES


def can_act_for_offer(user, offer: Offer) -> bool:
    """A member of the offer's (approved) organisation acting for it: edits, withdraws, applies it
    to a catalogue round."""
    return can_publish_offers(user) and is_own_offer(user, offer)


def can_edit_offer(user, offer: Offer) -> bool:
    return can_act_for_offer(user, offer) and offer.status in EDITABLE_OFFER_STATES


def can_withdraw_offer(user, offer: Offer) -> bool:
    return can_act_for_offer(user, offer) and offer.status != OfferStatus.WITHDRAWN


def can_screen_offer(user, offer: Offer) -> bool:
    return is_organiser(user) and offer.status in SCREENABLE_OFFER_STATES


def is_requester(user, contact: ContactRequest) -> bool:
    return bool(user is not None and (
        user.id == contact.requested_by_id
        or (contact.requester_organisation_id is not None and user.organisation_id == contact.requester_organisation_id
            and contact.challenge_id is None)
        or (contact.challenge_id is not None and user.is_organiser)))


def is_offer_owner(user, contact: ContactRequest) -> bool:
    return bool(user is not None and user.organisation_id is not None
                and user.organisation_id == contact.offer.organisation_id and not user.is_organiser)


def can_view_contact(user, contact: ContactRequest) -> bool:
    return is_requester(user, contact) or is_offer_owner(user, contact) or is_organiser(user)


def can_respond(user, contact: ContactRequest) -> bool:
    return is_offer_owner(user, contact) and contact.status == ContactStatus.REQUESTED


def can_record_outcome(user, contact: ContactRequest) -> bool:
    return (is_requester(user, contact) or is_offer_owner(user, contact)) and contact.status == ContactStatus.ACCEPTED


def sees_contact_details(user, contact: ContactRequest) -> bool:
    """Contact details are exchanged only once the owner has accepted, and only between the two sides."""
    accepted = contact.status in {ContactStatus.ACCEPTED, ContactStatus.SIGNED, ContactStatus.NOT_PURSUED}
    return accepted and (is_requester(user, contact) or is_offer_owner(user, contact))
