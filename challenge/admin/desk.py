"""The programme office's desk: what waits for the office (each count one aggregate query) and
the figures of the whole flow, needs → challenges → bids → winners → accepted, in total, by
domain and by region, and the bids of open challenges over time. A fixed number of queries,
whatever the amount of data."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from tortoise.expressions import Q
from tortoise.functions import Count

from challenge.accounts.models import Membership, MembershipStatus, Organisation, OrgStatus
from challenge.bids.models import RECEIVED_BID_STATES, Bid, BidStatus
from challenge.catalog import regions
from challenge.catalog.models import Domain
from challenge.challenges.models import PUBLIC_CHALLENGE_STATES, Challenge, ChallengeStatus, Mechanism, Question
from challenge.delivery.models import Project, ProjectMilestone, ProjectStatus
from challenge.delivery.projects import overdue_milestones
from challenge.needs.models import ORGANISER_VISIBLE_NEED_STATES, Need, NeedStatus
from challenge.results.models import LIVE_NOTICE_STATES, NoticeKind, Objection, ObjectionStatus
from challenge.reviews.models import Assignment, AssignmentStatus
from challenge.web.i18n import _
from challenge.web.timefmt import to_beijing

# Assignments an expert still owes a score for.
PENDING_REVIEW_STATES = [AssignmentStatus.ASSIGNED, AssignmentStatus.IN_PROGRESS]
TIMELINE_DAYS = 30
NO_DOMAIN, NO_REGION = 0, ""


@dataclass
class QueueItem:
    key: str
    label: str
    count: int
    link: str
    urgent: bool = False  # past a deadline: shown as words, not colour only


async def work_queue(now: datetime, day: date) -> list[QueueItem]:
    """What waits for the programme office, each count one aggregate query."""
    items = [
        ("needs", _("待筛选的技术需求"), Need.filter(status=NeedStatus.SUBMITTED),
         f"/needs/?status={NeedStatus.SUBMITTED}", False),
        ("organisations", _("待审核的单位"), Organisation.filter(status=OrgStatus.PENDING),
         "/admin/organisations?status=pending", False),
        ("memberships", _("待审核的成员申请"), Membership.filter(status=MembershipStatus.PENDING),
         "/admin/organisations#memberships", False),
        ("formal_checks", _("待形式审查的申报"), Bid.filter(status=BidStatus.SUBMITTED), "/bids/manage", False),
        ("reviews_due", _("待专家提交的评审"), Assignment.filter(status__in=PENDING_REVIEW_STATES), "/review/manage",
         False),
        ("reviews_overdue", _("已逾期的评审"),
         Assignment.filter(status__in=PENDING_REVIEW_STATES, panel__due_at__lt=now), "/review/manage", True),
        ("questions", _("待答复的提问"),
         Question.filter(answered_at__isnull=True, challenge__status__in=list(PUBLIC_CHALLENGE_STATES)),
         "/challenges/manage", False),
        ("objections", _("待处理的异议"), Objection.filter(status=ObjectionStatus.OPEN), "/results/manage", False),
        ("milestones_overdue", _("已逾期的项目节点"), overdue_milestones(ProjectMilestone.all(), day),
         "/delivery/manage", True),
    ]
    return [QueueItem(key=key, label=label, count=await query.count(), link=link, urgent=urgent)
            for key, label, query, link, urgent in items]


# -- the flow in figures --------------------------------------------------------------------------

STAGES = ("needs", "challenges", "bids", "winners", "accepted")


def stage_labels() -> list[str]:
    return [_("技术需求"), _("发布榜单"), _("收到申报"), _("拟揭榜/揭榜单位"), _("通过验收")]


@dataclass
class Breakdown:
    key: str | int
    label: str
    values: list[int]  # one per stage, in STAGES order


@dataclass
class Figures:
    totals: list[int]
    by_domain: list[Breakdown] = field(default_factory=list)
    by_region: list[Breakdown] = field(default_factory=list)


def _grouped(rows: list[dict], key: str, normalise=lambda value: value) -> Counter:
    counts: Counter = Counter()
    for row in rows:
        counts[normalise(row[key])] += row["n"]
    return counts


def _province(code: str | None) -> str:
    return regions.province_code(code) if code else NO_REGION


async def _by(query, domain_key: str, region_key: str) -> tuple[Counter, Counter]:
    """One GROUP BY per dimension; regions are counted by province."""
    by_domain = await query.annotate(n=Count("id")).group_by(domain_key).values(domain_key, "n")
    by_region = await query.annotate(n=Count("id")).group_by(region_key).values(region_key, "n")
    return (_grouped(by_domain, domain_key, lambda v: v or NO_DOMAIN),
            _grouped(by_region, region_key, _province))


async def _challenges() -> tuple[Counter, Counter]:
    """Challenges by domain, and by the province of their issuers (a challenge once per province)."""
    query = Challenge.filter(status__in=list(PUBLIC_CHALLENGE_STATES))
    by_domain = await query.annotate(n=Count("id")).group_by("domain_id").values("domain_id", "n")
    pairs = await query.values_list("id", "issuers__region_code")
    by_region = Counter(province for _id, province in {(i, _province(code)) for i, code in pairs})
    return _grouped(by_domain, "domain_id", lambda v: v or NO_DOMAIN), by_region


async def _winners() -> tuple[Counter, Counter]:
    """Bids named winners: announced (status WINNER), or proposed in an open call's live result
    notice (a horse race names its winners at the last stage gate, when announced)."""
    rows = await Bid.filter(
        Q(status=BidStatus.WINNER)
        | Q(decision_entries__selected=True, decision_entries__decision__notice__kind=NoticeKind.RESULT,
            decision_entries__decision__notice__status__in=list(LIVE_NOTICE_STATES),
            challenge__mechanism=Mechanism.OPEN_CALL)
    ).distinct().values_list("id", "challenge__domain_id", "lead_org__region_code")
    unique = {row[0]: row for row in rows}.values()
    return (Counter(domain or NO_DOMAIN for _id, domain, _code in unique),
            Counter(_province(code) for _id, _domain, code in unique))


async def figures() -> Figures:
    needs = await _by(Need.filter(status__in=list(ORGANISER_VISIBLE_NEED_STATES)), "domain_id",
                      "organisation__region_code")
    challenges = await _challenges()
    bids = await _by(Bid.filter(status__in=list(RECEIVED_BID_STATES)), "challenge__domain_id",
                     "lead_org__region_code")
    winners = await _winners()
    accepted = await _by(Project.filter(status=ProjectStatus.ACCEPTED), "challenge__domain_id",
                         "bid__lead_org__region_code")
    stages = [needs, challenges, bids, winners, accepted]
    domains = await Domain.all().order_by("sort_order", "id")
    domain_keys = [d.id for d in domains] + [NO_DOMAIN]
    domain_names = {d.id: d.label for d in domains} | {NO_DOMAIN: _("未分类")}
    result = Figures(totals=[sum(stage[0].values()) for stage in stages])
    for key in domain_keys:
        values = [stage[0].get(key, 0) for stage in stages]
        if any(values) or key != NO_DOMAIN:
            result.by_domain.append(Breakdown(key=key, label=domain_names[key], values=values))
    region_keys = sorted({key for stage in stages for key in stage[1]}, key=lambda k: (k == NO_REGION, k))
    for key in region_keys:
        result.by_region.append(Breakdown(key=key, label=regions.name(key) if key else _("未注明地区"),
                                          values=[stage[1].get(key, 0) for stage in stages]))
    return result


@dataclass
class Timeline:
    days: list[date]
    counts: list[int]
    challenges: int  # open challenges counted


async def bids_over_time(now: datetime) -> Timeline:
    """Bids submitted to challenges open for bids now, per Beijing day over the last 30 days
    (one query of submission times: a day is a Beijing date, which SQL cannot group portably)."""
    first = to_beijing(now).date() - timedelta(days=TIMELINE_DAYS - 1)
    open_challenges = Challenge.filter(status=ChallengeStatus.PUBLISHED, closes_at__gt=now)
    rows = await Bid.filter(challenge__status=ChallengeStatus.PUBLISHED, challenge__closes_at__gt=now,
                            status__in=list(RECEIVED_BID_STATES), submitted_at__not_isnull=True) \
        .values_list("submitted_at", flat=True)
    per_day = Counter(to_beijing(moment).date() for moment in rows)
    days = [first + timedelta(days=i) for i in range(TIMELINE_DAYS)]
    return Timeline(days=days, counts=[per_day.get(d, 0) for d in days], challenges=await open_challenges.count())
