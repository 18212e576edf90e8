"""Forming review panels (评审专家组) with one set of rules for the members, the chair and the
deputy, whatever the panel reviews (`PanelPurpose`):

- the bids of a challenge, once its bid window has closed (`create_panel` without a stage);
- the deliverables of one horse-race stage, by the teams still in the race, once the stage's
  deadline has passed and the previous stage's gate has been decided (`create_panel` with a stage);
- a project in delivery, for its mid-term review or its acceptance (`form_panel`, called by the
  delivery area with the project's bid);
- a catalogue candidate's technical evaluation (`form_panel`, called by the promotion area): a
  project's with its bid; an offer's with no challenge and no bid, but its holder, its own rubric
  and aggregation rule (see `Panel`).

Each bid of a panel gets a blind code (申报 A, B, …) in a random order.
"""

import secrets
from datetime import datetime
from decimal import Decimal

from tortoise.transactions import in_transaction

from challenge.accounts.models import Organisation, User
from challenge.audit.services import record
from challenge.bids.models import Bid, BidStatus
from challenge.challenges.models import Aggregation, Challenge, ChallengeStatus, RubricCriterion, Stage
from challenge.challenges.services import set_challenge_status
from challenge.errors import DomainError, InvalidTransition
from challenge.reviews import blind, chairing
from challenge.reviews.models import (
    SINGLE_BID_PURPOSES,
    RESULT_PURPOSES,
    Panel,
    PanelBid,
    PanelMember,
    PanelPurpose,
    StageResult,
)
from challenge.web.i18n import gettext as _
from challenge.web.timefmt import format_datetime, now_utc

# Bids a first-round panel reviews (they passed the formal check), and the teams still in a
# horse race at a stage gate (all that passed the formal check race the first stage).
REVIEWABLE_BID_STATES = [BidStatus.IN_REVIEW]
RACE_BID_STATES = [BidStatus.ADVANCED, BidStatus.IN_REVIEW]
# Challenge states in which a panel may be formed.
PANEL_CHALLENGE_STATES = {ChallengeStatus.CLOSED, ChallengeStatus.REVIEWING}
STAGE_PANEL_CHALLENGE_STATES = {ChallengeStatus.CLOSED, ChallengeStatus.REVIEWING, ChallengeStatus.NOTICE,
                                ChallengeStatus.ANNOUNCED, ChallengeStatus.DELIVERING}
PROJECT_PANEL_CHALLENGE_STATES = {ChallengeStatus.DELIVERING}


def can_form_panel(challenge: Challenge, stage: Stage | None = None, now: datetime | None = None) -> bool:
    """After the bid window (a published challenge whose window passed counts as closed); for a
    stage, after the stage's deadline."""
    now = now or now_utc()
    if stage is not None:
        return challenge.shown_status(now) in STAGE_PANEL_CHALLENGE_STATES and stage.due_at <= now
    return challenge.shown_status(now) in PANEL_CHALLENGE_STATES


def panel_bid_states(stage: Stage | None) -> list[BidStatus]:
    return RACE_BID_STATES if stage is not None else REVIEWABLE_BID_STATES


async def previous_stage(stage: Stage) -> Stage | None:
    return await Stage.filter(challenge_id=stage.challenge_id, position__lt=stage.position) \
        .order_by("-position", "-id").first()


async def is_last_stage(stage: Stage) -> bool:
    """The final stage: its gate decides the winners."""
    return not await Stage.filter(challenge_id=stage.challenge_id, position__gt=stage.position).exists()


async def _check_stage(challenge: Challenge, stage: Stage, now: datetime) -> None:
    if stage.challenge_id != challenge.id:
        raise DomainError(_("所选阶段不属于该榜单"), field="stage")
    if stage.due_at > now:
        raise InvalidTransition(_("“%(stage)s”阶段交付物的截止时间为 %(due)s，截止后方可组建阶段评审专家组",
                                  stage=stage.name, due=format_datetime(stage.due_at)), field="stage")
    before = await previous_stage(stage)
    if before is not None and not await StageResult.filter(stage_id=before.id).exists():
        raise InvalidTransition(_("上一阶段“%(stage)s”的晋级结果尚未公告，暂不能组建本阶段评审专家组",
                                  stage=before.name), field="stage")


