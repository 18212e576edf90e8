"""Bid rules: the bid window, the consortium and its eligibility, submissions as immutable
versions with receipts, withdrawal, the formal check, and what organisers export.

`set_bid_status` is the only writer of `Bid.status`. Every change of a bid's content or status
runs in a transaction that first locks the bid's row (`SELECT ... FOR UPDATE` on PostgreSQL,
the single writer connection on SQLite), so two submissions of the same bid at the same moment
become versions n and n+1, each a snapshot of one consistent working copy. The unique
(bid, version) constraint backs this up across processes, with a retry.

The window is checked inside that transaction with the time of the request's processing: a
form opened before the close and sent after it is refused and nothing is saved.
"""

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from challenge import bulk
from challenge.accounts.models import Organisation, OrgStatus, OrgType, User
from challenge.audit import services as audit
from challenge.bids.forms import BidContent, BidFilters
from challenge.bids.zipstream import safe_component, unique_names
from challenge.bulk import BulkOutcome
from challenge.bids.models import (
    ATTACHMENT_LIMITS,
    ATTACHMENT_OWNER,
    BID_TRANSITIONS,
    EDITABLE_BID_STATES,
    FORMAL_FAIL_FROM,
    FORMAL_PASS_FROM,
    MANAGED_BID_STATES,
    RECEIVED_BID_STATES,
    REQUIRED_CATEGORIES,
    SUBMITTABLE_BID_STATES,
    WINDOW_BOUND_TARGETS,
    WITHDRAWABLE_BID_STATES,
    AttachmentCategory,
    Bid,
    BidMessage,
    BidPartner,
    BidStatus,
    BidTargetCommitment,
    BidVersion,
    BudgetItem,
    Milestone,
    TeamMember,
)
from challenge.catalog import regions
from challenge.challenges.models import AssessmentTarget, Challenge, ChallengeStatus
from challenge.enums import N_
from challenge.errors import DomainError, InvalidTransition, PermissionDenied
from challenge.files.models import Attachment, Blob
from challenge.files.services import attach, store_blobs
from challenge.files.uploads import UploadedFile
from challenge.mail.services import Text, notify
from challenge.reviews.services import recheck_conflicts
from challenge.web.forms import MAX_ID
from challenge.web.i18n import _
from challenge.web.timefmt import format_datetime, now_utc

VERSION_RETRIES = 3
DOCUMENT_FORMAT = "challenge.bid/1"


class WindowClosed(DomainError):
    """The bid window is not open (not yet, or no longer)."""


class SubmissionIncomplete(DomainError):
    """The working copy cannot be submitted: `errors` names each problem by field."""

    def __init__(self, errors: dict[str, str], draft_saved: bool = False) -> None:
        super().__init__(_("申报尚不能提交：请修改以下问题"), errors=errors)
        self.draft_saved = draft_saved


def bid_link(bid: Bid) -> str:
    return f"/bids/{bid.id}"


# -- the window -----------------------------------------------------------------------------------
def window_open(challenge: Challenge, now: datetime | None = None) -> bool:
    """Bids may be started, saved, submitted and withdrawn: published, opened, not yet closed."""
    now = now or now_utc()
    return (
        challenge.status == ChallengeStatus.PUBLISHED
        and challenge.closes_at is not None
        and (challenge.opens_at is None or challenge.opens_at <= now)
        and now < challenge.closes_at
    )


def ensure_window_open(challenge: Challenge, now: datetime | None = None) -> None:
    now = now or now_utc()
    if window_open(challenge, now):
        return
    if challenge.closes_at is not None and now >= challenge.closes_at:
        raise WindowClosed(_("申报已于 %(when)s 截止，服务器在截止后收到本次请求，未保存任何内容。",
                             when=format_datetime(challenge.closes_at)))
    if challenge.opens_at is not None and now < challenge.opens_at:
        raise WindowClosed(_("申报将于 %(when)s 开始，现在还不能申报。", when=format_datetime(challenge.opens_at)))
    raise WindowClosed(_("该榜单当前不接受申报。"))


# -- who may act ----------------------------------------------------------------------------------
def _check_bidder(actor: User, bid: Bid | None = None) -> None:
    organisation = actor.organisation
    if not actor.is_bidder or organisation is None or organisation.status != OrgStatus.APPROVED:
        raise PermissionDenied(_("只有所在单位已通过审核的揭榜方用户可以申报"))
    if bid is not None and bid.lead_org_id != organisation.id:
        raise PermissionDenied(_("只能修改本单位牵头的申报"))


def _check_organiser(actor: User) -> None:
    if not actor.is_organiser:
        raise PermissionDenied(_("只有管理员可以进行此操作"))


async def _lock(bid: Bid) -> tuple[Bid, Challenge]:
    """Inside a transaction: the bid's row, locked until commit, and its challenge as it is now."""
    locked = await Bid.select_for_update().get(id=bid.id)
    challenge = await Challenge.get(id=locked.challenge_id)
    return locked, challenge


