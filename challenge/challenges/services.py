"""Challenges: build from accepted needs, publish, amend, answer questions, close, list.

`set_challenge_status()` is the only function that writes `Challenge.status`.
"""

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Case, F, Q, Subquery, When
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from challenge.accounts.models import Organisation, User
from challenge.audit import services as audit
from challenge.bids.models import Bid, BidStatus
from challenge.catalog.models import Domain
from challenge.challenges import display, search
from challenge.challenges.models import (
    CHALLENGE_TRANSITIONS,
    PUBLIC_CHALLENGE_STATES,
    Aggregation,
    Amendment,
    AssessmentTarget,
    Challenge,
    ChallengeNumberCounter,
    ChallengeStatus,
    Mechanism,
    Question,
    RubricCriterion,
    Stage,
)
from challenge.enums import N_
from challenge.errors import DomainError, InvalidTransition, PermissionDenied
from challenge.follow.services import notify_followers
from challenge.mail.services import notify
from challenge.needs.models import Need, NeedStatus
from challenge.web.i18n import _
from challenge.web.timefmt import format_datetime, now_utc, to_beijing

RUBRIC_TOTAL = 100
QUESTION_MIN, QUESTION_MAX = 5, 2000
# Areas above react to a challenge's status change (delivery: a cancelled challenge ends its projects):
# `await hook(challenge=..., status=..., actor=..., reason=..., now=...)`, inside the change's transaction.
STATUS_HOOKS: list = []


class EditAfterPublish(DomainError):
    """A published challenge changes only through an amendment (补充通知)."""


# -- the data of a challenge, as a form gives it and as the rules check it ----------------------

@dataclass
class TargetRow:
    name: str
    target_value: str
    unit: str = ""
    verification: str = ""
    id: int | None = None

    def as_json(self) -> dict:
        return {"name": self.name, "target_value": self.target_value, "unit": self.unit,
                "verification": self.verification}


@dataclass
class CriterionRow:
    name: str
    weight: int | None
    max_score: int | None = 100
    guidance: str = ""
    id: int | None = None


@dataclass
class StageRow:
    name: str
    deliverable: str
    due_at: datetime | None
    advance_count: int | None
    id: int | None = None
    funding_wan: Decimal | None = Decimal("0")

    def funding_json(self) -> dict:
        return {"name": self.name, "funding_wan": _json_value("funding_wan", self.funding_wan or Decimal("0"))}


@dataclass
class ChallengeData:
    mechanism: Mechanism = Mechanism.OPEN_CALL
    title: str = ""
    summary: str = ""
    description: str = ""
    domain_id: int | None = None
    funding_wan: Decimal | None = None
    delivery_months: int | None = 24
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    winners_count: int | None = 1
    experts_per_bid: int | None = 5
    blind_review: bool = False
    aggregation: Aggregation = Aggregation.TRIMMED_MEAN
    eligibility_text: str = ""
    allowed_org_types: list[str] = field(default_factory=list)
    allowed_regions: list[str] = field(default_factory=list)
    consortium_required: bool = False
    max_partners: int | None = 5
    contact_name: str = ""
    contact_phone: str = ""
    need_ids: list[int] = field(default_factory=list)
    issuer_ids: list[int] = field(default_factory=list)
    targets: list[TargetRow] = field(default_factory=list)
    criteria: list[CriterionRow] = field(default_factory=list)
    stages: list[StageRow] = field(default_factory=list)


SCALAR_FIELDS = [
    "mechanism", "title", "summary", "description", "domain_id", "funding_wan", "delivery_months", "opens_at",
    "closes_at", "winners_count", "experts_per_bid", "blind_review", "aggregation", "eligibility_text",
    "allowed_org_types", "allowed_regions", "consortium_required", "max_partners", "contact_name", "contact_phone",
]


async def load_data(challenge: Challenge) -> ChallengeData:
    """The stored challenge as ChallengeData (for the edit form and the publishing rules)."""
    data = ChallengeData(**{name: getattr(challenge, name) for name in SCALAR_FIELDS})
    data.allowed_org_types = list(challenge.allowed_org_types or [])
    data.allowed_regions = list(challenge.allowed_regions or [])
    data.need_ids = list(await challenge.needs.all().values_list("id", flat=True))
    data.issuer_ids = list(await challenge.issuers.all().values_list("id", flat=True))
    data.targets = [TargetRow(t.name, t.target_value, t.unit, t.verification, t.id)
                    for t in await AssessmentTarget.filter(challenge=challenge).order_by("position", "id")]
    data.criteria = [CriterionRow(c.name, c.weight, c.max_score, c.guidance, c.id)
                     for c in await RubricCriterion.filter(challenge=challenge).order_by("position", "id")]
    data.stages = [StageRow(s.name, s.deliverable, s.due_at, s.advance_count, s.id, s.funding_wan)
                   for s in await Stage.filter(challenge=challenge).order_by("position", "id")]
    return data


