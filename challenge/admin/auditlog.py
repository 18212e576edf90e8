"""The audit log as people read it: filtered by object and by person, each entry with its event
in words and its changes as before → after, and the same selection as a streamed CSV."""

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

from tortoise.expressions import Q

from challenge.audit import labels
from challenge.audit.models import AuditEntry
from challenge.web.forms import parse_id
from challenge.web.i18n import _

EXPORT_BATCH = 1000


@dataclass(frozen=True)
class AuditFilters:
    object_type: str = ""
    object_id: str = ""
    person: str = ""  # a name or an e-mail address, or "#<user id>"
    action: str = ""

    @property
    def params(self) -> dict[str, str]:
        return {k: v for k, v in (("object_type", self.object_type), ("object_id", self.object_id),
                                  ("person", self.person), ("action", self.action)) if v}


def parse_filters(query) -> AuditFilters:
    """Query-string filters; anything malformed is ignored rather than refused."""
    def text(name: str, limit: int) -> str:
        return query.get(name, "").strip()[:limit]

    return AuditFilters(object_type=text("object_type", 40), object_id=text("object_id", 40),
                        person=text("person", 300), action=text("action", 80))


def filtered(filters: AuditFilters):
    query = AuditEntry.all()
    if filters.object_type:
        query = query.filter(object_type=filters.object_type)
    if filters.object_id:
        query = query.filter(object_id=filters.object_id)
    if filters.action:
        query = query.filter(action=filters.action)
    if filters.person:
        person = filters.person
        if person.startswith("#") and (actor_id := parse_id(person[1:])) is not None:
            query = query.filter(actor_id=actor_id)
        elif person in {"system", _("系统")}:
            query = query.filter(actor_id__isnull=True)
        else:
            query = query.filter(Q(actor_label__icontains=person))
    return query


def _shown(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def changes(entry: AuditEntry) -> list[tuple[str, str, str]]:
    """(field, before, after) for every field the entry's before or after names, in their order."""
    before = entry.before if isinstance(entry.before, dict) else ({"": entry.before} if entry.before else {})
    after = entry.after if isinstance(entry.after, dict) else ({"": entry.after} if entry.after else {})
    keys = list(dict.fromkeys([*before, *after]))
    return [(key, _shown(before.get(key)), _shown(after.get(key))) for key in keys]


def export_header() -> list[str]:
    return [_("序号"), _("时间"), _("操作人"), _("事件"), _("事件代码"), _("对象类型"), _("对象编号"),
            _("变更前"), _("变更后"), _("说明"), _("哈希")]


async def export_rows(filters: AuditFilters) -> AsyncIterator[list]:
    """Rows of the selection, oldest first, read in batches by sequence number (memory stays flat)."""
    last = 0
    while True:
        batch = await filtered(filters).filter(seq__gt=last).order_by("seq").limit(EXPORT_BATCH)
        for entry in batch:
            yield [entry.seq, entry.at, entry.actor_label, labels.label(entry.action), entry.action,
                   labels.object_type_label(entry.object_type), entry.object_id, _shown(entry.before),
                   _shown(entry.after), entry.note, entry.hash]
        if len(batch) < EXPORT_BATCH:
            return
        last = batch[-1].seq
