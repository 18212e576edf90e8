"""Results pages: public notices and announcements at /results, objections by signed-in people,
and the organiser's decisions, notices, objections and announcements at /results/manage."""

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import Route

from challenge.audit.services import Head, current_head
from challenge.challenges import routes as challenge_routes
from challenge.challenges.models import Mechanism
from challenge.errors import DomainError
from challenge.files.models import Attachment
from challenge.files.services import download_response
from challenge.files.uploads import receive_upload
from challenge.results import forms, objections, permissions, queries, services, workdays
from challenge.results.models import (
    LIVE_NOTICE_STATES,
    Decision,
    DecisionEntry,
    Notice,
    NoticeKind,
    NoticeStatus,
    Objection,
    ObjectionStatus,
    Remedy,
)
from challenge.reviews import panels
from challenge.reviews.models import RESULT_PURPOSES, Panel, PanelStatus
from challenge.web.auth import current_user, require_organiser, require_user
from challenge.web.flash import flash
from challenge.web.forms import Form, read_form
from challenge.web.http import redirect
from challenge.web.i18n import _
from challenge.web.limits import UPLOAD, limited
from challenge.web.once import AlreadyCreated, create_once
from challenge.web.pagination import page_number, paginate
from challenge.web.templating import render
from challenge.web.timefmt import format_datetime, now_utc


# The states and kinds templates compare against.
ENUMS = {"NoticeStatus": NoticeStatus, "NoticeKind": NoticeKind, "ObjectionStatus": ObjectionStatus}
# Sections areas above add to /results (delivery: acceptance results): async () -> a context with its
# "template", or None.
INDEX_SECTIONS: list = []


def _int(request: Request, name: str) -> int:
    return int(request.path_params[name])


# == public ====================================================================================

async def results_index(request: Request):
    """/results: notices in their period (with their end), then announced results with winners."""
    open_views = await queries.notice_views(await queries.open_notices(), selected_only=True)
    page = await paginate(queries.announced_notices(), page_number(request.query_params.get("page")))
    page.items = await queries.notice_views(list(page.items), selected_only=True)
    sections = [section for build in INDEX_SECTIONS if (section := await build()) is not None]
    return render(request, "results/index.html", {"open_views": open_views, "page": page, "now": now_utc(),
                                                  "audit_head": await current_head(), "sections": sections})


async def _public_notice(request: Request) -> Notice:
    notice = await queries.notice(_int(request, "notice_id"))
    if notice is None or not notice.challenge.is_public:
        raise HTTPException(404)
    return notice


async def notice_page(request: Request):
    notice = await _public_notice(request)
    user = current_user(request)
    now = now_utc()
    view = (await queries.notice_views([notice]))[0]
    horse_race = notice.challenge.mechanism == Mechanism.HORSE_RACE
    own_bid = next((e for e in view.entries if user is not None and user.organisation_id is not None
                    and e.entry.bid.lead_org_id == user.organisation_id), None)
    return render(request, "results/notice.html", {
        "view": view, "notice": notice, "title": queries.notice_title(notice), "now": now,
        "counts": (await queries.objection_counts([notice.id]))[notice.id],
        "revised": await queries.revised_by(notice) if notice.status == NoticeStatus.SUPERSEDED else None,
        "own_objections": await queries.own_objections(notice, user),
        "own_bid": own_bid, "can_object": permissions.can_object(user, notice, now),
        "closed_message": objections.closed_message(notice, now),
        "is_organiser": permissions.can_manage_results(user), "horse_race": horse_race,
        "labels": services.outcome_labels(stage=notice.kind == NoticeKind.STAGE, horse_race=horse_race,
                                          final=await services.settles_challenge(notice)),
        "closing_time": workdays.CLOSING_TIME,
        "published_head": _head(notice.published_head), "announced_head": _head(notice.announced_head), **ENUMS,
    })


def _head(stored: dict | None) -> Head | None:
    return Head(**stored) if stored else None


async def challenge_results(request: Request):
    """The challenge's current result notice (or its latest notice of any kind)."""
    challenge = await queries.public_challenge(_int(request, "challenge_id"))
    if challenge is None:
        raise HTTPException(404)
    notices = await queries.challenge_notices(challenge.id)
    current = next((n for n in notices if n.kind == NoticeKind.RESULT and n.status in LIVE_NOTICE_STATES),
                   notices[0] if notices else None)
    if current is None:
        raise HTTPException(404, _("该榜单尚未公示评审结果"))
    return redirect(services.notice_link(current))


