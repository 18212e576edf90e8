"""Parsing the catalogue's forms: rounds, candidates (with their parameter rows), screening,
the notice, entry adjustments and adoption cases."""

from challenge.reviews import forms as review_forms
from challenge.web.forms import Form, parse_id
from challenge.web.i18n import _

PARAMETER_ROWS = 8  # blank rows offered on a form (more come back after each save)
RUBRIC_ROWS = 6  # rows offered for a round's technical evaluation rubric
MAX_RUBRIC_ROWS = 20


def parameter_rows(parameters: list[dict], extra: int = 3) -> list[int]:
    return list(range(max(len(parameters) + extra, PARAMETER_ROWS)))


def parameter_data(parameters: list[dict]) -> dict[str, str]:
    """A candidate's or entry's parameters as form fields."""
    data = {}
    for i, row in enumerate(parameters):
        for key in ("name", "value", "unit"):
            data[f"param-{i}-{key}"] = row.get(key, "")
    return data


def parse_parameters(form: Form) -> list[dict]:
    rows = []
    for i in range(50):
        name = form.get(f"param-{i}-name").strip()
        value = form.get(f"param-{i}-value").strip()
        unit = form.get(f"param-{i}-unit").strip()
        if not (name or value or unit):
            continue
        if not name or not value:
            form.error("parameters", _("第 %(n)s 行参数须同时填写名称和数值", n=i + 1))
        elif max(len(name), len(value), len(unit)) > 100:
            form.error("parameters", _("第 %(n)s 行参数过长（每项不超过 100 个字）", n=i + 1))
        rows.append({"name": name, "value": value, "unit": unit})
    return rows


def rubric_data(rubric: list[dict]) -> dict[str, str]:
    """A round's rubric as form fields."""
    data = {}
    for i, row in enumerate(rubric):
        data.update({f"rubric-{i}-name": row["name"], f"rubric-{i}-weight": str(row["weight"]),
                     f"rubric-{i}-guidance": row.get("guidance", "")})
    return data


def rubric_rows(form: Form) -> list[int]:
    filled = [i for i in range(MAX_RUBRIC_ROWS) if form.get(f"rubric-{i}-name").strip()]
    return list(range(min(max(RUBRIC_ROWS, (filled[-1] + 2) if filled else 0), MAX_RUBRIC_ROWS)))


def parse_rubric(form: Form) -> list[dict] | None:
    """The rubric's rows (name, weight in percent, guidance; scored out of 100); None when the form
    has no rubric rows at all (the round then takes the default rubric)."""
    if not any(key.startswith("rubric-") for key in form.data):
        return None
    rows = []
    for i in range(MAX_RUBRIC_ROWS):
        name = form.get(f"rubric-{i}-name").strip()
        weight = form.get(f"rubric-{i}-weight").strip()
        guidance = form.get(f"rubric-{i}-guidance").strip()
        if not (name or weight or guidance):
            continue
        if not name or not 1 <= (parse_id(weight) or 0) <= 100:
            form.error("rubric", _("第 %(n)s 行评价要素须填写名称和 1 到 100 之间的权重", n=i + 1))
        elif len(name) > 200 or len(guidance) > 2000:
            form.error("rubric", _("第 %(n)s 行评价要素过长", n=i + 1))
        else:
            rows.append({"name": name, "weight": int(weight), "max_score": 100, "guidance": guidance})
    return rows


def parse_round(form: Form, domain_ids: list[int]) -> dict:
    return {"year": form.integer("year", required=True, min_value=2000, max_value=2100),
            "title": form.text("title", required=True, max_length=200),
            "conditions": form.text("conditions", required=True, max_length=5000),
            "deadline": form.datetime_local("deadline", required=True),
            "domain_ids": [int(v) for v in form.choices("domains", domain_ids, required=True)],
            "rubric": parse_rubric(form)}


def parse_candidate(form: Form, domain_ids: list[int]) -> dict:
    domain = form.choice("domain", domain_ids)
    return {"name": form.text("name", required=True, max_length=200),
            "domain_id": int(domain) if domain is not None else None,
            "scope": form.text("scope", required=True, max_length=5000),
            "core_process": form.text("core_process", required=True, max_length=5000),
            "benefits": form.text("benefits", required=True, max_length=5000),
            "parameters": parse_parameters(form)}


def parse_screen(form: Form) -> dict:
    outcome = form.choice("eligible", ["yes", "no"])
    return {"eligible": None if outcome is None else outcome == "yes", "note": form.text("note", max_length=5000)}


def parse_panel(form: Form, expert_ids: list[int]) -> dict:
    data = review_forms.parse_panel(form, expert_ids, [])
    data.pop("stage_id", None)
    data["blind_review"] = form.boolean("blind")
    return data


def parse_notice(form: Form, candidate_ids: list[int]) -> dict:
    return {"recommended_ids": [int(v) for v in form.choices("recommended", candidate_ids, required=True)],
            "working_days": form.integer("working_days", required=True, min_value=1, max_value=30),
            "starts_on": form.date("starts_on", required=True)}


def parse_adjustment(form: Form) -> dict:
    return {"name": form.text("name", required=True, max_length=200),
            "scope": form.text("scope", required=True, max_length=5000),
            "core_process": form.text("core_process", required=True, max_length=5000),
            "benefits": form.text("benefits", required=True, max_length=5000),
            "parameters": parse_parameters(form), "reason": form.text("reason", required=True, max_length=2000)}


def parse_case(form: Form) -> dict:
    return {"organisation": form.text("organisation", required=True, max_length=200),
            "place": form.text("place", required=True, max_length=200),
            "adopted_on": form.date("adopted_on", required=True),
            "scale": form.text("scale", required=True, max_length=200),
            "effect": form.text("effect", required=True, max_length=5000)}
