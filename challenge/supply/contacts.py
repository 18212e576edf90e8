"""对接: a need's submitter (or the office, for a challenge) asks an offer's owner for contact.

`set_contact_status` is the only writer of a request's status: requested -> accepted |
declined (the offer's owner), accepted -> signed | not pursued (either side).
"""

from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Q
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from challenge.accounts.models import User
from challenge.audit import services as audit
from challenge.challenges.models import Challenge
from challenge.enums import N_
from challenge.errors import DomainError, InvalidTransition, PermissionDenied
from challenge.mail.services import notify
from challenge.needs.models import Need, NeedStatus
from challenge.supply import permissions
from challenge.supply.models import (
    CONTACT_TRANSITIONS,
    OPEN_CONTACT_STATES,
    ContactRequest,
    ContactStatus,
    MatchShown,
    Offer,
    OfferStatus,
)
from challenge.web.i18n import _
from challenge.web.timefmt import now_utc

# Needs whose submitters may ask for contact: sent to the office and not turned down.
REQUESTING_NEED_STATES = {NeedStatus.SUBMITTED, NeedStatus.RETURNED, NeedStatus.ACCEPTED}
ACTIONS = {
    ContactStatus.ACCEPTED: "contact.accept",
    ContactStatus.DECLINED: "contact.decline",
    ContactStatus.SIGNED: "contact.sign",
    ContactStatus.NOT_PURSUED: "contact.not_pursued",
}
ACTION_LABELS = {
    "contact.request": N_("发起对接"),
    "contact.accept": N_("接受对接"),
    "contact.decline": N_("婉拒对接"),
    "contact.sign": N_("记录结果：已签约"),
    "contact.not_pursued": N_("记录结果：未达成"),
}


def contact_link(contact: ContactRequest) -> str:
    return f"/supply/contacts/{contact.id}"


async def request_contact(*, actor: User, offer: Offer, need: Need | None = None, challenge: Challenge | None = None,
                          message: str) -> ContactRequest:
    """Ask the offer's owner for contact, for one of the actor's needs or (organisers) a challenge.

    One open request per offer and need/challenge: asking again while one is open is refused.
    Side effects: an audit entry `contact.request`; inbox and mail to the offer's organisation.
    """
    message = message.strip()
    if offer.status != OfferStatus.PUBLISHED:
        raise DomainError(_("该技术成果未发布，不能发起对接"))
    if (need is None) == (challenge is None):
        raise DomainError(_("请选择为哪一项需求或榜单发起对接"), field="subject")
    if need is not None:
        if actor.organisation_id is None or actor.organisation_id != need.organisation_id or not actor.is_submitter:
            raise PermissionDenied(_("只能为本单位的技术需求发起对接"))
        if need.status not in REQUESTING_NEED_STATES:
            raise DomainError(_("该需求当前为“%(state)s”，不能发起对接", state=need.status.label), field="subject")
    elif not actor.is_organiser:
        raise PermissionDenied(_("只有管理员可以为榜单发起对接"))
    if actor.organisation_id is not None and actor.organisation_id == offer.organisation_id:
        raise DomainError(_("不能与本单位的技术成果对接"))
    if not message:
        raise DomainError(_("请填写对接说明，成果单位将据此决定是否接受"), field="message")
    async with in_transaction():
        open_query = ContactRequest.filter(offer_id=offer.id, status__in=list(OPEN_CONTACT_STATES))
        open_query = open_query.filter(need_id=need.id) if need else open_query.filter(challenge_id=challenge.id)
        if await open_query.exists():
            raise DomainError(_("已就该成果发起过对接，请在“我的对接”中查看进展"), field="message")
        contact = await ContactRequest.create(
            offer=offer, need=need, challenge=challenge, requested_by=actor, message=message,
            requester_organisation_id=need.organisation_id if need else None)
        await audit.record(actor=actor, action="contact.request", obj=contact,
                           after={"status": contact.status, "offer": offer.id,
                                  "need": need.id if need else None, "challenge": challenge.id if challenge else None})
        subject_title = need.title if need else challenge.title
        for user in await User.filter(organisation_id=offer.organisation_id, is_active=True, is_organiser=False):
            await notify(user=user, subject=lambda: _("新的对接请求：%(name)s", name=offer.name),
                         body=lambda: _("有需求方就技术成果《%(name)s》发起对接（对应：%(subject)s）。请登录平台查看说明并接受或婉拒。",
                                        name=offer.name, subject=subject_title),
                         link=contact_link(contact))
    return contact