# -- starting a bid -------------------------------------------------------------------------------
async def start_bid(*, challenge: Challenge, actor: User, now: datetime | None = None) -> tuple[Bid, bool]:
    """The organisation's bid on `challenge`: the existing one, or a new draft. Returns (bid, created)."""
    _check_bidder(actor)
    existing = await Bid.get_or_none(challenge_id=challenge.id, lead_org_id=actor.organisation_id)
    if existing is not None:
        return existing, False
    ensure_window_open(challenge, now)
    try:
        async with in_transaction():
            bid = await Bid.create(challenge=challenge, lead_org_id=actor.organisation_id, created_by=actor)
            await audit.record(actor=actor, action="bid.create", obj=bid,
                               after={"challenge_id": challenge.id, "lead_org_id": actor.organisation_id,
                                      "status": bid.status})
    except IntegrityError:
        # Another request of the same organisation created it a moment ago.
        return await Bid.get(challenge_id=challenge.id, lead_org_id=actor.organisation_id), False
    return bid, True


# -- saving the working copy ----------------------------------------------------------------------
NewFile = tuple[str, UploadedFile]  # (category, upload)
StoredFile = tuple[str, str, Blob]  # (category, file name, blob)


async def _attachment_counts(bid: Bid, deleting: list[int] = ()) -> Counter:
    rows = await Attachment.filter(owner_type=ATTACHMENT_OWNER, owner_id=bid.id).exclude(
        id__in=list(deleting) or [0]).values_list("category", flat=True)
    return Counter(rows)


def _limit_errors(counts: Counter, adding: Counter) -> dict[str, str]:
    errors = {}
    for category, limit in ATTACHMENT_LIMITS.items():
        if counts[category.value] + adding[category.value] > limit:
            errors[f"file-{category.value}"] = _("“%(category)s”最多 %(n)s 个文件，请先删除多余的文件",
                                                 category=category.label, n=limit)
    unknown = set(adding) - {c.value for c in AttachmentCategory}
    if unknown:
        errors["file-other"] = _("附件类别无效")
    return errors


async def _precheck(bid: Bid, actor: User, uploads: list[NewFile], deleting: list[int],
                    now: datetime | None) -> None:
    """Cheap checks before any upload is committed to storage (the transaction repeats them).
    On a refusal the uploads are discarded: nothing of them stays in storage."""
    try:
        await _refuse_early(bid, actor, uploads, deleting, now)
    except DomainError:
        for _category, upload in uploads:
            await upload.writer.abort()
        raise


async def _refuse_early(bid: Bid, actor: User, uploads: list[NewFile], deleting: list[int],
                        now: datetime | None) -> None:
    _check_bidder(actor, bid)
    challenge = await Challenge.get(id=bid.challenge_id)
    ensure_window_open(challenge, now)
    if bid.status not in EDITABLE_BID_STATES:
        raise InvalidTransition(_("该申报当前状态（%(status)s）不能修改", status=bid.status.label))
    if uploads:
        errors = _limit_errors(await _attachment_counts(bid, deleting), Counter(category for category, _upload in uploads))
        if errors:
            raise DomainError(next(iter(errors.values())), errors=errors)


async def _store(storage, uploads: list[NewFile]) -> list[StoredFile]:
    if not uploads:
        return []
    stored = await store_blobs(storage, [upload for _, upload in uploads])
    return [(category, upload.filename, blob) for (category, _upload), (upload, blob) in zip(uploads, stored)]


async def _consortium_key(bid: Bid) -> tuple[frozenset, frozenset]:
    """Everything the conflict rules look at: partners (registered or by name and code) and members."""
    partners = await BidPartner.filter(bid_id=bid.id).values_list("organisation_id", "name", "credit_code")
    members = await TeamMember.filter(bid_id=bid.id).values_list("user_id", "name", "email", "contact",
                                                                 "organisation_name")
    return frozenset(partners), frozenset(members)


async def _resolve_partners(bid: Bid, lead: Organisation, content: BidContent) -> list[dict]:
    """Registered partners by id, entered ones linked to a registered organisation by credit code."""
    ids = [p.organisation_id for p in content.partners if p.organisation_id]
    codes = [p.credit_code for p in content.partners if not p.organisation_id and p.credit_code]
    by_id = {o.id: o for o in await Organisation.filter(id__in=ids or [0], status=OrgStatus.APPROVED)}
    by_code = {o.credit_code: o for o in await Organisation.filter(credit_code__in=codes or ["-"])}
    errors, rows, seen = {}, [], set()
    for i, partner in enumerate(content.partners):
        key = f"partner-{i}"
        organisation = by_id.get(partner.organisation_id) if partner.organisation_id else by_code.get(partner.credit_code)
        if partner.organisation_id and organisation is None:
            errors[f"{key}-organisation_id"] = _("请选择已登记并通过审核的单位")
            continue
        if organisation is not None:
            row = {"organisation_id": organisation.id, "name": organisation.name,
                   "org_type": organisation.org_type.value, "credit_code": organisation.credit_code,
                   "region_code": organisation.region_code}
        else:
            row = {"organisation_id": None, "name": partner.name, "org_type": partner.org_type,
                   "credit_code": partner.credit_code or None, "region_code": partner.region_code or None}
        identity = row["organisation_id"] or row["credit_code"] or row["name"]
        if row["organisation_id"] == lead.id or (row["credit_code"] and row["credit_code"] == lead.credit_code):
            errors[key] = _("第 %(n)s 行是牵头单位本身，无需作为联合单位填写", n=i + 1)
        elif identity in seen:
            errors[key] = _("第 %(n)s 行的联合单位重复", n=i + 1)
        seen.add(identity)
        rows.append(row)
    if errors:
        raise DomainError(next(iter(errors.values())), errors=errors)
    return rows