async def create_panel(*, challenge: Challenge, stage: Stage | None, name: str, member_ids: list[int],
                       chair_id: int | None, due_at, dispersion_threshold: Decimal, actor: User,
                       deputy_id: int | None = None, now: datetime | None = None) -> Panel:
    """The panel of a challenge's bid review, or of one horse-race stage (see the module's rules).

    Side effects, in one transaction: the panel with its members and its bids (coded), the audit
    entry `panel.create`, and the challenge moving (closed →) reviewing through the challenges
    area's status function."""
    now = now or now_utc()
    if stage is None and not can_form_panel(challenge, None, now) or \
            stage is not None and challenge.shown_status(now) not in STAGE_PANEL_CHALLENGE_STATES:
        raise InvalidTransition(_("榜单当前状态为“%(status)s”，不能组建评审专家组（申报截止后方可评审）",
                                  status=challenge.shown_status(now).label))
    if stage is not None:
        await _check_stage(challenge, stage, now)
    if await Panel.filter(challenge=challenge, stage=stage, purpose__in=list(RESULT_PURPOSES)).exists():
        raise DomainError(_("该榜单（阶段）已有评审专家组"), field="stage" if stage else "name")
    bids = await Bid.filter(challenge=challenge, status__in=panel_bid_states(stage)).order_by("id")
    async with in_transaction():
        panel = await form_panel(
            challenge=challenge, purpose=PanelPurpose.STAGE if stage else PanelPurpose.BID, stage=stage,
            bids=list(bids), name=name, member_ids=member_ids, chair_id=chair_id, deputy_id=deputy_id,
            due_at=due_at, dispersion_threshold=dispersion_threshold, actor=actor)
        await _open_review(challenge=challenge, actor=actor)
    return panel


