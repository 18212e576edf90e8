"""Mid-term review and acceptance (中期评估与验收) of a project, through the review machinery.

The team files an acceptance report for the current round: the achieved value of every
assessment target with its evidence, a version with its receipt. The organiser forms a panel
(reviews area: conflicts from the consortium, optional blind review, rubric, trimmed mean,
ranking checks); for an acceptance its experts also judge every target met or not met. Once the
chair has recorded the panel's opinion, the organiser records the result (通过 / 限期整改 / 不通过):
an acceptance result is published (challenge page, /results, feeds) and the project closes or,
for 限期整改, gets a deadline and a new round of acceptance.
"""

from datetime import date, datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from challenge.accounts.models import User
from challenge.audit.services import record
from challenge.bids.models import Bid
from challenge.challenges.models import AssessmentTarget, Challenge, ChallengeStatus
from challenge.delivery import permissions, receipts
from challenge.delivery.models import (
    OPEN_PROJECT_STATES,
    AcceptanceReport,
    AchievedValue,
    DeliveryVersion,
    Outcome,
    Project,
    ProjectReview,
    ProjectStatus,
    ReviewResult,
    VersionKind,
)
from challenge.delivery.projects import project_link, set_project_status, today
from challenge.errors import DomainError, InvalidTransition, PermissionDenied
from challenge.mail.services import notify
from challenge.reviews import judgements, panels
from challenge.reviews import services as reviews
from challenge.reviews.models import PROJECT_PURPOSES, Panel, PanelPurpose, PanelStatus
from challenge.reviews.queries import review_content
from challenge.web.i18n import _
from challenge.web.timefmt import format_date, now_utc

SUMMARY_MAX = 20000
VALUE_MAX = 200
NOTE_MAX = 1000
OPINION_MAX = 5000
GENERAL_FILES = "summary"


def evidence_category(target_id: int) -> str:
    return f"target-{target_id}"


def result_link(result: ReviewResult) -> str:
    return f"/delivery/results/{result.id}"


# -- the acceptance report ------------------------------------------------------------------------

async def current_report(project: Project) -> AcceptanceReport | None:
    return await AcceptanceReport.get_or_none(project_id=project.id, round=project.acceptance_round)


async def under_review(report: AcceptanceReport | None) -> bool:
    return report is not None and await ProjectReview.exists(acceptance_report_id=report.id)


async def submit_acceptance(*, project: Project, actor: User, summary: str, values: dict[int, tuple[str, str]],
                            uploads: list = (), remove_ids: list[int] = (), storage=None,
                            now: datetime | None = None) -> DeliveryVersion:
    """File (or revise, until its review starts) the acceptance report of the current round.

    `values`: target id -> (achieved value, note), required for every target; `uploads`:
    (category, upload) pairs, the category `target-<id>` for a target's evidence or `summary`.
    Refused, nothing saved, for anyone but the team, a project no longer running, a report under
    review, a missing value. Audit `acceptance.submit` with the receipt; the organisers are told.
    """
    uploads = list(uploads)
    now = now or now_utc()
    targets = list(await AssessmentTarget.filter(challenge_id=project.challenge_id).order_by("position", "id"))
    try:
        bid = await Bid.get(id=project.bid_id).select_related("lead_org")
        await _check_acceptance(project, bid, actor, summary, values, targets)
    except DomainError:
        await receipts.discard(uploads)
        raise
    files = await receipts.store(storage, uploads)
    committed = await _committed_values(bid)
    async with in_transaction():
        report = await _locked_report(project)
        if await under_review(report):
            raise InvalidTransition(_("验收评审已开始，验收报告不能再修改"))
        attachments = await receipts.replace_files(report, actor, files, list(remove_ids))
        report.summary = summary.strip()
        await _save_values(report, targets, values)
        version = await receipts.freeze(kind=VersionKind.ACCEPTANCE, owner=report, actor=actor, now=now, content={
            "project": {"id": project.id, "number": project.number, "title": project.title},
            "round": report.round,
            "summary": report.summary,
            "targets": [{"target_id": t.id, "name": t.name, "target_value": t.target_value, "unit": t.unit,
                         "verification": t.verification, "committed_value": committed.get(t.id, ""),
                         "achieved_value": values[t.id][0].strip(), "note": values[t.id][1].strip(),
                         "evidence": receipts.file_entries([a for a in attachments
                                                            if a.category == evidence_category(t.id)])}
                        for t in targets],
            "attachments": receipts.file_entries(attachments),
        })
        await report.save(update_fields=["summary", "current_version", "submitted_at"])
        await record(actor=actor, action="acceptance.submit", obj=report,
                     after={"project_id": project.id, "round": report.round, "version": version.version,
                            "sha256": version.sha256})
        for organiser in await User.filter(is_organiser=True, is_active=True):
            await notify(user=organiser, email=False,
                         subject=lambda: _("验收报告已提交：%(title)s", title=project.title),
                         body=lambda: _("第 %(round)s 轮验收报告（第 %(v)s 版）已提交，可组建验收专家组。",
                                        round=report.round, v=version.version),
                         link=project_link(project) + "#acceptance")
    return version