async def _write_working_copy(bid: Bid, challenge: Challenge, actor: User, content: BidContent,
                              files: list[StoredFile], now: datetime | None) -> None:
    """Inside the bid's locked transaction: replace the working copy with `content`, attach files."""
    _check_bidder(actor, bid)
    ensure_window_open(challenge, now)
    if bid.status not in EDITABLE_BID_STATES:
        raise InvalidTransition(_("该申报当前状态（%(status)s）不能修改", status=bid.status.label))
    lead = await Organisation.get(id=bid.lead_org_id)
    partners = await _resolve_partners(bid, lead, content)
    before = await _consortium_key(bid)

    bid.title, bid.approach, bid.foundation = content.title, content.approach, content.foundation
    bid.commitment_accepted = content.commitment_accepted
    bid.has_unsubmitted_changes = bid.current_version > 0

    target_ids = set(await AssessmentTarget.filter(challenge_id=challenge.id).values_list("id", flat=True))
    await BidTargetCommitment.filter(bid_id=bid.id).delete()
    await BidTargetCommitment.bulk_create([
        BidTargetCommitment(bid_id=bid.id, target_id=target_id, committed_value=value, note=note)
        for target_id, (value, note) in content.commitments.items() if target_id in target_ids
    ])
    await BidPartner.filter(bid_id=bid.id).delete()
    await BidPartner.bulk_create([BidPartner(bid_id=bid.id, position=i, **row) for i, row in enumerate(partners)])

    emails = {m.email for m in content.members if m.email}
    users = {u.email: u.id for u in await User.filter(email__in=list(emails) or ["-"], is_active=True)}
    await TeamMember.filter(bid_id=bid.id).delete()
    await TeamMember.bulk_create([
        TeamMember(bid_id=bid.id, position=i, name=m.name, title=m.title, role=m.role,
                   organisation_name=m.organisation_name, contact=m.contact, email=m.email,
                   user_id=users.get(m.email))
        for i, m in enumerate(content.members)
    ])
    await Milestone.filter(bid_id=bid.id).delete()
    await Milestone.bulk_create([
        Milestone(bid_id=bid.id, position=i, title=m.title, due_date=m.due_date, deliverable=m.deliverable)
        for i, m in enumerate(content.milestones)
    ])
    await BudgetItem.filter(bid_id=bid.id).delete()
    await BudgetItem.bulk_create([
        BudgetItem(bid_id=bid.id, position=i, item=b.item, own_wan=b.own_wan, requested_wan=b.requested_wan,
                   note=b.note)
        for i, b in enumerate(content.budget)
    ])
    if content.delete_attachment_ids:
        await Attachment.filter(owner_type=ATTACHMENT_OWNER, owner_id=bid.id,
                                id__in=content.delete_attachment_ids).delete()
    await _attach_files(bid, actor, files)
    await bid.save()
    if await _consortium_key(bid) != before:
        await recheck_conflicts(bid=bid, actor=actor)


async def _attach_files(bid: Bid, actor: User, files: list[StoredFile]) -> None:
    if not files:
        return
    errors = _limit_errors(await _attachment_counts(bid), Counter(category for category, _name, _blob in files))
    if errors:
        raise DomainError(next(iter(errors.values())), errors=errors)
    for category, filename, blob in files:
        await attach(blob=blob, owner=bid, filename=filename, category=category, user=actor)


async def save_draft(*, bid: Bid, actor: User, content: BidContent, uploads: list[NewFile] = (),
                     storage=None, now: datetime | None = None) -> Bid:
    """Save the working copy (any time while the window is open). The status does not change: a
    submitted bid stays submitted with its latest version, and is marked as changed since."""
    uploads = list(uploads)
    await _precheck(bid, actor, uploads, content.delete_attachment_ids, now)
    files = await _store(storage, uploads)
    async with in_transaction():
        locked, challenge = await _lock(bid)
        await _write_working_copy(locked, challenge, actor, content, files, now)
    return locked


async def add_attachments(*, bid: Bid, actor: User, uploads: list[NewFile], storage,
                          now: datetime | None = None) -> Bid:
    """Attach files to the working copy without touching the rest (the upload-only form)."""
    uploads = list(uploads)
    if not uploads:
        raise DomainError(_("请选择要上传的文件"), field="file")
    await _precheck(bid, actor, uploads, [], now)
    files = await _store(storage, uploads)
    async with in_transaction():
        locked, challenge = await _lock(bid)
        _check_bidder(actor, locked)
        ensure_window_open(challenge, now)
        if locked.status not in EDITABLE_BID_STATES:
            raise InvalidTransition(_("该申报当前状态（%(status)s）不能修改", status=locked.status.label))
        await _attach_files(locked, actor, files)
        if locked.current_version > 0 and not locked.has_unsubmitted_changes:
            locked.has_unsubmitted_changes = True
            await locked.save(update_fields=["has_unsubmitted_changes", "updated_at"])
    return locked


