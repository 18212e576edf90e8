"""What the delivery pages, the public sections and the feeds show, each in a fixed number of
queries (templates never query)."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from challenge.bids.models import Bid, BidStatus, BidVersion
from challenge.bids.services import version_content
from challenge.challenges.models import Challenge, ChallengeStatus, Mechanism, Stage
from challenge.challenges.services import FeedEntry
from challenge.delivery import receipts
from challenge.delivery.acceptance import result_link
from challenge.delivery.deliverables import RACE_CHALLENGE_STATES
from challenge.delivery.models import (
    AcceptanceReport,
    AchievedValue,
    FundingTranche,
    ProgressReport,
    Project,
    ProjectMilestone,
    ProjectReview,
    ReportStatus,
    ReviewResult,
    StageDeliverable,
    VersionKind,
)
from challenge.delivery.projects import MilestoneState, milestone_state
from challenge.results.services import partner_names
from challenge.reviews.models import Panel, PanelPurpose, StageOutcome, StageResult
from challenge.reviews.panels import RACE_BID_STATES
from challenge.web.i18n import _


# -- projects in lists ----------------------------------------------------------------------------

@dataclass
class ProjectRow:
    project: Project  # with challenge, bid and bid.lead_org
    milestones: int = 0
    done: int = 0
    overdue: int = 0
    awaiting: int = 0
    next_due: ProjectMilestone | None = None
    planned: Decimal = Decimal("0")
    released: Decimal = Decimal("0")


async def project_rows(projects: list[Project], day: date) -> list[ProjectRow]:
    """Each project with its milestones' progress (overdue flagged) and its funding, in three queries."""
    ids = [p.id for p in projects]
    rows = {p.id: ProjectRow(project=p) for p in projects}
    statuses = dict(await ProgressReport.filter(project_id__in=ids or [0]).values_list("milestone_id", "status"))
    for milestone in await ProjectMilestone.filter(project_id__in=ids or [0]).order_by("due_date", "id"):
        row = rows[milestone.project_id]
        state = milestone_state(milestone, statuses.get(milestone.id), day)
        row.milestones += 1
        row.done += state == MilestoneState.DONE
        row.overdue += state == MilestoneState.OVERDUE
        row.awaiting += statuses.get(milestone.id) == ReportStatus.SUBMITTED
        if row.next_due is None and state != MilestoneState.DONE and milestone.due_date >= day:
            row.next_due = milestone
    for tranche in await FundingTranche.filter(project_id__in=ids or [0]):
        rows[tranche.project_id].planned += tranche.planned_wan
        rows[tranche.project_id].released += tranche.released_wan or 0
    return [rows[p.id] for p in projects]


def _projects():
    return Project.all().select_related("challenge", "bid", "bid__lead_org")


# -- the team's and the organiser's lists ---------------------------------------------------------

@dataclass
class StageRow:
    stage: Stage
    deliverable: StageDeliverable | None
    decided: bool  # the stage's gate is announced
    open: bool  # the team may hand in now


@dataclass
class RaceRow:
    bid: Bid  # with challenge
    stages: list[StageRow] = field(default_factory=list)


async def racing_bids(organisation_id: int, now) -> list[RaceRow]:
    """The organisation's bids still racing on a horse race past its bid window, with each stage."""
    bids = [b for b in await Bid.filter(lead_org_id=organisation_id, status__in=RACE_BID_STATES,
                                        challenge__mechanism=Mechanism.HORSE_RACE).select_related("challenge")
            .order_by("-id") if b.challenge.shown_status(now) in RACE_CHALLENGE_STATES]
    challenge_ids = list({b.challenge_id for b in bids})
    stages = await Stage.filter(challenge_id__in=challenge_ids or [0]).order_by("position", "id")
    decided = set(await StageResult.filter(stage_id__in=[s.id for s in stages] or [0]).values_list("stage_id",
                                                                                                  flat=True))
    handed = {(d.stage_id, d.bid_id): d for d in await StageDeliverable.filter(bid_id__in=[b.id for b in bids] or [0])}
    rows = []
    for bid in bids:
        row = RaceRow(bid=bid)
        for stage in (s for s in stages if s.challenge_id == bid.challenge_id):
            row.stages.append(StageRow(stage=stage, deliverable=handed.get((stage.id, bid.id)),
                                       decided=stage.id in decided,
                                       open=stage.id not in decided and now < stage.due_at))
        rows.append(row)
    return rows


