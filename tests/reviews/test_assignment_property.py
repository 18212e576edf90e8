"""Property-based tests of the conflict rule and the assignment proposal, over random consortia,
experts and declarations (pure functions: no database)."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
import pytest

from challenge.reviews.assignment import BidInput, ExpertInput, propose, similarity, tokens
from challenge.reviews.conflicts import (
    BidFacts, ExpertFacts, OrgRef, PersonRef, _reasons_with_ties, _ties, conflict_reasons,
)

pytestmark = pytest.mark.db_independent

ORG_NAMES = ["清华大学", "浙江大学", "宝武低碳冶金科技有限公司", "华能清洁能源集团有限公司", "中科院过程所", "某某科技"]
ORG_CODES = ["91110000100001234X", "12330000470003281Y", "", ""]
PEOPLE = ["张伟", "王芳", "李娜", "刘洋", "陈静"]
EMAILS = ["a@x.cn", "b@x.cn", "c@x.cn", "d@x.cn", ""]

org_index = st.integers(min_value=0, max_value=len(ORG_NAMES) - 1)


@st.composite
def org_ref(draw, registered=None):
    i = draw(org_index)
    is_registered = draw(st.booleans()) if registered is None else registered
    code = ORG_CODES[i % len(ORG_CODES)] if draw(st.booleans()) else ""
    # Registered organisations have id i; unregistered ones only a name (and maybe a code).
    return OrgRef(i if is_registered else None, ORG_NAMES[i], code)


@st.composite
def world(draw):
    n_experts = draw(st.integers(min_value=1, max_value=7))
    n_bids = draw(st.integers(min_value=1, max_value=6))
    experts = []
    for e in range(n_experts):
        user_id = 1000 + e
        organisations = draw(st.lists(org_ref(), max_size=2))
        experts.append(ExpertFacts(
            user_id=user_id, email=f"expert{e}@x.cn" if draw(st.booleans()) else draw(st.sampled_from(EMAILS)) or
            f"expert{e}@x.cn",
            organisations=organisations,
            declared_orgs=draw(st.lists(org_ref(), max_size=2)),
            declared_people=[PersonRef(name=draw(st.sampled_from(PEOPLE)), email=draw(st.sampled_from(EMAILS)))
                             for _ in range(draw(st.integers(min_value=0, max_value=2)))],
        ))
    bids = []
    for b in range(n_bids):
        members = []
        for _ in range(draw(st.integers(min_value=0, max_value=3))):
            linked = draw(st.none() | st.sampled_from(experts))
            members.append(PersonRef(
                name=draw(st.sampled_from(PEOPLE)),
                email=linked.email if linked and draw(st.booleans()) else draw(st.sampled_from(EMAILS)),
                user_id=linked.user_id if linked and draw(st.booleans()) else None,
                org_name=draw(st.sampled_from(ORG_NAMES + [""])),
            ))
        bids.append(BidFacts(
            bid_id=b + 1, challenge_id=1, lead=draw(org_ref(registered=True)),
            partners=draw(st.lists(org_ref(), max_size=3)), members=members,
            created_by_id=draw(st.none() | st.sampled_from([e.user_id for e in experts])),
        ))
    k = draw(st.integers(min_value=1, max_value=4))
    return experts, bids, k


def _org_tie(a: OrgRef | None, b: OrgRef) -> bool:
    """The oracle's own reading of "same organisation": registered id, credit code or name."""
    if a is None:
        return False
    return ((a.id is not None and a.id == b.id) or (bool(a.credit_code) and a.credit_code == b.credit_code)
            or (bool(a.name) and a.name == b.name))


def _tied_to(expert: ExpertFacts, bid: BidFacts, *, declarations: bool) -> bool:
    orgs = [bid.lead, *bid.partners]
    if any(_org_tie(own, org) for own in expert.organisations for org in orgs):
        return True
    if any(own.name and own.name in {m.org_name for m in bid.members} for own in expert.organisations):
        return True
    if expert.user_id == bid.created_by_id:
        return True
    if any(m.user_id == expert.user_id or (m.email and m.email == expert.email) for m in bid.members):
        return True
    if declarations:
        if any(_org_tie(d, org) for d in expert.declared_orgs for org in orgs):
            return True
        for person in expert.declared_people:
            for m in bid.members:
                if (person.name and person.name == m.name) or (person.email and person.email == m.email):
                    return True
    return False


def oracle(expert: ExpertFacts, bid: BidFacts, bids: list[BidFacts]) -> bool:
    """An independent statement of the rule: tied to this bid, or to any bid of the same challenge."""
    return _tied_to(expert, bid, declarations=True) or any(
        _tied_to(expert, other, declarations=False) for other in bids if other.bid_id != bid.bid_id)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world())
def test_conflict_rule_matches_the_oracle(data):
    experts, bids, _k = data
    for expert in experts:
        for bid in bids:
            reasons = conflict_reasons(expert, bid, bids)
            assert bool(reasons) == oracle(expert, bid, bids), (expert, bid, reasons)
            assert all(isinstance(r, str) and r for r in reasons)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world())
