"""Campaigns and technology needs: the rules.

`set_campaign_status` is the only writer of a campaign's status and `set_need_status` the only
writer of a need's status; both check the transition, write the audit log and notify, in one
transaction with the change.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from challenge import bulk
from challenge.accounts.models import Organisation, OrgStatus, User
from challenge.audit import services as audit
from challenge.audit.models import AuditEntry
from challenge.catalog import regions
from challenge.bulk import BulkOutcome
from challenge.catalog.models import Domain
from challenge.enums import N_
from challenge.errors import DomainError, InvalidTransition, PermissionDenied
from challenge.files.models import Attachment
from challenge.files.services import attach, store_blobs
from challenge.files.uploads import UploadedFile
from challenge.mail.services import notify
from challenge.needs import permissions
from challenge.needs.models import (
    CAMPAIGN_TRANSITIONS,
    MAX_ATTACHMENTS_PER_NEED,
    MERGE_TARGET_STATES,
    NEED_TRANSITIONS,
    ORGANISER_VISIBLE_NEED_STATES,
    REASON_REQUIRED_STATES,
    Campaign,
    CampaignStatus,
    Need,
    NeedStatus,
)
from challenge.web.i18n import _
from challenge.web.timefmt import now_utc

# Areas above react to a need's status change (supply: records the offers matched to it):
# `await hook(need=..., status=..., actor=...)`, inside the change's transaction.
STATUS_HOOKS: list = []
PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()\-]{5,24}(\s*(转|ext\.?|x)\s*[0-9]{1,6})?$", re.IGNORECASE)
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# The long descriptive fields of a need, in form order.
NEED_TEXT_FIELDS = ("bottleneck", "state_of_art", "target_indicators", "application_scenario", "expected_results")
MIN_TEXT_FOR_SUBMIT = 10
ATTACHMENT_CATEGORY = "need"
CONTENT_FIELDS = ("title", "domain_id", *NEED_TEXT_FIELDS, "cofunding_wan", "hosts_scenario",
                  "contact_name", "contact_phone", "contact_email")


@dataclass
class NeedContent:
    """What a submitter typed into the need form, cleaned."""

    title: str = ""
    domain_id: int | None = None
    bottleneck: str = ""
    state_of_art: str = ""
    target_indicators: str = ""
    application_scenario: str = ""
    expected_results: str = ""
    cofunding_wan: Decimal | None = None
    hosts_scenario: bool | None = None
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""


def submission_problems(need, *, answered_hosts: bool = True) -> dict[str, str]:
    """What a need still lacks before it can be submitted, per field. Works on the form's
    content and on a saved need alike, so the server checks again at the moment of submitting."""
    problems: dict[str, str] = {}
    if not (need.title or "").strip():
        problems["title"] = _("此项为必填项")
    if not need.domain_id:
        problems["domain_id"] = _("提交前请选择所属领域")
    for name in NEED_TEXT_FIELDS:
        value = (getattr(need, name) or "").strip()
        if not value:
            problems[name] = _("提交前请填写此项")
        elif len(value) < MIN_TEXT_FOR_SUBMIT:
            problems[name] = _("请至少填写 %(n)s 个字", n=MIN_TEXT_FOR_SUBMIT)
    if need.cofunding_wan is None:
        problems["cofunding_wan"] = _("提交前请填写配套资金（没有配套资金请填 0）")
    if not answered_hosts:
        problems["hosts_scenario"] = _("提交前请选择是否提供应用场景")
    if not (need.contact_name or "").strip():
        problems["contact_name"] = _("提交前请填写联系人")
    if not (need.contact_phone or "").strip():
        problems["contact_phone"] = _("提交前请填写联系电话")
    elif not PHONE_RE.match(need.contact_phone):
        problems["contact_phone"] = _("请输入有效的电话号码，例如 025-83331234 或 13800000000")
    email = (need.contact_email or "").strip()
    if not email:
        problems["contact_email"] = _("提交前请填写联系邮箱")
    elif not EMAIL_RE.match(email):
        problems["contact_email"] = _("请输入有效的电子邮箱地址，例如 name@example.cn")
    return problems


# List orderings: the `sort` query parameter -> ORDER BY.
SORTS = {
    "-created": ("-created_at", "-id"),
    "created": ("created_at", "id"),
    "-updated": ("-updated_at", "-id"),
    "updated": ("updated_at", "id"),
    "-cofunding": ("-cofunding_wan", "-id"),
    "cofunding": ("cofunding_wan", "id"),
    "title": ("title", "id"),
    "-title": ("-title", "-id"),
}
DEFAULT_SORT = "-created"


@dataclass
class NeedFilters:
    campaign_id: int | None = None
    domain_id: int | None = None
    region: str = ""
    status: NeedStatus | None = None
    q: str = ""
    sort: str = DEFAULT_SORT
    params: dict = field(default_factory=dict)

    @property
    def ordering(self) -> tuple[str, ...]:
        return SORTS[self.sort]


def need_link(need: Need) -> str:
    return f"/needs/{need.id}"


# -- campaigns -----------------------------------------------------------------------------------
async def save_campaign(*, actor: User, campaign: Campaign | None, title: str, instructions: str,
                        domains: list[Domain], opens_at: datetime, closes_at: datetime) -> Campaign:
    """Create a campaign (as a draft) or edit one; the status is changed by `set_campaign_status`."""
    if not actor.is_organiser:
        raise PermissionDenied(_("只有管理员可以管理征集批次"))
    if closes_at <= opens_at:
        raise DomainError(_("截止时间须晚于开始时间"), field="closes_at")
    if not domains:
        raise DomainError(_("请至少选择一个领域"), field="domains")
    creating = campaign is None
    async with in_transaction():
        if creating:
            campaign = await Campaign.create(title=title, instructions=instructions, opens_at=opens_at,
                                             closes_at=closes_at, created_by=actor)
            before = None
        else:
            before = {"title": campaign.title, "opens_at": campaign.opens_at, "closes_at": campaign.closes_at,
                      "domains": sorted(d.id for d in await campaign.domains.all())}
            campaign.title, campaign.instructions = title, instructions
            campaign.opens_at, campaign.closes_at = opens_at, closes_at
            await campaign.save(update_fields=["title", "instructions", "opens_at", "closes_at"])
            await campaign.domains.clear()
        await campaign.domains.add(*domains)
        await audit.record(actor=actor, action="campaign.create" if creating else "campaign.update", obj=campaign,
                           before=before, after={"title": title, "opens_at": opens_at, "closes_at": closes_at,
                                                 "domains": sorted(d.id for d in domains)})
    return campaign


async def set_campaign_status(*, campaign: Campaign, status: CampaignStatus, actor: User) -> Campaign:
    """The one writer of `Campaign.status`: draft -> open -> closed -> open (reopened).

    Side effects: an audit entry `campaign.open` or `campaign.close`. Opening a campaign whose
    closing time has passed is refused: the organiser moves the closing time first.
    """
    if not actor.is_organiser:
        raise PermissionDenied(_("只有管理员可以开放或截止征集批次"))
    async with in_transaction():
        current = await Campaign.select_for_update().get(id=campaign.id)
        if status not in CAMPAIGN_TRANSITIONS[current.status]:
            raise InvalidTransition(_("该批次当前为“%(state)s”，不能执行此操作", state=current.status.label))
        if status == CampaignStatus.OPEN and current.closes_at <= now_utc():
            raise DomainError(_("截止时间已过，请先修改截止时间再开放征集"), field="closes_at")
        updated = await Campaign.filter(id=campaign.id, status=current.status).update(status=status)
        if not updated:
            raise InvalidTransition(_("该批次的状态刚被他人修改，请刷新后重试"))
        action = "campaign.open" if status == CampaignStatus.OPEN else "campaign.close"
        await audit.record(actor=actor, action=action, obj=campaign, before={"status": current.status},
                           after={"status": status})
    campaign.status = status
    return campaign


async def campaign_domains(campaign: Campaign) -> list[Domain]:
    """The domains a need of this campaign may pick: the campaign's active ones."""
    domains = [d for d in await campaign.domains.all().order_by("sort_order", "id") if d.is_active]
    return domains or await Domain.filter(is_active=True).order_by("sort_order", "id")


