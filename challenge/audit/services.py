"""The append-only, hash-chained audit log.

`record()` must be called inside the transaction of the change it records, so that the event
and the change commit or roll back together. Entries are chained: each hash covers the
entry's content and the previous entry's hash, so editing or deleting a row breaks the chain
from there on, and `verify_chain()` names the first broken entry.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum

from tortoise.transactions import in_transaction

from challenge.audit.models import AuditEntry
from challenge.web.timefmt import now_utc

GENESIS = "0" * 64
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
    return hashlib.sha256(canonical.encode()).hexdigest()


def _actor_label(actor) -> str:
    if actor is None:
        return "system"
    return f"{actor.name} <{actor.email}>"


async def record(*, actor, action: str, obj=None, object_type: str = "", object_id=None,
                 before: dict | None = None, after: dict | None = None, note: str = "") -> AuditEntry:
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


@dataclass
class ChainReport:
    checked: int
    broken_seq: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


async def verify_chain(batch_size: int = 2000) -> ChainReport:
    """Walk the chain in order, in batches (memory stays flat for a long log)."""
    previous_hash, expected_seq, checked = GENESIS, 1, 0
    while True:
        entries = await AuditEntry.filter(seq__gte=expected_seq).order_by("seq").limit(batch_size)
        if not entries:
            return ChainReport(checked)
        for entry in entries:
            if entry.seq != expected_seq:
                return ChainReport(checked, expected_seq, "missing entry")
            if entry.prev_hash != previous_hash:
                return ChainReport(checked, entry.seq, "previous hash does not match")
            if _digest(entry) != entry.hash:
                return ChainReport(checked, entry.seq, "content does not match its hash")
            previous_hash, expected_seq, checked = entry.hash, expected_seq + 1, checked + 1


async def history(obj=None, *, object_type: str = "", object_id=None) -> list[AuditEntry]:
    object_type = object_type or type(obj).__name__.lower()
    object_id = str(object_id if object_id is not None else obj.id)
    return await AuditEntry.filter(object_type=object_type, object_id=object_id).order_by("seq")