async def _check_acceptance(project: Project, bid: Bid, actor: User, summary: str,
                            values: dict[int, tuple[str, str]], targets: list[AssessmentTarget]) -> None:
    if not permissions.is_team(actor, bid):
        raise PermissionDenied(_("只有本项目团队（牵头单位的揭榜方用户）可以提交验收报告"))
    if project.status not in OPEN_PROJECT_STATES:
        raise InvalidTransition(_("项目当前状态为“%(s)s”，不再接受验收报告", s=project.status.label))
    if await under_review(await current_report(project)):
        raise InvalidTransition(_("验收评审已开始，验收报告不能再修改"))
    errors = {}
    if not summary.strip():
        errors["summary"] = _("请填写验收总结")
    elif len(summary) > SUMMARY_MAX:
        errors["summary"] = _("不能超过 %(n)s 个字", n=SUMMARY_MAX)
    for target in targets:
        value, note = values.get(target.id, ("", ""))
        if not value.strip():
            errors[f"target-{target.id}-value"] = _("请填写“%(name)s”的实测值", name=target.name)
        elif len(value) > VALUE_MAX:
            errors[f"target-{target.id}-value"] = _("不能超过 %(n)s 个字", n=VALUE_MAX)
        if len(note) > NOTE_MAX:
            errors[f"target-{target.id}-note"] = _("不能超过 %(n)s 个字", n=NOTE_MAX)
    if errors:
        raise DomainError(_("验收报告未提交，请先解决以下问题"), errors=errors)


async def _committed_values(bid: Bid) -> dict[int, str]:
    """What the bid committed to for each target, as last submitted."""
    _version, content = await review_content(bid)
    return {row["target_id"]: row.get("committed_value", "") for row in content.get("targets", [])
            if row.get("target_id") is not None}


async def _locked_report(project: Project) -> AcceptanceReport:
    existing = await AcceptanceReport.filter(project_id=project.id, round=project.acceptance_round) \
        .select_for_update().first()
    if existing is not None:
        return existing
    try:
        async with in_transaction():
            return await AcceptanceReport.create(project=project, round=project.acceptance_round)
    except IntegrityError:
        return await AcceptanceReport.filter(project_id=project.id, round=project.acceptance_round) \
            .select_for_update().get()


async def _save_values(report: AcceptanceReport, targets: list[AssessmentTarget],
                       values: dict[int, tuple[str, str]]) -> None:
    await AchievedValue.filter(report_id=report.id).delete()
    await AchievedValue.bulk_create([
        AchievedValue(report_id=report.id, target_id=t.id, value=values[t.id][0].strip(), note=values[t.id][1].strip())
        for t in targets
    ])


# -- the review panel -----------------------------------------------------------------------------