async def open_campaigns(now: datetime | None = None) -> list[Campaign]:
    """Campaigns submitters can fill needs for now (opened, not past their closing time)."""
    now = now or now_utc()
    return await Campaign.filter(status=CampaignStatus.OPEN, closes_at__gt=now).order_by("closes_at", "id")


# -- needs: content ------------------------------------------------------------------------------
async def _check_submitter(actor: User, organisation_id: int) -> None:
    """The actor is a submitter of this organisation, and the organisation is approved (read fresh)."""
    if not actor.is_submitter or actor.organisation_id is None:
        raise PermissionDenied(_("只有需求方用户可以填报需求"))
    if actor.organisation_id != organisation_id:
        raise PermissionDenied(_("只能填报和修改本单位的需求"))
    if not await Organisation.filter(id=organisation_id, status=OrgStatus.APPROVED).exists():
        raise PermissionDenied(_("您的单位尚未通过审核，审核通过后即可填报技术需求"))


async def save_need(*, actor: User, need: Need | None, campaign: Campaign | None = None,
                    content: NeedContent, uploads: list[UploadedFile] = (), storage=None) -> Need:
    """Create a draft or save changes to a draft/returned need, with new attachments.

    Drafts may be saved at any time, also after the campaign has closed. The uploads'
    content is committed to storage before the transaction (file I/O stays out of it).
    """
    if need is None:
        if campaign is None or campaign.status not in {CampaignStatus.OPEN, CampaignStatus.CLOSED}:
            raise DomainError(_("请选择正在征集的批次"), field="campaign_id")
        await _check_submitter(actor, actor.organisation_id)
    else:
        await _check_submitter(actor, need.organisation_id)
        campaign = await need.campaign
        if need.status not in {NeedStatus.DRAFT, NeedStatus.RETURNED}:
            raise InvalidTransition(_("该需求当前为“%(state)s”，不能修改", state=need.status.label))
    allowed_domains = {d.id for d in await campaign_domains(campaign)}
    if content.domain_id is not None and content.domain_id not in allowed_domains:
        raise DomainError(_("所选领域不属于该征集批次"), field="domain_id")
    existing = await Attachment.filter(owner_type="need", owner_id=need.id).count() if need else 0
    if uploads and existing + len(uploads) > MAX_ATTACHMENTS_PER_NEED:
        raise DomainError(_("每条需求最多 %(n)s 个附件，请删除不需要的附件后再上传", n=MAX_ATTACHMENTS_PER_NEED),
                          field="attachments")
    stored = await store_blobs(storage, list(uploads)) if uploads else []
    values = {name: getattr(content, name) for name in CONTENT_FIELDS}
    if values["cofunding_wan"] is None:
        values["cofunding_wan"] = need.cofunding_wan if need is not None else 0
    if values["hosts_scenario"] is None:
        values["hosts_scenario"] = need.hosts_scenario if need is not None else False
    async with in_transaction():
        if need is None:
            need = await Need.create(campaign=campaign, organisation_id=actor.organisation_id, created_by=actor,
                                     status=NeedStatus.DRAFT, **values)
            await audit.record(actor=actor, action="need.create", obj=need, after={"title": need.title})
        else:
            changed = sorted(name for name, value in values.items() if getattr(need, name) != value)
            for name, value in values.items():
                setattr(need, name, value)
            need.updated_at = now_utc()
            await need.save(update_fields=[*values, "updated_at"])
            if changed:
                await audit.record(actor=actor, action="need.update", obj=need, after={"fields": changed})
        for upload, blob in stored:
            await attach(blob=blob, owner=need, filename=upload.filename, category=ATTACHMENT_CATEGORY, user=actor)
            await audit.record(actor=actor, action="need.attachment_add", obj=need, note=upload.filename,
                               after={"filename": upload.filename, "sha256": blob.sha256, "size": blob.size})
    return need


