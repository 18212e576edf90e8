"""The append-only, keyed, hash-chained audit log.

`record()` must be called inside the transaction of the change it records, so that the event
and the change commit or roll back together. Entries are chained: each hash is an HMAC-SHA256,
under a key kept outside the database (CHALLENGE_AUDIT_KEY), of the entry's content and the
previous entry's hash. Editing or deleting a row breaks the chain from there on, and whoever
can write the database but not read the key cannot recompute it; `verify_chain()` names the
first broken entry.

Deleting the newest entries leaves a shorter chain that still links up: the head (seq, count,
hash, time) is therefore anchored outside the database, appended by `challenge audit anchor` to a
JSON-lines file that a deployment ships elsewhere, and printed on result pages
(`current_head()`); `verify_chain(anchor=...)` checks the chain against the last anchor.
"""

import hashlib
import hmac
import json
import warnings
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from decimal import Decimal
from enum import Enum

from tortoise.transactions import in_transaction

from challenge.audit.labels import LABELS, label
from challenge.audit.models import AuditEntry
from challenge.web.i18n import gettext
from challenge.web.timefmt import now_utc

GENESIS = "0" * 64
_key: bytes | None = None
# Any constant: PostgreSQL serialises writers of the chain on this advisory lock.
_PG_LOCK_KEY = 7_305_219_001


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def configure(*, key: str) -> None:
    """Set the chain's key (the app and the console command do, from the settings)."""
    global _key
    if not key:
        raise ValueError("the audit chain needs a key (CHALLENGE_AUDIT_KEY)")
    _key = key.encode()


