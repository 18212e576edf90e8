"""The organiser's delivery pages at /delivery/manage: the desk (projects with overdue milestones,
reports to review, tracks with their stages), funding tranches, and the mid-term and acceptance
reviews of a project, from forming the panel to recording the result."""

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import Route

from challenge.delivery import acceptance, forms, funding, queries
from challenge.delivery.models import (
    AchievedValue,
    FundingTranche,
    Outcome,
    Project,
    ProjectMilestone,
    ProjectReview,
    ReviewResult,
)
from challenge.delivery.projects import project_link, today
from challenge.errors import DomainError
from challenge.reviews import judgements
from challenge.reviews import queries as review_queries
from challenge.reviews import services as reviews
from challenge.reviews.models import PanelPurpose, PanelStatus, ReviewOpinion
from challenge.web.auth import require_organiser
from challenge.web.flash import flash
from challenge.web.forms import Form, parse_ids, read_form
from challenge.web.http import redirect
from challenge.web.i18n import _
from challenge.web.once import create_once
from challenge.web.templating import render
from challenge.web.timefmt import now_utc


def _int(request: Request, name: str) -> int:
    return int(request.path_params[name])


async def desk(request: Request):
    require_organiser(request)
    now = now_utc()
    waiting = await ProjectReview.filter(panel__status=PanelStatus.CONCLUDED).exclude(
        id__in=list(await ReviewResult.all().values_list("review_id", flat=True)) or [0]).select_related(
        "panel", "project")
    return render(request, "delivery/manage.html", {
        "projects": await queries.all_projects(today(now)), "tracks": await queries.tracks(now),
        "waiting": waiting, "now": now,
    })


async def _project(request: Request) -> Project:
    project = await Project.get_or_none(id=_int(request, "project_id")).select_related(
        "challenge", "bid", "bid__lead_org")
    if project is None:
        raise HTTPException(404)
    return project


async def tranche_new(request: Request):
    user = require_organiser(request)
    project = await _project(request)
    milestones = list(await ProjectMilestone.filter(project_id=project.id).order_by("position", "id"))
    form = Form({"planned_on": today().isoformat()})
    if request.method == "POST":
        form = Form(await read_form(request))
        data = forms.parse_tranche(form, [m.id for m in milestones])
        if form.is_valid:
            try:
                await create_once(form, user=user, location=lambda _made: project_link(project) + "#tranches",
                                  create=lambda: funding.add_tranche(project=project, actor=user, **data))
            except DomainError as error:
                form.add_errors(error.errors or {"planned_wan": error.message})
            else:
                flash(request, _("拨付计划已登记，项目团队已收到通知。"))
                return redirect(project_link(project) + "#tranches")
    return render(request, "delivery/tranche_form.html", {
        "project": project, "milestones": [(m.id, f"{m.title}（{m.due_date.isoformat()}）") for m in milestones],
        "form": form, "planned": await funding.planned_total(project),
    }, status_code=form.status_code)


async def tranche_release(request: Request):
    user = require_organiser(request)
    tranche = await FundingTranche.get_or_none(id=_int(request, "tranche_id")).select_related(
        "project", "milestone")
    if tranche is None:
        raise HTTPException(404)
    if tranche.is_released:
        flash(request, _("该批次已登记拨付"), "info")
        return redirect(project_link(tranche.project) + "#tranches")
    form = Form({"released_wan": str(tranche.planned_wan), "released_on": today().isoformat()})
    if request.method == "POST":
        form = Form(await read_form(request))
        data = forms.parse_release(form)
        if form.is_valid:
            try:
                await funding.release_tranche(tranche=tranche, actor=user, **data)
            except DomainError as error:
                form.add_errors(error.errors or {"released_wan": error.message})
            else:
                flash(request, _("拨付已登记，项目团队已收到通知。"))
                return redirect(project_link(tranche.project) + "#tranches")
    return render(request, "delivery/release_form.html", {"tranche": tranche, "project": tranche.project,
                                                          "form": form}, status_code=form.status_code)