async def set_contact_status(*, contact: ContactRequest, status: ContactStatus, actor: User, note: str = "",
                             now: datetime | None = None) -> ContactRequest:
    """The one writer of `ContactRequest.status`.

    requested -> accepted | declined: the offer's owner (a member of its organisation).
    accepted -> signed | not pursued: either side, with a note for "not pursued".
    Side effects, in one transaction: status, `response_note` or `outcome_note`, `responded_at`
    or `closed_at`; an audit entry `contact.<accept|decline|sign|not_pursued>`; inbox and mail
    to the other side.
    """
    now = now or now_utc()
    note = note.strip()
    async with in_transaction():
        current = await ContactRequest.select_for_update().get(id=contact.id)
        current.offer = await Offer.get(id=current.offer_id)  # not joined: PostgreSQL locks no outer join
        if status not in CONTACT_TRANSITIONS[current.status]:
            raise InvalidTransition(_("该对接当前为“%(state)s”，不能改为“%(target)s”",
                                      state=current.status.label, target=status.label))
        owner = permissions.is_offer_owner(actor, current)
        if status in {ContactStatus.ACCEPTED, ContactStatus.DECLINED}:
            if not owner:
                raise PermissionDenied(_("只有成果单位可以接受或婉拒对接"))
        elif not (owner or permissions.is_requester(actor, current)):
            raise PermissionDenied(_("只有对接双方可以记录对接结果"))
        if status == ContactStatus.NOT_PURSUED and not note:
            raise DomainError(_("请说明未达成的原因"), field="note")
        changes: dict = {"status": status, "updated_at": now}
        if status in {ContactStatus.ACCEPTED, ContactStatus.DECLINED}:
            changes.update(response_note=note, responded_at=now)
        else:
            changes.update(outcome_note=note, closed_at=now)
        updated = await ContactRequest.filter(id=current.id, status=current.status).update(**changes)
        if not updated:
            raise InvalidTransition(_("该对接的状态刚被他人修改，请刷新后重试"))
        await audit.record(actor=actor, action=ACTIONS[status], obj=current, before={"status": current.status},
                           after={"status": status}, note=note)
        for name, value in changes.items():
            setattr(contact, name, value)
        await _notify_other_side(contact=current, status=status, actor=actor, owner_acted=owner)
    return contact


async def _notify_other_side(*, contact: ContactRequest, status: ContactStatus, actor: User, owner_acted: bool) -> None:
    offer = contact.offer
    if owner_acted:
        if contact.requester_organisation_id is not None:
            recipients = await User.filter(organisation_id=contact.requester_organisation_id, is_submitter=True,
                                           is_active=True)
        else:
            recipients = await User.filter(is_organiser=True, is_active=True)
    else:
        recipients = await User.filter(organisation_id=offer.organisation_id, is_active=True, is_organiser=False)

    def subject() -> str:
        return _("对接进展（%(state)s）：%(name)s", state=status.label, name=offer.name)

    def body() -> str:
        return _("技术成果《%(name)s》的对接已更新为“%(state)s”。请登录平台查看详情。", name=offer.name, state=status.label)

    for user in recipients:
        if user.id != actor.id:
            await notify(user=user, subject=subject, body=body, link=contact_link(contact))


# -- lists and the funnel ------------------------------------------------------------------------
def contacts_of(user: User):
    """The requests a user takes part in: made by or for the user's organisation, or on its offers."""
    condition = Q(requested_by_id=user.id)
    if user.organisation_id is not None:
        condition |= Q(requester_organisation_id=user.organisation_id) | Q(offer__organisation_id=user.organisation_id)
    if user.is_organiser:
        condition |= Q(challenge_id__isnull=False)
    return ContactRequest.filter(condition)


@dataclass
class Funnel:
    shown: int
    requested: int
    accepted: int
    signed: int
    declined: int
    not_pursued: int
    open: int


async def funnel() -> Funnel:
    """Matches shown -> requests -> accepted -> signed, counted by the database (one grouped query)."""
    rows = await ContactRequest.all().annotate(n=Count("id")).group_by("status").values("status", "n")
    by_status = {str(getattr(r["status"], "value", r["status"])): r["n"] for r in rows}
    requested = sum(by_status.values())
    accepted = sum(by_status.get(s.value, 0) for s in (ContactStatus.ACCEPTED, ContactStatus.SIGNED,
                                                      ContactStatus.NOT_PURSUED))
    return Funnel(shown=await MatchShown.all().count(), requested=requested, accepted=accepted,
                  signed=by_status.get(ContactStatus.SIGNED.value, 0),
                  declined=by_status.get(ContactStatus.DECLINED.value, 0),
                  not_pursued=by_status.get(ContactStatus.NOT_PURSUED.value, 0),
                  open=by_status.get(ContactStatus.REQUESTED.value, 0))


async def contact_history(contact: ContactRequest) -> list[audit.HistoryEvent]:
    return await audit.readable_history(contact, labels=ACTION_LABELS)