# -- reading the working copy ---------------------------------------------------------------------
@dataclass
class WorkingCopy:
    bid: Bid
    challenge: Challenge
    lead: Organisation
    targets: list[AssessmentTarget]
    commitments: dict[int, BidTargetCommitment]
    partners: list[BidPartner]
    members: list[TeamMember]
    milestones: list[Milestone]
    budget: list[BudgetItem]
    attachments: list[Attachment]
    totals: "BudgetTotals" = field(init=False)

    def __post_init__(self) -> None:
        self.totals = budget_totals(self.budget)


@dataclass(frozen=True)
class BudgetTotals:
    own: Decimal
    requested: Decimal

    @property
    def total(self) -> Decimal:
        return self.own + self.requested


def budget_totals(items) -> BudgetTotals:
    """Totals computed here, never taken from the form."""
    own = sum((Decimal(item.own_wan) for item in items), Decimal("0"))
    requested = sum((Decimal(item.requested_wan) for item in items), Decimal("0"))
    return BudgetTotals(own=own.quantize(Decimal("0.01")), requested=requested.quantize(Decimal("0.01")))


async def working_copy(bid: Bid, challenge: Challenge | None = None) -> WorkingCopy:
    """Everything the bid consists of now, in a fixed number of queries."""
    challenge = challenge or await Challenge.get(id=bid.challenge_id)
    commitments = await BidTargetCommitment.filter(bid_id=bid.id)
    return WorkingCopy(
        bid=bid,
        challenge=challenge,
        lead=await Organisation.get(id=bid.lead_org_id),
        targets=await AssessmentTarget.filter(challenge_id=challenge.id).order_by("position", "id"),
        commitments={row.target_id: row for row in commitments},
        partners=await BidPartner.filter(bid_id=bid.id).order_by("position", "id"),
        members=await TeamMember.filter(bid_id=bid.id).order_by("position", "id"),
        milestones=await Milestone.filter(bid_id=bid.id).order_by("position", "id"),
        budget=await BudgetItem.filter(bid_id=bid.id).order_by("position", "id"),
        attachments=await Attachment.filter(owner_type=ATTACHMENT_OWNER, owner_id=bid.id)
        .select_related("blob").order_by("id"),
    )


async def bid_attachments(bid: Bid) -> list[Attachment]:
    return await Attachment.filter(owner_type=ATTACHMENT_OWNER, owner_id=bid.id).select_related("blob").order_by("id")


# -- eligibility and completeness -----------------------------------------------------------------
def region_allowed(region_code: str | None, allowed: list[str]) -> bool:
    """Province codes (xx0000) match every place of the province, city codes (xxxx00) the city."""
    if not allowed:
        return True
    code = region_code or ""
    for entry in allowed:
        entry = str(entry)
        if entry.endswith("0000") and code[:2] == entry[:2]:
            return True
        if entry.endswith("00") and code[:4] == entry[:4]:
            return True
        if code == entry:
            return True
    return False


def _type_label(value: str) -> str:
    try:
        return OrgType(value).label
    except ValueError:
        return value


def eligibility_errors(*, challenge: Challenge, lead: Organisation, partners: list) -> dict[str, str]:
    """The challenge's eligibility rules (揭榜条件), each failure under its own key.

    Allowed organisation types apply to every member of the consortium, allowed regions to the
    lead organisation (province codes match the whole province)."""
    errors: dict[str, str] = {}
    allowed_types = [str(t) for t in (challenge.allowed_org_types or [])]
    allowed_label = "、".join(_type_label(t) for t in allowed_types)
    lead_type = lead.org_type.value if hasattr(lead.org_type, "value") else str(lead.org_type)
    if allowed_types and lead_type not in allowed_types:
        errors["lead_org_type"] = _("牵头单位类型“%(type)s”不符合揭榜条件（允许：%(allowed)s）",
                                    type=_type_label(lead_type), allowed=allowed_label)
    allowed_regions = [str(r) for r in (challenge.allowed_regions or [])]
    if not region_allowed(lead.region_code, allowed_regions):
        errors["lead_org_region"] = _("牵头单位所在地区“%(region)s”不符合揭榜条件（允许：%(allowed)s）",
                                      region=regions.name(lead.region_code),
                                      allowed="、".join(regions.name(r) for r in allowed_regions))
    if challenge.consortium_required and not partners:
        errors["consortium_required"] = _("本榜单要求以联合体形式揭榜：请至少添加一家联合单位")
    if len(partners) > challenge.max_partners:
        errors["max_partners"] = _("联合单位最多 %(n)s 家，当前填写了 %(m)s 家", n=challenge.max_partners, m=len(partners))
    for i, partner in enumerate(partners):
        if allowed_types and partner.org_type not in allowed_types:
            errors[f"partner-{i}"] = _("联合单位“%(name)s”的类型“%(type)s”不符合揭榜条件（允许：%(allowed)s）",
                                       name=partner.name, type=_type_label(partner.org_type), allowed=allowed_label)
    return errors