async def object_page(request: Request):
    user = require_user(request)
    notice = await _public_notice(request)
    now = now_utc()
    form = Form({"real_name": user.name})
    if request.method == "POST":
        storage, settings = request.app.state.storage, request.app.state.settings
        parsed = await receive_upload(request, storage, max_bytes=settings.max_upload_bytes,
                                      allowed=settings.allowed_upload_types)
        form = Form(parsed.form)
        data = forms.parse_objection(form)
        form.add_errors(parsed.errors)
        if not form.is_valid:
            await parsed.discard()
        else:
            try:
                objection = await create_once(
                    form, user=user, location=lambda made: f"/results/objections/{made.id}",
                    create=lambda: objections.file_objection(notice=notice, user=user, uploads=parsed.files,
                                                             storage=storage, now=now, **data))
            except AlreadyCreated:
                await parsed.discard()  # this post's files: the first post's objection has its own
                raise
            except DomainError as error:
                form.add_errors(error.errors or {"reasons": error.message})
            else:
                flash(request, _("异议已提交。管理员核实处理后将通知您处理结果。"))
                return redirect(f"/results/objections/{objection.id}")
    return render(request, "results/object.html", {
        "notice": notice, "title": queries.notice_title(notice), "form": form,
        "closed_message": objections.closed_message(notice, now), "max_files": objections.MAX_FILES,
    }, status_code=form.status_code)


async def _viewable_objection(request: Request) -> Objection:
    user = require_user(request)
    objection = await queries.objection(_int(request, "objection_id"))
    if objection is None or not permissions.can_view_objection(user, objection):
        raise HTTPException(404)
    return objection


async def objection_page(request: Request):
    objection = await _viewable_objection(request)
    return render(request, "results/objection.html", {
        "objection": objection, "title": queries.notice_title(objection.notice),
        "files": await objections.evidence(objection), "manage": False,
    })


async def objection_file(request: Request):
    objection = await _viewable_objection(request)
    attachment = await Attachment.get_or_none(id=_int(request, "attachment_id"), owner_id=objection.id,
                                              owner_type=objections.ATTACHMENT_OWNER).select_related("blob")
    if attachment is None:
        raise HTTPException(404)
    return download_response(request.app.state.storage, attachment.blob, attachment.filename)


async def challenge_section(challenge, user) -> dict | None:
    """The results part of the public challenge page (registered with the challenges area)."""
    notices = [n for n in await queries.challenge_notices(challenge.id) if n.status in LIVE_NOTICE_STATES]
    if not notices:
        return None
    return {"template": "results/_challenge_section.html", "announced": NoticeStatus.ANNOUNCED,
            "views": await queries.notice_views(notices, selected_only=True)}


challenge_routes.PAGE_SECTIONS.append(challenge_section)


# == organisers ================================================================================

async def manage_index(request: Request):
    require_organiser(request)
    notices = await queries.open_notices()
    return render(request, "results/manage_index.html", {
        "notices": notices, "counts": await queries.objection_counts([n.id for n in notices]),
        "waiting": await queries.panels_awaiting_decision(),
        "announced": await queries.announced_notices().limit(20), "now": now_utc(),
        "open_status": ObjectionStatus.OPEN,
    })


async def _managed_panel(request: Request) -> Panel:
    panel = await Panel.get_or_none(id=_int(request, "panel_id")).select_related("challenge", "stage")
    if panel is None or panel.purpose not in RESULT_PURPOSES:
        raise HTTPException(404)  # a project's review has its result in the delivery area
    return panel


def _decision_form(rows: list[services.BasisRow], entries: dict[int, DecisionEntry]) -> Form:
    """The saved decision, or the panel's recommendation for a new one."""
    chosen = {bid_id: entry.selected for bid_id, entry in entries.items()} if entries else \
        services.default_selection(rows)
    data = {}
    for row in rows:
        data[forms.OUTCOME_FIELD.format(row.bid.id)] = "1" if chosen.get(row.bid.id) else "0"
        data[forms.REASON_FIELD.format(row.bid.id)] = entries[row.bid.id].reason if row.bid.id in entries else ""
    return Form(data)


async def _render_decision(request: Request, panel: Panel, *, form: Form | None = None,
                           period: Form | None = None):
    """The decision form with the ranking and, for a saved decision, the notice's period form."""
    now = now_utc()
    rows = await services.decision_basis(panel)
    decision = await services.latest_decision(panel)
    notice = await services.notice_of(decision)
    fresh = decision is None or (notice is not None and notice.status == NoticeStatus.SUPERSEDED)
    fresh_or_draft = fresh or notice is None
    entries = {} if fresh else {e.bid_id: e for e in await DecisionEntry.filter(decision_id=decision.id)}
    form = form or _decision_form(rows, entries)
    period = period or Form({"working_days": str(request.app.state.settings.notice_working_days),
                             "starts_on": services.default_start(now).isoformat()})
    horse_race = panel.challenge.mechanism == Mechanism.HORSE_RACE
    concluded = panel.status == PanelStatus.CONCLUDED
    return render(request, "results/decision.html", {
        "panel": panel, "challenge": panel.challenge, "rows": rows, "form": form, "decision": decision,
        "notice": notice, "period": period, "concluded": concluded, "editable": concluded and fresh_or_draft,
        "horse_race": horse_race, "labels": services.outcome_labels(
            stage=panel.stage_id is not None, horse_race=horse_race,
            final=panel.stage is not None and await panels.is_last_stage(panel.stage)),
        "limit": panels.recommend_limit(panel.challenge, panel.stage), "yes": _("是"), "recommended_word": _("推荐"),
        "closing_time": workdays.CLOSING_TIME, **ENUMS,
    }, status_code=400 if not (form.is_valid and period.is_valid) else 200)


