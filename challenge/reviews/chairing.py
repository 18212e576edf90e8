"""Who chairs what: HotCRP's rule for a conflicted chair.

A conflicted person, chair included, sees nothing of a conflicted bid (its scores, opinions,
its row in the ranking, its attachments) and cannot act on it. The deputy chair (副组长) acts
on the bids the chair is conflicted with; the organiser may too. The panel's opinion (which
ranks every bid against the others) is recorded by the chair when he is free of conflict with
every bid of the panel, else by the deputy when he is, else by the organiser.

Conflicts always come from the facts (`reviews.conflicts`), computed when asked, so a conflict
that appears during the review takes effect at once.
"""

from dataclasses import dataclass, field

from challenge.errors import DomainError
from challenge.reviews.conflicts import conflicts_for_panel
from challenge.reviews.models import PanelBid, PanelMember
from challenge.web.i18n import gettext as _


@dataclass(frozen=True)
class Chairing:
    """The chair and the deputy of a panel, and the panel's bids each is conflicted with."""

    chair_id: int | None
    deputy_id: int | None
    bid_ids: frozenset[int | None]  # None: the one entry of a panel outside any challenge
    conflicted: dict[int, frozenset[int | None]] = field(default_factory=dict)  # user id -> bid ids

    def hidden_from(self, user_id: int | None) -> frozenset[int]:
        """The bids this person may not see (empty for an organiser, who is no panel member)."""
        return self.conflicted.get(user_id, frozenset())

    def leads(self, user) -> bool:
        """May open the chair's page: the chair and the deputy."""
        return user is not None and user.id in {self.chair_id, self.deputy_id} - {None}

    def may_act_on(self, user, bid_id: int, *, organiser: bool = False) -> bool:
        """May reopen a review of this bid: the chair unless conflicted with it; for a bid the
        chair is conflicted with, the deputy (unless conflicted too) or the organiser."""
        if user is None:
            return False
        chair_free = bid_id not in self.hidden_from(self.chair_id)
        if organiser:
            return not chair_free
        if bid_id in self.hidden_from(user.id):
            return False
        if user.id == self.chair_id:
            return chair_free
        return user.id == self.deputy_id and not chair_free

    @property
    def opinion_by(self) -> int | None:
        """Who records the panel's opinion: the chair or the deputy, whoever is free of conflict
        with every bid (chair first); None: the organiser records it."""
        for user_id in (self.chair_id, self.deputy_id):
            if user_id is not None and not self.hidden_from(user_id):
                return user_id
        return None

    def may_record_opinion(self, user, *, organiser: bool = False) -> bool:
        if user is None:
            return False
        if organiser:
            return self.opinion_by is None
        return user.id == self.opinion_by


async def chairing_of(panel) -> Chairing:
    """The panel's chair and deputy and their conflicts with its bids, in a fixed number of queries."""
    members = await PanelMember.filter(panel_id=panel.id).filter(is_chair=True).values_list("expert_id", flat=True)
    deputies = await PanelMember.filter(panel_id=panel.id, is_deputy=True).values_list("expert_id", flat=True)
    chair_id = members[0] if members else None
    deputy_id = deputies[0] if deputies else None
    bid_ids = frozenset(await PanelBid.filter(panel_id=panel.id).values_list("bid_id", flat=True))
    leaders = [i for i in (chair_id, deputy_id) if i is not None]
    return Chairing(chair_id=chair_id, deputy_id=deputy_id, bid_ids=bid_ids,
                    conflicted=await _conflicts(panel, leaders, list(bid_ids)))


async def _conflicts(panel, user_ids: list[int], bid_ids: list[int | None]) -> dict[int, frozenset[int | None]]:
    if not user_ids or not bid_ids:
        return {}
    pairs = await conflicts_for_panel(panel, expert_ids=user_ids, bid_ids=bid_ids)
    found: dict[int, set[int]] = {}
    for expert_id, bid_id in pairs:
        found.setdefault(expert_id, set()).add(bid_id)
    return {user_id: frozenset(bids) for user_id, bids in found.items()}


async def check_cover(*, panel, bid_ids: list[int | None], chair_id: int | None, deputy_id: int | None,
                      names: dict[int, str]) -> None:
    """Refuse a chair conflicted with a bid of the panel unless a deputy free of conflict with
    those bids is named (the panel form's rule). `panel` may be the unsaved panel being formed."""
    if deputy_id is not None and deputy_id == chair_id:
        raise DomainError(_("副组长不能由组长兼任"), field="deputy")
    conflicts = await _conflicts(panel, [i for i in (chair_id, deputy_id) if i is not None], bid_ids)
    chair_conflicts = conflicts.get(chair_id, frozenset())
    if not chair_conflicts:
        return
    if deputy_id is None:
        raise DomainError(_("组长 %(name)s 与本组 %(n)s 份申报存在利益冲突，不能查看或处理这些申报：请指定一位与这些申报无利益冲突的副组长",
                            name=names.get(chair_id, ""), n=len(chair_conflicts)), field="deputy")
    if chair_conflicts & conflicts.get(deputy_id, frozenset()):
        raise DomainError(_("副组长 %(name)s 也与组长回避的申报存在利益冲突，请另选副组长",
                            name=names.get(deputy_id, "")), field="deputy")