async def form_review(*, project: Project, purpose: PanelPurpose, actor: User, name: str, member_ids: list[int],
                      chair_id: int | None, deputy_id: int | None, due_at, dispersion_threshold,
                      blind_review: bool) -> ProjectReview:
    """A mid-term or acceptance panel for the project, through the reviews area's panel rules.

    An acceptance needs the current round's report; a project has one acceptance panel per round
    and one mid-term panel at a time without its result. Audit `project.review`."""
    if actor is None or not actor.is_organiser:
        raise PermissionDenied(_("只有管理员可以组建专家组"))
    if purpose not in PROJECT_PURPOSES:
        raise DomainError(_("请选择评审类型"), field="purpose")
    challenge = await Challenge.get(id=project.challenge_id)
    if project.status not in OPEN_PROJECT_STATES or challenge.status != ChallengeStatus.DELIVERING:
        raise InvalidTransition(_("项目当前状态为“%(s)s”，不能组建专家组", s=project.status.label))
    report = None
    if purpose == PanelPurpose.ACCEPTANCE:
        report = await current_report(project)
        if report is None or not report.current_version:
            raise InvalidTransition(_("团队尚未提交第 %(round)s 轮验收报告", round=project.acceptance_round),
                                    field="purpose")
        if await under_review(report):
            raise InvalidTransition(_("第 %(round)s 轮验收已组建专家组", round=project.acceptance_round),
                                    field="purpose")
    elif await _open_midterm(project):
        raise InvalidTransition(_("本项目的中期评估尚未作出结论"), field="purpose")
    bid = await Bid.get(id=project.bid_id)
    async with in_transaction():
        panel = await panels.form_panel(
            challenge=challenge, purpose=purpose, stage=None, bids=[bid], name=name, member_ids=member_ids,
            chair_id=chair_id, deputy_id=deputy_id, due_at=due_at, dispersion_threshold=dispersion_threshold,
            actor=actor, blind_review=blind_review)
        review = await ProjectReview.create(project=project, panel=panel, acceptance_report=report,
                                            round=project.acceptance_round)
        await record(actor=actor, action="project.review", obj=project,
                     after={"panel_id": panel.id, "purpose": purpose.value, "round": review.round})
    return review


async def _open_midterm(project: Project) -> bool:
    ids = await ProjectReview.filter(project_id=project.id, panel__purpose=PanelPurpose.MIDTERM).values_list(
        "id", flat=True)
    return len(ids) > await ReviewResult.filter(review_id__in=list(ids) or [0]).count()


# -- the result -----------------------------------------------------------------------------------

def _result_errors(outcome: Outcome | None, opinion: str, rectify_by: date | None, now: datetime) -> dict:
    errors = {}
    if outcome is None:
        errors["outcome"] = _("请选择评审结论")
    if not opinion.strip():
        errors["opinion"] = _("请填写专家组意见（将随结论一并通知，验收结论还将公开）")
    elif len(opinion) > OPINION_MAX:
        errors["opinion"] = _("不能超过 %(n)s 个字", n=OPINION_MAX)
    if outcome == Outcome.RECTIFY and (rectify_by is None or rectify_by <= today(now)):
        errors["rectify_by"] = _("限期整改须给出今天以后的整改期限")
    return errors