# -- the publishing rules -----------------------------------------------------------------------

# A mainland telephone as a call prints it: a mobile (13812345678), a landline with its area code
# and an optional extension (010-12345678, 0512-6868 6868-801) or a 400/800 service number.
PHONE_RE = re.compile(r"^(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(?:-\d{1,6})?|[48]00-?\d{3}-?\d{4})$")


def phone_problem(phone: str) -> str:
    """Why a consultation telephone (咨询电话) is not one, or "" (spaces inside are allowed)."""
    if phone and not PHONE_RE.match(re.sub(r"[\s\u3000]", "", phone)):
        return _("请填写有效的电话号码：手机号（11 位）或带区号的固定电话，如 010-12345678 或 0512-68686868-801")
    return ""


def contact_problems(data: ChallengeData) -> dict[str, str]:
    problems = {}
    if problem := phone_problem(data.contact_phone):
        problems["contact_phone"] = problem
    if data.contact_phone and not data.contact_name.strip():
        problems["contact_name"] = _("请填写咨询联系人姓名")
    if data.contact_name.strip() and not data.contact_phone:
        problems["contact_phone"] = _("请填写咨询电话")
    return problems


def content_problems(data: ChallengeData) -> dict[str, str]:
    problems: dict[str, str] = contact_problems(data)
    if not data.title.strip():
        problems["title"] = _("请填写榜单名称")
    if not data.summary.strip():
        problems["summary"] = _("请填写榜单简介，说明要解决的技术问题")
    if data.domain_id is None:
        problems["domain_id"] = _("请选择所属领域")
    if not data.targets:
        problems["targets"] = _("至少需要一项考核指标（名称、目标值、单位、考核方式）")
    elif any(not row.name.strip() or not row.target_value.strip() for row in data.targets):
        problems["targets"] = _("每项考核指标都需要填写名称和目标值")
    if not data.funding_wan or data.funding_wan <= 0:
        problems["funding_wan"] = _("请填写大于 0 的榜单金额（万元）")
    if not data.delivery_months or data.delivery_months <= 0:
        problems["delivery_months"] = _("请填写攻关周期（月）")
    if not data.winners_count or data.winners_count < 1:
        problems["winners_count"] = _("揭榜成功的团队数至少为 1")
    if data.consortium_required and (data.max_partners or 0) < 1:
        problems["max_partners"] = _("要求组成联合体时，合作单位上限至少为 1")
    if not data.need_ids:
        problems["need_ids"] = _("榜单须来源于至少一项已采纳的技术需求")
    if not data.issuer_ids:
        problems["issuer_ids"] = _("请选择发榜单位")
    return problems


def rubric_problems(data: ChallengeData) -> dict[str, str]:
    if not data.criteria:
        return {"criteria": _("尚未设置评审细则：至少需要一项评审要素（权重、满分、评分说明）")}
    if any(not row.name.strip() for row in data.criteria):
        return {"criteria": _("每项评审要素都需要名称")}
    if any((row.weight or 0) <= 0 or (row.max_score or 0) <= 0 for row in data.criteria):
        return {"criteria": _("每项评审要素的权重和满分都必须大于 0")}
    total = sum(row.weight or 0 for row in data.criteria)
    if total != RUBRIC_TOTAL:
        return {"criteria": _("评审要素的权重合计须为 100，当前为 %(total)s", total=total)}
    if (data.experts_per_bid or 0) < 1:
        return {"experts_per_bid": _("每份申报的评审专家人数至少为 1")}
    return {}


def window_problems(data: ChallengeData, now: datetime) -> dict[str, str]:
    if data.opens_at is None or data.closes_at is None:
        problems = {}
        if data.opens_at is None:
            problems["opens_at"] = _("请填写揭榜开始时间")
        if data.closes_at is None:
            problems["closes_at"] = _("请填写揭榜截止时间")
        return problems
    if data.closes_at <= data.opens_at:
        return {"closes_at": _("揭榜截止时间必须晚于开始时间")}
    if data.closes_at <= now:
        return {"closes_at": _("揭榜截止时间已过，请设置将来的截止时间")}
    return {}


def stage_problems(data: ChallengeData) -> dict[str, str]:
    if data.mechanism != Mechanism.HORSE_RACE:
        return {}
    if not data.stages:
        return {"stages": _("赛马榜单至少需要一个阶段（名称、交付物、截止日期、晋级团队数）")}
    if any(not row.name.strip() or row.due_at is None or not row.advance_count for row in data.stages):
        return {"stages": _("每个阶段都需要名称、截止日期和晋级团队数")}
    dates = [row.due_at for row in data.stages]
    if any(later <= earlier for earlier, later in zip(dates, dates[1:])):
        return {"stages": _("各阶段的截止日期须按先后顺序排列")}
    if data.closes_at is not None and dates[0] <= data.closes_at:
        return {"stages": _("第一阶段的截止日期须晚于揭榜截止时间")}
    counts = [row.advance_count for row in data.stages]
    if any(later > earlier for earlier, later in zip(counts, counts[1:])):
        return {"stages": _("后一阶段晋级的团队数不能多于前一阶段")}
    if counts[-1] < (data.winners_count or 1):
        return {"stages": _("最后一阶段晋级的团队数不能少于揭榜成功的团队数")}
    return stage_funding_problems(data)


