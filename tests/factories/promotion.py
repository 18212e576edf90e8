"""Builders for the promotion catalogue: an accepted project, a round at any step, a published catalogue."""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from challenge.accounts.models import Role, User
from challenge.catalog.models import Domain
from challenge.challenges.models import AssessmentTarget, Challenge
from challenge.delivery import acceptance
from challenge.delivery.models import Project, ProjectStatus
from challenge.promotion import rounds
from challenge.promotion.models import Candidate, CatalogueRound, CatalogueVersion
from challenge.results import services as results
from challenge.reviews import services as reviews
from challenge.reviews.models import Assignment, PanelStatus
from challenge.web.timefmt import now_utc
from factories import domains, make_organiser, make_user
from factories.bids import storage_of
from factories.delivery import Delivery, make_project
from factories.reviews import make_expert, submit
from factories.supply import make_offer


async def make_accepted(settings, *, title: str = "", achieved: str = "96") -> Delivery:
    """A project whose team filed its acceptance report (achieved values) and that passed acceptance."""
    made = await make_project(settings)
    if title:
        await Project.filter(id=made.project.id).update(title=title)
    targets = await AssessmentTarget.filter(challenge_id=made.challenge.id).order_by("position")
    await acceptance.submit_acceptance(project=made.project, actor=made.team, summary="任务全部完成",
                                       values={t.id: (achieved, "第三方检测") for t in targets},
                                       storage=storage_of(settings))
    await Project.filter(id=made.project.id).update(status=ProjectStatus.ACCEPTED, finished_at=now_utc())
    made.project = await Project.get(id=made.project.id).select_related("challenge", "bid", "bid__lead_org")
    return made


@dataclass
class Round:
    round: CatalogueRound
    organiser: User
    domain: Domain
    candidates: list[Candidate] = field(default_factory=list)
    projects: list[Delivery] = field(default_factory=list)


def fields_for(made: Delivery, name: str = "") -> dict:
    return {"name": name or made.project.title, "scope": "钢铁、水泥行业烟气二氧化碳捕集",
            "core_process": "低能耗胺吸收与变压再生", "benefits": "每年减排二氧化碳 10 万吨",
            "parameters": [{"name": "捕集率", "value": "95", "unit": "%"}]}


async def open_round(*, organiser: User | None = None, deadline_days: int = 30) -> Round:
    organiser = organiser or await make_organiser()
    domain = (await domains())[0]
    round_ = await rounds.create_round(actor=organiser, year=2026, title="2026年度绿色技术推广目录遴选",
                                       conditions="通过验收的攻关成果", deadline=now_utc() + timedelta(days=deadline_days),
                                       domain_ids=[domain.id])
    await rounds.open_round(round_=round_, actor=organiser)
    return Round(round=await CatalogueRound.get(id=round_.id), organiser=organiser, domain=domain)


async def evaluating_round(settings, *, names: tuple[str, ...] = ("高效低成本二氧化碳捕集技术",),
                           scores: tuple[int, ...] | None = None) -> Round:
    """A round in evaluation whose candidates (accepted projects, one per name) each have a
    concluded panel of one expert who scored them (default 90, 80, ...)."""
    made = await open_round()
    for i, name in enumerate(names):
        project = await make_accepted(settings, title=name)
        made.projects.append(project)
        candidate = await rounds.propose_candidate(round_=made.round, project=project.project, actor=made.organiser,
                                                   domain_id=made.domain.id, **fields_for(project, name))
        await rounds.screen_candidate(candidate=candidate, actor=made.organiser, eligible=True, note="")
        made.candidates.append(candidate)
    await rounds.start_evaluation(round_=made.round, actor=made.organiser)
    made.round = await CatalogueRound.get(id=made.round.id)
    for i, candidate in enumerate(made.candidates):
        await Challenge.filter(id=made.projects[i].challenge.id).update(experts_per_bid=1)
        expert = await make_expert()
        panel = await rounds.form_evaluation(candidate=await Candidate.get(id=candidate.id), actor=made.organiser,
                                             name="技术评价专家组", member_ids=[expert.id], chair_id=expert.id,
                                             deputy_id=None, due_at=None, dispersion_threshold=Decimal("15"))
        await reviews.propose_assignments(panel=panel, actor=made.organiser)
        await reviews.confirm_assignments(panel=panel, actor=made.organiser)
        task = await Assignment.get(panel_id=panel.id)
        criteria = await reviews.rubric_of(panel)  # the round's
        score = (scores or [])[i] if scores else 90 - 10 * i
        await submit(task, [score * c.max_score / 100 for c in criteria])
        await panel.refresh_from_db()
        await reviews.record_opinion(panel=panel, actor=expert, text="技术先进，同意推荐", recommended_ids=[])
        assert (await panel.refresh_from_db() or panel).status == PanelStatus.CONCLUDED
    made.candidates = list(await Candidate.filter(round_id=made.round.id).order_by("id"))
    return made


async def applied_offer(made: Round, *, owner: User | None = None, **overrides) -> Candidate:
    """A published offer of the owner's organisation applied to the open round, screened eligible."""
    owner = owner or await make_user(Role.BIDDER)
    offer = await make_offer(organisation=await owner.organisation, **overrides)
    fields = await rounds.offer_fields(offer)
    candidate = await rounds.apply_offer(round_=made.round, offer=offer, actor=owner,
                                         **{**fields, "domain_id": made.domain.id})
    await rounds.screen_candidate(candidate=candidate, actor=made.organiser, eligible=True, note="")
    made.candidates.append(await Candidate.get(id=candidate.id))
    return made.candidates[-1]


async def published_catalogue(settings, *, names: tuple[str, ...] = ("高效低成本二氧化碳捕集技术",)
                              ) -> tuple[Round, CatalogueVersion]:
    """A round taken through its notice (period over, no objection) into the published catalogue."""
    made = await evaluating_round(settings, names=names)
    notice = await rounds.publish_notice(round_=made.round, actor=made.organiser,
                                         recommended_ids=[c.id for c in made.candidates], working_days=1,
                                         starts_on=results.default_start(now_utc()))
    later = notice.ends_at + timedelta(minutes=1)
    version = await rounds.publish_round(round_=await CatalogueRound.get(id=made.round.id), actor=made.organiser,
                                         now=later)
    made.round = await CatalogueRound.get(id=made.round.id)
    return made, version
