"""Organisation membership: requests, decisions by the organisation's managers or organisers,
removal, and the manager flag. `set_membership_status` is the only place a request's status
changes; each change is audited and told to the people it concerns (inbox + mail).

A person is a member exactly when `User.organisation` is set: approval sets it, removal clears
it (and ends the person's sessions), so every check on `user.organisation_id` means membership.
"""

from tortoise.transactions import in_transaction

from challenge.accounts import sessions
from challenge.accounts.models import (
    CURRENT_MEMBERSHIP_STATES,
    Membership,
    MembershipStatus,
    Organisation,
    User,
)
from challenge.audit import services as audit
from challenge.errors import DomainError, InvalidTransition, PermissionDenied
from challenge.mail.services import notify
from challenge.web.i18n import _
from challenge.web.timefmt import now_utc

TRANSITIONS = {
    MembershipStatus.PENDING: {MembershipStatus.APPROVED, MembershipStatus.REJECTED, MembershipStatus.WITHDRAWN},
    MembershipStatus.APPROVED: {MembershipStatus.REMOVED},
}
ORGANISATION_PAGE = "/organisation"


def can_manage_members(user: User | None, organisation_id: int) -> bool:
    """Organisers, and the managers of that organisation."""
    return bool(user is not None and user.is_active and (
        user.is_organiser or (user.is_org_manager and user.organisation_id == organisation_id)))


def _require_manager(actor: User, organisation_id: int) -> None:
    if not can_manage_members(actor, organisation_id):
        raise PermissionDenied(_("只有本单位的管理人或平台管理员可以管理成员"))


async def managers(organisation_id: int) -> list[User]:
    return list(await User.filter(organisation_id=organisation_id, is_org_manager=True, is_active=True))


async def _tell_managers(organisation: Organisation, subject, body="", *, link: str, skip: User | None = None):
    """The organisation's managers, or the organisers when it has none yet."""
    recipients = await managers(organisation.id) or list(await User.filter(is_organiser=True, is_active=True))
    for recipient in recipients:
        if skip is None or recipient.id != skip.id:
            await notify(user=recipient, subject=subject, body=body, link=link)


async def current_request(user: User) -> Membership | None:
    return await Membership.filter(user_id=user.id, status=MembershipStatus.PENDING) \
        .select_related("organisation").first()


async def request_membership(*, user: User, organisation: Organisation) -> Membership:
    """A pending request to join `organisation`. Side effects: audit `membership.request`; the
    organisation's managers (or the organisers) are told. Call inside the caller's transaction."""
    if user.organisation_id is not None or await Membership.filter(
            user_id=user.id, status__in=list(CURRENT_MEMBERSHIP_STATES)).exists():
        raise DomainError(_("您已属于一个单位或已有待审核的加入申请；如需更换，请先撤回申请或联系单位管理人。"),
                          field="organisation_id")
    async with in_transaction():
        membership = await Membership.create(user=user, organisation=organisation)
        await audit.record(actor=user, action="membership.request", obj=membership,
                           after={"user": user.email, "organisation": organisation.name, "status": membership.status})
        await _tell_managers(
            organisation, lambda: _("%(name)s 申请加入本单位", name=user.name),
            lambda: _("%(name)s（%(email)s）申请加入“%(org)s”。请核实其身份后通过或不予通过。",
                      name=user.name, email=user.email, org=organisation.name),
            link=ORGANISATION_PAGE)
    return membership


async def register_founder(*, user: User, organisation: Organisation) -> Membership:
    """The person who registers a new organisation is its first member and manager."""
    async with in_transaction():
        membership = await Membership.create(user=user, organisation=organisation, status=MembershipStatus.APPROVED,
                                             decided_at=now_utc(), reason="registrant")
        await User.filter(id=user.id).update(organisation_id=organisation.id, is_org_manager=True)
        user.organisation_id, user.is_org_manager = organisation.id, True
        await audit.record(actor=user, action="membership.founder", obj=membership,
                           after={"user": user.email, "organisation": organisation.name, "manager": True})
    return membership