async def remove_attachment(*, need: Need, attachment: Attachment, actor: User) -> None:
    """Detach a file from a need that is still being edited (the content stays for other owners)."""
    await _check_submitter(actor, need.organisation_id)
    if need.status not in {NeedStatus.DRAFT, NeedStatus.RETURNED}:
        raise InvalidTransition(_("已提交的需求不能删除附件"))
    if attachment.owner_type != "need" or attachment.owner_id != need.id:
        raise DomainError(_("附件不属于该需求"))
    async with in_transaction():
        await attachment.delete()
        await audit.record(actor=actor, action="need.attachment_remove", obj=need, note=attachment.filename,
                           before={"filename": attachment.filename})


async def need_attachments(need: Need) -> list[Attachment]:
    return await Attachment.filter(owner_type="need", owner_id=need.id).select_related("blob").order_by("id")


# -- needs: the state machine --------------------------------------------------------------------
async def set_need_status(*, need: Need, status: NeedStatus, actor: User, reason: str = "",
                          merge_into: Need | None = None, now: datetime | None = None) -> Need:
    """The one writer of `Need.status`.

    Transitions (NEED_TRANSITIONS): draft -> submitted; returned -> submitted; submitted ->
    returned | accepted | rejected | merged. Guards: submitting is done by an active submitter
    of the need's organisation while the campaign is open (checked against `now`, the moment of
    the request) and with every field complete; screening is done by an organiser; returning and
    rejecting need a reason; merging needs another live need of the same campaign.

    Side effects, in one transaction: the status, `status_reason`, `submitted_at` and
    `merged_into` columns; an audit entry `need.<submit|return|accept|reject|merge>` (and
    `need.absorb` on a merge target); notifications (inbox and mail) to the organisers on
    submission and to the organisation's submitters on every screening decision.
    """
    now = now or now_utc()
    reason = reason.strip()
    async with in_transaction():
        current = await Need.select_for_update().get(id=need.id)
        campaign = await Campaign.get(id=current.campaign_id)
        if status not in NEED_TRANSITIONS[current.status]:
            raise InvalidTransition(_("该需求当前为“%(state)s”，不能改为“%(target)s”",
                                      state=current.status.label, target=status.label))
        if status == NeedStatus.SUBMITTED:
            await _check_submitter(actor, current.organisation_id)
            if not permissions.is_campaign_open(campaign, now):
                raise DomainError(_("“%(title)s”不在征集时间内（截止时间已过或尚未开放），不能提交。草稿已保留。",
                                    title=campaign.title), field="campaign")
            problems = submission_problems(current)
            if problems:
                raise DomainError(_("需求信息尚不完整，请补充后再提交"), errors=problems)
        elif not actor.is_organiser:
            raise PermissionDenied(_("只有管理员可以筛选需求"))
        if status in REASON_REQUIRED_STATES and not reason:
            raise DomainError(_("请填写理由，申报单位将看到该理由"), field="reason")
        target = None
        if status == NeedStatus.MERGED:
            target = await _merge_target(current, merge_into)
        before = {"status": current.status}
        changes = {"status": status, "status_reason": reason, "updated_at": now}
        if status == NeedStatus.SUBMITTED:
            changes["submitted_at"] = now
        if target is not None:
            changes["merged_into_id"] = target.id
        updated = await Need.filter(id=current.id, status=current.status).update(**changes)
        if not updated:
            raise InvalidTransition(_("该需求的状态刚被他人修改，请刷新后重试"))
        after = {"status": status}
        if target is not None:
            after["merged_into"] = target.id
        action = {
            NeedStatus.SUBMITTED: "need.submit",
            NeedStatus.RETURNED: "need.return",
            NeedStatus.ACCEPTED: "need.accept",
            NeedStatus.REJECTED: "need.reject",
            NeedStatus.MERGED: "need.merge",
        }[status]
        await audit.record(actor=actor, action=action, obj=current, before=before, after=after, note=reason)
        if target is not None:
            await audit.record(actor=actor, action="need.absorb", obj=target, after={"merged_from": current.id},
                               note=current.title)
        for name, value in changes.items():
            setattr(need, name, value)
        if target is not None:
            need.merged_into = target
        await _notify_status(need=need, campaign=campaign, status=status, reason=reason, target=target,
                             resubmission=before["status"] == NeedStatus.RETURNED)
        for hook in STATUS_HOOKS:
            await hook(need=need, status=status, actor=actor)
    return need


