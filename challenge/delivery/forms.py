"""Parsing and validation of the delivery forms: what the team hands in, the organiser's
decisions, tranches, review panels and results."""

from datetime import date
from decimal import Decimal

from challenge.delivery.acceptance import GENERAL_FILES, evidence_category
from challenge.delivery.models import Outcome
from challenge.reviews import forms as review_forms
from challenge.reviews.models import PROJECT_PURPOSES, PanelPurpose
from challenge.web.forms import Form, parse_ids
from challenge.web.i18n import _

MAX_WAN = Decimal("10000000")


def removed_files(form: Form) -> list[int]:
    """The attachments the team ticked to remove (`remove_file` checkboxes with their ids)."""
    return parse_ids(form.getlist("remove_file"))


def parse_deliverable(form: Form) -> str:
    return form.text("report", required=True, max_length=20000)


def parse_report(form: Form) -> str:
    return form.text("text", required=True, max_length=20000)


def parse_decision(form: Form) -> tuple[bool, str]:
    decision = form.choice("decision", ["accept", "return"])
    reason = form.text("reason", max_length=2000)
    if decision == "return" and not reason:
        form.error("reason", _("请说明需要补充的内容，团队将看到这段说明"))
    return decision == "accept", reason


def parse_tranche(form: Form, milestone_ids: list[int]) -> dict:
    return {
        "milestone_id": form.choice("milestone", milestone_ids, required=False),
        "planned_wan": form.decimal("planned_wan", required=True, min_value=Decimal("0.01"), max_value=MAX_WAN),
        "planned_on": form.date("planned_on", required=True),
        "note": form.text("note", max_length=500),
    }


def parse_release(form: Form) -> dict:
    return {
        "released_wan": form.decimal("released_wan", required=True, min_value=Decimal("0.01"), max_value=MAX_WAN),
        "released_on": form.date("released_on", required=True),
    }


def parse_acceptance(form: Form, target_ids: list[int]) -> tuple[str, dict[int, tuple[str, str]]]:
    summary = form.text("summary", required=True, max_length=20000)
    values = {}
    for target_id in target_ids:
        values[target_id] = (form.text(f"target-{target_id}-value", required=True, max_length=200),
                             form.text(f"target-{target_id}-note", max_length=1000))
    return summary, values


def acceptance_categories(target_ids: list[int]) -> dict[str, str]:
    """Upload field -> attachment category: a target's evidence, or the report's general files."""
    fields = {f"file-target-{target_id}": evidence_category(target_id) for target_id in target_ids}
    fields["file-summary"] = GENERAL_FILES
    return fields


def purpose_choices() -> list[tuple[str, str]]:
    return [(p.value, p.label) for p in PanelPurpose if p in PROJECT_PURPOSES]


def parse_review_panel(form: Form, expert_ids: list[int]) -> dict:
    data = review_forms.parse_panel(form, expert_ids, [])
    data.pop("stage_id", None)
    purpose = form.choice("purpose", [p.value for p in PROJECT_PURPOSES])
    data["purpose"] = PanelPurpose(purpose) if purpose else None
    data["blind_review"] = form.boolean("blind")
    return data


def parse_result(form: Form) -> dict:
    outcome = form.choice("outcome", [o.value for o in Outcome])
    rectify_by: date | None = form.date("rectify_by", required=outcome == Outcome.RECTIFY.value)
    return {"outcome": Outcome(outcome) if outcome else None,
            "opinion": form.text("opinion", required=True, max_length=5000), "rectify_by": rectify_by}
