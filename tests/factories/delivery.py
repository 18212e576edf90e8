"""Builders for the delivery area: a horse race whose teams are racing its stages, and a winning
bid's project (made by the announcement hook, as in real use)."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from challenge.accounts.models import Role, User
from challenge.bids.forms import MilestoneInput
from challenge.bids.models import Bid, BidStatus
from challenge.challenges.models import Challenge, ChallengeStatus, Mechanism, Stage
from challenge.delivery import projects
from challenge.delivery.models import Project
from challenge.web.timefmt import now_utc
from factories import make_bid, make_challenge, make_org, make_organiser, make_user
from factories.bids import full_content, make_bidder, make_submitted


@dataclass
class Race:
    challenge: Challenge
    stages: list[Stage]
    bids: list[Bid]
    teams: list[User]  # a bidder of each bid's lead organisation
    organiser: User


async def make_race(*, teams: int = 3, due_days: tuple[int, ...] = (10, 200), advance: tuple[int, ...] = (2, 1),
                    blind: bool = False, status: ChallengeStatus = ChallengeStatus.CLOSED) -> Race:
    """A horse race past its bid window whose teams passed the formal check: the first stage is
    theirs to hand in (its deadline `due_days[0]` days from now)."""
    now = now_utc()
    challenge = await make_challenge(mechanism=Mechanism.HORSE_RACE, status=status, blind_review=blind,
                                     opens_at=now - timedelta(days=60), closes_at=now - timedelta(days=1),
                                     criteria=(100,), experts_per_bid=1)
    stages = [await Stage.create(challenge=challenge, position=i, name=name, deliverable=f"{name}报告",
                                 due_at=now + timedelta(days=days), advance_count=count,
                                 funding_wan=Decimal("500") * (i + 1))
              for i, (name, days, count) in enumerate(zip(("小试验证", "工业试验", "工程示范"), due_days, advance))]
    bids, users = [], []
    for i in range(teams):
        organisation = await make_org(name=f"赛马团队{i + 1}单位{challenge.id}")
        bids.append(await make_bid(challenge=challenge, lead_org=organisation, status=BidStatus.IN_REVIEW,
                                   title=f"富氢冶炼方案{i + 1}"))
        users.append(await make_bidder(organisation=organisation))
    return Race(challenge=challenge, stages=stages, bids=bids, teams=users, organiser=await make_organiser())


@dataclass
class Delivery:
    project: Project
    challenge: Challenge
    bid: Bid
    team: User
    organiser: User
    issuer: User | None = None
    milestones: list = field(default_factory=list)


async def make_project(settings, *, milestone_days: tuple[int, ...] = (30, 120), team_locale: str = "zh_CN",
                       requested: str = "1000", partners=None, team: User | None = None) -> Delivery:
    """An open call whose winner's project started at its announcement (the delivery area's hook).
    `team`: a bidder of the winning organisation (a new organisation's when not given)."""
    issuer_org = await make_org()
    challenge = await make_challenge()
    await challenge.issuers.add(issuer_org)
    issuer = await make_user(Role.SUBMITTER, organisation=issuer_org)
    team = team or await make_bidder()
    await User.filter(id=team.id).update(locale=team_locale)
    team = await User.get(id=team.id).select_related("organisation")
    content = await full_content(challenge, requested=requested, partners=partners)
    today = date.today()
    content.milestones = [MilestoneInput(title=f"节点{i + 1}", due_date=today + timedelta(days=days),
                                         deliverable=f"节点{i + 1}成果") for i, days in enumerate(milestone_days)]
    bid, _bidder, _version = await make_submitted(settings, challenge=challenge, bidder=team, content=content)
    await Bid.filter(id=bid.id).update(status=BidStatus.WINNER)
    await Challenge.filter(id=challenge.id).update(status=ChallengeStatus.ANNOUNCED,
                                                   closes_at=now_utc() - timedelta(days=30))
    challenge = await Challenge.get(id=challenge.id)
    organiser = await make_organiser()
    await projects.on_announced(notice=None, challenge=challenge, winner_ids=[bid.id], actor=organiser,
                                now=now_utc())
    project = await Project.get(bid_id=bid.id).select_related("challenge", "bid", "bid__lead_org")
    return Delivery(project=project, challenge=await Challenge.get(id=challenge.id), bid=await Bid.get(id=bid.id),
                    team=team, organiser=organiser, issuer=issuer,
                    milestones=list(await project.milestones.all().order_by("position")))