def _digest(entry: AuditEntry) -> str:
    payload = {
        "seq": entry.seq,
        "at": entry.at.isoformat(timespec="microseconds"),
        "actor_id": entry.actor_id,
        "actor_label": entry.actor_label,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "before": entry.before,
        "after": entry.after,
        "note": entry.note,
        "prev_hash": entry.prev_hash,
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    if _key is None:
        raise RuntimeError("audit key not configured: call challenge.audit.services.configure(key=...)")
    return hmac.new(_key, canonical.encode(), hashlib.sha256).hexdigest()


def _actor_label(actor) -> str:
    if actor is None:
        return "system"
    return f"{actor.name} <{actor.email}>"


class UnlabelledAction(UserWarning):
    """An action with no label in `challenge.audit.labels` (the audit page would show it raw)."""


async def record(*, actor, action: str, obj=None, object_type: str = "", object_id=None,
                 before: dict | None = None, after: dict | None = None, note: str = "") -> AuditEntry:
    if action not in LABELS:
        # A warning, not an error: the change it records must not fail for want of a label
        # (tests run with warnings as errors, so there it fails).
        warnings.warn(f"audit action {action!r} has no label in challenge.audit.labels", UnlabelledAction,
                      stacklevel=2)
    async with in_transaction() as connection:
        if connection.capabilities.dialect == "postgres":
            await connection.execute_query("SELECT pg_advisory_xact_lock($1)", [_PG_LOCK_KEY])
        last = await AuditEntry.all().order_by("-seq").only("seq", "hash").first()
        entry = AuditEntry(
            seq=(last.seq + 1) if last else 1,
            at=now_utc(),
            actor_id=actor.id if actor is not None else None,
            actor_label=_actor_label(actor),
            action=action,
            object_type=object_type or (type(obj).__name__.lower() if obj is not None else ""),
            object_id=str(object_id if object_id is not None else getattr(obj, "id", "")),
            before=_jsonable(before),
            after=_jsonable(after),
            note=note,
            prev_hash=last.hash if last else GENESIS,
        )
        entry.hash = _digest(entry)
        await entry.save()
        return entry


@dataclass(frozen=True)
class Head:
    """The newest entry of the chain: what an anchor records and result pages print."""

    seq: int
    count: int
    hash: str
    at: str  # the entry's time, ISO 8601 UTC

    @property
    def time(self) -> datetime:
        return datetime.fromisoformat(self.at)

    def as_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


async def current_head() -> Head | None:
    last = await AuditEntry.all().order_by("-seq").only("seq", "hash", "at").first()
    if last is None:
        return None
    return Head(seq=last.seq, count=await AuditEntry.all().count(), hash=last.hash,
                at=last.at.isoformat(timespec="seconds"))


def append_anchor(path: Path, head: Head) -> None:
    """Append the head to an append-only JSON-lines file (one anchor per line)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(head.as_json() + "\n")


def last_anchor(path: Path) -> Head | None:
    """The last anchor written to the file, or None when there is none yet."""
    if not path.exists():
        return None
    last = None
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                last = line
    if last is None:
        return None
    data = json.loads(last)
    return Head(seq=int(data["seq"]), count=int(data["count"]), hash=str(data["hash"]), at=str(data["at"]))


@dataclass
class ChainReport:
    checked: int
    broken_seq: int | None = None
    reason: str = ""
    head: Head | None = None

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


async def verify_chain(batch_size: int = 2000, *, anchor: Head | None = None) -> ChainReport:
    """Walk the keyed chain in order, in batches (memory stays flat for a long log).

    With an `anchor`, the chain must also still hold the anchored entry, unchanged: no fewer
    entries than anchored, and the same hash at the anchored seq.
    """
    previous_hash, expected_seq, checked = GENESIS, 1, 0
    last = None
    while True:
        entries = await AuditEntry.filter(seq__gte=expected_seq).order_by("seq").limit(batch_size)
        if not entries:
            break
        for entry in entries:
            if entry.seq != expected_seq:
                return ChainReport(checked, expected_seq, "missing entry")
            if entry.prev_hash != previous_hash:
                return ChainReport(checked, entry.seq, "previous hash does not match")
            if _digest(entry) != entry.hash:
                return ChainReport(checked, entry.seq, "content does not match its hash")
            if anchor is not None and entry.seq == anchor.seq and entry.hash != anchor.hash:
                return ChainReport(checked, entry.seq, "hash differs from the anchored head")
            previous_hash, expected_seq, checked, last = entry.hash, expected_seq + 1, checked + 1, entry
    head = Head(seq=last.seq, count=checked, hash=last.hash, at=last.at.isoformat(timespec="seconds")) \
        if last is not None else None
    if anchor is not None and checked < anchor.count:
        return ChainReport(checked, checked + 1,
                           f"{anchor.count - checked} entries missing since the anchored head "
                           f"(anchored: {anchor.count} entries, head seq={anchor.seq})", head)
    return ChainReport(checked, head=head)


async def history(obj=None, *, object_type: str = "", object_id=None) -> list[AuditEntry]:
    object_type = object_type or type(obj).__name__.lower()
    object_id = str(object_id if object_id is not None else obj.id)
    return await AuditEntry.filter(object_type=object_type, object_id=object_id).order_by("seq")


@dataclass
class HistoryEvent:
    """An audit entry in words, as an object's page shows its history."""

    at: datetime
    who: str
    what: str
    note: str


async def readable_history(obj, *, labels: dict[str, str] | None = None) -> list[HistoryEvent]:
    """`obj`'s audit entries, oldest first: who (by name), when, what (`labels` first, for wording
    that fits the object's own page, else the registry's) and the note recorded with it."""
    from challenge.accounts.models import User  # accounts records audit entries itself

    entries = await history(obj)
    names = dict(await User.filter(id__in={e.actor_id for e in entries if e.actor_id}).values_list("id", "name"))
    return [HistoryEvent(at=e.at, what=gettext(labels[e.action]) if labels and e.action in labels else label(e.action),
                         who=names.get(e.actor_id) or (gettext("系统") if e.actor_id is None else gettext("已删除的用户")),
                         note=e.note) for e in entries]