def stage_funding_problems(data: ChallengeData) -> dict[str, str]:
    """The stages' funding is part of the challenge's funding."""
    total = sum((row.funding_wan or Decimal("0") for row in data.stages), Decimal("0"))
    if data.funding_wan is not None and total > data.funding_wan:
        return {"stages": _("各阶段经费合计 %(total)s 万元，超过榜单金额 %(funding)s 万元",
                            total=_json_value("funding_wan", total), funding=_json_value("funding_wan",
                                                                                           data.funding_wan))}
    return {}


def publish_problems(data: ChallengeData, *, now: datetime) -> dict[str, str]:
    """Everything that stops a challenge from being published, by form field."""
    problems = content_problems(data)
    for more in (rubric_problems(data), window_problems(data, now), stage_problems(data)):
        for name, message in more.items():
            problems.setdefault(name, message)
    return problems


# -- drafts -------------------------------------------------------------------------------------

async def _sync_rows(model, challenge: Challenge, rows: list, make) -> list:
    """Update rows in place by id (keeps what bids refer to), create new ones, delete dropped ones."""
    existing = {row.id: row for row in await model.filter(challenge=challenge)}
    kept = []
    for position, row in enumerate(rows):
        values = {**make(row), "position": position}
        stored = existing.pop(row.id, None) if row.id is not None else None
        if stored is None:
            stored = await model.create(challenge=challenge, **values)
        else:
            stored.update_from_dict(values)
            await stored.save()
        row.id = stored.id
        kept.append(stored)
    if existing:
        await model.filter(id__in=list(existing)).delete()
    return kept


def _target_values(row: TargetRow) -> dict:
    return {"name": row.name, "target_value": row.target_value, "unit": row.unit, "verification": row.verification}


def _criterion_values(row: CriterionRow) -> dict:
    return {"name": row.name, "weight": row.weight or 0, "max_score": row.max_score or 100, "guidance": row.guidance}


def _stage_values(row: StageRow) -> dict:
    return {"name": row.name, "deliverable": row.deliverable, "due_at": row.due_at,
            "advance_count": row.advance_count or 1, "funding_wan": row.funding_wan or Decimal("0")}


async def refresh_targets_text(challenge: Challenge) -> None:
    """Copy the targets into the searched text (Challenge.save() rebuilds `search_text`)."""
    targets = await AssessmentTarget.filter(challenge=challenge).order_by("position", "id")
    challenge.targets_text = search.targets_text(targets)
    await challenge.save(update_fields=["targets_text", "updated_at"])


async def _check_needs(data: ChallengeData, already_linked: set[int]) -> list[Need]:
    needs = await Need.filter(id__in=data.need_ids).select_related("organisation")
    if len(needs) != len(set(data.need_ids)):
        raise DomainError(_("所选技术需求不存在"), field="need_ids")
    not_accepted = [n.title for n in needs if n.id not in already_linked and n.status != NeedStatus.ACCEPTED]
    if not_accepted:
        raise DomainError(_("只能使用已采纳的技术需求：%(titles)s", titles="、".join(not_accepted)), field="need_ids")
    return needs


def _check_rows(data: ChallengeData, current: ChallengeData | None) -> None:
    """Row ids must be the challenge's own rows (a forged id would move another challenge's row)."""
    for name in ("targets", "criteria", "stages"):
        allowed = {row.id for row in getattr(current, name)} if current else set()
        if any(row.id is not None and row.id not in allowed for row in getattr(data, name)):
            raise DomainError(_("提交的数据已过期，请刷新页面后重试"), field=name)