async def set_membership_status(*, membership: Membership, status: MembershipStatus, actor: User,
                                reason: str = "") -> None:
    """Approve, reject, withdraw a request or remove a member.

    Side effects: approval makes the person a member (`User.organisation`); removal clears it,
    drops the manager flag and ends the person's sessions; audit `membership.<status>`;
    the person and the organisation's managers are told (on approval, every member).
    """
    organisation = await Organisation.get(id=membership.organisation_id)
    person = await User.get(id=membership.user_id)
    if status == MembershipStatus.WITHDRAWN:
        if actor.id != person.id:
            raise PermissionDenied(_("只能撤回自己的申请"))
    else:
        _require_manager(actor, organisation.id)
    if status not in TRANSITIONS.get(membership.status, set()):
        raise InvalidTransition(_("该申请已处理，请刷新页面查看最新状态"))
    if status == MembershipStatus.REJECTED and not reason:
        raise DomainError(_("请说明不予通过的原因"), field="reason")
    if status == MembershipStatus.REMOVED and person.is_org_manager and len(await managers(organisation.id)) <= 1:
        raise DomainError(_("不能移出本单位唯一的管理人；请先指定其他管理人"))
    before = membership.status
    async with in_transaction():
        changed = await Membership.filter(id=membership.id, status=before).update(
            status=status, decided_by_id=actor.id, decided_at=now_utc(), reason=reason)
        if not changed:
            raise InvalidTransition(_("该申请已处理，请刷新页面查看最新状态"))
        membership.status = status
        if status == MembershipStatus.APPROVED:
            joined = await User.filter(id=person.id, organisation_id__isnull=True).update(organisation_id=organisation.id)
            if not joined:
                raise DomainError(_("申请人已属于其他单位"))
        if status == MembershipStatus.REMOVED:
            await User.filter(id=person.id).update(organisation_id=None, is_org_manager=False)
            await sessions.revoke_all(user=person, actor=actor, reason="membership.removed")
        await audit.record(actor=actor, action=f"membership.{status.value}", obj=membership,
                           before={"status": before}, after={"status": status, "user": person.email,
                                                             "organisation": organisation.name}, note=reason)
        await _announce(membership, status, person=person, organisation=organisation, actor=actor, reason=reason)


async def _announce(membership, status, *, person, organisation, actor, reason) -> None:
    name, org = person.name, organisation.name
    if status == MembershipStatus.APPROVED:
        await notify(user=person, subject=lambda: _("您已加入“%(org)s”", org=org), link="/account")
        for member in await User.filter(organisation_id=organisation.id, is_active=True).exclude(id=person.id):
            await notify(user=member, subject=lambda: _("%(name)s 已加入本单位", name=name), link=ORGANISATION_PAGE)
    elif status == MembershipStatus.REJECTED:
        await notify(user=person, subject=lambda: _("加入“%(org)s”的申请未通过", org=org), body=reason, link="/account")
        await _tell_managers(organisation, lambda: _("已不予通过 %(name)s 的加入申请", name=name), reason,
                             link=ORGANISATION_PAGE, skip=actor)
    elif status == MembershipStatus.REMOVED:
        await notify(user=person, subject=lambda: _("您已被移出“%(org)s”", org=org), body=reason, link="/account")
        await _tell_managers(organisation, lambda: _("%(name)s 已被移出本单位", name=name), reason,
                             link=ORGANISATION_PAGE, skip=actor)
    elif status == MembershipStatus.WITHDRAWN:
        await _tell_managers(organisation, lambda: _("%(name)s 已撤回加入申请", name=name), link=ORGANISATION_PAGE)


async def remove_member(*, member: User, actor: User, reason: str) -> None:
    """Remove a member through `set_membership_status` (their approved membership; one is recorded
    first for a member placed without a request, e.g. by `create_user`)."""
    _require_manager(actor, member.organisation_id)
    current = await Membership.filter(user_id=member.id, organisation_id=member.organisation_id,
                                      status=MembershipStatus.APPROVED).first()
    if current is None:
        current = await Membership.create(user=member, organisation_id=member.organisation_id,
                                          status=MembershipStatus.APPROVED, reason="recorded")
    await set_membership_status(membership=current, status=MembershipStatus.REMOVED, actor=actor, reason=reason)


async def set_manager(*, member: User, manager: bool, actor: User) -> None:
    """Grant or revoke the manager flag of a member. Never leaves an organisation without a manager.
    Side effects: audit `membership.manager`; the member is told."""
    if member.organisation_id is None:
        raise DomainError(_("该用户不是本单位成员"))
    _require_manager(actor, member.organisation_id)
    if member.is_org_manager == manager:
        return
    if not manager and len(await managers(member.organisation_id)) <= 1:
        raise DomainError(_("不能取消本单位唯一的管理人；请先指定其他管理人"))
    async with in_transaction():
        await User.filter(id=member.id).update(is_org_manager=manager)
        member.is_org_manager = manager
        await audit.record(actor=actor, action="membership.manager", obj=member,
                           before={"manager": not manager}, after={"manager": manager})
        await notify(user=member, subject=(lambda: _("您已成为本单位管理人")) if manager
                     else (lambda: _("您已不再是本单位管理人")), link=ORGANISATION_PAGE)


async def organisation_page(organisation: Organisation) -> dict:
    """What the organisation page shows: members (managers first) and pending requests."""
    members = await User.filter(organisation_id=organisation.id).order_by("-is_org_manager", "name", "id")
    pending = await Membership.filter(organisation_id=organisation.id, status=MembershipStatus.PENDING) \
        .select_related("user").order_by("created_at", "id")
    history = await Membership.filter(organisation_id=organisation.id).exclude(status=MembershipStatus.PENDING) \
        .select_related("user", "decided_by").order_by("-decided_at", "-id").limit(50)
    return {"organisation": organisation, "members": members, "pending": pending, "history": history}