async def decision_page(request: Request):
    user = require_organiser(request)
    panel = await _managed_panel(request)
    if request.method != "POST":
        return await _render_decision(request, panel)
    form = Form(await read_form(request))
    bid_ids = [row.bid.id for row in await services.decision_basis(panel)]
    selected, reasons = forms.parse_decision(form, bid_ids)
    if form.is_valid:
        try:
            await services.record_decision(panel=panel, actor=user, selected=selected, reasons=reasons)
        except DomainError as error:
            form.add_errors(error.errors or {"selected": error.message})
        else:
            flash(request, _("评审结果已保存。请核对后设置公示期并发布公示。"))
            return redirect(f"/results/manage/panels/{panel.id}/decision#publish")
    return await _render_decision(request, panel, form=form)


async def publish(request: Request):
    user = require_organiser(request)
    decision = await Decision.get_or_none(id=_int(request, "decision_id"))
    if decision is None:
        raise HTTPException(404)
    period = Form(await read_form(request))
    working_days, starts_on = forms.parse_period(period)
    if period.is_valid:
        try:
            notice = await services.publish_notice(decision=decision, actor=user, working_days=working_days,
                                                   starts_on=starts_on)
        except DomainError as error:
            period.add_errors(error.errors or {"working_days": error.message})
        else:
            flash(request, _("公示已发布，公示期至 %(end)s。", end=format_datetime(notice.ends_at)))
            return redirect(services.notice_link(notice))
    panel = await Panel.get(id=decision.panel_id).select_related("challenge", "stage")
    return await _render_decision(request, panel, period=period)


async def _managed_notice(request: Request) -> Notice:
    notice = await queries.notice(_int(request, "notice_id"))
    if notice is None:
        raise HTTPException(404)
    return notice


async def _render_manage_notice(request: Request, notice: Notice, form: Form):
    now = now_utc()
    items = await Objection.filter(notice_id=notice.id).select_related("objector").order_by("filed_at", "id")
    open_count = sum(1 for o in items if o.status == ObjectionStatus.OPEN)
    return render(request, "results/manage_notice.html", {
        "notice": notice, "title": queries.notice_title(notice), "objections": items, "form": form, "now": now,
        "problem": services.announce_problem(notice, open_count, now),
        "view": (await queries.notice_views([notice], selected_only=True))[0],
    }, status_code=form.status_code)


async def manage_notice(request: Request):
    require_organiser(request)
    return await _render_manage_notice(request, await _managed_notice(request), Form())


async def announce(request: Request):
    user = require_organiser(request)
    notice = await _managed_notice(request)
    form = Form(await read_form(request))
    text = form.text("announcement", max_length=services.ANNOUNCEMENT_MAX)
    if form.is_valid:
        try:
            await services.announce(notice=notice, actor=user, text=text)
        except DomainError as error:
            form.add_errors(error.errors or {"announcement": error.message})
        else:
            flash(request, _("结果已公告，各申报单位已收到通知。"))
            return redirect(services.notice_link(notice) + "#announcement")
    return await _render_manage_notice(request, notice, form)


async def manage_objection(request: Request):
    user = require_organiser(request)
    objection = await queries.objection(_int(request, "objection_id"))
    if objection is None:
        raise HTTPException(404)
    form = Form()
    if request.method == "POST":
        form = Form(await read_form(request))
        data = forms.parse_answer(form)
        if form.is_valid:
            try:
                await objections.answer_objection(objection=objection, actor=user, **data)
            except DomainError as error:
                form.add_errors(error.errors or {"answer": error.message})
            else:
                flash(request, _("处理意见已保存，异议人已收到通知。"))
                return redirect(f"/results/manage/notices/{objection.notice_id}")
    return render(request, "results/objection.html", {
        "objection": objection, "title": queries.notice_title(objection.notice), "manage": True,
        "files": await objections.evidence(objection), "form": form, "remedies": Remedy.choices(),
    }, status_code=form.status_code)


routes = [
    Route("/notices/{notice_id:int}", notice_page, name="notice"),
    limited(Route("/notices/{notice_id:int}/object", object_page, methods=["GET", "POST"], name="object"), UPLOAD),
    Route("/challenges/{challenge_id:int}", challenge_results, name="challenge"),
    Route("/objections/{objection_id:int}", objection_page, name="objection"),
    Route("/objections/{objection_id:int}/files/{attachment_id:int}", objection_file, name="objection_file"),
    Route("/manage", manage_index, name="manage"),
    Route("/manage/panels/{panel_id:int}/decision", decision_page, methods=["GET", "POST"], name="decision"),
    Route("/manage/decisions/{decision_id:int}/publish", publish, methods=["POST"], name="publish"),
    Route("/manage/notices/{notice_id:int}", manage_notice, name="manage_notice"),
    Route("/manage/notices/{notice_id:int}/announce", announce, methods=["POST"], name="announce"),
    Route("/manage/objections/{objection_id:int}", manage_objection, methods=["GET", "POST"],
          name="manage_objection"),
]