async def save_draft(*, challenge: Challenge | None, data: ChallengeData, actor: User) -> Challenge:
    """Create or update a draft. Issuers default to the needs' organisations, domain to the first need's."""
    if challenge is not None and challenge.status != ChallengeStatus.DRAFT:
        raise EditAfterPublish(_("榜单已发布，不能直接修改。请通过“发布补充通知”说明并公开修改内容。"))
    current = await load_data(challenge) if challenge is not None else None
    _check_rows(data, current)
    if problems := contact_problems(data):
        raise DomainError(next(iter(problems.values())), errors=problems)
    if not data.need_ids:
        raise DomainError(_("请至少选择一项已采纳的技术需求"), field="need_ids")
    needs = await _check_needs(data, set(current.need_ids) if current else set())
    if not data.issuer_ids:
        data.issuer_ids = sorted({need.organisation_id for need in needs})
    issuers = await Organisation.filter(id__in=data.issuer_ids)
    if len(issuers) != len(set(data.issuer_ids)):
        raise DomainError(_("所选发榜单位不存在"), field="issuer_ids")
    if data.domain_id is None:
        data.domain_id = next((need.domain_id for need in needs if need.domain_id), None)
    if data.domain_id is not None and not await Domain.exists(id=data.domain_id):
        raise DomainError(_("所选领域不存在"), field="domain_id")
    values = {name: getattr(data, name) for name in SCALAR_FIELDS}
    values["funding_wan"] = data.funding_wan or Decimal("0")
    values["delivery_months"] = data.delivery_months or 0
    values["winners_count"] = data.winners_count or 1
    values["experts_per_bid"] = data.experts_per_bid or 1
    values["max_partners"] = data.max_partners if data.max_partners is not None else 0
    async with in_transaction():
        created = challenge is None
        if created:
            challenge = await Challenge.create(created_by=actor, **values)
        else:
            challenge.update_from_dict(values)
            await challenge.save()
        await _sync_rows(AssessmentTarget, challenge, data.targets, _target_values)
        await _sync_rows(RubricCriterion, challenge, data.criteria, _criterion_values)
        stages = data.stages if data.mechanism == Mechanism.HORSE_RACE else []
        await _sync_rows(Stage, challenge, stages, _stage_values)
        await challenge.needs.clear()
        await challenge.needs.add(*needs)
        await challenge.issuers.clear()
        await challenge.issuers.add(*issuers)
        await refresh_targets_text(challenge)
        await audit.record(actor=actor, action="challenge.create" if created else "challenge.update", obj=challenge,
                           after={"title": challenge.title, "mechanism": challenge.mechanism,
                                  "needs": sorted(data.need_ids), "issuers": sorted(data.issuer_ids)})
    return challenge


async def save_and_publish(*, challenge: Challenge | None, data: ChallengeData, actor: User,
                           now: datetime | None = None) -> Challenge:
    """Save the draft and publish it, or change nothing at all when publishing is refused."""
    async with in_transaction():
        saved = await save_draft(challenge=challenge, data=data, actor=actor)
        return await set_challenge_status(challenge=saved, status=ChallengeStatus.PUBLISHED, actor=actor, now=now)


# -- the state machine --------------------------------------------------------------------------

async def _bidder_users(challenge: Challenge) -> list[User]:
    """Bidders of the organisations that lead a bid on this challenge (withdrawn bids excluded)."""
    lead_orgs = Bid.filter(challenge_id=challenge.id).exclude(status=BidStatus.WITHDRAWN).values("lead_org_id")
    return await User.filter(organisation_id__in=Subquery(lead_orgs), is_bidder=True, is_active=True)


async def _need_authors(challenge: Challenge) -> list[User]:
    need_ids = await challenge.needs.all().values_list("id", flat=True)
    authors = Need.filter(id__in=list(need_ids)).values("created_by_id")
    return await User.filter(id__in=Subquery(authors), is_active=True)


NUMBER_PREFIX = "LC"


async def next_public_number(now: datetime) -> str:
    """The next public number (榜单编号) of the Beijing year, e.g. LC-2026-0007. Call it inside
    the publishing transaction: the counter row is raised by one UPDATE (PostgreSQL locks the
    row until commit), and a number lost to a rolled-back publish is never reused."""
    year = to_beijing(now).year
    if not await ChallengeNumberCounter.filter(year=year).update(last_number=F("last_number") + 1):
        try:
            async with in_transaction():
                await ChallengeNumberCounter.create(year=year, last_number=1)
        except IntegrityError:  # another publish created the year's row a moment ago
            await ChallengeNumberCounter.filter(year=year).update(last_number=F("last_number") + 1)
    counter = await ChallengeNumberCounter.get(year=year)
    return f"{NUMBER_PREFIX}-{year}-{counter.last_number:04d}"


