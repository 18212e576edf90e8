"""Delivery pages: the team's stage deliverables, projects, progress and acceptance reports and
their receipts at /delivery, the public acceptance results, and (in `manage`) the organiser's desk.

The area also adds its sections to the challenge page (the horse-race track, the projects), to
/results and to the feeds, and tells the reviews area what its panels' experts review.
"""

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from challenge.accounts.models import Role
from challenge.bids.models import Bid
from challenge.challenges import routes as challenge_routes
from challenge.challenges.models import AssessmentTarget, Stage
from challenge.delivery import acceptance, deliverables, forms, manage, permissions, queries, receipts, reports
from challenge.delivery import subjects  # noqa: F401 - registers what the experts of delivery panels review
from challenge.delivery.models import (
    AcceptanceReport,
    DeliveryVersion,
    ProgressReport,
    Project,
    ProjectMilestone,
    ReportStatus,
    StageDeliverable,
    VersionKind,
)
from challenge.delivery.projects import today
from challenge.errors import DomainError
from challenge.files.models import Blob
from challenge.files.services import content_disposition, download_response
from challenge.files.uploads import receive_upload
from challenge.pages import routes as page_routes
from challenge.results import routes as result_routes
from challenge.web.auth import require_role
from challenge.web.flash import flash
from challenge.web.forms import Form, read_form
from challenge.web.http import redirect
from challenge.web.i18n import _
from challenge.web.limits import UPLOAD, limited
from challenge.web.once import AlreadyCreated, create_once
from challenge.web.templating import render
from challenge.web.timefmt import now_utc


def _int(request: Request, name: str) -> int:
    return int(request.path_params[name])


def _upload_settings(request: Request):
    settings = request.app.state.settings
    return request.app.state.storage, settings.max_upload_bytes, settings.allowed_upload_types


async def _submit(form: Form, parsed, user, create, location):
    """Create through the one-time token; the posted files are discarded when nothing was made."""
    try:
        return await create_once(form, user=user, create=create, location=location)
    except (AlreadyCreated, DomainError):
        await parsed.discard()
        raise


# == the team ==================================================================================

async def mine(request: Request):
    user = require_role(request, Role.BIDDER, Role.ORGANISER)
    if not user.is_bidder:
        return redirect("/delivery/manage")
    now = now_utc()
    organisation_id = user.organisation_id or 0
    return render(request, "delivery/mine.html", {
        "projects": await queries.team_projects(organisation_id, today(now)),
        "races": await queries.racing_bids(organisation_id, now), "now": now,
    })


async def _bid_and_stage(request: Request, user) -> tuple[Bid, Stage]:
    bid = await Bid.get_or_none(id=_int(request, "bid_id")).select_related("challenge", "lead_org")
    if bid is None or not permissions.can_view_bid_delivery(user, bid):
        raise HTTPException(404)
    stage = await Stage.get_or_none(id=_int(request, "stage_id"), challenge_id=bid.challenge_id)
    if stage is None:
        raise HTTPException(404)
    return bid, stage


