"""Builders for the review area: experts, panels, assignments and scores."""

from decimal import Decimal

from challenge.accounts.models import Organisation, Role, User
from challenge.bids.models import Bid, BidStatus
from challenge.challenges.models import Challenge, ChallengeStatus, RubricCriterion
from challenge.reviews import services
from challenge.reviews.models import Assignment, AssignmentStatus, ExpertProfile, Panel
from challenge.web.timefmt import now_utc
from factories import make_bid, make_challenge, make_organiser, make_user


async def make_expert(*, organisation: Organisation | None = None, keywords: str = "", domains=(),
                      **overrides) -> User:
    user = await make_user(Role.EXPERT, organisation=organisation, **overrides)
    profile = await ExpertProfile.create(user=user, organisation=user.organisation, keywords=keywords,
                                         title="教授")
    if domains:
        await profile.domains.add(*domains)
    return user


async def make_review_challenge(**overrides) -> Challenge:
    values = {"status": ChallengeStatus.REVIEWING, "closes_at": now_utc()}
    values.update(overrides)
    return await make_challenge(**values)


async def make_review_bid(challenge: Challenge, **overrides) -> Bid:
    values = {"status": BidStatus.IN_REVIEW}
    values.update(overrides)
    return await make_bid(challenge=challenge, **values)


async def make_panel(*, challenge: Challenge, experts: list[User], chair: User | None = None, stage=None,
                     organiser: User | None = None, **overrides) -> Panel:
    organiser = organiser or await make_organiser()
    values = {"name": "评审专家组", "due_at": None, "dispersion_threshold": Decimal("15")}
    values.update(overrides)
    return await services.create_panel(
        challenge=challenge, stage=stage, member_ids=[e.id for e in experts],
        chair_id=(chair or experts[0]).id, actor=organiser, **values,
    )


async def assign(panel: Panel, bid: Bid, expert: User,
                 status: AssignmentStatus = AssignmentStatus.ASSIGNED) -> Assignment:
    return await Assignment.create(panel=panel, bid=bid, expert=expert, status=status)


async def submit(assignment: Assignment, values: list, *, opinion: str = "同意") -> Assignment:
    """Submit scores for the challenge's criteria in order (values as numbers)."""
    await assignment.fetch_related("panel")
    criteria = await RubricCriterion.filter(challenge_id=assignment.panel.challenge_id).order_by("position", "id")
    expert = await User.get(id=assignment.expert_id)
    return await services.save_scores(
        assignment=assignment, criteria=list(criteria),
        values={c.id: Decimal(str(v)) for c, v in zip(criteria, values)},
        comments={}, opinion=opinion, submit=True, actor=expert,
    )
