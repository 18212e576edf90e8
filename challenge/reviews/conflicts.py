"""Conflicts of interest, computed from facts (never only from declarations).

The rule is a pure function over plain data (`conflict_reasons`), so it can be tested over
random consortia; `load_*` build that data from the database in a few batched queries.

An expert is conflicted with a bid when
- his organisation is the lead or a partner of the consortium (a registered partner by
  organisation id, an unregistered one by credit code or name), or the employer of a member,
- he is a team member (linked user, or the same e-mail), or created the bid,
- he declared a conflict with the lead, a partner or a member (organisation by id, credit code or
  name, person by name or e-mail),
- he or his organisation bid on the same challenge (in any consortium).

A panel outside any challenge reviews one thing held by an organisation (a technology offer's
holder, see `Panel`): an expert is conflicted with it when the holder employs him or he declared
a conflict with the holder (`holder_reasons`). Its one entry has no bid: the pairs are keyed by
(expert id, None).
"""

import re
from dataclasses import dataclass, field

from challenge.accounts.models import Organisation, User
from challenge.bids.models import Bid, BidPartner, BidStatus, TeamMember
from challenge.reviews.models import ConflictDeclaration, ConflictKind, ExpertProfile
from challenge.web.i18n import gettext as _

_SPACE = re.compile(r"\s+")


def norm(text: str | None) -> str:
    """Names compare without spaces, case and full-width brackets."""
    text = (text or "").replace("（", "(").replace("）", ")")
    return _SPACE.sub("", text).lower()


@dataclass(frozen=True)
class OrgRef:
    id: int | None = None
    name: str = ""
    credit_code: str = ""

    def matches(self, other: "OrgRef") -> bool:
        if self.id is not None and self.id == other.id:
            return True
        if self.credit_code and norm(self.credit_code) == norm(other.credit_code):
            return True
        return bool(self.name) and norm(self.name) == norm(other.name)


@dataclass(frozen=True)
class PersonRef:
    name: str = ""
    email: str = ""
    user_id: int | None = None
    org_name: str = ""


@dataclass
class BidFacts:
    bid_id: int
    challenge_id: int
    lead: OrgRef
    partners: list[OrgRef] = field(default_factory=list)
    members: list[PersonRef] = field(default_factory=list)
    created_by_id: int | None = None

    @property
    def orgs(self) -> list[OrgRef]:
        return [self.lead, *self.partners]


@dataclass
class ExpertFacts:
    user_id: int
    email: str
    name: str = ""
    # The employer(s): the profile's and the account's organisation, registered or by name and code.
    organisations: list[OrgRef] = field(default_factory=list)
    declared_orgs: list[OrgRef] = field(default_factory=list)
    declared_people: list[PersonRef] = field(default_factory=list)


def _person_matches(declared: PersonRef, member: PersonRef) -> bool:
    if declared.email and norm(declared.email) == norm(member.email):
        return True
    if declared.user_id is not None and declared.user_id == member.user_id:
        return True
    return bool(declared.name) and norm(declared.name) == norm(member.name)


def _direct_reasons(expert: ExpertFacts, bid: BidFacts, *, same_bid: bool) -> list[str]:
    """Why the expert is tied to this bid's consortium (`same_bid` words it for the bid itself)."""
    reasons = []
    for org in expert.organisations:
        if not (org.id is not None or org.name or org.credit_code):
            continue
        if org.matches(bid.lead):
            reasons.append(_("本人所在单位是牵头单位") if same_bid else _("本人所在单位牵头申报了同一榜单"))
        elif any(org.matches(partner) for partner in bid.partners):
            reasons.append(_("本人所在单位是联合申报单位") if same_bid else _("本人所在单位参与了同一榜单的其他申报"))
        elif org.name and any(norm(member.org_name) == norm(org.name) for member in bid.members if member.org_name):
            reasons.append(_("本人所在单位有人员参加申报团队") if same_bid else _("本人所在单位有人员参加同一榜单的其他申报"))
    reasons = list(dict.fromkeys(reasons))
    email = norm(expert.email)
    if expert.user_id == bid.created_by_id or any(
        member.user_id == expert.user_id or (email and norm(member.email) == email) for member in bid.members
    ):
        reasons.append(_("本人是申报团队成员") if same_bid else _("本人参加了同一榜单的其他申报"))
    if same_bid:
        for declared in expert.declared_orgs:
            if any(declared.matches(other) for other in bid.orgs):
                reasons.append(_("本人申报了与申报单位的利益冲突"))
                break
        for declared in expert.declared_people:
            if any(_person_matches(declared, member) for member in bid.members):
                reasons.append(_("本人申报了与团队成员的利益冲突"))
                break
    return reasons


