"""Technology offers (技术成果): the rules.

`set_offer_status` is the only writer of an offer's status. It checks the transition, writes
the audit log and notifies, in one transaction with the change. Offers are screened by the
programme office as needs are: submitted -> published | returned (with a reason).
"""

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from challenge.accounts.models import Organisation, OrgStatus, User
from challenge.audit import services as audit
from challenge.catalog.models import Domain
from challenge.enums import N_
from challenge.errors import DomainError, InvalidTransition, PermissionDenied
from challenge.mail.services import notify
from challenge.supply import matching
from challenge.supply.models import (
    MAX_PARAMETERS,
    OFFER_TRANSITIONS,
    ORGANISER_VISIBLE_OFFER_STATES,
    Offer,
    OfferParameter,
    OfferStatus,
    TransferMode,
)
from challenge.web.i18n import _
from challenge.web.timefmt import now_utc

PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()\-]{5,24}(\s*(转|ext\.?|x)\s*[0-9]{1,6})?$", re.IGNORECASE)
NUMBER_RE = re.compile(r"[-+]?\d+(?:\.\d+)?")
OFFER_TEXT_FIELDS = ("summary", "core_process", "scope", "benefits_text")
MIN_TEXT_FOR_SUBMIT = 10
CONTENT_FIELDS = ("name", "domain_id", "trl", *OFFER_TEXT_FIELDS, "energy_saved_tce", "co2_reduced_t", "cost_wan",
                  "ip_status", "patent_numbers", "transfer_modes", "contact_name", "contact_phone", "contact_email")


@dataclass
class ParameterRow:
    name: str
    value: str
    unit: str = ""


@dataclass
class OfferContent:
    """What an owner typed into the offer form, cleaned."""

    name: str = ""
    domain_id: int | None = None
    trl: int | None = None
    summary: str = ""
    core_process: str = ""
    scope: str = ""
    benefits_text: str = ""
    energy_saved_tce: Decimal | None = None
    co2_reduced_t: Decimal | None = None
    cost_wan: Decimal | None = None
    ip_status: str = "none"
    patent_numbers: str = ""
    transfer_modes: list[str] = field(default_factory=list)
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""
    parameters: list[ParameterRow] = field(default_factory=list)


def parse_number(value: str) -> float | None:
    """The first number in a parameter value as typed ("≥ 98.5", "0.8~1.2" -> 0.8), for matching."""
    found = NUMBER_RE.search((value or "").replace(",", "").replace("，", ""))
    return float(found.group()) if found else None


def submission_problems(offer, parameters) -> dict[str, str]:
    """What an offer still lacks before it can be submitted, per field (the form and a saved offer alike)."""
    problems: dict[str, str] = {}
    if not (offer.name or "").strip():
        problems["name"] = _("此项为必填项")
    if not offer.domain_id:
        problems["domain_id"] = _("提交前请选择所属领域")
    if offer.trl is None:
        problems["trl"] = _("提交前请选择技术成熟度")
    for name in OFFER_TEXT_FIELDS:
        value = (getattr(offer, name) or "").strip()
        if not value:
            problems[name] = _("提交前请填写此项")
        elif len(value) < MIN_TEXT_FOR_SUBMIT:
            problems[name] = _("请至少填写 %(n)s 个字", n=MIN_TEXT_FOR_SUBMIT)
    if not list(parameters):
        problems["parameters"] = _("提交前请至少填写一项主要技术参数")
    if not offer.transfer_modes:
        problems["transfer_modes"] = _("提交前请至少选择一种合作方式")
    if not (offer.contact_name or "").strip():
        problems["contact_name"] = _("提交前请填写联系人")
    if not (offer.contact_phone or "").strip():
        problems["contact_phone"] = _("提交前请填写联系电话")
    return problems


def offer_link(offer: Offer) -> str:
    return f"/supply/{offer.id}"


