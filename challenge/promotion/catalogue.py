"""The published catalogue (推广目录): entries under stable numbers, each published state frozen as
a `CatalogueVersion` (canonical JSON and its SHA-256), entries updated or withdrawn with a stated
reason and a visible history (动态调整), and adoption cases (推广应用案例).

`set_entry_status()` is the only writer of `CatalogueEntry.status`.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from challenge.accounts.models import User
from challenge.audit.services import record
from challenge.catalog.models import Domain
from challenge.errors import DomainError, InvalidTransition, PermissionDenied
from challenge.promotion.models import (
    AdoptionCase,
    Candidate,
    CatalogueEntry,
    CatalogueRound,
    CatalogueVersion,
    ChangeKind,
    EntryChange,
    EntryStatus,
)
from challenge.web.i18n import _
from challenge.web.timefmt import now_utc

REASON_MAX = 2000
TEXT_MAX = 5000
SHORT_MAX = 200
# The catalogue's fields an adjustment may change, in the order they are shown.
EDITABLE = ("name", "scope", "core_process", "parameters", "benefits")


def _check_organiser(actor: User | None) -> None:
    if actor is None or not actor.is_organiser:
        raise PermissionDenied(_("只有管理员可以调整推广目录"))


def canonical(document: dict) -> str:
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def verifies(version: CatalogueVersion) -> bool:
    """Whether the stored document still hashes to the digest published with it."""
    return sha256_of(version.document) == version.sha256


def content_of(version: CatalogueVersion) -> dict:
    return json.loads(version.document)


# -- listing --------------------------------------------------------------------------------------

async def list_candidate(*, candidate: Candidate, round_: CatalogueRound, actor: User | None,
                         now: datetime) -> CatalogueEntry:
    """A recommended candidate as a new entry under the next number (numbers are never reused).
    Call inside the caller's transaction; the caller writes the version and the history."""
    top = await CatalogueEntry.all().order_by("-number").first().values_list("number", flat=True)
    entry = await CatalogueEntry.create(
        number=(top or 0) + 1, candidate=candidate, round=round_, name=candidate.name,
        domain_id=candidate.domain_id, holder=candidate.organisation.name if candidate.organisation else "",
        scope=candidate.scope, core_process=candidate.core_process, parameters=candidate.parameters,
        benefits=candidate.benefits, listed_at=now, updated_at=now)
    await record(actor=actor, action="catalogue_entry.listed", obj=entry,
                 after={"number": entry.number, "candidate_id": candidate.id, "round_id": round_.id})
    return entry


async def log_changes(*, entries: list[CatalogueEntry], kind: ChangeKind, reason: str, version: CatalogueVersion,
                      actor: User | None, now: datetime, fields_changed: list[str] = ()) -> None:
    await EntryChange.bulk_create([
        EntryChange(entry_id=e.id, kind=kind, reason=reason, fields_changed=list(fields_changed),
                    version=version.number, actor=actor, at=now) for e in entries])


# -- versions -------------------------------------------------------------------------------------

def _entry_document(entry: CatalogueEntry, domains: dict[int, Domain]) -> dict:
    domain = domains[entry.domain_id]
    return {"number": entry.number, "name": entry.name, "domain": domain.name, "domain_en": domain.name_en,
            "holder": entry.holder, "scope": entry.scope, "core_process": entry.core_process,
            "parameters": entry.parameters, "benefits": entry.benefits, "status": entry.status.value,
            "listed_at": entry.listed_at.date().isoformat()}


async def publish_version(*, actor: User | None, reason: str, now: datetime) -> CatalogueVersion:
    """Freeze the catalogue as it now stands (withdrawn entries keep their number, marked so) as
    the next version. Call inside the caller's transaction. Audit `catalogue.version` with the digest."""
    entries = await CatalogueEntry.all().order_by("number")
    domains = {d.id: d for d in await Domain.filter(id__in={e.domain_id for e in entries} or {0})}
    top = await CatalogueVersion.all().order_by("-number").first().values_list("number", flat=True)
    number = (top or 0) + 1
    document = canonical({"version": number, "published_at": now.isoformat(timespec="seconds"), "reason": reason,
                          "entries": [_entry_document(e, domains) for e in entries]})
    version = await CatalogueVersion.create(
        number=number, document=document, sha256=sha256_of(document), reason=reason,
        entries_count=sum(1 for e in entries if e.status == EntryStatus.LISTED), published_by=actor,
        published_at=now)
    await record(actor=actor, action="catalogue.version", obj=version,
                 after={"number": number, "sha256": version.sha256, "entries": version.entries_count})
    return version


async def latest_version() -> CatalogueVersion | None:
    return await CatalogueVersion.all().order_by("-number").first()


# -- adjustments (动态调整) ------------------------------------------------------------------------

async def set_entry_status(*, entry: CatalogueEntry, status: EntryStatus, actor: User | None,
                           reason: str) -> CatalogueEntry:
    """The only writer of `CatalogueEntry.status`: listed → withdrawn. Audit `catalogue_entry.<status>`."""
    if not (entry.status == EntryStatus.LISTED and status == EntryStatus.WITHDRAWN):
        raise InvalidTransition(_("该条目已撤销"))
    before = {"status": entry.status.value}
    entry.status, entry.updated_at = status, now_utc()
    await entry.save(update_fields=["status", "updated_at"])
    await record(actor=actor, action=f"catalogue_entry.{status.value}", obj=entry, before=before,
                 after={"status": status.value, "number": entry.number}, note=reason)
    return entry


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise DomainError(_("请写明调整理由（将随目录版本公开）"), field="reason")
    if len(reason) > REASON_MAX:
        raise DomainError(_("不能超过 %(n)s 个字", n=REASON_MAX), field="reason")
    return reason