async def record_result(*, review: ProjectReview, actor: User, outcome: Outcome | None, opinion: str,
                        rectify_by: date | None = None, now: datetime | None = None) -> ReviewResult:
    """The organiser's result of a concluded mid-term or acceptance review.

    Acceptance: 通过 → the project is accepted; 限期整改 → rectifying until `rectify_by`, with a new
    round of acceptance; 不通过 → failed. The result is published and each target's verdict (met
    by the majority of the experts' judgements) kept with the achieved value. Mid-term: 通过 →
    the project goes on (a rectifying one is active again); 限期整改 → rectifying; 不通过 → the
    project is terminated. Audit `review.result`; the team (and, for an acceptance, the issuing
    organisations) are told in their language.
    """
    if actor is None or not actor.is_organiser:
        raise PermissionDenied(_("只有管理员可以作出评审结论"))
    now = now or now_utc()
    errors = _result_errors(outcome, opinion, rectify_by, now)
    if errors:
        raise DomainError(_("评审结论未保存，请先解决以下问题"), errors=errors)
    panel = await Panel.get(id=review.panel_id).select_related("challenge")
    if panel.status != PanelStatus.CONCLUDED:
        raise InvalidTransition(_("专家组尚未形成意见，暂不能作出结论"))
    acceptance = panel.purpose == PanelPurpose.ACCEPTANCE
    ranked = await reviews.ranking(panel=panel, aggregation_rule=panel.challenge.aggregation)
    try:
        async with in_transaction():
            project = await Project.filter(id=review.project_id).select_for_update().get()
            result = await ReviewResult.create(
                review=review, project=project, outcome=outcome, opinion=opinion.strip(),
                rectify_by=rectify_by if outcome == Outcome.RECTIFY else None,
                score=ranked[0].score_display if ranked else None, published=acceptance, recorded_by=actor,
                recorded_at=now)
            if acceptance:
                await _keep_verdicts(review, panel, project.bid_id)
            await _apply(project, panel.purpose, result, actor, now)
            await record(actor=actor, action="review.result", obj=result,
                         after={"project_id": project.id, "panel_id": panel.id, "purpose": panel.purpose.value,
                                "outcome": outcome.value, "rectify_by": result.rectify_by, "score": result.score})
            await _tell(project, panel, result)
    except IntegrityError:
        raise InvalidTransition(_("该评审已作出结论")) from None
    return result


async def _keep_verdicts(review: ProjectReview, panel: Panel, bid_id: int) -> None:
    counts = (await judgements.tally(panel)).get(bid_id, {})
    for row in await AchievedValue.filter(report_id=review.acceptance_report_id):
        met, judged = counts.get(row.target_id, (0, 0))
        row.met = met * 2 > judged if judged else None
        await row.save(update_fields=["met"])


async def _apply(project: Project, purpose: PanelPurpose, result: ReviewResult, actor: User, now: datetime) -> None:
    if result.outcome == Outcome.RECTIFY:
        project.rectify_by = result.rectify_by
        if purpose == PanelPurpose.ACCEPTANCE:
            project.acceptance_round += 1
        await set_project_status(project=project, status=ProjectStatus.RECTIFYING, actor=actor, now=now,
                                 reason=result.opinion)
    elif result.outcome == Outcome.FAILED:
        status = ProjectStatus.FAILED if purpose == PanelPurpose.ACCEPTANCE else ProjectStatus.TERMINATED
        await set_project_status(project=project, status=status, actor=actor, now=now, reason=result.opinion)
    elif purpose == PanelPurpose.ACCEPTANCE:
        await set_project_status(project=project, status=ProjectStatus.ACCEPTED, actor=actor, now=now)
    elif project.status == ProjectStatus.RECTIFYING:
        project.rectify_by = None
        await set_project_status(project=project, status=ProjectStatus.ACTIVE, actor=actor, now=now)


async def _tell(project: Project, panel: Panel, result: ReviewResult) -> None:
    bid = await Bid.get(id=project.bid_id)
    challenge = panel.challenge
    recipients = {u.id: u for u in await User.filter(organisation_id=bid.lead_org_id, is_active=True)}
    if panel.purpose == PanelPurpose.ACCEPTANCE:
        issuers = await challenge.issuers.all().values_list("id", flat=True)
        recipients.update({u.id: u for u in await User.filter(organisation_id__in=list(issuers) or [0],
                                                               is_active=True)})

    def subject() -> str:
        return _("%(kind)s结论：%(title)s", kind=panel.purpose.label, title=project.title)

    def body() -> str:
        text = _("结论：%(outcome)s", outcome=result.outcome.label)
        if result.rectify_by:
            text += "\n" + _("整改期限：%(day)s", day=format_date(result.rectify_by))
        return text + "\n\n" + _("专家组意见：%(opinion)s", opinion=result.opinion)

    link = result_link(result) if result.published else project_link(project)
    for user in recipients.values():
        await notify(user=user, subject=subject, body=body, link=link)