# Decisions an organiser may take on several needs at once, with one reason.
BULK_SCREEN_STATES = {NeedStatus.ACCEPTED, NeedStatus.RETURNED}


async def screen_needs(*, needs: list[Need], status: NeedStatus, actor: User, reason: str = "",
                       now: datetime | None = None) -> BulkOutcome[Need]:
    """Accept or return several needs with one reason, each through `set_need_status` (its own
    transaction, audit entry and mails). A need the rules refuse (screened meanwhile, not
    visible to the actor) is reported with the reason; the others are still screened."""
    if status not in BULK_SCREEN_STATES:
        raise DomainError(_("批量筛选只能采纳或退回"), field="decision")
    if not actor.is_organiser:
        raise PermissionDenied(_("只有管理员可以筛选需求"))
    if status in REASON_REQUIRED_STATES and not reason.strip():
        raise DomainError(_("请填写理由，申报单位将看到该理由"), field="reason")

    async def screen(need: Need) -> None:
        if not permissions.can_view_need(actor, need):
            raise PermissionDenied(_("无权筛选该需求"))
        await set_need_status(need=need, status=status, actor=actor, reason=reason, now=now)

    return await bulk.each(needs, screen)


async def _merge_target(need: Need, merge_into: Need | None) -> Need:
    if merge_into is None:
        raise DomainError(_("请选择要并入的需求"), field="merge_into")
    if merge_into.id == need.id:
        raise DomainError(_("不能把需求并入它自己"), field="merge_into")
    target = await Need.get_or_none(id=merge_into.id)
    if target is None or target.campaign_id != need.campaign_id:
        raise DomainError(_("只能并入同一批次的需求"), field="merge_into")
    if target.status not in MERGE_TARGET_STATES:
        raise DomainError(_("不能并入“%(state)s”的需求", state=target.status.label), field="merge_into")
    return target


