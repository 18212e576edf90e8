"""The assignment proposal: a pure function over plain data.

`propose()` gives each bid k experts of the panel, never a conflicted one, keeping the experts'
loads within one of each other where the conflicts allow it, preferring experts whose domains
match the bid's, then those whose keywords resemble the bid's text. Existing assignments are
kept and count towards k and towards the loads.

Keyword similarity works on Chinese text: both sides are cut into character bigrams (and
lower-cased Latin words), and compared with the Jaccard index of the two sets.
"""

import re
from collections import deque
from dataclasses import dataclass, field

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_LATIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+-]*")


def tokens(text: str) -> frozenset[str]:
    """Character bigrams of each run of Chinese characters (a lone character is kept) and Latin words."""
    result = set()
    for run in _CJK.findall(text or ""):
        if len(run) == 1:
            result.add(run)
        result.update(run[i:i + 2] for i in range(len(run) - 1))
    result.update(word.lower() for word in _LATIN.findall(text or "") if len(word) > 1)
    return frozenset(result)


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


@dataclass(frozen=True)
class BidInput:
    id: int
    domain_ids: frozenset[int] = frozenset()
    text: str = ""


@dataclass(frozen=True)
class ExpertInput:
    id: int
    domain_ids: frozenset[int] = frozenset()
    keywords: str = ""


@dataclass
class Proposal:
    # bid id -> expert ids newly proposed (existing assignments not repeated)
    added: dict[int, list[int]] = field(default_factory=dict)
    # bid id -> how many experts it still lacks (not enough unconflicted experts)
    short: dict[int, int] = field(default_factory=dict)
    # expert id -> final load (existing + added)
    loads: dict[int, int] = field(default_factory=dict)


def propose(*, bids: list[BidInput], experts: list[ExpertInput], k: int,
            conflicts: set[tuple[int, int]], existing: dict[int, set[int]] | None = None) -> Proposal:
    """Propose assignments. `conflicts` holds (expert id, bid id) pairs; `existing` bid id -> expert ids."""
    existing = {bid_id: set(ids) for bid_id, ids in (existing or {}).items()}
    expert_ids = [e.id for e in experts]
    loads = {e: 0 for e in expert_ids}
    for ids in existing.values():
        for expert_id in ids:
            if expert_id in loads:
                loads[expert_id] += 1
    keyword_tokens = {e.id: tokens(e.keywords) for e in experts}
    by_id = {e.id: e for e in experts}

    def eligible(bid: BidInput) -> list[int]:
        taken = existing.get(bid.id, set())
        return [e for e in expert_ids if (e, bid.id) not in conflicts and e not in taken]

    # The most constrained bids choose first.
    order = sorted(bids, key=lambda b: (len(eligible(b)), b.id))
    chosen: dict[int, list[int]] = {b.id: [] for b in bids}
    preference: dict[tuple[int, int], tuple] = {}
    for bid in bids:
        bid_tokens = tokens(bid.text)
        for expert_id in expert_ids:
            expert = by_id[expert_id]
            preference[(expert_id, bid.id)] = (
                -len(expert.domain_ids & bid.domain_ids),
                -similarity(keyword_tokens[expert_id], bid_tokens),
                expert_id,
            )
    proposal = Proposal()
    for bid in order:
        need = max(0, k - len(existing.get(bid.id, set())))
        candidates = eligible(bid)
        # Least loaded first; among equals, the better match.
        candidates.sort(key=lambda e: (loads[e], *preference[(e, bid.id)]))
        picked = candidates[:need]
        for expert_id in picked:
            loads[expert_id] += 1
        chosen[bid.id] = picked
        if len(picked) < need:
            proposal.short[bid.id] = need - len(picked)
    _rebalance(chosen, loads, existing, conflicts, preference)
    proposal.added = {bid_id: sorted(ids, key=lambda e: preference[(e, bid_id)]) for bid_id, ids in chosen.items()}
    proposal.loads = loads
    return proposal


def _rebalance(chosen, loads, existing, conflicts, preference) -> None:
    """Move proposed assignments along transfer chains until no chain lowers the highest load.

    A chain moves a bid from a heavily loaded expert to another expert who may take it, who in
    turn hands one of his bids on, until an expert at least two below the first takes one.
    """
    def may_take(expert_id, bid_id):
        return ((expert_id, bid_id) not in conflicts and expert_id not in chosen[bid_id]
                and expert_id not in existing.get(bid_id, set()))

    while True:
        moved = False
        lowest = min(loads.values(), default=0)
        for source in sorted(loads, key=lambda e: (-loads[e], e)):
            if loads[source] < lowest + 2:
                break
            path = _find_chain(source, chosen, loads, may_take)
            if path:
                for bid_id, giver, taker in path:
                    chosen[bid_id].remove(giver)
                    chosen[bid_id].append(taker)
                loads[source] -= 1
                loads[path[-1][2]] += 1
                moved = True
                break
        if not moved:
            return


def _find_chain(source, chosen, loads, may_take):
    """Breadth-first search for a transfer chain from `source` to an expert two or more below it."""
    held = {}
    for bid_id, ids in chosen.items():
        for expert_id in ids:
            held.setdefault(expert_id, []).append(bid_id)
    takers = sorted(loads, key=lambda e: (loads[e], e))
    parent = {source: None}
    queue = deque([source])
    while queue:
        giver = queue.popleft()
        for bid_id in sorted(held.get(giver, [])):
            for taker in takers:
                if taker in parent or not may_take(taker, bid_id):
                    continue
                parent[taker] = (giver, bid_id)
                if loads[taker] <= loads[source] - 2:
                    path = []
                    node = taker
                    while parent[node] is not None:
                        previous, via = parent[node]
                        path.append((via, previous, node))
                        node = previous
                    return list(reversed(path))
                queue.append(taker)
    return None