async def deliverable_page(request: Request):
    user = require_role(request, Role.BIDDER, Role.ORGANISER)
    bid, stage = await _bid_and_stage(request, user)
    team = permissions.is_team(user, bid)
    deliverable = await StageDeliverable.get_or_none(stage_id=stage.id, bid_id=bid.id)
    form = Form({"report": deliverable.report if deliverable else ""})
    status = 200
    if request.method == "POST":
        if not team:
            raise HTTPException(403, _("只有本团队可以提交阶段交付物"))
        storage, max_bytes, allowed = _upload_settings(request)
        parsed = await receive_upload(request, storage, max_bytes=max_bytes, allowed=allowed,
                                      blind=bid.challenge.blind_review)
        form = Form(parsed.form)
        report = forms.parse_deliverable(form)
        form.add_errors(parsed.errors)
        status = 400
        if not form.is_valid:
            await parsed.discard()
        else:
            try:
                version = await _submit(form, parsed, user, location=lambda made: f"/delivery/versions/{made.id}",
                                        create=lambda: deliverables.submit_deliverable(
                                            bid=bid, stage=stage, actor=user, report=report, uploads=parsed.files,
                                            remove_ids=forms.removed_files(form), storage=storage))
            except DomainError as error:
                form.add_errors(error.errors or {"report": error.message})
                status = 409 if isinstance(error, deliverables.DeadlinePassed) else 400
            else:
                flash(request, _("阶段交付物已提交（第 %(v)s 版），回执已生成。截止前仍可修改后重新提交。", v=version.version))
                return redirect(f"/delivery/versions/{version.id}")
    now = now_utc()
    problem = await deliverables.refusal(challenge=bid.challenge, stage=stage, bid=bid, now=now)
    return render(request, "delivery/deliverable.html", {
        "bid": bid, "stage": stage, "challenge": bid.challenge, "deliverable": deliverable, "form": form,
        "files": await receipts.files_of(deliverable) if deliverable else [], "team": team,
        "versions": await receipts.history(VersionKind.DELIVERABLE, deliverable.id) if deliverable else [],
        "problem": problem.message if problem else "",
        "blind": bid.challenge.blind_review, "now": now,
    }, status_code=status)


# -- receipts ---------------------------------------------------------------------------------------

async def _owner_bid(version: DeliveryVersion) -> Bid | None:
    if version.kind == VersionKind.DELIVERABLE:
        owner = await StageDeliverable.get_or_none(id=version.owner_id)
        return await Bid.get(id=owner.bid_id).select_related("lead_org") if owner else None
    model = ProgressReport if version.kind == VersionKind.REPORT else AcceptanceReport
    owner = await model.get_or_none(id=version.owner_id).select_related("project")
    return await Bid.get(id=owner.project.bid_id).select_related("lead_org") if owner else None


async def _version(request: Request) -> tuple[DeliveryVersion, Bid]:
    user = require_role(request, Role.BIDDER, Role.ORGANISER)
    version = await DeliveryVersion.get_or_none(id=_int(request, "version_id")).select_related("submitted_by")
    bid = await _owner_bid(version) if version is not None else None
    if bid is None or not permissions.can_view_bid_delivery(user, bid):
        raise HTTPException(404)
    return version, bid


async def version_page(request: Request):
    version, bid = await _version(request)
    content = receipts.content_of(version)
    return render(request, "delivery/receipt.html", {
        "version": version, "bid": bid, "content": content, "verified": receipts.verify_version(version),
        "files": content["attachments"], "kinds": VersionKind,
    })


async def version_document(request: Request):
    """The exact canonical JSON that was hashed, so anyone can recompute the receipt's SHA-256."""
    version, _bid = await _version(request)
    return Response(version.document.encode("utf-8"), media_type="application/json; charset=utf-8", headers={
        "Content-Disposition": content_disposition(f"{version.receipt_number}.json"),
        "Cache-Control": "private, no-store",
    })


async def version_file(request: Request):
    version, _bid = await _version(request)
    files = receipts.content_of(version)["attachments"]
    number = _int(request, "number")
    if not 1 <= number <= len(files):
        raise HTTPException(404)
    item = files[number - 1]
    blob = await Blob.get_or_none(id=item["blob_id"])
    if blob is None:
        raise HTTPException(404)
    return download_response(request.app.state.storage, blob, item["filename"])


# -- projects ---------------------------------------------------------------------------------------

async def _project(request: Request, user) -> Project:
    project = await Project.get_or_none(id=_int(request, "project_id")).select_related(
        "challenge", "bid", "bid__lead_org")
    if project is None or not permissions.can_view_bid_delivery(user, project.bid):
        raise HTTPException(404)
    return project