async def team_projects(organisation_id: int, day: date) -> list[ProjectRow]:
    return await project_rows(list(await _projects().filter(bid__lead_org_id=organisation_id).order_by("-id")), day)


async def all_projects(day: date) -> list[ProjectRow]:
    return await project_rows(list(await _projects().order_by("-id")), day)


@dataclass
class TrackRow:
    challenge: Challenge
    stages: list[dict] = field(default_factory=list)  # stage, deliverables handed in, panel, past its deadline
    racing: int = 0  # teams still in the race


async def tracks(now) -> list[TrackRow]:
    """Horse races past their bid window with each stage's deliverables handed in and panel."""
    challenges = [c for c in await Challenge.filter(mechanism=Mechanism.HORSE_RACE).order_by("-id")
                  if c.shown_status(now) in RACE_CHALLENGE_STATES]
    ids = [c.id for c in challenges]
    stages = await Stage.filter(challenge_id__in=ids or [0]).order_by("position", "id")
    stage_ids = [s.id for s in stages]
    handed: dict[int, int] = {}
    for stage_id in await StageDeliverable.filter(stage_id__in=stage_ids or [0], current_version__gt=0) \
            .values_list("stage_id", flat=True):
        handed[stage_id] = handed.get(stage_id, 0) + 1
    panels = {p.stage_id: p for p in await Panel.filter(stage_id__in=stage_ids or [0], purpose=PanelPurpose.STAGE)}
    racing: dict[int, int] = {}
    for challenge_id in await Bid.filter(challenge_id__in=ids or [0], status__in=RACE_BID_STATES) \
            .values_list("challenge_id", flat=True):
        racing[challenge_id] = racing.get(challenge_id, 0) + 1
    rows = {c.id: TrackRow(challenge=c) for c in challenges}
    for stage in stages:
        rows[stage.challenge_id].stages.append({"stage": stage, "handed": handed.get(stage.id, 0),
                                                "panel": panels.get(stage.id), "due": stage.due_at <= now})
    for row in rows.values():
        row.racing = racing.get(row.challenge.id, 0)
    return list(rows.values())


# -- one project ----------------------------------------------------------------------------------

@dataclass
class MilestoneView:
    milestone: ProjectMilestone
    state: MilestoneState
    report: ProgressReport | None
    tranches: list[FundingTranche] = field(default_factory=list)


async def project_context(project: Project, day: date) -> dict:
    """Everything the project page shows (the project with challenge, bid and bid.lead_org)."""
    milestones = await ProjectMilestone.filter(project_id=project.id).order_by("position", "id")
    reports = {r.milestone_id: r for r in await ProgressReport.filter(project_id=project.id)}
    tranches = list(await FundingTranche.filter(project_id=project.id).select_related("milestone")
                    .order_by("planned_on", "id"))
    views = [MilestoneView(milestone=m, state=milestone_state(m, reports[m.id].status if m.id in reports else None,
                                                              day), report=reports.get(m.id),
                           tranches=[t for t in tranches if t.milestone_id == m.id]) for m in milestones]
    plan = await BidVersion.get_or_none(bid_id=project.bid_id, version=project.plan_version)
    budget = version_content(plan)["content"].get("budget") if plan is not None else None
    reports_ = list(await AcceptanceReport.filter(project_id=project.id).order_by("round"))
    versions = await receipts.latest(VersionKind.ACCEPTANCE, [r.id for r in reports_])
    reviews = list(await ProjectReview.filter(project_id=project.id).select_related("panel").order_by("id"))
    results = {r.review_id: r for r in await ReviewResult.filter(project_id=project.id)}
    achieved = await AchievedValue.filter(report_id__in=[r.id for r in reports_] or [0]).select_related("target")
    return {
        "milestones": views, "tranches": tranches, "budget": budget,
        "planned": sum((t.planned_wan for t in tranches), Decimal("0")),
        "released": sum((t.released_wan or Decimal("0") for t in tranches), Decimal("0")),
        "acceptance_reports": [{"report": r, "version": versions.get(r.id),
                                "values": [v for v in achieved if v.report_id == r.id]} for r in reports_],
        "reviews": [{"review": r, "result": results.get(r.id)} for r in reviews],
        "overdue": sum(1 for v in views if v.state == MilestoneState.OVERDUE),
    }


