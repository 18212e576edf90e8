"""Parsing the challenge, amendment and filter forms.

Repeated rows (targets, rubric criteria, stages) are numbered fields, `target-0-name`,
`target-1-name`..., with a hidden count per group (`target_rows`). Rows left blank or ticked
"remove" are dropped; the "add rows" buttons re-render the form with more blank rows, so the
whole form works without JavaScript.
"""

from dataclasses import replace
from decimal import Decimal

from challenge.accounts.models import OrgType
from challenge.catalog import regions
from challenge.challenges.models import Aggregation, ChallengeStatus, Mechanism, PUBLIC_CHALLENGE_STATES
from challenge.challenges.services import (
    SORTS,
    ChallengeData,
    CriterionRow,
    ListFilters,
    StageRow,
    TargetRow,
    phone_problem,
)
from challenge.web.forms import Form
from challenge.web.i18n import _
from challenge.web.timefmt import end_of_day_beijing, input_value, to_beijing

MAX_ROWS = 40
BLANK_ROWS = 2
MORE_ROWS = 3
MIN_ROWS = {"target": 3, "criterion": 4, "stage": 3}
GROUPS = {
    "target": ("id", "name", "value", "unit", "verification"),
    "criterion": ("id", "name", "weight", "max_score", "guidance"),
    "stage": ("id", "name", "deliverable", "due", "advance", "funding"),
}
ADD_ACTIONS = {f"add_{group}": group for group in GROUPS}


def row_count(form: Form, group: str) -> int:
    raw = form.get(f"{group}_rows")
    try:
        return max(0, min(MAX_ROWS, int(raw)))
    except ValueError:
        return 0


def rows_to_render(form: Form, action: str = "") -> dict[str, int]:
    """How many rows of each group the form shows: what was sent, plus blank rows to fill in."""
    counts = {}
    for group in GROUPS:
        filled = sum(1 for i in range(row_count(form, group)) if _row_has_content(form, group, i))
        count = max(row_count(form, group), filled + BLANK_ROWS, MIN_ROWS[group])
        if ADD_ACTIONS.get(action) == group:
            count += MORE_ROWS
        counts[group] = min(MAX_ROWS, count)
    return counts


def _row_has_content(form: Form, group: str, i: int) -> bool:
    return any(form.get(f"{group}-{i}-{name}").strip() for name in GROUPS[group] if name != "id")


def _row_id(form: Form, group: str, i: int) -> int | None:
    return form.integer(f"{group}-{i}-id", min_value=1)


def _live_rows(form: Form, group: str) -> list[int]:
    return [i for i in range(row_count(form, group))
            if _row_has_content(form, group, i) and not form.boolean(f"{group}-{i}-remove")]


def parse_targets(form: Form) -> list[TargetRow]:
    rows = []
    for i in _live_rows(form, "target"):
        name = form.text(f"target-{i}-name", max_length=200)
        value = form.text(f"target-{i}-value", max_length=100)
        if not name:
            form.error(f"target-{i}-name", _("第 %(n)s 项考核指标：请填写指标名称", n=len(rows) + 1))
        if not value:
            form.error(f"target-{i}-value", _("第 %(n)s 项考核指标：请填写目标值", n=len(rows) + 1))
        rows.append(TargetRow(name=name, target_value=value, unit=form.text(f"target-{i}-unit", max_length=50),
                              verification=form.text(f"target-{i}-verification", max_length=300),
                              id=_row_id(form, "target", i)))
    return rows


def parse_criteria(form: Form) -> list[CriterionRow]:
    rows = []
    for i in _live_rows(form, "criterion"):
        name = form.text(f"criterion-{i}-name", max_length=200)
        if not name:
            form.error(f"criterion-{i}-name", _("第 %(n)s 项评审要素：请填写名称", n=len(rows) + 1))
        weight = form.integer(f"criterion-{i}-weight", required=True, min_value=1, max_value=100)
        max_score = form.integer(f"criterion-{i}-max_score", min_value=1, max_value=1000, default=100)
        rows.append(CriterionRow(name=name, weight=weight, max_score=max_score,
                                 guidance=form.text(f"criterion-{i}-guidance", max_length=2000),
                                 id=_row_id(form, "criterion", i)))
    return rows


