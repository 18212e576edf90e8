"""Parsing the results forms: the decision, the notice period, an objection, an answer."""

from datetime import date

from challenge.results import objections, services, workdays
from challenge.results.models import Remedy
from challenge.web.forms import Form

OUTCOME_FIELD = "outcome-{}"
REASON_FIELD = "reason-{}"


def parse_decision(form: Form, bid_ids: list[int]) -> tuple[dict[int, bool], dict[int, str]]:
    """Per bid: the radio `outcome-<id>` ("1" proposed / goes on, "0" not) and `reason-<id>`."""
    selected, reasons = {}, {}
    for bid_id in bid_ids:
        choice = form.choice(OUTCOME_FIELD.format(bid_id), ["1", "0"])
        if choice is not None:
            selected[bid_id] = choice == "1"
        reasons[bid_id] = form.text(REASON_FIELD.format(bid_id), max_length=services.REASON_MAX)
    return selected, reasons


def parse_period(form: Form) -> tuple[int | None, date | None]:
    days = form.integer("working_days", required=True, min_value=1, max_value=workdays.MAX_WORKING_DAYS)
    return days, form.date("starts_on", required=True)


def parse_objection(form: Form) -> dict:
    return {
        "real_name": form.text("real_name", required=True, max_length=50),
        "contact": form.text("contact", required=True, max_length=200),
        "reasons": form.text("reasons", required=True, max_length=objections.REASONS_MAX),
    }


def parse_answer(form: Form) -> dict:
    outcome = form.choice("outcome", ["upheld", "dismissed"])
    remedy = form.choice("remedy", list(Remedy), required=False)  # the service says when it is needed
    return {
        "upheld": None if outcome is None else outcome == "upheld",
        "answer": form.text("answer", required=True, max_length=objections.ANSWER_MAX),
        "remedy": remedy,
    }