def conflict_reasons(expert: ExpertFacts, bid: BidFacts, others: list[BidFacts] = ()) -> list[str]:
    """Every reason the expert may not review `bid`, in words. Empty: no conflict.

    `others` are the other bids on the same challenge: bidding there is a conflict too.
    """
    reasons = _direct_reasons(expert, bid, same_bid=True)
    for other in others:
        if other.bid_id == bid.bid_id or other.challenge_id != bid.challenge_id:
            continue
        for reason in _direct_reasons(expert, other, same_bid=False):
            if reason not in reasons:
                reasons.append(reason)
    return reasons


# -- loading facts from the database ---------------------------------------------------------

# Bids that count as "bid on the same challenge": anything beyond a draft never submitted.
_COUNTED_BID_STATES = [s for s in BidStatus if s != BidStatus.DRAFT]


async def load_bid_facts(*, challenge_id: int, include_drafts: bool = False) -> dict[int, BidFacts]:
    """Facts of every bid of a challenge, in three queries."""
    bids = Bid.filter(challenge_id=challenge_id)
    if not include_drafts:
        bids = bids.filter(status__in=_COUNTED_BID_STATES)
    rows = await bids.select_related("lead_org").only(
        "id", "challenge_id", "created_by_id", "lead_org__id", "lead_org__name", "lead_org__credit_code"
    )
    facts = {
        bid.id: BidFacts(
            bid_id=bid.id,
            challenge_id=bid.challenge_id,
            lead=OrgRef(bid.lead_org.id, bid.lead_org.name, bid.lead_org.credit_code or ""),
            created_by_id=bid.created_by_id,
        )
        for bid in rows
    }
    if not facts:
        return facts
    partners = await BidPartner.filter(bid_id__in=list(facts)).select_related("organisation")
    for partner in partners:
        org = partner.organisation
        facts[partner.bid_id].partners.append(OrgRef(
            org.id if org else None,
            org.name if org else partner.name,
            (org.credit_code if org else partner.credit_code) or "",
        ))
        if org is not None and norm(partner.name) != norm(org.name):
            facts[partner.bid_id].partners.append(OrgRef(None, partner.name, partner.credit_code or ""))
    members = await TeamMember.filter(bid_id__in=list(facts)).select_related("user")
    for member in members:
        emails = {norm(e) for e in (getattr(member, "email", ""), member.user.email if member.user else "",
                                    member.contact if "@" in (member.contact or "") else "") if e}
        for email in sorted(emails) or [""]:
            facts[member.bid_id].members.append(PersonRef(
                name=member.name, email=email, user_id=member.user_id, org_name=member.organisation_name,
            ))
    return facts


async def load_expert_facts(user_ids: list[int]) -> dict[int, ExpertFacts]:
    """Facts of the given experts, in three queries."""
    users = await User.filter(id__in=user_ids).select_related("organisation")
    profiles = {
        profile.user_id: profile
        for profile in await ExpertProfile.filter(user_id__in=user_ids).select_related("organisation")
    }
    facts = {}
    for user in users:
        profile = profiles.get(user.id)
        organisations = []
        for org in (profile.organisation if profile else None, user.organisation):
            if org is not None and all(o.id != org.id for o in organisations):
                organisations.append(OrgRef(org.id, org.name, org.credit_code or ""))
        if profile is not None and (profile.organisation_name or profile.credit_code):
            named = OrgRef(None, profile.organisation_name, profile.credit_code)
            if not any(named.matches(o) or o.matches(named) for o in organisations):
                organisations.append(named)
        facts[user.id] = ExpertFacts(user_id=user.id, email=user.email, name=user.name, organisations=organisations)
    declarations = await ConflictDeclaration.filter(expert_id__in=user_ids).select_related("organisation")
    for declaration in declarations:
        expert = facts.get(declaration.expert_id)
        if expert is None:
            continue
        if declaration.kind == ConflictKind.ORGANISATION:
            org = declaration.organisation
            expert.declared_orgs.append(OrgRef(
                org.id if org else None,
                org.name if org else declaration.name,
                (org.credit_code if org else declaration.credit_code) or "",
            ))
        else:
            expert.declared_people.append(PersonRef(name=declaration.name, email=declaration.email))
    return facts