async def set_challenge_status(*, challenge: Challenge, status: ChallengeStatus, actor: User | None,
                               reason: str = "", now: datetime | None = None) -> Challenge:
    """The only writer of `Challenge.status`: draft → published → closed → reviewing → notice →
    announced → delivering → finished, or cancelled (see CHALLENGE_TRANSITIONS).

    Refuses (DomainError, nothing changed) a transition not in the table, publishing while
    `publish_problems()` finds anything (each problem by field in `errors`), closing before the
    window has passed, and cancelling without a reason.
    Side effects, in one transaction: `published_at` and the public number (`next_public_number`)
    are set on publishing and `cancel_reason` on cancelling; an audit entry `challenge.<status>` with the before/after status; notifications
    to the authors of the source needs (published, cancelled) and to bidders (cancelled); the
    `STATUS_HOOKS` of the areas above.
    """
    now = now or now_utc()
    status = ChallengeStatus(status)
    reason = (reason or "").strip()
    async with in_transaction():
        current = await Challenge.filter(id=challenge.id).select_for_update().get()
        before = current.status
        if status not in CHALLENGE_TRANSITIONS[before]:
            raise InvalidTransition(_("榜单当前状态为“%(a)s”，不能变更为“%(b)s”", a=before.label, b=status.label),
                                    field="status")
        if status == ChallengeStatus.CANCELLED and not reason:
            raise DomainError(_("撤销榜单须填写理由，理由将公开显示"), field="reason")
        if status == ChallengeStatus.PUBLISHED:
            problems = publish_problems(await load_data(current), now=now)
            if problems:
                raise DomainError(_("榜单尚不能发布，请先解决以下问题"), errors=problems)
            current.published_at = now
            current.public_number = current.public_number or await next_public_number(now)
        if status == ChallengeStatus.CLOSED and not current.window_passed(now):
            raise DomainError(_("揭榜截止时间未到，不能提前截止；如需调整截止时间请发布补充通知"), field="status")
        current.status = status
        if status == ChallengeStatus.CANCELLED:
            current.cancel_reason = reason
        await current.save(update_fields=["status", "published_at", "public_number", "cancel_reason", "updated_at"])
        after = {"status": status}
        if status == ChallengeStatus.PUBLISHED:
            after["public_number"] = current.public_number
        await audit.record(actor=actor, action=f"challenge.{status.value}", obj=current,
                           before={"status": before}, after=after, note=reason)
        link = f"/challenges/{current.id}"
        if status == ChallengeStatus.PUBLISHED:
            for user in await _need_authors(current):
                await notify(user=user, subject=lambda: _("您提交的技术需求已编入榜单并发布：%(title)s", title=current.title),
                             body=lambda: _("榜单揭榜截止时间见榜单页面。"), link=link)
        if status == ChallengeStatus.CANCELLED:
            recipients = {u.id: u for u in [*await _bidder_users(current), *await _need_authors(current)]}
            for user in recipients.values():
                await notify(user=user, subject=lambda: _("榜单已撤销：%(title)s", title=current.title),
                             body=lambda: _("撤销理由：%(reason)s", reason=reason), link=link)
        for hook in STATUS_HOOKS:
            await hook(challenge=current, status=status, actor=actor, reason=reason, now=now)
    challenge.status, challenge.published_at, challenge.cancel_reason, challenge.public_number = (
        current.status, current.published_at, current.cancel_reason, current.public_number)
    return challenge


async def close_expired(*, now: datetime | None = None) -> list[Challenge]:
    """Flip published challenges whose window has passed to closed (run by `challenge close-expired`)."""
    now = now or now_utc()
    closed = []
    for challenge in await Challenge.filter(status=ChallengeStatus.PUBLISHED, closes_at__lte=now).order_by("id"):
        try:
            closed.append(await set_challenge_status(challenge=challenge, status=ChallengeStatus.CLOSED,
                                                     actor=None, now=now))
        except InvalidTransition:
            continue  # another process closed it first
    return closed


# -- amendments (补充通知) ------------------------------------------------------------------------

AMENDABLE_FIELDS = [
    "title", "summary", "description", "closes_at", "funding_wan", "delivery_months", "winners_count",
    "eligibility_text", "allowed_org_types", "allowed_regions", "consortium_required", "max_partners", "targets",
    "stages", "contact_name", "contact_phone",
]
# Rows kept in their own tables; of a stage, an amendment changes the funding only.
ROW_FIELDS = {"targets", "stages"}


def _json_value(name: str, value):
    if name == "targets":
        return [row.as_json() for row in value]
    if name == "stages":
        return [row.funding_json() for row in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.quantize(Decimal("0.01")), "f")
    if isinstance(value, (list, tuple)):
        return sorted(str(v) for v in value)
    return value


def not_amendable_message(challenge: Challenge, now: datetime) -> str:
    if challenge.status == ChallengeStatus.PUBLISHED and challenge.window_passed(now):
        return _("揭榜已于 %(when)s 截止，不能再发布补充通知", when=format_datetime(challenge.closes_at))
    return _("榜单当前状态为“%(s)s”，不能再发布补充通知", s=challenge.shown_status(now).label)