async def project_page(request: Request):
    user = require_role(request, Role.BIDDER, Role.ORGANISER)
    project = await _project(request, user)
    now = now_utc()
    return render(request, "delivery/project.html", {
        "project": project, "challenge": project.challenge, "bid": project.bid,
        **await queries.project_context(project, today(now)),
        "can_report": permissions.can_report(user, project, project.bid), "can_manage": permissions.can_manage(user),
        "report_states": ReportStatus,
    })


async def report_form(request: Request):
    user = require_role(request, Role.BIDDER, Role.ORGANISER)
    project = await _project(request, user)
    milestone = await ProjectMilestone.get_or_none(id=_int(request, "milestone_id"), project_id=project.id)
    if milestone is None:
        raise HTTPException(404)
    report = await ProgressReport.get_or_none(milestone_id=milestone.id)
    if not permissions.can_report(user, project, project.bid):
        if request.method == "POST":
            raise HTTPException(403, _("只有本项目团队可以提交进展报告"))
        if report is None:
            raise HTTPException(404)
        return redirect(f"/delivery/reports/{report.id}")
    form = Form({"text": report.text if report else ""})
    status = 200
    if request.method == "POST":
        storage, max_bytes, allowed = _upload_settings(request)
        parsed = await receive_upload(request, storage, max_bytes=max_bytes, allowed=allowed,
                                      blind=project.challenge.blind_review)
        form = Form(parsed.form)
        text = forms.parse_report(form)
        form.add_errors(parsed.errors)
        status = 400
        if not form.is_valid:
            await parsed.discard()
        else:
            try:
                version = await _submit(form, parsed, user, location=lambda made: f"/delivery/versions/{made.id}",
                                        create=lambda: reports.submit_report(
                                            project=project, milestone=milestone, actor=user, text=text,
                                            uploads=parsed.files, remove_ids=forms.removed_files(form),
                                            storage=storage))
            except DomainError as error:
                form.add_errors(error.errors or {"text": error.message})
            else:
                flash(request, _("进展报告已提交（第 %(v)s 版），回执已生成，等待项目管理办公室审核。", v=version.version))
                return redirect(f"/delivery/versions/{version.id}")
    return render(request, "delivery/report_form.html", {
        "project": project, "milestone": milestone, "report": report, "form": form,
        "files": await receipts.files_of(report) if report else [],
        "versions": await receipts.history(VersionKind.REPORT, report.id) if report else [],
    }, status_code=status)


async def report_page(request: Request):
    """A progress report with its versions; the organiser accepts it or asks for more here."""
    user = require_role(request, Role.BIDDER, Role.ORGANISER)
    report = await ProgressReport.get_or_none(id=_int(request, "report_id")).select_related(
        "project", "project__bid", "project__bid__lead_org", "project__challenge", "milestone", "decided_by")
    if report is None or not permissions.can_view_bid_delivery(user, report.project.bid):
        raise HTTPException(404)
    form = Form()
    if request.method == "POST":
        if not permissions.can_manage(user):
            raise HTTPException(403, _("只有管理员可以审核进展报告"))
        form = Form(await read_form(request))
        accept, reason = forms.parse_decision(form)
        if form.is_valid:
            try:
                await reports.decide_report(report=report, actor=user, accept=accept, reason=reason)
            except DomainError as error:
                form.add_errors(error.errors or {"decision": error.message})
            else:
                flash(request, _("审核结果已记录，并已通知项目团队。"))
                return redirect(f"/delivery/projects/{report.project_id}#milestone-{report.milestone_id}")
    versions = await receipts.history(VersionKind.REPORT, report.id)
    latest = (await receipts.latest(VersionKind.REPORT, [report.id])).get(report.id)
    return render(request, "delivery/report.html", {
        "report": report, "project": report.project, "milestone": report.milestone, "versions": versions,
        "latest": latest, "content": receipts.content_of(latest), "form": form,
        "can_decide": permissions.can_manage(user) and report.status == ReportStatus.SUBMITTED,
        "can_report": permissions.can_report(user, report.project, report.project.bid)
        and report.status != ReportStatus.ACCEPTED,
    }, status_code=form.status_code)