def completeness_errors(copy: WorkingCopy) -> dict[str, str]:
    bid, errors = copy.bid, {}
    if copy.lead.status != OrgStatus.APPROVED:
        errors["lead_org"] = _("牵头单位尚未通过审核")
    if not bid.title:
        errors["title"] = _("请填写申报名称")
    if not bid.approach:
        errors["approach"] = _("请填写技术方案")
    if not bid.foundation:
        errors["foundation"] = _("请填写已有基础")
    for target in copy.targets:
        row = copy.commitments.get(target.id)
        if row is None or not row.committed_value:
            errors[f"target-{target.id}-value"] = _("请填写对考核指标“%(name)s”的承诺值", name=target.name)
    if not copy.members:
        errors["members"] = _("请至少填写一名团队成员（项目负责人）")
    if not copy.milestones:
        errors["milestones"] = _("请至少填写一个攻关节点")
    if not copy.budget:
        errors["budget"] = _("请填写经费预算")
    elif copy.totals.total <= 0:
        errors["budget"] = _("经费预算合计须大于 0")
    funding = Decimal(copy.challenge.funding_wan or 0)
    if funding > 0 and copy.totals.requested > funding:
        errors["budget_total"] = _("申请资金合计 %(total)s 万元，超过榜单金额 %(funding)s 万元",
                                   total=_amount(copy.totals.requested), funding=_amount(funding))
    counts = Counter(a.category for a in copy.attachments)
    for category in REQUIRED_CATEGORIES:
        if not counts[category.value]:
            errors[f"file-{category.value}"] = _("请上传%(category)s", category=category.label)
    if not bid.commitment_accepted:
        errors["commitment_accepted"] = _("提交前须阅读并接受诚信承诺")
    return errors


def _amount(value: Decimal) -> str:
    text = f"{Decimal(value):,.2f}"
    return text.rstrip("0").rstrip(".")


def submission_problems(copy: WorkingCopy) -> dict[str, str]:
    return {**completeness_errors(copy),
            **eligibility_errors(challenge=copy.challenge, lead=copy.lead, partners=copy.partners)}


# -- versions and receipts ------------------------------------------------------------------------
def _money(value) -> str:
    return str(Decimal(value).quantize(Decimal("0.01")))


def snapshot(copy: WorkingCopy) -> dict:
    """The content of a submission as plain JSON data (the attachments by their SHA-256)."""
    lead = copy.lead
    return {
        "challenge": {"id": copy.challenge.id, "title": copy.challenge.title},
        "lead": {"id": lead.id, "name": lead.name, "org_type": lead.org_type.value,
                 "credit_code": lead.credit_code, "region_code": lead.region_code},
        "title": copy.bid.title,
        "approach": copy.bid.approach,
        "foundation": copy.bid.foundation,
        "commitment_accepted": copy.bid.commitment_accepted,
        "targets": [
            {"target_id": t.id, "name": t.name, "target_value": t.target_value, "unit": t.unit,
             "committed_value": copy.commitments[t.id].committed_value if t.id in copy.commitments else "",
             "note": copy.commitments[t.id].note if t.id in copy.commitments else ""}
            for t in copy.targets
        ],
        "partners": [
            {"organisation_id": p.organisation_id, "name": p.name, "org_type": p.org_type,
             "credit_code": p.credit_code, "region_code": p.region_code}
            for p in copy.partners
        ],
        "members": [
            {"name": m.name, "title": m.title, "role": m.role, "organisation_name": m.organisation_name,
             "contact": m.contact, "email": m.email, "user_id": m.user_id}
            for m in copy.members
        ],
        "milestones": [
            {"title": m.title, "due_date": m.due_date.isoformat(), "deliverable": m.deliverable}
            for m in copy.milestones
        ],
        "budget": {
            "items": [{"item": b.item, "own_wan": _money(b.own_wan), "requested_wan": _money(b.requested_wan),
                       "note": b.note} for b in copy.budget],
            "own_total": _money(copy.totals.own),
            "requested_total": _money(copy.totals.requested),
            "total": _money(copy.totals.total),
        },
        "attachments": [
            {"category": a.category, "filename": a.filename, "sha256": a.blob.sha256, "size": a.blob.size,
             "blob_id": a.blob_id}
            for a in copy.attachments
        ],
    }


def canonical_json(document: dict) -> str:
    """Sorted keys, no spaces, UTF-8 text: the same content always gives the same bytes."""
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def document_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def version_document(*, bid: Bid, version: int, submitted_at: datetime, content: dict) -> dict:
    return {
        "format": DOCUMENT_FORMAT,
        "bid_id": bid.id,
        "bid_number": bid.number,
        "version": version,
        "submitted_at": submitted_at.isoformat(timespec="microseconds"),
        "content": content,
    }


def verify_version(version: BidVersion) -> bool:
    """The stored document still gives the stored hash, and is canonical."""
    return (document_sha256(version.document) == version.sha256
            and canonical_json(json.loads(version.document)) == version.document)


async def verify_all_versions(batch: int = 500) -> tuple[int, list[BidVersion]]:
    """Recompute every version's hash, in batches: (versions checked, those that do not match)."""
    checked, broken, last_id = 0, [], 0
    while rows := await BidVersion.filter(id__gt=last_id).order_by("id").limit(batch):
        for row in rows:
            checked += 1
            if not verify_version(row):
                broken.append(row)
        last_id = rows[-1].id
    return checked, broken