async def _notify_status(*, need: Need, campaign: Campaign, status: NeedStatus, reason: str,
                         target: Need | None, resubmission: bool) -> None:
    link = need_link(need)
    if status == NeedStatus.SUBMITTED:
        organisation = await Organisation.get(id=need.organisation_id)

        def subject() -> str:
            if resubmission:
                return _("技术需求已修改并重新提交：%(title)s", title=need.title)
            return _("新的技术需求待筛选：%(title)s", title=need.title)

        def body() -> str:
            return _("%(org)s 在“%(campaign)s”中提交了技术需求《%(title)s》，请及时筛选。",
                     org=organisation.name, campaign=campaign.title, title=need.title)

        for organiser in await User.filter(is_organiser=True, is_active=True):
            await notify(user=organiser, subject=subject, body=body, link=link)
        return

    def decision_subject() -> str:
        return {
            NeedStatus.RETURNED: _("技术需求被退回修改：%(title)s", title=need.title),
            NeedStatus.ACCEPTED: _("技术需求已采纳：%(title)s", title=need.title),
            NeedStatus.REJECTED: _("技术需求未被采纳：%(title)s", title=need.title),
            NeedStatus.MERGED: _("技术需求已合并：%(title)s", title=need.title),
        }[status]

    def decision_body() -> str:
        text = {
            NeedStatus.RETURNED: _("您单位提交的技术需求《%(title)s》被退回修改。理由：%(reason)s\n请修改后在征集截止前重新提交。",
                                   title=need.title, reason=reason),
            NeedStatus.ACCEPTED: _("您单位提交的技术需求《%(title)s》已被采纳，将用于编制榜单。", title=need.title),
            NeedStatus.REJECTED: _("您单位提交的技术需求《%(title)s》未被采纳。理由：%(reason)s",
                                   title=need.title, reason=reason),
            NeedStatus.MERGED: _("您单位提交的技术需求《%(title)s》已并入需求《%(target)s》统一处理。",
                                 title=need.title, target=target.title if target else ""),
        }[status]
        if status in {NeedStatus.ACCEPTED, NeedStatus.MERGED} and reason:
            text += "\n" + _("说明：%(reason)s", reason=reason)
        return text

    recipients = await User.filter(organisation_id=need.organisation_id, is_submitter=True, is_active=True)
    for user in recipients:
        await notify(user=user, subject=decision_subject, body=decision_body, link=link)


