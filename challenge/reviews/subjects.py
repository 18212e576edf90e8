"""What an expert reviews, by the panel's purpose: a bid (its latest submitted version), or what
an area above registers in `LOADERS` (the delivery area: a stage's deliverables, a project's
reports). The expert's page shows the subject with its template and serves its files by number.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from challenge.bids.models import Bid
from challenge.challenges.models import Challenge
from challenge.reviews import queries
from challenge.reviews.models import Panel, PanelPurpose


@dataclass
class Subject:
    template: str  # the partial that shows `subject.view`
    label: str  # 申报 A
    title: str  # shown after the label when the review is not blind
    blind: bool
    view: object
    files: list[queries.FileView] = field(default_factory=list)  # numbered for the download route


# (panel, challenge, bid, code, is_blind) -> Subject
Loader = Callable[..., Awaitable[Subject]]


async def bid_subject(*, panel: Panel, challenge: Challenge, bid: Bid, code: str, is_blind: bool) -> Subject:
    view = await queries.bid_view(bid=bid, code=code, is_blind=is_blind)
    return Subject(template="reviews/_subject_bid.html", label=view.label, title=view.title, blind=is_blind,
                   view=view, files=view.files)


LOADERS: dict[PanelPurpose, Loader] = {PanelPurpose.BID: bid_subject}


async def subject_for(panel: Panel, bid: Bid, code: str) -> Subject:
    """What the expert of `panel` reviews of `bid` (the panel's challenge loaded)."""
    challenge = panel.challenge
    return await LOADERS[panel.purpose](panel=panel, challenge=challenge, bid=bid, code=code,
                                        is_blind=panel.is_blind(challenge))
