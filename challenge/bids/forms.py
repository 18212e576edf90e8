"""Parsing the bid form: text, repeated rows (partners, members, milestones, budget lines),
committed target values. Rows are numbered `partner-0-name`, `partner-1-name`, ...; blank rows
and rows marked for removal are dropped and the rest renumbered, so errors and the re-rendered
form refer to the same rows as the service."""

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from challenge.accounts import credit_code
from challenge.accounts.models import OrgType
from challenge.bids.models import MANAGED_BID_STATES
from challenge.catalog import regions
from challenge.web.forms import Form, parse_ids
from challenge.web.i18n import _

ROW_FIELDS = {
    "partner": ("organisation_id", "name", "org_type", "credit_code", "region_code"),
    "member": ("name", "title", "role", "organisation_name", "contact", "email"),
    "milestone": ("title", "due_date", "deliverable"),
    "budget": ("item", "own", "requested", "note"),
}
# Blank rows shown by default, so a plan can be typed without JavaScript.
DEFAULT_BLANK_ROWS = {"partner": 1, "member": 2, "milestone": 2, "budget": 3}
MAX_ROWS = 50
MAX_BLANK_ROWS = 10
ROW_KEY = re.compile(r"^(partner|member|milestone|budget)-(\d{1,3})-([a-z_]+)$")
ACTIONS = {"save", "submit"} | {f"add:{kind}" for kind in ROW_FIELDS}


@dataclass
class PartnerInput:
    organisation_id: int | None = None
    name: str = ""
    org_type: str = ""
    credit_code: str = ""
    region_code: str = ""


@dataclass
class MemberInput:
    name: str
    title: str = ""
    role: str = ""
    organisation_name: str = ""
    contact: str = ""
    email: str = ""


@dataclass
class MilestoneInput:
    title: str
    due_date: date
    deliverable: str = ""


@dataclass
class BudgetInput:
    item: str
    own_wan: Decimal = Decimal("0")
    requested_wan: Decimal = Decimal("0")
    note: str = ""


@dataclass
class BidContent:
    title: str = ""
    approach: str = ""
    foundation: str = ""
    commitment_accepted: bool = False
    commitments: dict[int, tuple[str, str]] = field(default_factory=dict)  # target id -> (value, note)
    partners: list[PartnerInput] = field(default_factory=list)
    members: list[MemberInput] = field(default_factory=list)
    milestones: list[MilestoneInput] = field(default_factory=list)
    budget: list[BudgetInput] = field(default_factory=list)
    delete_attachment_ids: list[int] = field(default_factory=list)


def _compact_rows(form: Form, kind: str) -> int:
    """Drop blank and removed rows of `kind`, renumber the rest from 0; return their count."""
    rows: dict[int, dict[str, str]] = {}
    for key in list(form.data):
        match = ROW_KEY.match(key)
        if match and match.group(1) == kind:
            rows.setdefault(int(match.group(2)), {})[match.group(3)] = form.data.pop(key)
    kept = [
        values for _, values in sorted(rows.items())
        if values.get("remove", "") not in {"1", "on"}
        and any(values.get(name, "").strip() for name in ROW_FIELDS[kind])
    ]
    if len(kept) > MAX_ROWS:
        form.error(f"{kind}s", _("最多 %(n)s 行", n=MAX_ROWS))
        kept = kept[:MAX_ROWS]
    for index, values in enumerate(kept):
        for name in ROW_FIELDS[kind]:
            form.data[f"{kind}-{index}-{name}"] = values.get(name, "")
    return len(kept)


def parse_bid(form: Form, target_ids: list[int]) -> BidContent:
    """Read the whole bid form; errors are recorded on `form` next to their fields."""
    content = BidContent(
        title=form.text("title", max_length=200),
        approach=form.text("approach", max_length=20000),
        foundation=form.text("foundation", max_length=20000),
        commitment_accepted=form.boolean("commitment_accepted"),
    )
    for target_id in target_ids:
        value = form.text(f"target-{target_id}-value", max_length=200)
        note = form.text(f"target-{target_id}-note", max_length=500)
        if value or note:
            content.commitments[target_id] = (value, note)
    content.partners = [_partner(form, i) for i in range(_compact_rows(form, "partner"))]
    content.members = [_member(form, i) for i in range(_compact_rows(form, "member"))]
    content.milestones = [m for i in range(_compact_rows(form, "milestone")) if (m := _milestone(form, i))]
    content.budget = [b for i in range(_compact_rows(form, "budget")) if (b := _budget(form, i))]
    content.delete_attachment_ids.extend(parse_ids(form.getlist("delete_attachment")))
    return content