# -- needs: lists, detail, history ---------------------------------------------------------------
def visible_needs(viewer: User):
    """The needs a user may list: own organisation's (submitters) and every sent one (organisers)."""
    condition = Q(id__in=[])
    if viewer.is_organiser:
        condition = Q(status__in=list(ORGANISER_VISIBLE_NEED_STATES))
    if viewer.is_submitter and viewer.organisation_id is not None:
        condition = condition | Q(organisation_id=viewer.organisation_id)
    return Need.filter(condition)


def region_condition(code: str) -> Q:
    """A province includes its cities; a city its districts (GB/T 2260 prefixes)."""
    if code.endswith("0000"):
        return Q(organisation__region_code__startswith=code[:2])
    if code.endswith("00"):
        return Q(organisation__region_code__startswith=code[:4])
    return Q(organisation__region_code=code)


def filtered_needs(viewer: User, filters: NeedFilters):
    query = visible_needs(viewer)
    if filters.campaign_id:
        query = query.filter(campaign_id=filters.campaign_id)
    if filters.domain_id:
        query = query.filter(domain_id=filters.domain_id)
    if filters.region:
        query = query.filter(region_condition(filters.region))
    if filters.status:
        query = query.filter(status=filters.status)
    if filters.q:
        query = query.filter(Q(title__icontains=filters.q) | Q(bottleneck__icontains=filters.q))
    return query.order_by(*filters.ordering)


async def attachment_counts(needs: list[Need]) -> dict[int, int]:
    counts: dict[int, int] = {}
    rows = await Attachment.filter(owner_type="need", owner_id__in=[n.id for n in needs]).values_list("owner_id",
                                                                                                     flat=True)
    for owner_id in rows:
        counts[owner_id] = counts.get(owner_id, 0) + 1
    return counts


ACTION_LABELS = {
    "need.create": N_("创建草稿"),
    "need.update": N_("修改需求内容"),
    "need.attachment_add": N_("上传附件"),
    "need.attachment_remove": N_("删除附件"),
    "need.submit": N_("提交需求"),
    "need.return": N_("退回修改"),
    "need.accept": N_("采纳需求"),
    "need.reject": N_("不予采纳"),
    "need.merge": N_("合并至其他需求"),
    "need.absorb": N_("其他需求并入本需求"),
}


RESUBMIT_LABEL = N_("修改后重新提交")