def parse_stages(form: Form) -> list[StageRow]:
    rows = []
    for i in _live_rows(form, "stage"):
        name = form.text(f"stage-{i}-name", max_length=200)
        if not name:
            form.error(f"stage-{i}-name", _("第 %(n)s 阶段：请填写阶段名称", n=len(rows) + 1))
        due = form.date(f"stage-{i}-due", required=True)
        rows.append(StageRow(name=name, deliverable=form.text(f"stage-{i}-deliverable", max_length=2000),
                             due_at=end_of_day_beijing(due) if due else None,
                             advance_count=form.integer(f"stage-{i}-advance", required=True, min_value=1,
                                                        max_value=100),
                             id=_row_id(form, "stage", i), funding_wan=_stage_funding(form, i)))
    return rows


def _stage_funding(form: Form, i: int) -> Decimal:
    return form.decimal(f"stage-{i}-funding", min_value=0, max_value=Decimal("10000000"), default=Decimal("0"))


def parse_stage_funding(form: Form, stages: list[StageRow]) -> list[StageRow]:
    """The amendment form: each published stage with its funding (the rest of a stage stays)."""
    return [replace(row, funding_wan=_stage_funding(form, i)) for i, row in enumerate(stages)]


def _ids(form: Form, name: str) -> list[int]:
    values = []
    for raw in form.getlist(name):
        try:
            values.append(int(raw))
        except ValueError:
            form.error(name, _("所选项无效，请重新选择"))
    return list(dict.fromkeys(values))


def _text_fields(form: Form, data: ChallengeData) -> None:
    data.title = form.text("title", required=True, max_length=200)
    data.summary = form.text("summary", max_length=2000)
    data.description = form.text("description", max_length=20000)
    data.funding_wan = form.decimal("funding_wan", min_value=0, max_value=Decimal("10000000"))
    data.delivery_months = form.integer("delivery_months", min_value=1, max_value=120)
    data.winners_count = form.integer("winners_count", min_value=1, max_value=50, default=1)
    data.eligibility_text = form.text("eligibility_text", max_length=5000)
    data.allowed_org_types = [t.value for t in form.choices("allowed_org_types", list(OrgType))]
    data.allowed_regions = form.choices("allowed_regions", [code for code, _label in regions.provinces()])
    data.consortium_required = form.boolean("consortium_required")
    data.max_partners = form.integer("max_partners", min_value=0, max_value=50, default=0)
    data.contact_name = form.text("contact_name", max_length=50)
    data.contact_phone = form.text("contact_phone", max_length=40)
    if problem := phone_problem(data.contact_phone):
        form.error("contact_phone", problem)
    data.targets = parse_targets(form)


def parse_challenge(form: Form) -> ChallengeData:
    """The whole challenge form; type errors are left on `form`, the publishing rules are not."""
    data = ChallengeData()
    data.mechanism = form.choice("mechanism", list(Mechanism)) or Mechanism.OPEN_CALL
    _text_fields(form, data)
    data.domain_id = form.integer("domain_id", min_value=1)
    data.opens_at = form.datetime_local("opens_at")
    data.closes_at = form.datetime_local("closes_at")
    data.experts_per_bid = form.integer("experts_per_bid", min_value=1, max_value=30, default=5)
    data.blind_review = form.boolean("blind_review")
    data.aggregation = form.choice("aggregation", list(Aggregation)) or Aggregation.TRIMMED_MEAN
    data.need_ids = _ids(form, "need_ids")
    data.issuer_ids = _ids(form, "issuer_ids")
    data.criteria = parse_criteria(form)
    data.stages = parse_stages(form) if data.mechanism == Mechanism.HORSE_RACE else []
    return data


