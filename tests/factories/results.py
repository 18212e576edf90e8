"""Builders for the results area: a concluded review ready for a decision."""

from dataclasses import dataclass
from datetime import timedelta

from challenge.accounts.models import Role, User
from challenge.bids.models import Bid, BidStatus
from challenge.challenges.models import Challenge, ChallengeStatus, Mechanism, Stage
from challenge.results import services
from challenge.results.models import Notice
from challenge.reviews import services as reviews
from challenge.reviews.models import Panel, PanelStatus
from challenge.web.timefmt import now_utc
from factories import make_organiser, make_user
from factories.reviews import assign, make_expert, make_panel, make_review_bid, make_review_challenge, submit


@dataclass
class Review:
    challenge: Challenge
    panel: Panel
    bids: list[Bid]  # in the order of `scores`
    organiser: User
    chair: User
    bidders: list[User]  # one user of each bid's lead organisation


async def concluded_review(*, scores: list[int], recommended: list[int], winners_count: int = 1,
                           stage_advance: int | None = None, challenge: Challenge | None = None,
                           bidder_locales: list[str] | None = None) -> Review:
    """A panel whose chair has concluded: one expert's score per bid (single criterion of 100),
    `recommended` by index. With `stage_advance`, the panel of a horse race's first stage (teams in
    the race), followed by a second, final stage."""
    organiser = await make_organiser()
    stage = None
    if stage_advance is not None:
        challenge = challenge or await make_review_challenge(mechanism=Mechanism.HORSE_RACE, criteria=(100,),
                                                             status=ChallengeStatus.DELIVERING)
        stage = await Stage.create(challenge=challenge, position=0, name="小试验证", due_at=now_utc(),
                                   advance_count=stage_advance)
        # A later stage: this one's gate lets teams go on (the last stage's gate names the winners).
        await Stage.create(challenge=challenge, position=1, name="工程示范", due_at=now_utc() + timedelta(days=300),
                           advance_count=1)
    challenge = challenge or await make_review_challenge(winners_count=winners_count, criteria=(100,))
    status = BidStatus.ADVANCED if stage is not None else BidStatus.IN_REVIEW
    bids = [await make_review_bid(challenge, status=status, title=f"攻关方案{i + 1}") for i in range(len(scores))]
    locales = bidder_locales or ["zh_CN"] * len(bids)
    bidders = [await make_user(Role.BIDDER, organisation=await bid.lead_org, locale=locale) for bid, locale in zip(bids, locales)]
    chair = await make_expert()
    panel = await make_panel(challenge=challenge, experts=[chair], chair=chair, stage=stage, organiser=organiser)
    panel.status = PanelStatus.REVIEWING
    await panel.save()
    for bid, score in zip(bids, scores):
        await submit(await assign(panel, bid, chair), [score])
    await reviews.record_opinion(panel=panel, actor=chair, text="专家组意见",
                                 recommended_ids=[bids[i].id for i in recommended])
    await panel.refresh_from_db()
    return Review(challenge=challenge, panel=panel, bids=bids, organiser=organiser, chair=chair, bidders=bidders)


async def open_notice(review: Review, *, working_days: int = 5) -> Notice:
    """The panel's recommendation decided and published as a notice starting on the next working day."""
    selected = services.default_selection(await services.decision_basis(review.panel))
    decision = await services.record_decision(panel=review.panel, actor=review.organiser, reasons={},
                                              selected=selected)
    return await services.publish_notice(decision=decision, actor=review.organiser, working_days=working_days,
                                         starts_on=services.default_start(now_utc()))