async def form_panel(*, challenge: Challenge | None, purpose: PanelPurpose, stage: Stage | None, bids: list[Bid],
                     name: str, member_ids: list[int], chair_id: int | None, deputy_id: int | None, due_at,
                     dispersion_threshold: Decimal, actor: User, blind_review: bool | None = None,
                     holder: Organisation | None = None, rubric: list[dict] | None = None,
                     aggregation: Aggregation | None = None) -> Panel:
    """A panel of the given members (active experts), chair and deputy, reviewing `bids`: the
    members' rules and the chair's cover (a chair conflicted with a bid needs a deputy who is not)
    are checked first. Audit entry `panel.create`. `blind_review` None: as the challenge.

    `rubric` ([{"name", "weight", "max_score", "guidance"}], weights summing to 100): the panel's
    own, instead of the challenge's; `aggregation`: its rule, instead of the challenge's. Without a
    challenge, both are needed and the panel reviews one thing `holder` holds (one entry, no bid)."""
    if challenge is None and (holder is None or bids or not rubric or aggregation is None):
        raise ValueError("a panel outside any challenge needs a holder, a rubric and an aggregation rule, no bids")
    experts = await User.filter(id__in=member_ids, is_expert=True, is_active=True)
    if not experts:
        raise DomainError(_("请至少选择一名专家"), field="members")
    if len(experts) != len(set(member_ids)):
        raise DomainError(_("所选专家无效"), field="members")
    if chair_id not in {e.id for e in experts}:
        raise DomainError(_("请从专家组成员中指定组长"), field="chair")
    if deputy_id is not None and deputy_id not in {e.id for e in experts}:
        raise DomainError(_("请从专家组成员中指定副组长"), field="deputy")
    forming = Panel(challenge=challenge, holder=holder)
    await chairing.check_cover(panel=forming, bid_ids=[b.id for b in bids] if challenge else [None],
                               chair_id=chair_id, deputy_id=deputy_id, names={e.id: e.name for e in experts})
    async with in_transaction():
        panel = await Panel.create(challenge=challenge, holder=holder, stage=stage, purpose=purpose,
                                   blind=blind_review, aggregation=aggregation, name=name, due_at=due_at,
                                   dispersion_threshold=dispersion_threshold, created_by=actor)
        for expert in experts:
            await PanelMember.create(panel=panel, expert=expert, is_chair=expert.id == chair_id,
                                     is_deputy=expert.id == deputy_id)
        order = list(range(len(bids)))
        secrets.SystemRandom().shuffle(order)
        await PanelBid.bulk_create([
            PanelBid(panel=panel, bid=bid, code=blind.code_for(position), position=position)
            for position, bid in sorted(zip(order, bids), key=lambda pair: pair[0])
        ])
        if challenge is None:
            await PanelBid.create(panel=panel, bid=None, code=blind.code_for(0), position=0)
        if rubric:
            await RubricCriterion.bulk_create([
                RubricCriterion(panel=panel, position=position, name=row["name"], weight=row["weight"],
                                max_score=row["max_score"], guidance=row.get("guidance", ""))
                for position, row in enumerate(rubric)])
        await record(actor=actor, action="panel.create", obj=panel,
                     after={"challenge_id": challenge.id if challenge else None,
                            "holder_id": holder.id if holder else None, "stage_id": stage.id if stage else None,
                            "purpose": purpose.value, "members": sorted(e.id for e in experts), "chair": chair_id,
                            "deputy": deputy_id, "bids": len(bids), "blind": blind_review,
                            **({"rubric": rubric} if rubric else {}),
                            **({"aggregation": aggregation} if aggregation else {})})
    return panel


async def _open_review(*, challenge: Challenge, actor: User) -> None:
    """The review starts with its panel (a horse race's with its first stage panel): the challenge
    moves (closed →) reviewing, through the challenges area's one status function (audited there)."""
    if challenge.status == ChallengeStatus.PUBLISHED:
        challenge = await set_challenge_status(challenge=challenge, status=ChallengeStatus.CLOSED, actor=actor)
    if challenge.status == ChallengeStatus.CLOSED:
        await set_challenge_status(challenge=challenge, status=ChallengeStatus.REVIEWING, actor=actor)


async def sync_panel_bids(*, panel: Panel) -> int:
    """Add the challenge's bids that became reviewable since the panel was formed (new codes follow).
    A project's panel reviews that project only, a catalogue candidate's panel that candidate."""
    if panel.purpose in SINGLE_BID_PURPOSES:
        return 0
    stage = await Stage.get_or_none(id=panel.stage_id) if panel.stage_id else None
    present = set(await PanelBid.filter(panel=panel).values_list("bid_id", flat=True))
    missing = [b for b in await Bid.filter(challenge_id=panel.challenge_id, status__in=panel_bid_states(stage))
               .order_by("id").values_list("id", flat=True) if b not in present]
    if not missing:
        return 0
    start = await PanelBid.filter(panel=panel).count()
    await PanelBid.bulk_create([
        PanelBid(panel=panel, bid_id=bid_id, code=blind.code_for(start + offset), position=start + offset)
        for offset, bid_id in enumerate(missing)
    ])
    return len(missing)


def recommend_limit(challenge: Challenge, stage: Stage | None, purpose: PanelPurpose = PanelPurpose.BID) -> int:
    """How many bids the panel may recommend: the winners, the teams going on at a stage, none for
    a project's review or a catalogue candidate's evaluation (its result is the organiser's, see the
    delivery and promotion areas)."""
    if purpose in SINGLE_BID_PURPOSES:
        return 0
    return stage.advance_count if stage is not None else challenge.winners_count