# -- content -------------------------------------------------------------------------------------
async def check_owner(actor: User, organisation_id: int) -> None:
    """The actor is a member of this organisation, and the organisation is approved (read fresh)."""
    if actor.organisation_id is None or actor.is_organiser:
        raise PermissionDenied(_("只有已加入单位的用户可以发布技术成果"))
    if actor.organisation_id != organisation_id:
        raise PermissionDenied(_("只能填写和修改本单位的技术成果"))
    if not await Organisation.filter(id=organisation_id, status=OrgStatus.APPROVED).exists():
        raise PermissionDenied(_("您的单位尚未通过审核，审核通过后即可发布技术成果"))


async def save_offer(*, actor: User, offer: Offer | None, content: OfferContent) -> Offer:
    """Create a draft or save changes to a draft/returned offer with its parameter rows (replaced whole)."""
    await check_owner(actor, offer.organisation_id if offer else actor.organisation_id)
    if offer is not None and offer.status not in {OfferStatus.DRAFT, OfferStatus.RETURNED}:
        raise InvalidTransition(_("该技术成果当前为“%(state)s”，不能修改", state=offer.status.label))
    if content.domain_id is not None and not await Domain.filter(id=content.domain_id, is_active=True).exists():
        raise DomainError(_("所选领域不存在"), field="domain_id")
    if len(content.parameters) > MAX_PARAMETERS:
        raise DomainError(_("最多填写 %(n)s 项技术参数", n=MAX_PARAMETERS), field="parameters")
    values = {name: getattr(content, name) for name in CONTENT_FIELDS}
    async with in_transaction():
        if offer is None:
            offer = await Offer.create(organisation_id=actor.organisation_id, created_by=actor,
                                       status=OfferStatus.DRAFT, **values)
            await audit.record(actor=actor, action="offer.create", obj=offer, after={"name": offer.name})
        else:
            changed = sorted(name for name, value in values.items() if getattr(offer, name) != value)
            for name, value in values.items():
                setattr(offer, name, value)
            offer.updated_at = now_utc()
            await offer.save(update_fields=[*values, "updated_at"])
            old = await OfferParameter.filter(offer=offer).order_by("position").values_list("name", "value", "unit")
            if [tuple(r) for r in old] != [(p.name, p.value, p.unit) for p in content.parameters]:
                changed.append("parameters")
            await OfferParameter.filter(offer=offer).delete()
            if changed:
                await audit.record(actor=actor, action="offer.update", obj=offer, after={"fields": changed})
        await OfferParameter.bulk_create([
            OfferParameter(offer=offer, position=i, name=row.name, value=row.value, unit=row.unit,
                           number=parse_number(row.value))
            for i, row in enumerate(content.parameters)
        ])
    return offer


# -- the state machine ---------------------------------------------------------------------------
ACTIONS = {
    OfferStatus.SUBMITTED: "offer.submit",
    OfferStatus.PUBLISHED: "offer.publish",
    OfferStatus.RETURNED: "offer.return",
    OfferStatus.WITHDRAWN: "offer.withdraw",
}