async def conflicts_for_challenge(*, challenge_id: int, expert_ids: list[int],
                                  bid_ids: list[int] | None = None) -> dict[tuple[int, int], list[str]]:
    """(expert id, bid id) -> reasons, for every conflicted pair among the given experts and bids."""
    bids = await load_bid_facts(challenge_id=challenge_id)
    experts = await load_expert_facts(expert_ids)
    others = list(bids.values())
    wanted = bids.keys() if bid_ids is None else [b for b in bid_ids if b in bids]
    result = {}
    for expert in experts.values():
        ties = _ties(expert, others)
        for bid_id in wanted:
            reasons = _reasons_with_ties(expert, bids[bid_id], ties)
            if reasons:
                result[(expert.user_id, bid_id)] = reasons
    # A bid not yet loaded (a draft, say) still gets its own direct check.
    missing = [b for b in (bid_ids or []) if b not in bids]
    if missing:
        extra = await load_bid_facts(challenge_id=challenge_id, include_drafts=True)
        for bid_id in missing:
            if bid_id not in extra:
                continue
            for expert in experts.values():
                reasons = conflict_reasons(expert, extra[bid_id], others)
                if reasons:
                    result[(expert.user_id, bid_id)] = reasons
    return result


def _ties(expert: ExpertFacts, others: list[BidFacts]) -> list[tuple[BidFacts, list[str]]]:
    """The bids of the challenge the expert is tied to, with the reasons, worded for another bid.

    Computed once per expert: `conflict_reasons` for every bid of a challenge would compare each
    bid with every other (1,000 bids: a million comparisons per expert, seconds per page)."""
    ties = []
    for other in others:
        reasons = _direct_reasons(expert, other, same_bid=False)
        if reasons:
            ties.append((other, reasons))
    return ties


def _reasons_with_ties(expert: ExpertFacts, bid: BidFacts, ties: list[tuple[BidFacts, list[str]]]) -> list[str]:
    """Exactly `conflict_reasons(expert, bid, others)`, given `_ties(expert, others)`."""
    reasons = _direct_reasons(expert, bid, same_bid=True)
    for other, other_reasons in ties:
        if other.bid_id == bid.bid_id or other.challenge_id != bid.challenge_id:
            continue
        for reason in other_reasons:
            if reason not in reasons:
                reasons.append(reason)
    return reasons


def holder_reasons(expert: ExpertFacts, holder: OrgRef) -> list[str]:
    """Every reason the expert may not review what `holder` holds, in words. Empty: no conflict."""
    reasons = []
    if any(org.matches(holder) for org in expert.organisations if org.id is not None or org.name or org.credit_code):
        reasons.append(_("本人所在单位是该技术的持有单位"))
    if any(declared.matches(holder) for declared in expert.declared_orgs):
        reasons.append(_("本人申报了与该技术持有单位的利益冲突"))
    return reasons


async def conflicts_with_holder(*, holder_id: int | None, expert_ids: list[int]
                                ) -> dict[tuple[int, None], list[str]]:
    """(expert id, None) -> reasons, for the experts conflicted with the holder organisation."""
    holder = await Organisation.get_or_none(id=holder_id) if holder_id is not None else None
    if holder is None:
        return {}
    ref = OrgRef(holder.id, holder.name, holder.credit_code or "")
    result = {}
    for expert in (await load_expert_facts(expert_ids)).values():
        reasons = holder_reasons(expert, ref)
        if reasons:
            result[(expert.user_id, None)] = reasons
    return result


async def conflicts_for_panel(panel, *, expert_ids: list[int], bid_ids: list[int | None] | None = None
                              ) -> dict[tuple[int, int | None], list[str]]:
    """(expert id, bid id) -> reasons for a panel's entries (or `bid_ids`): against the bids of its
    challenge, or, for a panel outside any challenge, against its holder. `panel` may be unsaved."""
    if panel.challenge_id is not None:
        return await conflicts_for_challenge(challenge_id=panel.challenge_id, expert_ids=expert_ids, bid_ids=bid_ids)
    return await conflicts_with_holder(holder_id=panel.holder_id, expert_ids=expert_ids)


async def reasons_for(*, expert_id: int, bid: Bid) -> list[str]:
    pairs = await conflicts_for_challenge(challenge_id=bid.challenge_id, expert_ids=[expert_id], bid_ids=[bid.id])
    return pairs.get((expert_id, bid.id), [])
