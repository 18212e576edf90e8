"""Aggregation and ranking, computed in the database.

An expert's weighted total for a bid is sum(score_i / max_i * weight_i), between 0 and 100.
To keep SQLite and PostgreSQL exact and identical, the SQL works on integers: a score is held
in hundredths (h = score * 100), and with M the least common multiple of the criteria's maxima,
h_i * weight_i * (M / max_i) summed over the criteria is the weighted total times 100 * M.
Window functions mark, per bid, the expert's total that a trimmed mean drops as the highest
(the first by total descending, then assignment id) and as the lowest (the first by total
ascending, then assignment id descending: never the same review). The per-bid aggregates (count,
sum, max, min, sum of squares, the kept sum and count, the dropped reviews) come out of one
query; the per-criterion means, over the same kept reviews, out of another, so the weighted sum
of the criterion means is the panel score. Python only divides and sorts one row per bid.

Ranking rule (shown on the ranking page):
1. higher panel score (mean, or trimmed mean, of the experts' weighted totals)
2. then higher mean score on the criterion with the highest weight (the first such criterion)
3. then more submitted reviews
4. then the bid submitted earlier
5. then the lower bid number.
"""

import math
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from functools import reduce

from tortoise import connections

from challenge.challenges.models import Aggregation
from challenge.reviews.models import AssignmentStatus
from challenge.web.i18n import gettext as _

TRIM_MIN_COUNT = 5


def tie_rule_text() -> list[str]:
    return [
        _("按专家组得分从高到低排序（得分精确比较，不因四舍五入产生并列）"),
        _("得分相同时，权重最高的评审要素平均得分高者在前"),
        _("仍相同时，提交评分的专家人数多者在前"),
        _("仍相同时，申报提交时间早者在前"),
        _("仍相同时，申报编号小者在前"),
    ]


@dataclass(frozen=True)
class CriterionInfo:
    id: int
    name: str
    weight: int
    max_score: int
    position: int = 0


def top_criterion(criteria: list[CriterionInfo]) -> CriterionInfo | None:
    if not criteria:
        return None
    return sorted(criteria, key=lambda c: (-c.weight, c.position, c.id))[0]


