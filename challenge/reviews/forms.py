"""Parsing and validation of the review forms."""

from decimal import Decimal

from challenge.accounts.credit_code import is_valid, normalise
from challenge.reviews.models import Availability, ConflictKind
from challenge.web.forms import Form
from challenge.web.i18n import gettext as _

MAX_COMMENT = 2000
MAX_OPINION = 5000


def _credit_code(form: Form) -> str:
    code = normalise(form.text("credit_code", max_length=30))
    if code and not is_valid(code):
        form.error("credit_code", _("统一社会信用代码无效：应为 18 位，且校验位正确（GB 32100-2015）"))
    return code


def parse_invitation(form: Form) -> dict:
    return {
        "email": form.email("email"),
        "name": form.text("name", required=True, max_length=100),
        "organisation_name": form.text("organisation_name", max_length=200),
        "title": form.text("title", max_length=100),
    }


def parse_profile(form: Form, domain_ids: list[int]) -> dict:
    code = _credit_code(form)
    return {
        "organisation_name": form.text("organisation_name", max_length=200),
        "credit_code": code,
        "title": form.text("title", max_length=100),
        "keywords": form.text("keywords", max_length=500),
        "bio": form.text("bio", max_length=2000),
        "availability": form.choice("availability", list(Availability)) or Availability.AVAILABLE,
        "domain_ids": [int(v) for v in form.choices("domains", domain_ids)],
    }


def parse_declaration(form: Form, organisation_ids: list[int]) -> dict:
    kind = form.choice("kind", list(ConflictKind))
    organisation_id = form.choice("organisation_id", organisation_ids, required=False)
    code = _credit_code(form)
    email = form.email("email", required=False)
    return {
        "kind": kind,
        "organisation_id": organisation_id if kind == ConflictKind.ORGANISATION else None,
        "name": form.text("name", max_length=200),
        "credit_code": code if kind == ConflictKind.ORGANISATION else "",
        "email": email if kind == ConflictKind.PERSON else "",
        "reason": form.text("reason", max_length=500),
    }


def parse_scores(form: Form, criteria) -> tuple[dict[int, Decimal | None], dict[int, str], str, bool]:
    """Scores (None when left empty), comments, the overall opinion, and whether to submit."""
    values, comments = {}, {}
    submit = form.get("action") == "submit"
    for criterion in criteria:
        name = f"score_{criterion.id}"
        values[criterion.id] = form.decimal(name, required=submit, min_value=0, max_value=criterion.max_score,
                                            places=2)
        comments[criterion.id] = form.text(f"comment_{criterion.id}", max_length=MAX_COMMENT)
    opinion = form.text("opinion", max_length=MAX_OPINION, required=submit)
    return values, comments, opinion, submit


JUDGEMENTS = {"met": True, "not_met": False}


def judgement_choices() -> list[tuple[str, str]]:
    return [("met", _("达到")), ("not_met", _("未达到"))]


def parse_judgements(form: Form, targets, submit: bool) -> tuple[dict[int, bool | None], dict[int, str]]:
    """Each target judged met or not met (None when left open), with a note."""
    judged, notes = {}, {}
    for target in targets:
        choice = form.choice(f"judge_{target.id}", list(JUDGEMENTS), required=submit)
        judged[target.id] = JUDGEMENTS.get(choice) if choice else None
        notes[target.id] = form.text(f"judge_note_{target.id}", max_length=500)
    return judged, notes


def _deputy(form: Form, expert_ids: list[int], members: list[int], chair) -> int | None:
    deputy = form.choice("deputy", expert_ids, required=False)
    if deputy is None:
        return None
    if members and int(deputy) not in members:
        form.error("deputy", _("副组长须是专家组成员"))
    elif chair is not None and int(deputy) == int(chair):
        form.error("deputy", _("副组长不能由组长兼任"))
    return int(deputy)


def parse_panel(form: Form, expert_ids: list[int], stage_ids: list[int]) -> dict:
    members = [int(v) for v in form.choices("members", expert_ids, required=True)]
    chair = form.choice("chair", expert_ids)
    if chair is not None and members and int(chair) not in members:
        form.error("chair", _("组长须是专家组成员"))
    return {
        "name": form.text("name", required=True, max_length=200),
        "stage_id": form.choice("stage", stage_ids, required=False),
        "member_ids": members,
        "chair_id": int(chair) if chair is not None else None,
        "deputy_id": _deputy(form, expert_ids, members, chair),
        "due_at": form.datetime_local("due_at"),
        "dispersion_threshold": form.decimal("dispersion_threshold", required=True, min_value=0, max_value=100,
                                             places=2),
    }


def parse_members(form: Form, expert_ids: list[int]) -> dict:
    members = [int(v) for v in form.choices("members", expert_ids, required=True)]
    chair = form.choice("chair", expert_ids)
    if chair is not None and members and int(chair) not in members:
        form.error("chair", _("组长须是专家组成员"))
    return {"member_ids": members, "chair_id": int(chair) if chair is not None else None,
            "deputy_id": _deputy(form, expert_ids, members, chair)}
