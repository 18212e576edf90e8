"""What an expert of a delivery panel reviews (registered with `reviews.subjects`): a team's
deliverable for the panel's stage, a project's progress for a mid-term review, its acceptance
report for an acceptance. Blind panels see the team's names masked and neutral file names."""

from dataclasses import dataclass, field

from challenge.bids.models import Bid
from challenge.challenges.models import Challenge, Stage
from challenge.delivery import receipts
from challenge.delivery.models import (
    DeliveryVersion,
    ProgressReport,
    Project,
    ProjectMilestone,
    ProjectReview,
    StageDeliverable,
    VersionKind,
)
from challenge.delivery.projects import MilestoneState, milestone_state, today
from challenge.reviews import blind as blinding
from challenge.reviews import queries, subjects
from challenge.reviews.models import Panel, PanelPurpose


@dataclass
class DeliverableView:
    stage: Stage
    version: DeliveryVersion | None
    report: str


@dataclass
class MilestoneRow:
    milestone: ProjectMilestone
    state: MilestoneState
    report: ProgressReport | None
    version: DeliveryVersion | None
    text: str
    files: list[queries.FileView] = field(default_factory=list)


@dataclass
class AcceptanceView:
    round: int
    version: DeliveryVersion | None
    summary: str
    targets: list[dict]  # name, target value, committed, achieved, note, files
    general: list[queries.FileView] = field(default_factory=list)


def _cleaner(names, is_blind: bool):
    return (lambda text: names.mask(text or "")) if is_blind else (lambda text: text or "")


def _neutral(entries: list[dict]) -> list[dict]:
    """A target's evidence is named as evidence, the rest as the report's files."""
    return [{**entry, "category": "evidence" if entry["category"].startswith("target-") else "report"}
            for entry in entries]


async def stage_subject(*, panel: Panel, challenge: Challenge, bid: Bid, code: str, is_blind: bool
                        ) -> subjects.Subject:
    stage = await Stage.get(id=panel.stage_id)
    deliverable = await StageDeliverable.get_or_none(stage_id=stage.id, bid_id=bid.id)
    version = (await receipts.latest(VersionKind.DELIVERABLE, [deliverable.id])).get(deliverable.id) \
        if deliverable else None
    content = receipts.content_of(version) or {"report": "", "attachments": []}
    clean = _cleaner(await queries.party_names(bid) if is_blind else None, is_blind)
    view = DeliverableView(stage=stage, version=version, report=clean(content["report"]))
    return subjects.Subject(template="delivery/_subject_stage.html", label=blinding.label(code),
                            title=clean(bid.title), blind=is_blind, view=view,
                            files=queries.file_list(content, code=code, is_blind=is_blind))


async def progress_subject(*, panel: Panel, challenge: Challenge, bid: Bid, code: str, is_blind: bool
                           ) -> subjects.Subject:
    review = await ProjectReview.get(panel_id=panel.id).select_related("project")
    project: Project = review.project
    milestones = await ProjectMilestone.filter(project_id=project.id).order_by("position", "id")
    reports = {r.milestone_id: r for r in await ProgressReport.filter(project_id=project.id)}
    versions = await receipts.latest(VersionKind.REPORT, [r.id for r in reports.values()])
    clean = _cleaner(await queries.party_names(bid) if is_blind else None, is_blind)
    rows, entries = [], []
    for milestone in milestones:
        report = reports.get(milestone.id)
        version = versions.get(report.id) if report else None
        content = receipts.content_of(version) or {"text": "", "attachments": []}
        start = len(entries)
        entries += _neutral(content["attachments"])
        rows.append(MilestoneRow(milestone=milestone, report=report, version=version, text=clean(content["text"]),
                                 state=milestone_state(milestone, report.status if report else None, today())))
        rows[-1].files = list(range(start, len(entries)))
    files = queries.file_list({"attachments": entries}, code=code, is_blind=is_blind)
    for row in rows:
        row.files = [files[i] for i in row.files]
    return subjects.Subject(template="delivery/_subject_progress.html", label=blinding.label(code),
                            title=clean(project.title), blind=is_blind, view=rows, files=files)


async def acceptance_subject(*, panel: Panel, challenge: Challenge, bid: Bid, code: str, is_blind: bool
                             ) -> subjects.Subject:
    review = await ProjectReview.get(panel_id=panel.id).select_related("project")
    version = (await receipts.latest(VersionKind.ACCEPTANCE, [review.acceptance_report_id])).get(
        review.acceptance_report_id)
    content = receipts.content_of(version)
    clean = _cleaner(await queries.party_names(bid) if is_blind else None, is_blind)
    files = queries.file_list({"attachments": _neutral(content["attachments"])}, code=code, is_blind=is_blind)
    by_blob = {f.blob_id: f for f in files}
    targets = [{"name": row["name"], "target": f"{row['target_value']} {row['unit']}".strip(),
                "verification": row["verification"], "committed": clean(row["committed_value"]),
                "achieved": clean(row["achieved_value"]), "note": clean(row["note"]),
                "files": [by_blob[e["blob_id"]] for e in row["evidence"]]} for row in content["targets"]]
    evidence = {e["blob_id"] for row in content["targets"] for e in row["evidence"]}
    view = AcceptanceView(round=content["round"], version=version, summary=clean(content["summary"]),
                          targets=targets, general=[f for f in files if f.blob_id not in evidence])
    return subjects.Subject(template="delivery/_subject_acceptance.html", label=blinding.label(code),
                            title=clean(review.project.title), blind=is_blind, view=view, files=files)


subjects.LOADERS.update({PanelPurpose.STAGE: stage_subject, PanelPurpose.MIDTERM: progress_subject,
                         PanelPurpose.ACCEPTANCE: acceptance_subject})