def version_content(version: BidVersion) -> dict:
    return json.loads(version.document)


async def _create_version(bid: Bid, copy: WorkingCopy, actor: User, now: datetime) -> BidVersion:
    number = bid.current_version + 1
    text = canonical_json(version_document(bid=bid, version=number, submitted_at=now, content=snapshot(copy)))
    row = await BidVersion.create(bid=bid, version=number, document=text, sha256=document_sha256(text),
                                  submitted_at=now, submitted_by=actor)
    bid.current_version = number
    bid.has_unsubmitted_changes = False
    return row


async def submit_bid(*, bid: Bid, actor: User, content: BidContent | None = None,
                     uploads: list[NewFile] = (), storage=None, now: datetime | None = None) -> BidVersion:
    """Submit (or re-submit) the bid: save `content` if given, check it, freeze it as the next version.

    Refused with `WindowClosed` outside the window (nothing saved), with `SubmissionIncomplete`
    when a rule fails (then `content` is still saved as the working copy, `draft_saved` tells)."""
    uploads = list(uploads)
    deleting = content.delete_attachment_ids if content is not None else []
    await _precheck(bid, actor, uploads, deleting, now)
    if bid.status not in SUBMITTABLE_BID_STATES:
        raise InvalidTransition(_("该申报当前状态（%(status)s）不能提交", status=bid.status.label))
    files = await _store(storage, uploads)
    for attempt in range(VERSION_RETRIES):
        try:
            return await _submit_once(bid, actor, content, files, now)
        except IntegrityError:
            # Another process wrote the same version number (SQLite files shared by processes).
            if attempt == VERSION_RETRIES - 1:
                raise DomainError(_("提交时发生冲突，请稍后重试")) from None
        except SubmissionIncomplete as refusal:
            if content is not None:
                async with in_transaction():
                    locked, challenge = await _lock(bid)
                    await _write_working_copy(locked, challenge, actor, content, files, now)
                refusal.draft_saved = True
            raise
    raise AssertionError("unreachable")


async def _submit_once(bid: Bid, actor: User, content: BidContent | None, files: list[StoredFile],
                       now: datetime | None) -> BidVersion:
    async with in_transaction():
        locked, challenge = await _lock(bid)
        moment = now or now_utc()
        _check_bidder(actor, locked)
        ensure_window_open(challenge, moment)
        if locked.status not in SUBMITTABLE_BID_STATES:
            raise InvalidTransition(_("该申报当前状态（%(status)s）不能提交", status=locked.status.label))
        if content is not None:
            await _write_working_copy(locked, challenge, actor, content, files, moment)
        elif files:
            await _attach_files(locked, actor, files)
        copy = await working_copy(locked, challenge)
        problems = submission_problems(copy)
        if problems:
            raise SubmissionIncomplete(problems)
        action = "submit" if locked.current_version == 0 else (
            "revise" if locked.status == BidStatus.SUBMITTED else "resubmit")
        version = await _create_version(locked, copy, actor, moment)
        await set_bid_status(bid=locked, status=BidStatus.SUBMITTED, actor=actor, action=action, now=moment,
                             version=version, challenge=challenge)
    return version


# -- the one writer of the status -----------------------------------------------------------------
_SUBJECTS = {
    BidStatus.SUBMITTED: N_("申报已提交：%(title)s（第 %(version)s 版）"),
    BidStatus.WITHDRAWN: N_("申报已撤回：%(title)s"),
    BidStatus.FORMAL_FAILED: N_("形式审查未通过：%(title)s"),
    BidStatus.IN_REVIEW: N_("形式审查通过，进入评审：%(title)s"),
    BidStatus.ADVANCED: N_("申报已晋级/入围：%(title)s"),
    BidStatus.NOT_SELECTED: N_("申报未入选：%(title)s"),
    BidStatus.WINNER: N_("揭榜成功：%(title)s"),
}


async def set_bid_status(*, bid: Bid, status: BidStatus, actor: User | None, reason: str = "",
                         action: str = "", message: str = "", now: datetime | None = None,
                         version: BidVersion | None = None, challenge: Challenge | None = None,
                         body: Text | None = None) -> Bid:
    """The only writer of `Bid.status`. Call it inside the transaction that locked the bid.

    Checks the transition (`BID_TRANSITIONS`) and, for SUBMITTED and WITHDRAWN, that the bid
    window is open at `now`. Side effects, in the same transaction:
    - `status_reason` = `reason` (cleared when none is given), `submitted_at` on SUBMITTED,
      `formal_checked_at`/`formal_checked_by` for the formal check actions,
    - the audit entry `bid.<action or status>` with the status before and after (and the
      version number and receipt hash on a submission),
    - a `BidMessage` to the bidder when `message` is given (the organiser's words),
    - an inbox notification and an e-mail (outbox) to every active user of the lead organisation;
      its text is `body` when given (a function writes it in each recipient's language), else the
      reason or the message.
    """
    status = BidStatus(status)
    moment = now or now_utc()
    if status not in BID_TRANSITIONS.get(bid.status, set()):
        raise InvalidTransition(_("申报不能从“%(before)s”变为“%(after)s”", before=bid.status.label, after=status.label))
    if status in WINDOW_BOUND_TARGETS:
        ensure_window_open(challenge or await Challenge.get(id=bid.challenge_id), moment)
    before = {"status": bid.status.value, "version": bid.current_version}
    async with in_transaction():
        bid.status = status
        bid.status_reason = reason
        if status == BidStatus.SUBMITTED:
            bid.submitted_at = moment
        if action in {"formal_pass", "formal_fail"}:
            bid.formal_checked_at, bid.formal_checked_by = moment, actor
        await bid.save()
        after = {"status": status.value, "version": bid.current_version}
        if version is not None:
            after["sha256"] = version.sha256
        await audit.record(actor=actor, action=f"bid.{action or status.value}", obj=bid, before=before,
                           after=after, note=reason)
        if message:
            await BidMessage.create(bid=bid, author=actor, status=status, body=message)
        await _notify_organisation(bid, status, body or reason or message, version)
    return bid


