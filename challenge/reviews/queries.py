"""Batched loaders for the review pages: every page's data in a fixed number of queries."""

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from tortoise import connections

from challenge.bids.models import Bid, BidPartner, BidTargetCommitment, BudgetItem, Milestone, TeamMember
from challenge.files.models import Attachment
from challenge.reviews import blind
from challenge.reviews.aggregation import CriterionInfo, scale, to_2dp
from challenge.reviews.models import AssignmentStatus, PanelBid

BID_OWNER = "bid"


@dataclass
class FileView:
    id: int
    name: str
    size: int
    kind: str


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
    lead_org: str = ""
    partners: list[str] = field(default_factory=list)
    members: list[dict] = field(default_factory=list)
    commitments: list[dict] = field(default_factory=list)
    milestones: list[dict] = field(default_factory=list)
    budget: list[dict] = field(default_factory=list)
    files: list[FileView] = field(default_factory=list)


async def party_names(bid: Bid) -> list[str]:
    """Every organisation and person name of a bid: what blind pages must never show."""
    lead = await bid.lead_org
    names = [lead.name]
    if lead.credit_code:
        names.append(lead.credit_code)
    for partner in await BidPartner.filter(bid=bid).select_related("organisation"):
        names.append(partner.name)
        if partner.credit_code:
            names.append(partner.credit_code)
        if partner.organisation is not None:
            names.append(partner.organisation.name)
    for member in await TeamMember.filter(bid=bid).select_related("user"):
        names.extend([member.name, member.organisation_name, getattr(member, "email", ""), member.contact])
        if member.user is not None:
            names.extend([member.user.name, member.user.email])
    if bid.created_by_id:
        creator = await bid.created_by
        if creator is not None:
            names.extend([creator.name, creator.email])
    return [n for n in names if n]


async def _related_rows(bid: Bid) -> tuple[list, list, list]:
    """Commitments, milestones and budget lines."""
    commitments, milestones, budget = [], [], []
    for row in await BidTargetCommitment.filter(bid=bid).select_related("target"):
        commitments.append({"name": row.target.name, "target": f"{row.target.target_value} {row.target.unit}".strip(),
                            "committed": row.committed_value, "note": row.note})
    for row in await Milestone.filter(bid=bid):
        milestones.append({"title": row.title, "due": row.due_date, "deliverable": row.deliverable})
    for row in await BudgetItem.filter(bid=bid):
        budget.append({"item": row.item, "own": row.own_wan, "requested": row.requested_wan, "note": row.note})
    return commitments, milestones, budget


async def bid_view(*, bid: Bid, code: str, is_blind: bool) -> BidView:
    names = await party_names(bid) if is_blind else []

    def clean(text: str) -> str:
        return blind.redact(text, names) if is_blind else text

    commitments, milestones, budget = await _related_rows(bid)
    if is_blind:
        for row in commitments:
            row["committed"], row["note"] = clean(row["committed"]), clean(row["note"])
        for row in milestones:
            row["title"], row["deliverable"] = clean(row["title"]), clean(row["deliverable"])
        for row in budget:
            row["item"], row["note"] = clean(row["item"]), clean(row["note"])
    attachments = await Attachment.filter(owner_type=BID_OWNER, owner_id=bid.id).select_related("blob").order_by("id")
    files, counters = [], {}
    for item in attachments:
        counters[item.category] = counters.get(item.category, 0) + 1
        name = (blind.neutral_filename(code=code, category=item.category, number=counters[item.category],
                                       filename=item.filename) if is_blind else item.filename)
        files.append(FileView(id=item.id, name=name, size=item.blob.size, kind=item.blob.kind))
    view = BidView(
        bid_id=bid.id, code=code, label=blind.label(code), blind=is_blind,
        title=clean(bid.title), approach=clean(bid.approach), foundation=clean(bid.foundation),
        commitments=commitments, milestones=milestones, budget=budget, files=files,
    )
    if not is_blind:
        view.lead_org = (await bid.lead_org).name
        view.partners = [p.name for p in await BidPartner.filter(bid=bid)]
        view.members = [{"name": m.name, "title": m.title, "role": m.role, "organisation": m.organisation_name}
                        for m in await TeamMember.filter(bid=bid)]
    return view


async def attachment_name(*, attachment: Attachment, code: str, is_blind: bool) -> str:
    """The name an expert downloads a file under (the same numbering as on the bid page)."""
    if not is_blind:
        return attachment.filename
    earlier = await Attachment.filter(owner_type=BID_OWNER, owner_id=attachment.owner_id,
                                      category=attachment.category, id__lt=attachment.id).count()
    return blind.neutral_filename(code=code, category=attachment.category, number=earlier + 1,
                                  filename=attachment.filename)


def _placeholder(connection, index: int) -> str:
    return f"${index}" if connection.capabilities.dialect == "postgres" else "?"


async def assignment_totals(*, panel_id: int, criteria: list[CriterionInfo],
                            bid_id: int | None = None) -> dict[int, Decimal]:
    """assignment id -> the expert's weighted total (0..100), for submitted reviews, in one query."""
    m, factors = scale(criteria)
    if not factors:
        return {}
    connection = connections.get("default")
    case = " ".join(f"WHEN {int(cid)} THEN {int(factor)}" for cid, factor in factors.items())
    params = [panel_id, AssignmentStatus.SUBMITTED.value]
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