async def amend_challenge(*, challenge: Challenge, data: ChallengeData, explanation: str, actor: User,
                          now: datetime | None = None) -> Amendment:
    """Publish a supplementary notice: apply the changed amendable fields of `data`, version it.

    Refused (nothing changed) unless the challenge is published and its bid window has not closed
    (`Challenge.amendable`), without an explanation, without any change, when the close is moved
    earlier or changed before the window opens, or when the result would not be publishable. Side effects: `version` + 1, an Amendment row with the
    before/after of each changed field, search text refreshed, audit entry `challenge.amend`,
    a notification to every bidder with a bid on the challenge.
    """
    now = now or now_utc()
    explanation = explanation.strip()
    async with in_transaction():
        current_row = await Challenge.filter(id=challenge.id).select_for_update().get()
        if not current_row.amendable(now):
            raise DomainError(not_amendable_message(current_row, now))
        current = await load_data(current_row)
        _check_rows(data, current)
        changes = []
        for name in AMENDABLE_FIELDS:
            before, after = _json_value(name, getattr(current, name)), _json_value(name, getattr(data, name))
            if before != after:
                changes.append({"field": name, "before": before, "after": after})
        errors = {}
        if not explanation:
            errors["explanation"] = _("请说明修改的内容和理由，补充通知将公开发布")
        if not changes:
            errors["changes"] = _("没有修改任何内容")
        changed = {change["field"] for change in changes}
        merged = replace(current)
        for name in AMENDABLE_FIELDS:
            setattr(merged, name, getattr(data, name))
        for name, message in content_problems(merged).items():
            if name in changed:
                errors.setdefault(name, message)
        if changed & {"stages", "funding_wan"}:
            for name, message in stage_funding_problems(merged).items():
                errors.setdefault(name, message)
        if "closes_at" in changed:
            if not current_row.accepting_bids(now):
                errors["closes_at"] = _("揭榜窗口已结束或尚未开始，不能再修改截止时间")
            elif data.closes_at is None or data.closes_at < current.closes_at:
                errors["closes_at"] = _("截止时间只能延后，不能提前（已在准备申报的团队需要足够的时间）")
            else:
                errors.update({k: v for k, v in {**window_problems(merged, now), **stage_problems(merged)}.items()
                               if k not in errors})
        if errors:
            raise DomainError(_("补充通知未发布，请先解决以下问题"), errors=errors)
        current_row.version += 1
        current_row.update_from_dict({name: getattr(merged, name) for name in AMENDABLE_FIELDS
                                      if name not in ROW_FIELDS})
        await current_row.save()
        if "targets" in changed:
            await _sync_rows(AssessmentTarget, current_row, data.targets, _target_values)
        if "stages" in changed:
            for row in data.stages:
                await Stage.filter(id=row.id, challenge_id=current_row.id).update(funding_wan=row.funding_wan)
        await refresh_targets_text(current_row)
        amendment = await Amendment.create(challenge=current_row, version=current_row.version,
                                           explanation=explanation, changes=changes, created_by=actor)
        await audit.record(actor=actor, action="challenge.amend", obj=current_row,
                           before={c["field"]: c["before"] for c in changes},
                           after={**{c["field"]: c["after"] for c in changes}, "version": current_row.version},
                           note=explanation)
        for user in await _bidder_users(current_row):
            await notify(user=user, subject=lambda: _("榜单发布补充通知（第 %(v)s 版）：%(title)s",
                                                      v=current_row.version, title=current_row.title),
                         body=lambda: amendment_text(amendment),
                         link=f"/challenges/{current_row.id}#amendment-{current_row.version}")
        await notify_followers(challenge=current_row, link=f"/challenges/{current_row.id}#amendment-{current_row.version}",
                               subject=lambda: _("榜单发布补充通知（第 %(v)s 版）：%(title)s", v=current_row.version,
                                                 title=current_row.title),
                               body=lambda: amendment_text(amendment))
    challenge.update_from_dict({name: getattr(current_row, name) for name in AMENDABLE_FIELDS if name not in ROW_FIELDS})
    challenge.version, challenge.targets_text, challenge.search_text = (
        current_row.version, current_row.targets_text, current_row.search_text)
    return amendment


def amendment_text(amendment: Amendment) -> str:
    """What a bidder is told of an amendment: the explanation, then each change as before → after
    (a mail that only says "amended" sends every bidder to the page to find out what)."""
    lines = [amendment.explanation, "", _("修改内容：")]
    for row in display.describe_changes(amendment):
        lines.append(_("%(field)s：%(before)s → %(after)s", field=row["label"], before=row["before"],
                       after=row["after"]))
    return "\n".join(lines)


# -- questions and answers (答疑) ----------------------------------------------------------------

async def ask_question(*, challenge: Challenge, user: User, body: str, now: datetime | None = None) -> Question:
    now = now or now_utc()
    body = body.strip()
    if not challenge.accepting_bids(now):
        raise DomainError(_("只能在揭榜期间就该榜单提问"), field="body")
    if len(body) < QUESTION_MIN:
        raise DomainError(_("问题至少需要 %(n)s 个字", n=QUESTION_MIN), field="body")
    if len(body) > QUESTION_MAX:
        raise DomainError(_("问题不能超过 %(n)s 个字", n=QUESTION_MAX), field="body")
    async with in_transaction():
        question = await Question.create(challenge=challenge, asked_by=user, body=body)
        await audit.record(actor=user, action="question.ask", obj=question, after={"challenge": challenge.id})
        for organiser in await User.filter(is_organiser=True, is_active=True):
            await notify(user=organiser, subject=lambda: _("榜单有新的提问：%(title)s", title=challenge.title),
                         body=body, link=f"/challenges/{challenge.id}#question-{question.id}", email=False)
    return question