async def _notify_organisation(bid: Bid, status: BidStatus, text: Text, version: BidVersion | None) -> None:
    link = f"/bids/{bid.id}/receipt/{version.version}" if version is not None else bid_link(bid)

    def subject() -> str:
        return _(_SUBJECTS[status], title=bid.title or bid.number, version=bid.current_version)

    def body() -> str:
        if version is None:
            return text() if callable(text) else text
        return _("申报编号 %(number)s，第 %(version)s 版，提交时间 %(when)s，回执 SHA-256：%(sha)s",
                 number=bid.number, version=version.version, when=format_datetime(version.submitted_at),
                 sha=version.sha256)
    for user in await User.filter(organisation_id=bid.lead_org_id, is_active=True):
        await notify(user=user, subject=subject, body=body, link=link)


# -- withdrawal and the formal check --------------------------------------------------------------
async def withdraw_bid(*, bid: Bid, actor: User, reason: str = "", now: datetime | None = None) -> Bid:
    """Withdraw a submitted bid while the window is open; it may be submitted again until the close."""
    _check_bidder(actor, bid)
    async with in_transaction():
        locked, challenge = await _lock(bid)
        if locked.status not in WITHDRAWABLE_BID_STATES:
            raise InvalidTransition(_("只有已提交的申报可以撤回"))
        await set_bid_status(bid=locked, status=BidStatus.WITHDRAWN, actor=actor, reason=reason, action="withdraw",
                             now=now, challenge=challenge)
    return locked


async def formal_check(*, bid: Bid, actor: User, passed: bool, reason: str = "") -> Bid:
    """The organiser's formal check (形式审查): pass (to review) or fail with a reason the bidder sees."""
    _check_organiser(actor)
    reason = reason.strip()
    if not passed and not reason:
        raise DomainError(_("不通过时请填写原因，申报方将看到这段说明"), field="reason")
    async with in_transaction():
        locked, _challenge = await _lock(bid)
        allowed = FORMAL_PASS_FROM if passed else FORMAL_FAIL_FROM
        if locked.status not in allowed:
            raise InvalidTransition(_("该申报当前状态（%(status)s）不能进行形式审查", status=locked.status.label))
        if passed:
            message = reason or _("形式审查通过，申报进入专家评审。")
            await set_bid_status(bid=locked, status=BidStatus.IN_REVIEW, actor=actor, reason=reason,
                                 action="formal_pass", message=message)
        else:
            await set_bid_status(bid=locked, status=BidStatus.FORMAL_FAILED, actor=actor, reason=reason,
                                 action="formal_fail", message=reason)
    return locked


async def formal_check_bids(*, bids: list[Bid], actor: User, passed: bool, reason: str = "") -> BulkOutcome[Bid]:
    """The formal check of several bids with one result and reason, each through `formal_check`
    (its own transaction, audit entry, message and mails). A bid the rules refuse (checked
    meanwhile, withdrawn) is reported with the reason; the others are still checked."""
    _check_organiser(actor)
    if not passed and not reason.strip():
        raise DomainError(_("不通过时请填写原因，申报方将看到这段说明"), field="reason")
    return await bulk.each(bids, lambda bid: formal_check(bid=bid, actor=actor, passed=passed, reason=reason))


# -- for the reviews area -------------------------------------------------------------------------
async def consortium_org_ids(bid: Bid) -> set[int]:
    """Registered organisations of the consortium: the lead and every registered partner."""
    partner_ids = await BidPartner.filter(bid_id=bid.id, organisation_id__not_isnull=True).values_list(
        "organisation_id", flat=True)
    return {bid.lead_org_id, *partner_ids}


async def member_user_ids(bid: Bid) -> set[int]:
    """Registered users on the team (members linked by their e-mail)."""
    return set(await TeamMember.filter(bid_id=bid.id, user_id__not_isnull=True).values_list("user_id", flat=True))


# -- the bidder's page and the organiser's list ---------------------------------------------------
async def versions_by_bid(bid_ids: list[int]) -> dict[int, list[BidVersion]]:
    result: dict[int, list[BidVersion]] = {bid_id: [] for bid_id in bid_ids}
    rows = await BidVersion.filter(bid_id__in=bid_ids or [0]).only(
        "id", "bid_id", "version", "sha256", "submitted_at").order_by("bid_id", "version")
    for row in rows:
        result[row.bid_id].append(row)
    return result