async def panel_new(request: Request):
    user = require_organiser(request)
    project = await _project(request)
    pool = await review_queries.pool_with_conflicts(project.challenge_id, [project.bid_id])
    expert_ids = [row["user"].id for row in pool]
    purpose = request.query_params.get("purpose", PanelPurpose.ACCEPTANCE.value)
    label = PanelPurpose(purpose).label if purpose in {p for p, _label in forms.purpose_choices()} else ""
    form = Form({"purpose": purpose, "name": _("%(title)s%(kind)s专家组", title=project.title, kind=label),
                 "dispersion_threshold": "15", "blind": "1" if project.challenge.blind_review else ""})
    if request.method == "POST":
        form = Form(await read_form(request))
        data = forms.parse_review_panel(form, expert_ids)
        if form.is_valid:
            try:
                review = await create_once(
                    form, user=user, location=lambda made: f"/review/manage/panels/{made.panel_id}",
                    create=lambda: acceptance.form_review(project=project, actor=user, **data))
            except DomainError as error:
                form.add_errors(error.errors or {"name": error.message})
            else:
                flash(request, _("专家组已组建（利益冲突已按联合体成员计算），请生成分配建议并确认。"))
                return redirect(f"/review/manage/panels/{review.panel_id}")
    return render(request, "delivery/panel_new.html", {
        "project": project, "form": form, "pool": pool, "purposes": forms.purpose_choices(),
        "deputies": [(row["user"].id, row["user"].name) for row in pool],
        "selected": parse_ids(form.getlist("members")),
    }, status_code=form.status_code)


async def result_form(request: Request):
    user = require_organiser(request)
    review = await ProjectReview.get_or_none(panel_id=_int(request, "panel_id")).select_related(
        "panel", "panel__challenge", "project", "project__bid", "project__bid__lead_org")
    if review is None:
        raise HTTPException(404)
    existing = await ReviewResult.get_or_none(review_id=review.id)
    if existing is not None:
        flash(request, _("该评审已作出结论"), "info")
        return redirect(acceptance.result_link(existing) if existing.published else project_link(review.project))
    panel = review.panel
    opinion = await ReviewOpinion.get_or_none(panel_id=panel.id)
    form = Form({"opinion": opinion.text if opinion else ""})
    if request.method == "POST":
        form = Form(await read_form(request))
        data = forms.parse_result(form)
        if form.is_valid:
            try:
                result = await create_once(
                    form, user=user, create=lambda: acceptance.record_result(review=review, actor=user, **data),
                    location=lambda made: acceptance.result_link(made) if made.published else project_link(
                        review.project))
            except DomainError as error:
                form.add_errors(error.errors or {"outcome": error.message})
            else:
                flash(request, _("评审结论已记录%(published)s，项目团队已收到通知。",
                                 published=_("并公开发布") if result.published else ""))
                return redirect(acceptance.result_link(result) if result.published else project_link(review.project))
    ranked = await reviews.ranking(panel=panel, aggregation_rule=panel.challenge.aggregation)
    tally = (await judgements.tally(panel)).get(review.project.bid_id, {})
    values = await AchievedValue.filter(report_id=review.acceptance_report_id).select_related("target") \
        .order_by("target__position", "target_id") if review.acceptance_report_id else []
    return render(request, "delivery/result_form.html", {
        "review": review, "panel": panel, "project": review.project, "opinion": opinion, "form": form,
        "row": ranked[0] if ranked else None, "concluded": panel.status == PanelStatus.CONCLUDED,
        "values": [{"value": v, "tally": tally.get(v.target_id, (0, 0))} for v in values],
        "outcomes": [(o.value, o.label) for o in Outcome], "acceptance": panel.purpose == PanelPurpose.ACCEPTANCE,
    }, status_code=form.status_code)


routes = [
    Route("/manage", desk, name="manage"),
    Route("/projects/{project_id:int}/tranches/new", tranche_new, methods=["GET", "POST"], name="tranche_new"),
    Route("/tranches/{tranche_id:int}/release", tranche_release, methods=["GET", "POST"], name="tranche_release"),
    Route("/projects/{project_id:int}/panels/new", panel_new, methods=["GET", "POST"], name="panel_new"),
    Route("/panels/{panel_id:int}/result", result_form, methods=["GET", "POST"], name="result_form"),
]