# -- public sections ------------------------------------------------------------------------------

async def track_section(challenge: Challenge, user) -> dict | None:
    """The track (赛道) on a horse race's page: each stage's funding, deliverable, deadline and
    results, and the teams still in the race (named once a result lets them go on)."""
    if challenge.mechanism != Mechanism.HORSE_RACE:
        return None
    stages = list(await Stage.filter(challenge_id=challenge.id).order_by("position", "id"))
    results = await StageResult.filter(stage_id__in=[s.id for s in stages] or [0]).select_related(
        "bid", "bid__lead_org").order_by("stage_id", "rank")
    handed: dict[int, int] = {}
    for stage_id in await StageDeliverable.filter(stage_id__in=[s.id for s in stages] or [0],
                                                  current_version__gt=0).values_list("stage_id", flat=True):
        handed[stage_id] = handed.get(stage_id, 0) + 1
    # Teams go on, or win, only by an announced result: naming them is public.
    racing = await Bid.filter(challenge_id=challenge.id, status__in=[BidStatus.ADVANCED, BidStatus.WINNER]) \
        .select_related("lead_org").order_by("id")
    return {"template": "delivery/_track_section.html", "slot": "stages", "stages": [
        {"stage": s, "last": i == len(stages) - 1, "handed": handed.get(s.id, 0),
         "results": [r for r in results if r.stage_id == s.id]} for i, s in enumerate(stages)],
        "racing": racing, "advanced": StageOutcome.ADVANCED,
        "total_funding": sum((s.funding_wan for s in stages), Decimal("0"))}


async def delivery_section(challenge: Challenge, user) -> dict | None:
    """The projects of a challenge in delivery, and their published acceptance results."""
    if challenge.status not in {ChallengeStatus.DELIVERING, ChallengeStatus.FINISHED, ChallengeStatus.CANCELLED}:
        return None
    projects = list(await Project.filter(challenge_id=challenge.id).select_related("bid", "bid__lead_org")
                    .order_by("id"))
    if not projects:
        return None
    results = await ReviewResult.filter(project_id__in=[p.id for p in projects], published=True) \
        .order_by("-recorded_at", "-id")
    return {"template": "delivery/_challenge_section.html", "slot": "top", "projects": projects,
            "results": {p.id: [r for r in results if r.project_id == p.id] for p in projects}}


def published_results():
    return ReviewResult.filter(published=True).select_related("project", "project__challenge",
                                                              "project__bid__lead_org")


async def results_section() -> dict | None:
    """The latest published acceptance results, on /results."""
    results = list(await published_results().order_by("-recorded_at", "-id").limit(20))
    if not results:
        return None
    return {"template": "delivery/_results_section.html", "results": results}


async def feed_entries(limit: int, challenge_id: int | None = None) -> list[FeedEntry]:
    """Published acceptance results, newest first, naming the team and the outcome."""
    query = published_results()
    if challenge_id is not None:
        query = query.filter(project__challenge_id=challenge_id)
    return [FeedEntry(key=f"acceptance:{r.id}", path=result_link(r),
                      title=_("验收结论：%(title)s", title=r.project.challenge.title), updated=r.recorded_at,
                      summary=_("%(team)s：%(outcome)s", team=r.project.bid.lead_org.name, outcome=r.outcome.label)
                      + "\n" + r.opinion)
            for r in await query.order_by("-recorded_at", "-id").limit(limit)]


async def public_result(result_id: int) -> dict | None:
    """A published acceptance result with the achieved value and the verdict of every target."""
    result = await published_results().select_related("review").get_or_none(id=result_id)
    if result is None or not result.project.challenge.is_public:
        return None
    values = await AchievedValue.filter(report_id=result.review.acceptance_report_id).select_related("target") \
        .order_by("target__position", "target_id")
    partners = (await partner_names([result.project.bid_id]))[result.project.bid_id]
    return {"result": result, "values": values, "partners": partners}
