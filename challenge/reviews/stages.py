"""Horse-race stage gates (阶段晋级): the organiser's decision on a concluded stage panel, applied
when its notice is announced (the results area calls `apply_stage_gate`)."""

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from challenge.accounts.models import User
from challenge.audit.services import record
from challenge.bids.models import Bid, BidStatus
from challenge.bids.services import set_bid_status
from challenge.challenges.models import Challenge, Stage
from challenge.errors import DomainError, InvalidTransition
from challenge.reviews.models import Panel, PanelStatus, StageOutcome, StageResult
from challenge.reviews.panels import is_last_stage
from challenge.reviews.services import outstanding_count, ranking
from challenge.web.i18n import gettext as _
from challenge.web.timefmt import now_utc


async def apply_stage_gate(*, panel: Panel, actor: User, advancing: set[int],
                           reasons: dict[int, str]) -> list[StageResult]:
    """Close a horse-race stage with the organiser's decision (made in the results area): the teams
    in `advancing` go on, the others are eliminated, never a silent top N of the ranking. At the
    last stage's gate the teams that go through are the race's winners.

    `reasons` holds the organiser's written reason for each team whose outcome departs from the
    ranking or the panel's recommendation. Rank and score come from the panel's ranking. Bid
    statuses change through the bids area's status writer (ADVANCED, WINNER after the last stage,
    or NOT_SELECTED), which audits the change and tells each team (every user of the lead
    organisation, inbox and mail, in the recipient's language) its result and the reason.
    """
    if panel.stage_id is None:
        raise InvalidTransition(_("只有赛马阶段评审需要晋级决定"))
    if await StageResult.filter(panel=panel).exists():
        raise InvalidTransition(_("本阶段结果已公布"))
    if await outstanding_count(panel):
        raise InvalidTransition(_("仍有专家未提交评分"))
    if panel.status != PanelStatus.CONCLUDED:
        raise InvalidTransition(_("请先由组长形成专家组意见"))
    challenge = await Challenge.get(id=panel.challenge_id)
    stage = await Stage.get(id=panel.stage_id)
    ranked = await ranking(panel=panel, aggregation_rule=challenge.aggregation)
    if not advancing <= {row.bid_id for row in ranked}:
        raise DomainError(_("晋级的团队不在本阶段评审范围内"))
    try:
        results = await _record_stage_results(panel, stage, ranked, actor, advancing, reasons,
                                              final=await is_last_stage(stage))
    except IntegrityError:
        raise InvalidTransition(_("本阶段结果已公布")) from None
    return results


def _outcome_text(stage: Stage, rank: int, advanced: bool, final: bool) -> str:
    if advanced and final:
        return _("“%(stage)s”阶段评审第 %(rank)s 名，在赛马中最终胜出，请按要求组织实施。", stage=stage.name, rank=rank)
    if advanced:
        return _("“%(stage)s”阶段评审第 %(rank)s 名，晋级下一阶段，请按要求继续攻关。", stage=stage.name, rank=rank)
    return _("“%(stage)s”阶段评审第 %(rank)s 名，未能晋级。感谢参与。", stage=stage.name, rank=rank)


async def _record_stage_results(panel, stage, ranked, actor, advancing, reasons, *, final: bool
                                ) -> list[StageResult]:
    bids = {b.id: b for b in await Bid.filter(id__in=[r.bid_id for r in ranked])}
    results = []
    chosen = BidStatus.WINNER if final else BidStatus.ADVANCED
    async with in_transaction():
        for row in ranked:
            bid = bids[row.bid_id]
            advanced = row.bid_id in advancing
            outcome = StageOutcome.ADVANCED if advanced else StageOutcome.ELIMINATED
            results.append(await StageResult.create(
                panel=panel, stage=stage, bid=bid, rank=row.rank, score=row.score_display, outcome=outcome,
                decided_by=actor, decided_at=now_utc(),
            ))
            note = reasons.get(row.bid_id, "")

            def body(rank=row.rank, advanced=advanced, note=note) -> str:
                return _outcome_text(stage, rank, advanced, final) + (
                    "\n" + _("说明：%(reason)s", reason=note) if note else "")

            status = chosen if advanced else BidStatus.NOT_SELECTED
            await set_bid_status(bid=bid, status=status, actor=actor, reason=body(), body=body,
                                 action=f"stage_{status.value}")
        await record(actor=actor, action="stage.gate", obj=stage,
                     after={"advanced": [r.bid_id for r in results if r.outcome == StageOutcome.ADVANCED],
                            "eliminated": [r.bid_id for r in results if r.outcome == StageOutcome.ELIMINATED],
                            "final": final, "reasons": {str(k): v for k, v in reasons.items()}})
    return results