async def answer_question(*, question: Question, actor: User, answer: str, now: datetime | None = None) -> Question:
    """Publish (or correct) the answer. The asker is told; the public sees the answer, never the asker."""
    if not actor.is_organiser:
        raise PermissionDenied(_("只有管理员可以答复提问"))
    answer = answer.strip()
    if not answer:
        raise DomainError(_("请填写答复内容"), field="answer")
    if len(answer) > 5000:
        raise DomainError(_("答复不能超过 %(n)s 个字", n=5000), field="answer")
    before = {"answer": question.answer}
    async with in_transaction():
        question.answer, question.answered_by_id = answer, actor.id
        question.answered_at = now or now_utc()
        await question.save(update_fields=["answer", "answered_by_id", "answered_at"])
        await audit.record(actor=actor, action="question.answer", obj=question, before=before,
                           after={"answer": answer})
        if question.asked_by_id:
            asker = await User.get_or_none(id=question.asked_by_id)
            if asker is not None:
                challenge = await Challenge.get(id=question.challenge_id)
                await notify(user=asker, subject=lambda: _("您的提问已答复：%(title)s", title=challenge.title),
                             body=answer, link=f"/challenges/{challenge.id}#question-{question.id}")
        # Followers read the question and its answer, never who asked.
        challenge = await Challenge.get(id=question.challenge_id)
        await notify_followers(challenge=challenge, link=f"/challenges/{challenge.id}#question-{question.id}",
                               subject=lambda: _("答疑：%(title)s", title=challenge.title),
                               body=lambda: _("问：%(q)s\n\n答：%(a)s", q=question.body, a=answer))
    return question


def visible_questions(questions: list[Question], user: User | None) -> list[Question]:
    """Answered questions for everyone; unanswered ones only for their asker and organisers."""
    if user is not None and user.is_organiser:
        return list(questions)
    return [q for q in questions if q.is_answered or (user is not None and q.asked_by_id == user.id)]


# -- lists --------------------------------------------------------------------------------------

SORTS = {
    "newest": ["-published_at", "-id"],
    "deadline": ["closes_at", "id"],
    "funding": ["-funding_wan", "-id"],
    # The table view's column headers; a leading "-" sorts descending.
    "title": ["title", "id"], "-title": ["-title", "-id"],
    "amount": ["funding_wan", "id"], "-amount": ["-funding_wan", "-id"],
    "closes": ["closes_at", "id"], "-closes": ["-closes_at", "-id"],
    "status": ["status_rank", "closes_at", "id"], "-status": ["-status_rank", "-closes_at", "-id"],
}
# The status column sorts along the life of a challenge, not by the alphabet of the stored codes.
# The ranks are two-digit text: Tortoise binds `then` values as the compared field's type (text).
STATUS_RANK = Case(*[When(status=status, then=f"{rank:02d}") for rank, status in enumerate(ChallengeStatus)],
                   default="99")


@dataclass
class ListFilters:
    q: str = ""
    domain_id: int | None = None
    mechanism: Mechanism | None = None
    status: ChallengeStatus | None = None
    region: str = ""
    funding_min: Decimal | None = None
    funding_max: Decimal | None = None
    sort: str = "newest"


def _status_filter(status: ChallengeStatus, now: datetime) -> Q:
    """The shown status: a published challenge past its window counts as closed."""
    if status == ChallengeStatus.PUBLISHED:
        return Q(status=ChallengeStatus.PUBLISHED) & (Q(closes_at__isnull=True) | Q(closes_at__gt=now))
    if status == ChallengeStatus.CLOSED:
        return Q(status=ChallengeStatus.CLOSED) | Q(status=ChallengeStatus.PUBLISHED, closes_at__lte=now)
    return Q(status=status)


def region_prefix(code: str) -> str:
    """A province covers its cities: 320000 -> 32, 320500 -> 3205."""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


async def filtered_challenges(filters: ListFilters, *, now: datetime, public: bool = True):
    query = Challenge.all()
    if public:
        query = query.filter(status__in=list(PUBLIC_CHALLENGE_STATES))
    if filters.domain_id:
        query = query.filter(domain_id=filters.domain_id)
    if filters.mechanism:
        query = query.filter(mechanism=filters.mechanism)
    if filters.status:
        query = query.filter(_status_filter(filters.status, now))
    if filters.region:
        in_region = Challenge.filter(issuers__region_code__startswith=region_prefix(filters.region)).values("id")
        query = query.filter(id__in=Subquery(in_region))
    if filters.funding_min is not None:
        query = query.filter(funding_wan__gte=filters.funding_min)
    if filters.funding_max is not None:
        query = query.filter(funding_wan__lte=filters.funding_max)
    query = await search.apply_search(query, filters.q)
    ordering = SORTS.get(filters.sort, SORTS["newest"])
    if any(field.lstrip("-") == "status_rank" for field in ordering):
        query = query.annotate(status_rank=STATUS_RANK)
    return query.order_by(*ordering)


