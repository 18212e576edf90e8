"""The fingerprint of the raw scores behind a decision, printed on the notice.

The table holds one row per counted score (the submitted reviews of the panel): expert id, bid
id, criterion id and value (two decimals, as text; null when empty), sorted by bid, expert and
criterion, written as canonical JSON (sorted keys, no spaces, UTF-8). Its SHA-256 is stored
with the decision; `challenge verify-results` recomputes it from the stored scores, so a score
changed after the decision, even directly in the database, is found.
"""

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal

from challenge.reviews.models import AssignmentStatus, Score

FORMAT_NOTE = "expert_id, bid_id, criterion_id, value; sorted; canonical JSON; SHA-256"


@dataclass(frozen=True)
class ScoresDigest:
    sha256: str
    count: int


def _value(value: Decimal | None) -> str | None:
    return None if value is None else format(Decimal(value).quantize(Decimal("0.01")), "f")


def canonical_table(rows: list[tuple[int, int, int, Decimal | None]]) -> str:
    """`rows`: (expert id, bid id, criterion id, value)."""
    table = [{"expert_id": expert, "bid_id": bid, "criterion_id": criterion, "value": _value(value)}
             for expert, bid, criterion, value in sorted(rows, key=lambda r: (r[1], r[0], r[2]))]
    return json.dumps(table, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


async def panel_scores(panel_id: int) -> ScoresDigest:
    """The digest of the scores a panel's ranking counts now (one query)."""
    rows = await Score.filter(assignment__panel_id=panel_id, assignment__status=AssignmentStatus.SUBMITTED) \
        .values_list("assignment__expert_id", "assignment__bid_id", "criterion_id", "value")
    text = canonical_table([tuple(row) for row in rows])
    return ScoresDigest(sha256=hashlib.sha256(text.encode()).hexdigest(), count=len(rows))
