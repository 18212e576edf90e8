"""Batched loaders for the review pages: every page's data in a fixed number of queries."""

import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction

from tortoise import connections

from challenge.accounts.models import User
from challenge.bids.models import (
    ATTACHMENT_OWNER,
    Bid,
    BidPartner,
    BidTargetCommitment,
    BidVersion,
    BudgetItem,
    Milestone,
    TeamMember,
)
from challenge.bids.names import Names
from challenge.files.models import Attachment
from challenge.reviews import blind
from challenge.reviews.aggregation import CriterionInfo, scale, to_2dp
from challenge.reviews.conflicts import conflicts_for_challenge, conflicts_with_holder
from challenge.reviews.models import Assignment, AssignmentStatus, ExpertProfile, PanelBid

BID_OWNER = ATTACHMENT_OWNER


@dataclass
class FileView:
    number: int  # position in the bid's file list, used in the download link
    name: str
    size: int
    kind: str
    category: str
    blob_id: int
    withheld: bool = False  # blind review, and a kind the platform cannot clean: not given to experts


@dataclass
class BidView:
    """What an expert is shown of a bid. For a blind challenge: no organisation, no person."""

    bid_id: int
    code: str
    label: str
    blind: bool
    title: str
    approach: str
    foundation: str
    version: int | None = None
    lead_org: str = ""
    partners: list[str] = field(default_factory=list)
    members: list[dict] = field(default_factory=list)
    commitments: list[dict] = field(default_factory=list)
    milestones: list[dict] = field(default_factory=list)
    budget: list[dict] = field(default_factory=list)
    files: list[FileView] = field(default_factory=list)


async def latest_submission(bid: Bid) -> tuple[int | None, dict | None]:
    """The content of the bid's latest submitted version (what experts review), if any."""
    version = await BidVersion.filter(bid_id=bid.id).order_by("-version").first()
    if version is None:
        return None, None
    return version.version, json.loads(version.document)["content"]


async def _working_content(bid: Bid) -> dict:
    """The working copy in the shape of a submitted version (a bid never submitted, e.g. test data)."""
    lead = await bid.lead_org
    commitments = await BidTargetCommitment.filter(bid=bid).select_related("target")
    attachments = await Attachment.filter(owner_type=BID_OWNER, owner_id=bid.id).select_related("blob").order_by("id")
    return {
        "lead": {"name": lead.name, "credit_code": lead.credit_code},
        "title": bid.title, "approach": bid.approach, "foundation": bid.foundation,
        "targets": [{"name": c.target.name, "target_value": c.target.target_value, "unit": c.target.unit,
                     "committed_value": c.committed_value, "note": c.note} for c in commitments],
        "partners": [{"name": p.name, "credit_code": p.credit_code} for p in await BidPartner.filter(bid=bid)],
        "members": [{"name": m.name, "title": m.title, "role": m.role, "organisation_name": m.organisation_name,
                     "contact": m.contact, "email": m.email} for m in await TeamMember.filter(bid=bid)],
        "milestones": [{"title": m.title, "due_date": m.due_date.isoformat(), "deliverable": m.deliverable}
                       for m in await Milestone.filter(bid=bid)],
        "budget": {"items": [{"item": b.item, "own_wan": str(b.own_wan), "requested_wan": str(b.requested_wan),
                              "note": b.note} for b in await BudgetItem.filter(bid=bid)]},
        "attachments": [{"category": a.category, "filename": a.filename, "size": a.blob.size,
                         "blob_id": a.blob_id} for a in attachments],
    }


async def review_content(bid: Bid) -> tuple[int | None, dict]:
    version, content = await latest_submission(bid)
    if content is None:
        content = await _working_content(bid)
    return version, content


async def party_names(bid: Bid, content: dict | None = None) -> Names:
    """Every organisation and person of a bid (now and as submitted), with their short forms and
    pinyin (`bids.names`), and its credit codes and addresses: what blind pages never show."""
    lead = await bid.lead_org
    organisations, people, others = [lead.name], [], [lead.credit_code or ""]
    for partner in await BidPartner.filter(bid=bid).select_related("organisation"):
        organisations.append(partner.name)
        others.append(partner.credit_code or "")
        if partner.organisation is not None:
            organisations.append(partner.organisation.name)
    for member in await TeamMember.filter(bid=bid).select_related("user"):
        people.append(member.name)
        organisations.append(member.organisation_name)
        others += [member.email, member.contact]
        if member.user is not None:
            people.append(member.user.name)
            others.append(member.user.email)
    if bid.created_by_id:
        creator = await bid.created_by
        if creator is not None:
            people.append(creator.name)
            others.append(creator.email)
    if content:
        organisations.append(content.get("lead", {}).get("name", ""))
        others.append(content.get("lead", {}).get("credit_code") or "")
        for partner in content.get("partners", []):
            organisations.append(partner.get("name", ""))
            others.append(partner.get("credit_code") or "")
        for member in content.get("members", []):
            people.append(member.get("name") or "")
            organisations.append(member.get("organisation_name") or "")
            others += [member.get("contact") or "", member.get("email") or ""]
    return Names.of(organisations=[o for o in organisations if o], people=[p for p in people if p],
                    others=[o for o in others if o])


def file_list(content: dict, *, code: str, is_blind: bool) -> list[FileView]:
    files, counters = [], {}
    for number, item in enumerate(content.get("attachments", []), start=1):
        category = item.get("category", "other")
        counters[category] = counters.get(category, 0) + 1
        filename = item.get("filename", "")
        name = (blind.neutral_filename(code=code, category=category, number=counters[category], filename=filename)
                if is_blind else filename)
        kind = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        files.append(FileView(number=number, name=name, size=int(item.get("size") or 0), kind=kind,
                              category=category, blob_id=int(item["blob_id"]),
                              withheld=is_blind and not blind.can_clean(kind)))
    return files