async def messages_by_bid(bid_ids: list[int]) -> dict[int, list[BidMessage]]:
    result: dict[int, list[BidMessage]] = {bid_id: [] for bid_id in bid_ids}
    for row in await BidMessage.filter(bid_id__in=bid_ids or [0]).order_by("-id"):
        result[row.bid_id].append(row)
    return result


async def open_challenges_for(organisation_id: int, now: datetime | None = None) -> list[Challenge]:
    """Published challenges whose window is open and that the organisation has not bid on yet."""
    now = now or now_utc()
    taken = await Bid.filter(lead_org_id=organisation_id).values_list("challenge_id", flat=True)
    return await Challenge.filter(
        Q(status=ChallengeStatus.PUBLISHED), Q(closes_at__gt=now),
        Q(opens_at__isnull=True) | Q(opens_at__lte=now),
    ).exclude(id__in=list(taken) or [0]).order_by("closes_at")


def managed_bids(challenge: Challenge, filters: BidFilters):
    query = Bid.filter(challenge_id=challenge.id, status__in=[s.value for s in MANAGED_BID_STATES])
    if filters.status:
        query = query.filter(status=filters.status)
    if filters.q:
        condition = Q(title__icontains=filters.q) | Q(lead_org__name__icontains=filters.q)
        digits = filters.q.rpartition("-")[2].lstrip("JBjb0") or "0"
        if digits.isascii() and digits.isdigit() and int(digits) <= MAX_ID:
            condition |= Q(id=int(digits))
        query = query.filter(condition)
    return query.select_related("lead_org").order_by("id")


async def status_counts(challenge: Challenge) -> dict[str, int]:
    rows = await Bid.filter(challenge_id=challenge.id).group_by("status").annotate(n=Count("id")).values_list(
        "status", "n")
    return {str(getattr(status, "value", status)): n for status, n in rows}


async def latest_versions(bids: list[Bid]) -> dict[int, BidVersion]:
    """The latest version of each bid (full documents)."""
    wanted = Q()
    pairs = [(b.id, b.current_version) for b in bids if b.current_version]
    if not pairs:
        return {}
    for bid_id, number in pairs:
        wanted |= Q(bid_id=bid_id, version=number)
    return {v.bid_id: v for v in await BidVersion.filter(wanted)}


EXPORT_HEADER = [
    N_("申报编号"), N_("申报名称"), N_("牵头单位"), N_("单位类型"), N_("所在地区"), N_("联合单位"), N_("团队人数"),
    N_("状态"), N_("版本"), N_("最近提交时间（北京时间）"), N_("申请资金（万元）"), N_("自筹资金（万元）"),
    N_("预算合计（万元）"), N_("附件数"), N_("回执 SHA-256"), N_("形式审查意见"),
]


def export_header() -> list[str]:
    return [_(label) for label in EXPORT_HEADER]


async def export_rows(query, batch: int = 200):
    """Rows from each bid's latest submitted version (what counts), in batches."""
    offset = 0
    while True:
        bids = await query.offset(offset).limit(batch)
        if not bids:
            return
        latest = await latest_versions(bids)
        for bid in bids:
            version = latest.get(bid.id)
            content = version_content(version)["content"] if version else {}
            budget = content.get("budget", {})
            yield [
                bid.number, content.get("title", bid.title), bid.lead_org.name, bid.lead_org.org_type,
                regions.name(bid.lead_org.region_code), "、".join(p["name"] for p in content.get("partners", [])),
                len(content.get("members", [])), bid.status, bid.current_version,
                version.submitted_at if version else None,
                Decimal(budget.get("requested_total", "0")), Decimal(budget.get("own_total", "0")),
                Decimal(budget.get("total", "0")), len(content.get("attachments", [])),
                version.sha256 if version else "", bid.status_reason,
            ]
        offset += batch


@dataclass
class ZipFile:
    name: str
    blob: Blob
    modified: datetime


async def challenge_zip_files(challenge: Challenge) -> list[ZipFile]:
    """The attachments of every received bid's latest version, with neutral, unique entry names:
    `<bid number>/<category>/<file name>`. Only metadata is loaded here, never content."""
    bids = await Bid.filter(challenge_id=challenge.id, status__in=[s.value for s in RECEIVED_BID_STATES],
                            current_version__gt=0).order_by("id")
    latest = await latest_versions(bids)
    wanted: list[tuple[str, int, datetime]] = []
    for bid in bids:
        version = latest.get(bid.id)
        if version is None:
            continue
        for item in version_content(version)["content"]["attachments"]:
            category = item["category"] if item["category"] in {c.value for c in AttachmentCategory} else "other"
            name = f"{safe_component(bid.number)}/{category}/{safe_component(item['filename'])}"
            wanted.append((name, item["blob_id"], version.submitted_at))
    blobs = {b.id: b for b in await Blob.filter(id__in=[w[1] for w in wanted] or [0])}
    names = unique_names([w[0] for w in wanted])
    return [ZipFile(name, blobs[blob_id], modified) for name, (_entry, blob_id, modified) in zip(names, wanted)
            if blob_id in blobs]