def _is_resubmission(entry: AuditEntry) -> bool:
    return entry.action == "need.submit" and (entry.before or {}).get("status") == NeedStatus.RETURNED.value


@dataclass
class HistoryItem:
    at: datetime
    who: str
    organisation: str
    what: str
    status_before: NeedStatus | None
    status_after: NeedStatus | None
    reason: str
    detail: str


async def need_history(need: Need) -> list[HistoryItem]:
    """The need's events from the audit log, in words (who, when, what, reason)."""
    entries = await audit.history(need)
    actor_ids = {e.actor_id for e in entries if e.actor_id}
    actors = {u.id: u for u in await User.filter(id__in=actor_ids).select_related("organisation")}
    items = []
    for entry in entries:
        actor = actors.get(entry.actor_id)
        items.append(HistoryItem(
            at=entry.at,
            who=actor.name if actor else (_("系统") if entry.actor_id is None else _("已删除的用户")),
            organisation=actor.organisation.name if actor and actor.organisation else "",
            what=_(RESUBMIT_LABEL) if _is_resubmission(entry) else _(ACTION_LABELS.get(entry.action, entry.action)),
            status_before=_status(entry.before),
            status_after=_status(entry.after),
            reason=entry.note if entry.action in {"need.return", "need.reject", "need.accept", "need.merge"} else "",
            detail=_history_detail(entry),
        ))
    return items


def _status(values) -> NeedStatus | None:
    raw = (values or {}).get("status")
    return NeedStatus(raw) if raw in {s.value for s in NeedStatus} else None


def _history_detail(entry: AuditEntry) -> str:
    if entry.action in {"need.attachment_add", "need.attachment_remove"}:
        return entry.note
    if entry.action == "need.absorb":
        return _("并入的需求：%(title)s（编号 %(id)s）", title=entry.note, id=(entry.after or {}).get("merged_from"))
    if entry.action == "need.merge":
        return _("并入需求编号 %(id)s", id=(entry.after or {}).get("merged_into"))
    return ""


# -- export --------------------------------------------------------------------------------------
EXPORT_HEADER = [
    N_("编号"), N_("征集批次"), N_("需求名称"), N_("所属领域"), N_("提交单位"), N_("单位类型"), N_("所在地区"),
    N_("状态"), N_("状态说明"), N_("并入需求编号"), N_("技术瓶颈"), N_("国内外研究现状"), N_("技术指标"),
    N_("应用场景"), N_("预期成果"), N_("配套资金（万元）"), N_("是否提供应用场景"), N_("联系人"), N_("联系电话"),
    N_("联系邮箱"), N_("附件"), N_("提交时间"), N_("创建时间"), N_("更新时间"),
]


def export_header() -> list[str]:
    return [_(label) for label in EXPORT_HEADER]


async def export_rows(query, batch: int = 500):
    """Rows of the export, read in batches so a long list never sits in memory at once."""
    offset = 0
    while True:
        needs = await query.offset(offset).limit(batch).select_related("campaign", "organisation", "domain")
        if not needs:
            return
        names: dict[int, list[str]] = {}
        for owner_id, filename in await Attachment.filter(
                owner_type="need", owner_id__in=[n.id for n in needs]).order_by("id").values_list("owner_id",
                                                                                                  "filename"):
            names.setdefault(owner_id, []).append(filename)
        for need in needs:
            yield [
                need.id, need.campaign.title, need.title, need.domain.label if need.domain else "",
                need.organisation.name, need.organisation.org_type, regions.name(need.organisation.region_code),
                need.status, need.status_reason, need.merged_into_id or "", need.bottleneck, need.state_of_art,
                need.target_indicators, need.application_scenario, need.expected_results, need.cofunding_wan,
                _("是") if need.hosts_scenario else _("否"), need.contact_name, need.contact_phone,
                need.contact_email, "；".join(names.get(need.id, [])), need.submitted_at, need.created_at,
                need.updated_at,
            ]
        offset += batch