async def open_challenges(*, now: datetime, limit: int = 6) -> list[Challenge]:
    """Accepting bids now, closing soonest first."""
    return await (Challenge.filter(status=ChallengeStatus.PUBLISHED, opens_at__lte=now, closes_at__gt=now)
                  .order_by("closes_at", "id").limit(limit)
                  .select_related("domain").prefetch_related("issuers"))


async def public_counts_by_domain() -> list[tuple[Domain, int]]:
    """Public challenges per domain, counted by the database in one GROUP BY query."""
    rows = await (Challenge.filter(status__in=list(PUBLIC_CHALLENGE_STATES)).annotate(n=Count("id"))
                  .group_by("domain_id").values("domain_id", "n"))
    counts = {row["domain_id"]: row["n"] for row in rows}
    domains = await Domain.filter(Q(is_active=True) | Q(id__in=[k for k in counts if k])).order_by("sort_order", "id")
    return [(domain, counts.get(domain.id, 0)) for domain in domains]


# -- feed ---------------------------------------------------------------------------------------

@dataclass
class FeedEntry:
    key: str
    title: str
    summary: str
    path: str
    updated: datetime


async def feed_entries(limit: int = 50, challenge_id: int | None = None) -> list[FeedEntry]:
    """New challenges and amendments, newest first; for one challenge, its answers (答疑) too.
    Notices add their own source (see pages)."""
    challenges = Challenge.filter(status__in=list(PUBLIC_CHALLENGE_STATES), published_at__isnull=False)
    amendments = Amendment.filter(challenge__status__in=list(PUBLIC_CHALLENGE_STATES)).select_related("challenge")
    if challenge_id is not None:
        challenges, amendments = challenges.filter(id=challenge_id), amendments.filter(challenge_id=challenge_id)
    entries = [FeedEntry(key=f"challenge:{c.id}", title=_("发布榜单：%(title)s", title=c.title),
                         summary=c.summary, path=f"/challenges/{c.id}", updated=c.published_at)
               for c in await challenges.order_by("-published_at", "-id").limit(limit)]
    entries += [FeedEntry(key=f"challenge:{a.challenge_id}:amendment:{a.version}",
                          title=_("补充通知（第 %(v)s 版）：%(title)s", v=a.version, title=a.challenge.title),
                          summary=a.explanation, path=f"/challenges/{a.challenge_id}#amendment-{a.version}",
                          updated=a.created_at)
                for a in await amendments.order_by("-created_at", "-id").limit(limit)]
    if challenge_id is not None:
        answered = Question.filter(challenge_id=challenge_id, answered_at__isnull=False).select_related("challenge")
        entries += [FeedEntry(key=f"challenge:{q.challenge_id}:question:{q.id}",
                              title=_("答疑：%(title)s", title=q.challenge.title), summary=f"{q.body}\n\n{q.answer}",
                              path=f"/challenges/{q.challenge_id}#question-{q.id}", updated=q.answered_at)
                    for q in await answered.order_by("-answered_at", "-id").limit(limit)]
    return sorted(entries, key=lambda e: e.updated, reverse=True)[:limit]


# -- export -------------------------------------------------------------------------------------

EXPORT_HEADER = [N_("编号"), N_("榜单编号"), N_("机制"), N_("榜单名称"), N_("领域"), N_("状态"), N_("发榜单位"), N_("来源需求"),
                 N_("榜单金额（万元）"), N_("攻关周期（月）"), N_("揭榜开始"), N_("揭榜截止"), N_("揭榜成功团队数"),
                 N_("每份申报专家数"), N_("评审方式"), N_("版本"), N_("发布时间")]


def export_header() -> list[str]:
    return [_(label) for label in EXPORT_HEADER]


async def export_rows(query, *, now: datetime, batch: int = 500) -> AsyncIterator[list]:
    """Rows for the XLSX/CSV export, read in batches with their relations prefetched."""
    offset = 0
    while True:
        chunk = await query.offset(offset).limit(batch).select_related("domain").prefetch_related("issuers", "needs")
        for c in chunk:
            yield [c.id, c.public_number or "", c.mechanism, c.title, c.domain.label if c.domain else "", c.shown_status(now),
                   "；".join(o.name for o in c.issuers), "；".join(n.title for n in c.needs),
                   c.funding_wan, c.delivery_months, c.opens_at, c.closes_at, c.winners_count, c.experts_per_bid,
                   _("盲评") if c.blind_review else _("公开评审"), c.version, c.published_at]
        if len(chunk) < batch:
            return
        offset += batch