def _partner(form: Form, i: int) -> PartnerInput:
    prefix = f"partner-{i}-"
    organisation_id = form.integer(prefix + "organisation_id", min_value=1)
    if organisation_id:
        return PartnerInput(organisation_id=organisation_id)
    name = form.text(prefix + "name", required=True, max_length=200)
    org_type = form.choice(prefix + "org_type", [t.value for t in OrgType])
    code = credit_code.normalise(form.text(prefix + "credit_code", required=True, max_length=30))
    if code and not credit_code.is_valid(code):
        form.error(prefix + "credit_code", _("统一社会信用代码无效：应为 18 位，且校验位正确（GB 32100-2015）"))
    region = form.text(prefix + "region_code", max_length=6)
    if region and not regions.is_valid(region):
        form.error(prefix + "region_code", _("请选择有效的行政区划"))
    return PartnerInput(name=name, org_type=org_type or "", credit_code=code, region_code=region)


def _member(form: Form, i: int) -> MemberInput:
    prefix = f"member-{i}-"
    return MemberInput(
        name=form.text(prefix + "name", required=True, max_length=100),
        title=form.text(prefix + "title", max_length=100),
        role=form.text(prefix + "role", max_length=100),
        organisation_name=form.text(prefix + "organisation_name", max_length=200),
        contact=form.text(prefix + "contact", max_length=200),
        email=form.email(prefix + "email", required=False),
    )


def _milestone(form: Form, i: int) -> MilestoneInput | None:
    prefix = f"milestone-{i}-"
    title = form.text(prefix + "title", required=True, max_length=200)
    due = form.date(prefix + "due_date", required=True)
    deliverable = form.text(prefix + "deliverable", max_length=2000)
    return MilestoneInput(title=title, due_date=due, deliverable=deliverable) if title and due else None


def _budget(form: Form, i: int) -> BudgetInput | None:
    prefix = f"budget-{i}-"
    item = form.text(prefix + "item", required=True, max_length=200)
    limit = Decimal("999999999")
    own = form.decimal(prefix + "own", min_value=0, max_value=limit, default=Decimal("0"))
    requested = form.decimal(prefix + "requested", min_value=0, max_value=limit, default=Decimal("0"))
    note = form.text(prefix + "note", max_length=500)
    return BudgetInput(item=item, own_wan=own, requested_wan=requested, note=note) if item else None


def blank_rows(source) -> dict[str, int]:
    """How many blank rows to add under each table (`blank-partner=2`...), within bounds."""
    counts = dict(DEFAULT_BLANK_ROWS)
    for kind in ROW_FIELDS:
        raw = (source.get(f"blank-{kind}") or "").strip()
        if raw.isascii() and raw.isdigit():
            counts[kind] = min(int(raw), MAX_BLANK_ROWS)
    return counts


def row_counts(form: Form, blanks: dict[str, int]) -> dict[str, int]:
    """Rows to render per table: the filled ones (numbered from 0) and the blank ones after them."""
    counts = {}
    for kind in ROW_FIELDS:
        filled = {int(m.group(2)) for key in form.data if (m := ROW_KEY.match(key)) and m.group(1) == kind}
        counts[kind] = (max(filled) + 1 if filled else 0) + blanks[kind]
    return counts


def _amount(value) -> str:
    text = f"{Decimal(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def form_data(*, bid, commitments, partners, members, milestones, budget) -> dict[str, str]:
    """The stored working copy as the form's initial data."""
    data = {
        "title": bid.title,
        "approach": bid.approach,
        "foundation": bid.foundation,
    }
    if bid.commitment_accepted:
        data["commitment_accepted"] = "1"
    for row in commitments:
        data[f"target-{row.target_id}-value"] = row.committed_value
        data[f"target-{row.target_id}-note"] = row.note
    for i, partner in enumerate(partners):
        values = {"organisation_id": str(partner.organisation_id or ""), "name": partner.name,
                  "org_type": partner.org_type, "credit_code": partner.credit_code or "",
                  "region_code": partner.region_code or ""}
        if partner.organisation_id:
            values.update(name="", org_type="", credit_code="", region_code="")
        data.update({f"partner-{i}-{k}": v for k, v in values.items()})
    for i, member in enumerate(members):
        for name in ROW_FIELDS["member"]:
            data[f"member-{i}-{name}"] = getattr(member, name) or ""
    for i, milestone in enumerate(milestones):
        data[f"milestone-{i}-title"] = milestone.title
        data[f"milestone-{i}-due_date"] = milestone.due_date.isoformat()
        data[f"milestone-{i}-deliverable"] = milestone.deliverable
    for i, line in enumerate(budget):
        data[f"budget-{i}-item"] = line.item
        data[f"budget-{i}-own"] = _amount(line.own_wan)
        data[f"budget-{i}-requested"] = _amount(line.requested_wan)
        data[f"budget-{i}-note"] = line.note
    return data


@dataclass
class BidFilters:
    status: str = ""
    q: str = ""


def parse_filters(params) -> BidFilters:
    status = params.get("status", "")
    return BidFilters(
        status=status if status in {s.value for s in MANAGED_BID_STATES} else "",
        q=params.get("q", "").strip()[:100],
    )