async def bid_view(*, bid: Bid, code: str, is_blind: bool) -> BidView:
    version, content = await review_content(bid)
    names = await party_names(bid, content) if is_blind else None

    def clean(text) -> str:
        text = text or ""
        return names.mask(text) if is_blind else text

    view = BidView(
        bid_id=bid.id, code=code, label=blind.label(code), blind=is_blind, version=version,
        title=clean(content.get("title")), approach=clean(content.get("approach")),
        foundation=clean(content.get("foundation")),
        commitments=[{"name": t.get("name", ""), "target": f"{t.get('target_value', '')} {t.get('unit', '')}".strip(),
                      "committed": clean(t.get("committed_value")), "note": clean(t.get("note"))}
                     for t in content.get("targets", [])],
        milestones=[{"title": clean(m.get("title")), "due": date.fromisoformat(m["due_date"]) if m.get("due_date")
                     else None, "deliverable": clean(m.get("deliverable"))} for m in content.get("milestones", [])],
        budget=[{"item": clean(b.get("item")), "own": Decimal(b.get("own_wan") or 0),
                 "requested": Decimal(b.get("requested_wan") or 0), "note": clean(b.get("note"))}
                for b in content.get("budget", {}).get("items", [])],
        files=file_list(content, code=code, is_blind=is_blind),
    )
    if not is_blind:
        view.lead_org = content.get("lead", {}).get("name", "")
        view.partners = [p.get("name", "") for p in content.get("partners", [])]
        view.members = [{"name": m.get("name", ""), "title": m.get("title", ""), "role": m.get("role", ""),
                         "organisation": m.get("organisation_name", "")} for m in content.get("members", [])]
    return view


def _placeholder(connection, index: int) -> str:
    return f"${index}" if connection.capabilities.dialect == "postgres" else "?"


async def assignment_totals(*, panel_id: int, criteria: list[CriterionInfo], bid_id: int | None = None,
                            status: AssignmentStatus = AssignmentStatus.SUBMITTED) -> dict[int, Decimal]:
    """assignment id -> the expert's weighted total (0..100), for reviews in `status`, in one query."""
    m, factors = scale(criteria)
    if not factors:
        return {}
    connection = connections.get("default")
    case = " ".join(f"WHEN {int(cid)} THEN {int(factor)}" for cid, factor in factors.items())
    params = [panel_id, status.value]
    extra = ""
    if bid_id is not None:
        params.append(bid_id)
        extra = f" AND a.bid_id = {_placeholder(connection, 3)}"
    sql = f"""
        SELECT a.id AS assignment_id,
               SUM(CAST(ROUND(s.value * 100) AS BIGINT) * (CASE s.criterion_id {case} ELSE 0 END)) AS total
        FROM review_assignment a JOIN review_score s ON s.assignment_id = a.id
        WHERE a.panel_id = {_placeholder(connection, 1)} AND a.status = {_placeholder(connection, 2)}{extra}
        GROUP BY a.id
    """
    rows = await connection.execute_query_dict(sql, params)
    return {row["assignment_id"]: to_2dp(Fraction(int(row["total"] or 0), 100 * m)) for row in rows}


async def panel_codes(panel_id: int) -> dict[int, str]:
    return dict(await PanelBid.filter(panel_id=panel_id).values_list("bid_id", "code"))


async def withdrawn_reviews(*, panel_id: int, criteria: list[CriterionInfo],
                            hidden: frozenset[int] = frozenset()) -> list[dict]:
    """Submitted reviews revoked afterwards (a conflict found later): the expert, the total that no
    longer counts, when and why (the assignment keeps its scores and the reason), in two queries."""
    items = await Assignment.filter(panel_id=panel_id, status=AssignmentStatus.REVOKED,
                                    submitted_at__isnull=False).exclude(bid_id__in=list(hidden)).select_related(
        "expert").order_by("bid_id", "id")
    if not items:
        return []
    totals = await assignment_totals(panel_id=panel_id, criteria=criteria, status=AssignmentStatus.REVOKED)
    return [{"assignment": item, "total": totals.get(item.id)} for item in items]


async def pool_with_conflicts(challenge_id: int | None, bid_ids: list[int] | None = None, *,
                              holder_id: int | None = None) -> list[dict]:
    """Every active expert with his profile and the number of the challenge's bids (or of `bid_ids`)
    he is conflicted with: the pool a panel is formed from. No challenge: conflicts with `holder_id`."""
    pool = await User.filter(is_expert=True, is_active=True).select_related("organisation").order_by("id")
    profiles = {p.user_id: p for p in await ExpertProfile.filter(
        user_id__in=[u.id for u in pool]).prefetch_related("domains")}
    if challenge_id is None:
        pairs = await conflicts_with_holder(holder_id=holder_id, expert_ids=[u.id for u in pool])
    else:
        pairs = await conflicts_for_challenge(challenge_id=challenge_id, expert_ids=[u.id for u in pool],
                                              bid_ids=bid_ids)
    conflicted: dict[int, int] = {}
    for expert_id, _bid in pairs:
        conflicted[expert_id] = conflicted.get(expert_id, 0) + 1
    return [{"user": u, "profile": profiles.get(u.id), "conflicts": conflicted.get(u.id, 0)} for u in pool]