def test_batched_conflicts_give_the_same_reasons_as_the_rule(data):
    """What pages use for a whole challenge (ties computed once per expert) is the rule itself,
    reasons and their order included."""
    experts, bids, _k = data
    for expert in experts:
        ties = _ties(expert, bids)
        for bid in bids:
            assert _reasons_with_ties(expert, bid, ties) == conflict_reasons(expert, bid, bids)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world(), st.data())
def test_proposal_never_breaks_a_conflict_and_leaves_no_bid_short(data, extra):
    experts, bids, k = data
    conflicts = {(e.user_id, b.bid_id) for e in experts for b in bids if conflict_reasons(e, b, bids)}
    # Some assignments may exist already (never conflicted ones: the system never makes those).
    existing = {}
    for b in bids:
        free = [e.user_id for e in experts if (e.user_id, b.bid_id) not in conflicts]
        chosen = extra.draw(st.lists(st.sampled_from(free), unique=True, max_size=min(k, 2))) if free else []
        if chosen:
            existing[b.bid_id] = set(chosen)
    proposal = propose(
        bids=[BidInput(id=b.bid_id, text="二氧化碳捕集") for b in bids],
        experts=[ExpertInput(id=e.user_id, keywords="碳捕集") for e in experts],
        k=k, conflicts=conflicts, existing=existing,
    )
    loads = {e.user_id: 0 for e in experts}
    for b in bids:
        added = proposal.added[b.bid_id]
        before = existing.get(b.bid_id, set())
        assert len(set(added)) == len(added), "an expert twice on one bid"
        assert not set(added) & before, "an existing assignment proposed again"
        for expert_id in added:
            expert = next(e for e in experts if e.user_id == expert_id)
            assert not oracle(expert, b, bids), "a conflicted expert was proposed"
        eligible = sum(1 for e in experts if not oracle(e, b, bids))
        assert len(before) + len(added) == min(max(k, len(before)), eligible), "a bid left short of k experts"
        assert proposal.short.get(b.bid_id, 0) == max(0, k - len(before)) - len(added)
        for expert_id in before | set(added):
            loads[expert_id] += 1
    assert loads == proposal.loads
    # Balanced where feasible: no proposed assignment could move from an expert to one two or more below.
    holders = {(expert_id, b.bid_id) for b in bids for expert_id in proposal.added[b.bid_id]}
    for expert_id, bid_id in holders:
        for other in loads:
            if loads[expert_id] - loads[other] >= 2:
                taken = existing.get(bid_id, set()) | set(proposal.added[bid_id])
                assert (other, bid_id) in conflicts or other in taken, "load not balanced"


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=1, max_value=12), st.integers(min_value=1, max_value=30),
       st.integers(min_value=1, max_value=6))
def test_without_conflicts_loads_are_within_one(n_experts, n_bids, k):
    proposal = propose(bids=[BidInput(id=b) for b in range(n_bids)],
                       experts=[ExpertInput(id=100 + e) for e in range(n_experts)], k=k, conflicts=set())
    assert max(proposal.loads.values()) - min(proposal.loads.values()) <= 1
    assert all(len(ids) == min(k, n_experts) for ids in proposal.added.values())


def test_domain_first_then_chinese_keywords():
    bids = [BidInput(id=1, domain_ids=frozenset({6}), text="燃煤电厂烟气二氧化碳捕集与吸收剂再生")]
    experts = [
        ExpertInput(id=1, domain_ids=frozenset({1}), keywords="二氧化碳捕集，吸收剂"),  # keywords, wrong domain
        ExpertInput(id=2, domain_ids=frozenset({6}), keywords="生态修复，草原"),  # domain only
        ExpertInput(id=3, domain_ids=frozenset({6}), keywords="二氧化碳捕集，烟气"),  # domain and keywords
        ExpertInput(id=4, domain_ids=frozenset(), keywords="印染废水"),
    ]
    assert propose(bids=bids, experts=experts, k=1, conflicts=set()).added[1] == [3]
    assert propose(bids=bids, experts=experts, k=2, conflicts=set()).added[1] == [3, 2]
    assert propose(bids=bids, experts=experts, k=1, conflicts={(3, 1)}).added[1] == [2]
    assert propose(bids=bids, experts=experts, k=1, conflicts={(3, 1), (2, 1)}).added[1] == [1]


def test_chinese_bigrams_measure_similarity():
    assert "碳捕" in tokens("二氧化碳捕集") and "ccus" in tokens("CCUS 技术")
    near = similarity(tokens("二氧化碳捕集"), tokens("燃煤电厂二氧化碳捕集技术"))
    far = similarity(tokens("二氧化碳捕集"), tokens("印染废水分盐结晶"))
    assert near > 0.3 and far == 0


def test_transfer_chains_rebalance_what_the_greedy_pass_leaves_uneven():
    # Choosing bid by bid, expert 104 (conflicted only with bid 2) ends up idle while 100 has two.
    proposal = propose(bids=[BidInput(id=b) for b in range(3)], experts=[ExpertInput(id=100 + e) for e in range(5)],
                       k=2, conflicts={(100, 0), (102, 0), (103, 1), (104, 2)})
    assert sorted(proposal.loads.values()) == [1, 1, 1, 1, 2]
    assert all(len(ids) == 2 for ids in proposal.added.values())
    assert (104, 2) not in {(e, b) for b, ids in proposal.added.items() for e in ids}
