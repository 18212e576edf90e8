"""What an expert of a technical evaluation panel reviews (registered with `reviews.subjects`): the
candidate's catalogue fields, with its project's acceptance (achieved values) behind them, or the
technology offer it came from (a panel outside any challenge: no bid, never blind)."""

from dataclasses import dataclass

from challenge.bids.models import Bid
from challenge.challenges.models import Challenge
from challenge.promotion.models import Candidate, CatalogueRound
from challenge.reviews import blind as blinding
from challenge.reviews import queries, subjects
from challenge.reviews.models import Panel, PanelPurpose


@dataclass
class CandidateView:
    candidate: Candidate
    round: CatalogueRound


def _cleaner(names, is_blind: bool):
    return (lambda text: names.mask(text or "")) if is_blind else (lambda text: text or "")


async def candidate_subject(*, panel: Panel, challenge: Challenge, bid: Bid, code: str, is_blind: bool
                            ) -> subjects.Subject:
    candidate = await Candidate.get(panel_id=panel.id).select_related("domain", "round", "organisation")
    clean = _cleaner(await queries.party_names(bid) if is_blind else None, is_blind)
    for field in ("name", "scope", "core_process", "benefits"):
        setattr(candidate, field, clean(getattr(candidate, field)))
    return subjects.Subject(template="promotion/_subject_candidate.html", label=blinding.label(code),
                            title=candidate.name, blind=is_blind,
                            view=CandidateView(candidate=candidate, round=candidate.round))


subjects.LOADERS[PanelPurpose.EVALUATION] = candidate_subject
