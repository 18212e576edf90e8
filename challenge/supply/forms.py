"""Parsing the offer form (with its parameter rows), screening, 对接 and the list filters.

Parameter rows are numbered fields `param-0-name`, `param-0-value`, `param-0-unit`... with a
hidden count `param_rows`, as on the challenge form: blank rows are dropped and the "add rows"
button re-renders the form with more, so it works without JavaScript.
"""

from dataclasses import dataclass
from decimal import Decimal

from challenge.supply.models import MAX_PARAMETERS, ContactStatus, IpStatus, Offer, OfferParameter, OfferStatus, TransferMode
from challenge.supply.services import PHONE_RE, OfferContent, OfferFilters, ParameterRow, submission_problems
from challenge.web.forms import MAX_ID, Form, parse_id
from challenge.web.i18n import _

LONG_TEXT = 5000
MAX_AMOUNT = Decimal("999999999.99")
BLANK_ROWS = 2
MORE_ROWS = 3
MIN_ROWS = 3
PARAM_FIELDS = ("name", "value", "unit")


def row_count(form: Form) -> int:
    try:
        return max(0, min(MAX_PARAMETERS, int(form.get("param_rows"))))
    except ValueError:
        return 0


def _has_content(form: Form, i: int) -> bool:
    return any(form.get(f"param-{i}-{name}").strip() for name in PARAM_FIELDS)


def rows_to_render(form: Form, adding: bool = False) -> int:
    filled = sum(1 for i in range(row_count(form)) if _has_content(form, i))
    count = max(row_count(form), filled + BLANK_ROWS, MIN_ROWS) + (MORE_ROWS if adding else 0)
    return min(MAX_PARAMETERS, count)


def parse_parameters(form: Form) -> list[ParameterRow]:
    rows = []
    for i in range(row_count(form)):
        if not _has_content(form, i) or form.boolean(f"param-{i}-remove"):
            continue
        name = form.text(f"param-{i}-name", max_length=200)
        value = form.text(f"param-{i}-value", max_length=100)
        if not name:
            form.error(f"param-{i}-name", _("第 %(n)s 项参数：请填写参数名称", n=len(rows) + 1))
        if not value:
            form.error(f"param-{i}-value", _("第 %(n)s 项参数：请填写参数值", n=len(rows) + 1))
        rows.append(ParameterRow(name=name, value=value, unit=form.text(f"param-{i}-unit", max_length=50)))
    return rows


def parse_offer(form: Form, *, domain_ids: list[int], for_submit: bool) -> OfferContent:
    """Clean the offer form: a draft needs only a name and well-formed values; a submission everything."""
    content = OfferContent(
        name=form.text("name", required=True, max_length=200),
        domain_id=form.choice("domain_id", domain_ids, required=False),
        trl=form.integer("trl", min_value=1, max_value=9),
        summary=form.text("summary", max_length=LONG_TEXT),
        core_process=form.text("core_process", max_length=LONG_TEXT),
        scope=form.text("scope", max_length=LONG_TEXT),
        benefits_text=form.text("benefits_text", max_length=LONG_TEXT),
        energy_saved_tce=form.decimal("energy_saved_tce", min_value=0, max_value=MAX_AMOUNT, places=2),
        co2_reduced_t=form.decimal("co2_reduced_t", min_value=0, max_value=MAX_AMOUNT, places=2),
        cost_wan=form.decimal("cost_wan", min_value=0, max_value=MAX_AMOUNT, places=2),
        ip_status=form.choice("ip_status", [s.value for s in IpStatus], required=False, default=IpStatus.NONE.value) or "none",
        patent_numbers=form.text("patent_numbers", max_length=2000),
        transfer_modes=form.choices("transfer_modes", [m.value for m in TransferMode]),
        contact_name=form.text("contact_name", max_length=100),
        contact_phone=form.text("contact_phone", max_length=30),
        contact_email=form.email("contact_email", required=False),
        parameters=parse_parameters(form),
    )
    if content.contact_phone and not PHONE_RE.match(content.contact_phone):
        form.error("contact_phone", _("请输入有效的电话号码，例如 025-83331234 或 13800000000"))
    if for_submit:
        form.add_errors(submission_problems(content, content.parameters))
    return content


def _plain(value) -> str:
    if value is None:
        return ""
    text = f"{Decimal(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def offer_form_data(offer: Offer, parameters: list[OfferParameter]) -> dict:
    data = {name: getattr(offer, name) or "" for name in ("name", "summary", "core_process", "scope", "benefits_text",
                                                          "patent_numbers", "contact_name", "contact_phone",
                                                          "contact_email")}
    data.update(domain_id=str(offer.domain_id or ""), trl=str(offer.trl or ""), ip_status=offer.ip_status.value,
                energy_saved_tce=_plain(offer.energy_saved_tce), co2_reduced_t=_plain(offer.co2_reduced_t),
                cost_wan=_plain(offer.cost_wan), param_rows=str(len(parameters)))
    for i, row in enumerate(parameters):
        data.update({f"param-{i}-name": row.name, f"param-{i}-value": row.value, f"param-{i}-unit": row.unit})
    return data


class ListForm(Form):
    """A form whose multi-valued fields come from a plain list (the edit form's initial state)."""

    def __init__(self, data=None, lists: dict[str, list[str]] | None = None) -> None:
        super().__init__(data)
        self.lists = lists or {}

    def getlist(self, name: str) -> list[str]:
        return self.lists[name] if name in self.lists else super().getlist(name)


# -- screening, 对接 -------------------------------------------------------------------------------
SCREEN_DECISIONS = {"publish": OfferStatus.PUBLISHED, "return": OfferStatus.RETURNED}
RESPONSES = {"accept": ContactStatus.ACCEPTED, "decline": ContactStatus.DECLINED}
OUTCOMES = {"signed": ContactStatus.SIGNED, "not_pursued": ContactStatus.NOT_PURSUED}


@dataclass
class Decision:
    status: OfferStatus | ContactStatus | None
    note: str


def parse_decision(form: Form, choices: dict, *, note_required_for=(), note_message: str = "") -> Decision:
    raw = form.choice("decision", list(choices))
    status = choices.get(raw) if raw else None
    note = form.text("note", max_length=2000)
    if status in note_required_for and not note:
        form.error("note", note_message)
    return Decision(status=status, note=note)


@dataclass
class ContactInput:
    subject: str  # "need-<id>" or "challenge-<id>"
    message: str


def parse_contact(form: Form, *, subjects: list[str]) -> ContactInput:
    subject = form.choice("subject", subjects)
    message = form.text("message", max_length=2000)
    if not message:
        form.error("message", _("请填写对接说明，成果单位将据此决定是否接受"))
    return ContactInput(subject=subject or "", message=message)


def parse_filters(query) -> OfferFilters:
    filters = OfferFilters(q=query.get("q", "").strip()[:100], domain_id=parse_id(query.get("domain")))
    filters.params = {"q": filters.q, "domain": filters.domain_id or ""}
    return filters