async def acceptance_form(request: Request):
    user = require_role(request, Role.BIDDER, Role.ORGANISER)
    project = await _project(request, user)
    targets = list(await AssessmentTarget.filter(challenge_id=project.challenge_id).order_by("position", "id"))
    report = await acceptance.current_report(project)
    values = {v.target_id: v for v in await report.achieved.all()} if report else {}
    form = Form({"summary": report.summary if report else "",
                 **{f"target-{t.id}-value": values[t.id].value for t in targets if t.id in values},
                 **{f"target-{t.id}-note": values[t.id].note for t in targets if t.id in values}})
    editable = permissions.can_report(user, project, project.bid) and not await acceptance.under_review(report)
    status = 200
    if request.method == "POST":
        if not editable:
            raise HTTPException(403, _("验收报告当前不能提交或修改"))
        storage, max_bytes, allowed = _upload_settings(request)
        parsed = await receive_upload(request, storage, max_bytes=max_bytes, allowed=allowed,
                                      blind=project.challenge.blind_review)
        form = Form(parsed.form)
        summary, posted = forms.parse_acceptance(form, [t.id for t in targets])
        form.add_errors(parsed.errors)
        categories = forms.acceptance_categories([t.id for t in targets])
        uploads = [(categories.get(f.field, acceptance.GENERAL_FILES), f) for f in parsed.files]
        status = 400
        if not form.is_valid:
            await parsed.discard()
        else:
            try:
                version = await _submit(form, parsed, user, location=lambda made: f"/delivery/versions/{made.id}",
                                        create=lambda: acceptance.submit_acceptance(
                                            project=project, actor=user, summary=summary, values=posted,
                                            uploads=uploads, remove_ids=forms.removed_files(form), storage=storage))
            except DomainError as error:
                form.add_errors(error.errors or {"summary": error.message})
            else:
                flash(request, _("验收报告已提交（第 %(v)s 版），回执已生成。", v=version.version))
                return redirect(f"/delivery/versions/{version.id}")
    files = await receipts.files_of(report) if report else []
    return render(request, "delivery/acceptance_form.html", {
        "project": project, "targets": targets, "report": report, "form": form, "editable": editable,
        "files": files, "round": project.acceptance_round,
        "versions": await receipts.history(VersionKind.ACCEPTANCE, report.id) if report else [],
    }, status_code=status)


# == public ====================================================================================

async def result_page(request: Request):
    context = await queries.public_result(_int(request, "result_id"))
    if context is None:
        raise HTTPException(404)
    return render(request, "delivery/result.html", context)


challenge_routes.PAGE_SECTIONS.extend([queries.track_section, queries.delivery_section])
result_routes.INDEX_SECTIONS.append(queries.results_section)
page_routes.FEED_SOURCES.append(queries.feed_entries)

routes = [
    Route("/", mine, name="mine"),
    limited(Route("/bids/{bid_id:int}/stages/{stage_id:int}", deliverable_page, methods=["GET", "POST"],
                  name="deliverable"), UPLOAD),
    Route("/versions/{version_id:int}", version_page, name="version"),
    Route("/versions/{version_id:int}.json", version_document, name="version_document"),
    Route("/versions/{version_id:int}/files/{number:int}", version_file, name="version_file"),
    Route("/projects/{project_id:int}", project_page, name="project"),
    limited(Route("/projects/{project_id:int}/milestones/{milestone_id:int}/report", report_form,
                  methods=["GET", "POST"], name="report_form"), UPLOAD),
    Route("/reports/{report_id:int}", report_page, methods=["GET", "POST"], name="report"),
    limited(Route("/projects/{project_id:int}/acceptance", acceptance_form, methods=["GET", "POST"],
                  name="acceptance"), UPLOAD),
    Route("/results/{result_id:int}", result_page, name="result"),
    *manage.routes,
]