async def set_offer_status(*, offer: Offer, status: OfferStatus, actor: User, reason: str = "",
                           now: datetime | None = None) -> Offer:
    """The one writer of `Offer.status`.

    Transitions (OFFER_TRANSITIONS): draft|returned -> submitted (the owner, content complete);
    submitted -> published | returned (the programme office; returning needs a reason); any
    live state -> withdrawn (the owner). Side effects, in one transaction: `status`,
    `status_reason`, `submitted_at`/`published_at`; an audit entry `offer.<action>`; inbox and
    mail to the organisers on submission and to the owner organisation's members on screening;
    on publishing, the matches it now makes are recorded for the funnel (`matching.record_all`).
    """
    now = now or now_utc()
    reason = reason.strip()
    async with in_transaction():
        current = await Offer.select_for_update().get(id=offer.id)
        if status not in OFFER_TRANSITIONS[current.status]:
            raise InvalidTransition(_("该技术成果当前为“%(state)s”，不能改为“%(target)s”",
                                      state=current.status.label, target=status.label))
        if status in {OfferStatus.SUBMITTED, OfferStatus.WITHDRAWN}:
            await check_owner(actor, current.organisation_id)
        elif not actor.is_organiser:
            raise PermissionDenied(_("只有管理员可以审核技术成果"))
        if status == OfferStatus.SUBMITTED:
            parameters = await OfferParameter.filter(offer_id=current.id)
            problems = submission_problems(current, parameters)
            if problems:
                raise DomainError(_("技术成果信息尚不完整，请补充后再提交"), errors=problems)
        if status == OfferStatus.RETURNED and not reason:
            raise DomainError(_("请填写退回理由，成果单位将看到该理由"), field="reason")
        changes = {"status": status, "status_reason": reason, "updated_at": now}
        if status == OfferStatus.SUBMITTED:
            changes["submitted_at"] = now
        if status == OfferStatus.PUBLISHED:
            changes["published_at"] = now
        updated = await Offer.filter(id=current.id, status=current.status).update(**changes)
        if not updated:
            raise InvalidTransition(_("该技术成果的状态刚被他人修改，请刷新后重试"))
        await audit.record(actor=actor, action=ACTIONS[status], obj=current, before={"status": current.status},
                           after={"status": status}, note=reason)
        for name, value in changes.items():
            setattr(offer, name, value)
        await _notify_status(offer=offer, status=status, reason=reason)
        if status == OfferStatus.PUBLISHED:
            await matching.record_all()
    return offer


async def _notify_status(*, offer: Offer, status: OfferStatus, reason: str) -> None:
    link = offer_link(offer)
    if status == OfferStatus.SUBMITTED:
        for organiser in await User.filter(is_organiser=True, is_active=True):
            await notify(user=organiser, subject=lambda: _("新的技术成果待审核：%(name)s", name=offer.name),
                         body=lambda: _("技术成果《%(name)s》已提交，请审核后发布或退回修改。", name=offer.name), link=link)
        return
    if status == OfferStatus.WITHDRAWN:
        return

    def subject() -> str:
        if status == OfferStatus.PUBLISHED:
            return _("技术成果已发布：%(name)s", name=offer.name)
        return _("技术成果被退回修改：%(name)s", name=offer.name)

    def body() -> str:
        if status == OfferStatus.PUBLISHED:
            return _("您单位的技术成果《%(name)s》已通过审核并公开发布，将参与供需匹配。", name=offer.name)
        return _("您单位的技术成果《%(name)s》被退回修改。理由：%(reason)s", name=offer.name, reason=reason)

    for user in await User.filter(organisation_id=offer.organisation_id, is_active=True):
        await notify(user=user, subject=subject, body=body, link=link)


# -- lists ---------------------------------------------------------------------------------------
@dataclass
class OfferFilters:
    q: str = ""
    domain_id: int | None = None
    params: dict = field(default_factory=dict)


def published_offers(filters: OfferFilters):
    query = Offer.filter(status=OfferStatus.PUBLISHED)
    if filters.domain_id:
        query = query.filter(domain_id=filters.domain_id)
    if filters.q:
        query = query.filter(Q(name__icontains=filters.q) | Q(summary__icontains=filters.q)
                             | Q(core_process__icontains=filters.q) | Q(scope__icontains=filters.q))
    return query.order_by("-published_at", "-id")


def screening_queue():
    return Offer.filter(status__in=list(ORGANISER_VISIBLE_OFFER_STATES)).order_by("-updated_at", "-id")


async def parameters_of(offer: Offer) -> list[OfferParameter]:
    return await OfferParameter.filter(offer_id=offer.id).order_by("position", "id")


def mode_labels(values: list[str]) -> list[str]:
    known = {m.value: m for m in TransferMode}
    return [known[v].label for v in values if v in known]


ACTION_LABELS = {
    "offer.create": N_("创建草稿"),
    "offer.update": N_("修改成果内容"),
    "offer.submit": N_("提交审核"),
    "offer.publish": N_("审核通过并发布"),
    "offer.return": N_("退回修改"),
    "offer.withdraw": N_("撤回成果"),
}


async def offer_history(offer: Offer) -> list[audit.HistoryEvent]:
    return await audit.readable_history(offer, labels=ACTION_LABELS)
