"""Every audit action the code records has a label (Chinese, with its English translation).

The code is read, not run: each `record(..., action=...)` call and each `action=` given to a
status writer. A literal action must be listed; an f-string action (`f"bid.{status.value}"`)
stands for every value of the status it is built from, all of which must be listed; a new kind of
f-string or a new status writer fails here until this test learns it."""

import ast
import warnings
from pathlib import Path

import pytest

from challenge.accounts.models import MembershipStatus
from challenge.audit import labels
from challenge.audit import services as audit
from challenge.bids.models import BidStatus
from challenge.challenges.models import ChallengeStatus
from challenge.delivery.models import ProjectStatus, ReportStatus
from challenge.promotion.models import CandidateStatus, EntryStatus, RoundStatus
from challenge.reviews.models import AssignmentStatus, PanelStatus
from challenge.results.models import NoticeStatus, ObjectionStatus
from challenge.web.i18n import in_locale

ROOT = Path(__file__).resolve().parents[2] / "challenge"
# An f-string action's prefix, and the statuses its placeholder takes.
FAMILIES = {
    "bid.": BidStatus, "challenge.": ChallengeStatus, "membership.": MembershipStatus, "panel.": PanelStatus,
    "review.": AssignmentStatus, "notice.": NoticeStatus, "objection.": ObjectionStatus, "project.": ProjectStatus,
    "report.": ReportStatus, "catalogue_round.": RoundStatus, "catalogue_candidate.": CandidateStatus,
    "catalogue_entry.": EntryStatus,
}
# Status writers whose `action=` is the suffix of the action they record, and its prefix.
WRITERS = {"set_bid_status": "bid.", "set_assignment_status": "review.", "set_report_status": "report.",
           "set_password": ""}
# f-strings given as `action=` to a writer: "stage_{status.value}" → bid.stage_<status>. A stage
# gate and an announcement settle a bid as going on, winning or not selected, nothing else.
SETTLED = [BidStatus.ADVANCED, BidStatus.WINNER, BidStatus.NOT_SELECTED]
WRITER_FAMILIES = {("set_bid_status", "stage_"): SETTLED, ("set_bid_status", "announce_"): SETTLED}


# Calls whose `action=` is not an action being recorded (a query on the log, an argparse option).
QUERIES = {"add_argument", "filter", "exclude", "get_or_none"}


def _name(call: ast.Call) -> str:
    return call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")


def _constants(node: ast.expr) -> list[str]:
    """The literal strings an expression can be: "a", "a" if x else "b", x or "a"."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _constants(node.body) + _constants(node.orelse)
    return []


def _prefix(node: ast.JoinedStr) -> str:
    first = node.values[0]
    return first.value if isinstance(first, ast.Constant) else ""


def recorded_actions() -> tuple[set[str], list[str]]:
    actions: set[str] = set()
    unknown: list[str] = []
    for path in ROOT.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assigned: dict[str, list[str]] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                found = _constants(node.value)
                if isinstance(node.value, ast.Dict):  # ACTIONS = {status: "offer.publish", ...}
                    found = [c for v in node.value.values if v is not None for c in _constants(v)]
                assigned.setdefault(node.targets[0].id, []).extend(found)
            if isinstance(node, ast.Dict):  # {status: "need.submit", ...} tables of actions
                for value in node.values:
                    if value is not None:
                        assigned.setdefault("action", []).extend(
                            v for v in _constants(value) if "." in v and " " not in v)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = _name(node)
            for keyword in node.keywords:
                if keyword.arg != "action":
                    continue
                value = keyword.value
                where = f"{path.relative_to(ROOT.parent)}:{node.lineno}"
                if name == "record":
                    if isinstance(value, ast.JoinedStr):
                        family = FAMILIES.get(_prefix(value))
                        if family is None:
                            unknown.append(f"{where}: f-string action with prefix {_prefix(value)!r}")
                        else:
                            actions.update(_prefix(value) + s.value for s in family)
                    elif isinstance(value, ast.Name):
                        actions.update(assigned.get(value.id, []))
                    elif isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name) \
                            and assigned.get(value.value.id):  # action=ACTIONS[status]
                        actions.update(assigned[value.value.id])
                    else:
                        found = _constants(value)
                        if not found:
                            unknown.append(f"{where}: action {ast.unparse(value)}")
                        actions.update(found)
                elif name in WRITERS:
                    prefix = WRITERS[name]
                    if isinstance(value, ast.JoinedStr):
                        family = WRITER_FAMILIES.get((name, _prefix(value)))
                        if family is None:
                            unknown.append(f"{where}: f-string action {ast.unparse(value)}")
                        else:
                            actions.update(prefix + _prefix(value) + s.value for s in family)
                    elif isinstance(value, ast.Name):
                        actions.update(prefix + v for v in assigned.get(value.id, []))
                    else:
                        actions.update(prefix + v for v in _constants(value))
                elif isinstance(value, (ast.Constant, ast.JoinedStr)) and name not in QUERIES:
                    unknown.append(f"{where}: action= given to {name}(), unknown to this test")
    return actions, unknown


def test_every_recorded_action_has_a_label():
    actions, unknown = recorded_actions()
    assert not unknown, "teach tests/audit/test_labels.py these:\n" + "\n".join(unknown)
    assert len(actions) > 80  # the scan does find the calls
    assert {"need.accept", "bid.formal_fail", "bid.stage_advanced", "challenge.published", "user.password_reset",
            "campaign.open", "review.reopen", "report.accept"} <= actions
    missing = sorted(actions - set(labels.LABELS))
    assert not missing, f"actions without a label in challenge/audit/labels.py: {missing}"


def test_labels_are_translated():
    with in_locale("en"):
        untranslated = [action for action, message in labels.LABELS.items() if labels.label(action) == message]
    assert not untranslated
    assert labels.label("no.such_action") == "no.such_action"


async def test_recording_an_unlabelled_action_warns(db):
    with pytest.warns(audit.UnlabelledAction):
        await audit.record(actor=None, action="need.teleport", object_type="need", object_id=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        await audit.record(actor=None, action="need.accept", object_type="need", object_id=1)