def parse_amendment(form: Form, current: ChallengeData, *, can_move_close: bool) -> tuple[ChallengeData, str]:
    """The amendable fields over the current data, and the explanation."""
    data = replace(current)
    _text_fields(form, data)
    data.stages = parse_stage_funding(form, current.stages)
    # The form shows minutes: an unchanged field keeps the stored time, seconds included.
    if can_move_close and form.get("closes_at").strip() != input_value(current.closes_at):
        data.closes_at = form.datetime_local("closes_at", required=True)
    explanation = form.text("explanation", max_length=5000)
    return data, explanation


def challenge_form_data(data: ChallengeData) -> dict[str, str]:
    """Stored values as the raw strings a form shows (the edit and amendment forms start here)."""
    values = {
        "mechanism": data.mechanism.value, "title": data.title, "summary": data.summary,
        "description": data.description, "domain_id": str(data.domain_id or ""),
        "funding_wan": _plain(data.funding_wan), "delivery_months": _plain(data.delivery_months),
        "opens_at": input_value(data.opens_at), "closes_at": input_value(data.closes_at),
        "winners_count": _plain(data.winners_count), "experts_per_bid": _plain(data.experts_per_bid),
        "aggregation": data.aggregation.value, "eligibility_text": data.eligibility_text,
        "max_partners": _plain(data.max_partners), "contact_name": data.contact_name,
        "contact_phone": data.contact_phone,
    }
    if data.blind_review:
        values["blind_review"] = "1"
    if data.consortium_required:
        values["consortium_required"] = "1"
    for group, rows, make in (
        ("target", data.targets, lambda r: {"name": r.name, "value": r.target_value, "unit": r.unit,
                                            "verification": r.verification}),
        ("criterion", data.criteria, lambda r: {"name": r.name, "weight": _plain(r.weight),
                                                "max_score": _plain(r.max_score), "guidance": r.guidance}),
        ("stage", data.stages, lambda r: {"name": r.name, "deliverable": r.deliverable,
                                          "due": to_beijing(r.due_at).date().isoformat() if r.due_at else "",
                                          "advance": _plain(r.advance_count), "funding": _plain(r.funding_wan)}),
    ):
        values[f"{group}_rows"] = str(len(rows))
        for i, row in enumerate(rows):
            if row.id:
                values[f"{group}-{i}-id"] = str(row.id)
            values.update({f"{group}-{i}-{key}": value for key, value in make(row).items()})
    return values


class ListForm(Form):
    """The form keeps multi-valued fields from a plain dict too (the edit form's initial state)."""

    def __init__(self, data=None, lists: dict[str, list[str]] | None = None) -> None:
        super().__init__(data)
        self.lists = lists or {}

    def getlist(self, name: str) -> list[str]:
        if name in self.lists:
            return self.lists[name]
        return super().getlist(name)


def initial_form(data: ChallengeData) -> ListForm:
    return ListForm(challenge_form_data(data), lists={
        "need_ids": [str(i) for i in data.need_ids], "issuer_ids": [str(i) for i in data.issuer_ids],
        "allowed_org_types": list(data.allowed_org_types), "allowed_regions": list(data.allowed_regions),
    })


def _plain(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return str(value)


def parse_filters(params, *, public: bool = True) -> tuple[ListFilters, dict[str, str]]:
    """Query parameters of a list page. Bad values are ignored, with a note for the page."""
    form = Form(params)
    statuses = list(PUBLIC_CHALLENGE_STATES) if public else list(ChallengeStatus)
    filters = ListFilters(
        q=form.text("q", max_length=100),
        domain_id=form.integer("domain", min_value=1),
        mechanism=form.choice("mechanism", list(Mechanism), required=False),
        status=form.choice("status", statuses, required=False),
        region=form.choice("region", list(regions.regions()), required=False) or "",
        funding_min=form.decimal("funding_min", min_value=0),
        funding_max=form.decimal("funding_max", min_value=0),
        sort=form.choice("sort", list(SORTS), required=False) or "newest",
    )
    return filters, form.errors