def scale(criteria: list[CriterionInfo]) -> tuple[int, dict[int, int]]:
    """M (lcm of the maxima) and the integer factor weight * M / max of each criterion."""
    m = reduce(math.lcm, (c.max_score for c in criteria if c.max_score > 0), 1)
    return m, {c.id: c.weight * (m // c.max_score) for c in criteria if c.max_score > 0}


@dataclass
class BidRanking:
    bid_id: int
    count: int = 0
    score: Fraction | None = None  # 0..100
    trimmed: bool = False
    stdev: float | None = None
    spread: Fraction | None = None  # max - min of the weighted totals
    flagged: bool = False
    criterion_means: dict[int, Fraction] = field(default_factory=dict)  # over the kept reviews
    top_mean: Fraction | None = None
    submitted_at: datetime | None = None
    rank: int = 0
    untrimmed: Fraction | None = None  # the plain mean of every expert's total
    dropped_high: tuple[int, Fraction] | None = None  # (assignment id, total) a trimmed mean drops
    dropped_low: tuple[int, Fraction] | None = None

    @property
    def score_display(self) -> Decimal | None:
        return to_2dp(self.score)

    @property
    def untrimmed_display(self) -> Decimal | None:
        return to_2dp(self.untrimmed)

    @property
    def dropped(self) -> dict[int, str]:
        """assignment id -> "high" / "low" for the reviews the trimmed mean leaves out."""
        return {item[0]: side for side, item in (("high", self.dropped_high), ("low", self.dropped_low)) if item}

    @property
    def stdev_display(self) -> Decimal | None:
        return None if self.stdev is None else Decimal(str(self.stdev)).quantize(Decimal("0.01"), ROUND_HALF_UP)

    def mean_display(self, criterion_id: int) -> Decimal | None:
        return to_2dp(self.criterion_means.get(criterion_id))


def to_2dp(value: Fraction | None) -> Decimal | None:
    if value is None:
        return None
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def rank_key(row: BidRanking):
    """The stated ranking rule as a sort key (smaller first)."""
    far_future = datetime.max.replace(tzinfo=None)
    submitted = row.submitted_at.replace(tzinfo=None) if row.submitted_at else far_future
    return (
        row.score is None,
        -(row.score or 0),
        -(row.top_mean or 0),
        -row.count,
        submitted,
        row.bid_id,
    )


def _placeholder(connection, index: int) -> str:
    return f"${index}" if connection.capabilities.dialect == "postgres" else "?"


async def panel_ranking(*, panel_id: int, aggregation: Aggregation, criteria: list[CriterionInfo],
                        bids: dict[int, datetime | None], dispersion_threshold: Decimal | float | None = None
                        ) -> list[BidRanking]:
    """The ranking of a panel's bids (`bids`: bid id -> its submission time), in two queries."""
    connection = connections.get("default")
    m, factors = scale(criteria)
    rows = {bid_id: BidRanking(bid_id=bid_id, submitted_at=submitted) for bid_id, submitted in bids.items()}
    if factors:
        case = " ".join(f"WHEN {int(cid)} THEN {int(factor)}" for cid, factor in factors.items())
        hundredths = "CAST(ROUND(s.value * 100) AS BIGINT)"
        p1, p2 = _placeholder(connection, 1), _placeholder(connection, 2)
        trim = aggregation == Aggregation.TRIMMED_MEAN
        # One row per submitted review: its weighted total, and whether a trimmed mean keeps it.
        reviews = f"""
            totals AS (
                SELECT a.bid_id AS bid_id, a.id AS assignment_id,
                       SUM({hundredths} * (CASE s.criterion_id {case} ELSE 0 END)) AS total
                FROM review_assignment a JOIN review_score s ON s.assignment_id = a.id
                WHERE a.panel_id = {p1} AND a.status = {p2}
                GROUP BY a.bid_id, a.id
            ),
            marked AS (
                SELECT bid_id, assignment_id, total,
                       COUNT(*) OVER (PARTITION BY bid_id) AS n,
                       ROW_NUMBER() OVER (PARTITION BY bid_id ORDER BY total DESC, assignment_id) AS from_top,
                       ROW_NUMBER() OVER (PARTITION BY bid_id ORDER BY total, assignment_id DESC) AS from_bottom
                FROM totals
            ),
            kept AS (
                SELECT bid_id, assignment_id, total, n, from_top, from_bottom,
                       CASE WHEN {1 if trim else 0} = 1 AND n >= {TRIM_MIN_COUNT}
                                 AND (from_top = 1 OR from_bottom = 1) THEN 0 ELSE 1 END AS keep
                FROM marked
            )
        """
        totals_sql = f"""
            WITH {reviews}
            SELECT bid_id, COUNT(*) AS n, SUM(total) AS total_sum, MAX(total) AS total_max,
                   MIN(total) AS total_min, SUM(total * total) AS total_sq,
                   SUM(total * keep) AS kept_sum, SUM(keep) AS kept_n,
                   MAX(CASE WHEN keep = 0 AND from_top = 1 THEN assignment_id END) AS dropped_high,
                   MAX(CASE WHEN keep = 0 AND from_bottom = 1 THEN assignment_id END) AS dropped_low
            FROM kept GROUP BY bid_id
        """
        params = [panel_id, AssignmentStatus.SUBMITTED.value]
        unit = 100 * m  # a weighted total of 100 points is 100 * 100 * M in SQL units
        for record in await connection.execute_query_dict(totals_sql, params):
            row = rows.get(record["bid_id"])
            if row is None:
                continue
            n = int(record["n"])
            total_sum, total_sq = int(record["total_sum"]), int(record["total_sq"])
            row.count = n
            row.untrimmed = Fraction(total_sum, n * unit)
            row.score = Fraction(int(record["kept_sum"]), int(record["kept_n"]) * unit)
            row.trimmed = int(record["kept_n"]) < n
            if row.trimmed:
                row.dropped_high = (int(record["dropped_high"]), Fraction(int(record["total_max"]), unit))
                row.dropped_low = (int(record["dropped_low"]), Fraction(int(record["total_min"]), unit))
            row.spread = Fraction(int(record["total_max"]) - int(record["total_min"]), unit)
            variance = Fraction(total_sq, n) - Fraction(total_sum, n) ** 2
            row.stdev = math.sqrt(max(variance, 0)) / unit
            if dispersion_threshold is not None and n >= 2:
                row.flagged = row.stdev > float(dispersion_threshold)
        criterion_sql = f"""
            WITH {reviews}
            SELECT k.bid_id AS bid_id, s.criterion_id AS criterion_id,
                   SUM({hundredths}) AS h_sum, COUNT(s.value) AS n
            FROM kept k JOIN review_score s ON s.assignment_id = k.assignment_id
            WHERE k.keep = 1
            GROUP BY k.bid_id, s.criterion_id
        """
        top = top_criterion(criteria)
        for record in await connection.execute_query_dict(criterion_sql, params):
            row = rows.get(record["bid_id"])
            n = int(record["n"])
            if row is None or not n:
                continue
            mean = Fraction(int(record["h_sum"]), n * 100)
            row.criterion_means[record["criterion_id"]] = mean
            if top is not None and record["criterion_id"] == top.id:
                row.top_mean = mean
    ranked = sorted(rows.values(), key=rank_key)
    for position, row in enumerate(ranked, start=1):
        row.rank = position
    return ranked


# -- an independent recomputation from the raw rows, for `challenge verify-results` --------------

@dataclass(frozen=True)
class RawScore:
    assignment_id: int
    bid_id: int
    criterion_id: int
    value: Decimal | None


def recompute(*, raw: list[RawScore], criteria: list[CriterionInfo], aggregation: Aggregation,
              bids: dict[int, datetime | None]) -> list[tuple[int, Fraction | None]]:
    """The ranking computed in Python from every raw score: [(bid id, panel score)], best first."""
    by_id = {c.id: c for c in criteria}
    totals: dict[int, dict[int, Fraction]] = {}
    values_of: dict[tuple[int, int], dict[int, Fraction]] = {}
    for item in raw:
        criterion = by_id.get(item.criterion_id)
        if criterion is None or item.value is None or criterion.max_score <= 0:
            continue
        value = Fraction(item.value)
        per_bid = totals.setdefault(item.bid_id, {})
        per_bid[item.assignment_id] = per_bid.get(item.assignment_id, Fraction(0)) + \
            value / criterion.max_score * criterion.weight
        values_of.setdefault((item.bid_id, item.criterion_id), {})[item.assignment_id] = value
    top = top_criterion(criteria)
    results = []
    for bid_id, submitted in bids.items():
        per_review = totals.get(bid_id, {})
        kept = set(per_review)
        if aggregation == Aggregation.TRIMMED_MEAN and len(per_review) >= TRIM_MIN_COUNT:
            highest = min(per_review, key=lambda a: (-per_review[a], a))
            lowest = min(per_review, key=lambda a: (per_review[a], -a))
            kept -= {highest, lowest}
        values = [per_review[a] for a in kept]
        score = sum(values, Fraction(0)) / len(values) if values else None
        top_values = [v for a, v in values_of.get((bid_id, top.id), {}).items() if a in kept] if top else []
        top_mean = sum(top_values, Fraction(0)) / len(top_values) if top_values else Fraction(0)
        results.append((bid_id, score, top_mean, len(values), submitted))

    def key(item):
        bid_id, score, top_mean, count, submitted = item
        return (score is None, -(score or 0), -top_mean, -count,
                submitted.replace(tzinfo=None) if submitted else datetime.max, bid_id)

    return [(item[0], item[1]) for item in sorted(results, key=key)]