async def withdraw_entry(*, entry: CatalogueEntry, actor: User, reason: str,
                         now: datetime | None = None) -> CatalogueVersion:
    """Withdraw an entry (its number is kept, shown as withdrawn) and publish the next version."""
    _check_organiser(actor)
    reason, now = _reason(reason), now or now_utc()
    async with in_transaction():
        locked = await CatalogueEntry.filter(id=entry.id).select_for_update().get()
        await set_entry_status(entry=locked, status=EntryStatus.WITHDRAWN, actor=actor, reason=reason)
        version = await publish_version(actor=actor, now=now,
                                        reason=_("撤销第 %(n)s 号：%(reason)s", n=locked.number, reason=reason))
        await log_changes(entries=[locked], kind=ChangeKind.WITHDRAWN, reason=reason, version=version,
                          actor=actor, now=now)
    return version


async def update_entry(*, entry: CatalogueEntry, actor: User, reason: str, name: str, scope: str,
                       core_process: str, parameters: list[dict], benefits: str,
                       now: datetime | None = None) -> CatalogueVersion:
    """Change a listed entry's content, with the reason, and publish the next version."""
    _check_organiser(actor)
    now = now or now_utc()
    values = {"name": name.strip(), "scope": scope.strip(), "core_process": core_process.strip(),
              "parameters": parameters, "benefits": benefits.strip()}
    errors = {}
    for field in ("name", "scope", "core_process", "benefits"):
        limit = SHORT_MAX if field == "name" else TEXT_MAX
        if not values[field]:
            errors[field] = _("此项不能为空")
        elif len(values[field]) > limit:
            errors[field] = _("不能超过 %(n)s 个字", n=limit)
    if not parameters:
        errors["parameters"] = _("请至少填写一项主要技术参数（名称和数值）")
    try:
        reason = _reason(reason)
    except DomainError as error:
        errors.update(error.errors)
    if errors:
        raise DomainError(_("调整未保存，请先解决以下问题"), errors=errors)
    async with in_transaction():
        locked = await CatalogueEntry.filter(id=entry.id).select_for_update().get()
        if locked.status != EntryStatus.LISTED:
            raise InvalidTransition(_("已撤销的条目不能调整"))
        changed = [f for f in EDITABLE if getattr(locked, f) != values[f]]
        if not changed:
            raise DomainError(_("内容没有变化，无需调整"), field="reason")
        before = {f: getattr(locked, f) for f in changed}
        for field in changed:
            setattr(locked, field, values[field])
        locked.updated_at = now
        await locked.save(update_fields=[*changed, "updated_at"])
        await record(actor=actor, action="catalogue_entry.update", obj=locked, before=before,
                     after={f: values[f] for f in changed}, note=reason)
        version = await publish_version(actor=actor, now=now,
                                        reason=_("调整第 %(n)s 号：%(reason)s", n=locked.number, reason=reason))
        await log_changes(entries=[locked], kind=ChangeKind.UPDATED, reason=reason, version=version, actor=actor,
                          now=now, fields_changed=changed)
    return version


# -- adoption cases -------------------------------------------------------------------------------

async def add_case(*, entry: CatalogueEntry, actor: User, organisation: str, place: str, adopted_on: date | None,
                   scale: str, effect: str) -> AdoptionCase:
    """An adoption case (推广应用案例) of a listed entry. Audit `adoption_case.create`."""
    _check_organiser(actor)
    values = {"organisation": organisation.strip(), "place": place.strip(), "scale": scale.strip(),
              "effect": effect.strip()}
    errors = {}
    for field, message in (("organisation", _("请填写应用单位")), ("place", _("请填写应用地点")),
                           ("scale", _("请填写应用规模")), ("effect", _("请填写应用效果"))):
        limit = TEXT_MAX if field == "effect" else SHORT_MAX
        if not values[field]:
            errors[field] = message
        elif len(values[field]) > limit:
            errors[field] = _("不能超过 %(n)s 个字", n=limit)
    if adopted_on is None:
        errors["adopted_on"] = _("请填写应用日期")
    elif adopted_on > now_utc().date():
        errors["adopted_on"] = _("应用日期不能晚于今天")
    if errors:
        raise DomainError(_("应用案例未保存，请先解决以下问题"), errors=errors)
    if entry.status != EntryStatus.LISTED:
        raise InvalidTransition(_("已撤销的条目不能再记录应用案例"))
    async with in_transaction():
        case = await AdoptionCase.create(entry=entry, adopted_on=adopted_on, recorded_by=actor, **values)
        await record(actor=actor, action="adoption_case.create", obj=case,
                     after={"entry": entry.number, "organisation": values["organisation"], "adopted_on": adopted_on})
    return case


# -- the public catalogue -------------------------------------------------------------------------

@dataclass
class Search:
    q: str = ""
    domain_id: int | None = None


def search_entries(search: Search):
    """Listed entries matching a Chinese word (a substring of any text field) and a domain."""
    query = CatalogueEntry.filter(status=EntryStatus.LISTED).select_related("domain")
    if search.q:
        query = query.filter(Q(name__icontains=search.q) | Q(scope__icontains=search.q)
                             | Q(core_process__icontains=search.q) | Q(benefits__icontains=search.q)
                             | Q(holder__icontains=search.q))
    if search.domain_id:
        query = query.filter(domain_id=search.domain_id)
    return query.order_by("number")
