"""Catalogue pages: the public catalogue at /catalogue (search, entries, versions, downloads),
the rounds and their notices (objections by signed-in people), a team proposing its accepted
project, and (under /catalogue/manage) the organiser's desk."""

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from challenge.accounts.models import Role
from challenge.catalog.models import Domain
from challenge.delivery.models import Project
from challenge.errors import DomainError
from challenge.promotion import catalogue, exports, forms, rounds
from challenge.promotion import subjects  # noqa: F401 - registers what the experts of evaluation panels review
from challenge.promotion.models import (
    PUBLIC_ROUND_STATES,
    AdoptionCase,
    Candidate,
    CandidateStatus,
    CatalogueEntry,
    CatalogueRound,
    CatalogueVersion,
    EntryChange,
    EntryStatus,
    RoundStatus,
)
from challenge.results import objections
from challenge.results import forms as result_forms
from challenge.results import routes as result_routes
from challenge.results import services as results
from challenge.results.models import Notice, NoticeKind, Objection, ObjectionStatus, Remedy
from challenge.reviews import queries as review_queries
from challenge.supply import permissions as supply_permissions
from challenge.supply import routes as supply_routes
from challenge.supply.models import Offer, OfferStatus
from challenge.web.auth import current_user, require_organiser, require_role, require_user
from challenge.web.flash import flash
from challenge.web.forms import Form, parse_id, parse_ids, read_form
from challenge.web.http import redirect
from challenge.web.i18n import _
from challenge.web.once import create_once
from challenge.web.pagination import page_number, paginate
from challenge.web.templating import render
from challenge.web.timefmt import now_utc

ENUMS = {"RoundStatus": RoundStatus, "CandidateStatus": CandidateStatus, "EntryStatus": EntryStatus,
         "ObjectionStatus": ObjectionStatus}


def _int(request: Request, name: str) -> int:
    return int(request.path_params[name])


async def _domains() -> list[Domain]:
    return list(await Domain.filter(is_active=True).order_by("sort_order", "id"))


# == public ====================================================================================

async def index(request: Request):
    """/catalogue: the current catalogue, searchable by a word and filterable by domain."""
    params = request.query_params
    domains = await _domains()
    domain_id = parse_id(params.get("domain"))
    search = catalogue.Search(q=params.get("q", "").strip()[:50], domain_id=domain_id)
    page = await paginate(catalogue.search_entries(search), page_number(params.get("page")))
    return render(request, "promotion/index.html", {
        "page": page, "search": search, "domains": domains, "latest": await catalogue.latest_version(),
        "rounds": await CatalogueRound.filter(status__in=list(PUBLIC_ROUND_STATES)).order_by("-year", "-id").limit(5),
        **ENUMS})


async def _entry(request: Request) -> CatalogueEntry:
    entry = await CatalogueEntry.get_or_none(number=_int(request, "number")).select_related("domain", "round")
    if entry is None:
        raise HTTPException(404)
    return entry


async def entry_page(request: Request):
    entry = await _entry(request)
    return render(request, "promotion/entry.html", {
        "entry": entry, "c": entry, "changes": await EntryChange.filter(entry_id=entry.id).order_by("at", "id"),
        "cases": await AdoptionCase.filter(entry_id=entry.id), **ENUMS})


async def versions_page(request: Request):
    return render(request, "promotion/versions.html", {"versions": await CatalogueVersion.all().order_by("-number")})


async def _version(request: Request) -> CatalogueVersion:
    version = await CatalogueVersion.get_or_none(number=_int(request, "number"))
    if version is None:
        raise HTTPException(404)
    return version


async def version_page(request: Request):
    """A version as it was published, from its frozen document, with its digest checked."""
    version = await _version(request)
    document = catalogue.content_of(version)
    return render(request, "promotion/version.html", {
        "version": version, "document": document, "verified": catalogue.verifies(version),
        "listed": [e for e in document["entries"] if e["status"] == "listed"],
        "withdrawn": [e for e in document["entries"] if e["status"] != "listed"],
        "latest": await catalogue.latest_version()})


async def version_download(request: Request):
    version = await _version(request)
    fmt = request.path_params["fmt"]
    if fmt == "json":  # the exact bytes the SHA-256 was computed over
        return Response(version.document.encode("utf-8"), media_type="application/json; charset=utf-8",
                        headers={"X-Content-SHA256": version.sha256})
    document = catalogue.content_of(version)
    if fmt == "xlsx":
        return await exports.xlsx(document)
    if fmt == "csv":
        return exports.csv(document)
    if fmt == "pdf":
        return await exports.pdf(document, version.sha256)
    raise HTTPException(404)


async def _public_round(request: Request) -> CatalogueRound:
    round_ = await CatalogueRound.get_or_none(id=_int(request, "round_id")).prefetch_related("domains")
    if round_ is None or round_.status not in PUBLIC_ROUND_STATES:
        raise HTTPException(404)
    return round_


async def round_page(request: Request):
    """A round's conditions; during and after its notice, the proposed entries and how to object."""
    round_ = await _public_round(request)
    user = current_user(request)
    notice = await Notice.get_or_none(id=round_.notice_id) if round_.notice_id else None
    proposed = []
    if round_.status in (RoundStatus.NOTICE, RoundStatus.PUBLISHED):
        proposed = await Candidate.filter(round_id=round_.id, status__in=[
            CandidateStatus.RECOMMENDED, CandidateStatus.LISTED]).select_related("domain", "organisation") \
            .order_by("-score", "id")
    own_projects = []
    if user is not None and user.is_bidder and user.organisation_id and round_.status == RoundStatus.OPEN:
        own_projects = await rounds.accepted_projects(organisation_id=user.organisation_id)
    now = now_utc()
    own_offers = []
    if supply_permissions.can_publish_offers(user) and round_.status == RoundStatus.OPEN and now < round_.deadline:
        applied = await Candidate.filter(round_id=round_.id, offer_id__isnull=False).values_list("offer_id", flat=True)
        own_offers = await Offer.filter(organisation_id=user.organisation_id, status=OfferStatus.PUBLISHED) \
            .exclude(id__in=list(applied)).order_by("-id").limit(50)
    return render(request, "promotion/round.html", {
        "round": round_, "notice": notice, "proposed": proposed, "now": now, "own_projects": own_projects,
        "own_offers": own_offers,
        "entries": await rounds.listed_entries(round_) if round_.status == RoundStatus.PUBLISHED else [],
        "closed_message": objections.closed_message(notice, now) if notice else "",
        "can_object": notice is not None and user is not None and notice.accepts_objections(now), **ENUMS})


async def _catalogue_notice(request: Request) -> tuple[Notice, CatalogueRound]:
    notice = await Notice.get_or_none(id=_int(request, "notice_id"), kind=NoticeKind.CATALOGUE)
    round_ = await CatalogueRound.get_or_none(notice_id=notice.id) if notice else None
    if notice is None or round_ is None:
        raise HTTPException(404)
    return notice, round_


async def notice_page(request: Request):
    _notice, round_ = await _catalogue_notice(request)
    return redirect(f"/catalogue/rounds/{round_.id}#notice")


async def object_page(request: Request):
    """An objection to the catalogue notice, through the results area's objection rules."""
    user = require_user(request)
    notice, round_ = await _catalogue_notice(request)
    now = now_utc()
    form = Form({"real_name": user.name})
    if request.method == "POST":
        form = Form(await read_form(request))
        data = result_forms.parse_objection(form)
        if form.is_valid:
            try:
                await create_once(form, user=user, location=lambda made: f"/catalogue/rounds/{round_.id}#notice",
                                  create=lambda: objections.file_objection(notice=notice, user=user, now=now, **data))
            except DomainError as error:
                form.add_errors(error.errors or {"reasons": error.message})
            else:
                flash(request, _("异议已提交。管理员核实处理后将通知您处理结果。"))
                return redirect(f"/catalogue/rounds/{round_.id}#notice")
    return render(request, "promotion/object.html", {
        "round": round_, "notice": notice, "form": form, "closed_message": objections.closed_message(notice, now),
    }, status_code=form.status_code)


# == proposing a candidate (the team, or the office) ==========================================

async def _candidate_form(request: Request, round_: CatalogueRound, projects: list[Project], back: str):
    user = request.state.user
    by_id = {p.id: p for p in projects}
    domains = list(await round_.domains.all())
    chosen = request.query_params.get("project", "")
    project = by_id.get(parse_id(chosen))
    form = Form()
    if project is not None:
        parameters = await rounds.carried_parameters(project)
        form = Form({"project": str(project.id), "name": project.title, "domain": str(project.challenge.domain_id),
                     **forms.parameter_data(parameters)})
    if request.method == "POST":
        form = Form(await read_form(request))
        picked = form.choice("project", list(by_id))
        project = by_id.get(int(picked)) if picked is not None else None
        data = forms.parse_candidate(form, [d.id for d in domains])
        if form.is_valid and project is not None:
            try:
                await create_once(form, user=user, location=lambda made: back,
                                  create=lambda: rounds.propose_candidate(round_=round_, project=project, actor=user,
                                                                          **data))
            except DomainError as error:
                form.add_errors(error.errors or {"name": error.message})
            else:
                flash(request, _("候选技术已提交，将由项目管理办公室进行初审。"))
                return redirect(back)
    parameters = forms.parse_parameters(Form(form.data))
    return render(request, "promotion/candidate_form.html", {
        "round": round_, "form": form, "projects": projects, "domains": domains, "back": back,
        "rows": forms.parameter_rows(parameters)}, status_code=form.status_code)


async def apply_page(request: Request):
    user = require_role(request, Role.BIDDER)
    round_ = await _public_round(request)
    if round_.status != RoundStatus.OPEN or user.organisation_id is None:
        raise HTTPException(404)
    projects = await rounds.accepted_projects(organisation_id=user.organisation_id)
    return await _candidate_form(request, round_, projects, f"/catalogue/rounds/{round_.id}")


# == an offer applied by its owner =============================================================

async def offer_apply_page(request: Request):
    """The owner of a published offer applies it to the open round, with the catalogue's fields
    prefilled from the offer (`?offer_id=`)."""
    user = require_user(request)
    round_ = await _public_round(request)
    offer_id = parse_id(request.query_params.get("offer_id"))
    offer = await Offer.get_or_none(id=offer_id).select_related("organisation") if offer_id else None
    if offer is None or not supply_permissions.can_view_offer(user, offer):
        raise HTTPException(404)
    if not rounds.can_apply_offer(user, offer):
        raise HTTPException(403, _("只有技术成果所属单位的成员可以申报推广目录"))
    if round_.status != RoundStatus.OPEN or offer.status != OfferStatus.PUBLISHED:
        raise HTTPException(404)
    domains = list(await round_.domains.all())
    prefill = await rounds.offer_fields(offer)
    form = Form({"name": prefill["name"], "domain": str(prefill["domain_id"] or ""), "scope": prefill["scope"],
                 "core_process": prefill["core_process"], "benefits": prefill["benefits"],
                 **forms.parameter_data(prefill["parameters"])})
    back = f"/supply/{offer.id}#catalogue"
    if request.method == "POST":
        form = Form(await read_form(request))
        data = forms.parse_candidate(form, [d.id for d in domains])
        if form.is_valid:
            try:
                await create_once(form, user=user, location=lambda made: back,
                                  create=lambda: rounds.apply_offer(round_=round_, offer=offer, actor=user, **data))
            except DomainError as error:
                form.add_errors(error.errors or {"name": error.message})
            else:
                flash(request, _("已申报推广目录，将由项目管理办公室进行初审。"))
                return redirect(back)
    parameters = forms.parse_parameters(Form(form.data))
    return render(request, "promotion/offer_apply.html", {
        "round": round_, "offer": offer, "form": form, "domains": domains, "back": back,
        "rows": forms.parameter_rows(parameters)}, status_code=form.status_code)


async def offer_section(offer: Offer, user) -> dict | None:
    """On an offer's page, for its owners: the open rounds it may apply to and its applications."""
    if not rounds.can_apply_offer(user, offer):
        return None
    applied = list(await Candidate.filter(offer_id=offer.id).select_related("round").order_by("-id"))
    taken = {c.round_id for c in applied}
    open_ = [r for r in await rounds.open_rounds() if r.id not in taken] \
        if offer.status == OfferStatus.PUBLISHED else []
    if not applied and not open_:
        return None
    return {"template": "promotion/_offer_rounds.html", "open_rounds": open_, "applied": applied}


supply_routes.PAGE_SECTIONS.append(offer_section)


# == the organiser's desk ======================================================================

async def manage(request: Request):
    require_organiser(request)
    return render(request, "promotion/manage.html", {
        "rounds": await CatalogueRound.all().order_by("-year", "-id"),
        "entries": await CatalogueEntry.all().select_related("domain").order_by("number"), **ENUMS})


async def round_new(request: Request):
    user = require_organiser(request)
    domains = await _domains()
    form = Form({"year": str(now_utc().year), "domains": "", **forms.rubric_data(rounds.EVALUATION_RUBRIC)})
    if request.method == "POST":
        form = Form(await read_form(request))
        data = forms.parse_round(form, [d.id for d in domains])
        if form.is_valid:
            try:
                made = await create_once(form, user=user, location=lambda made: f"/catalogue/manage/rounds/{made.id}",
                                         create=lambda: rounds.create_round(actor=user, **data))
            except DomainError as error:
                form.add_errors(error.errors or {"title": error.message})
            else:
                flash(request, _("遴选批次已创建（草稿），确认无误后发布征集。"))
                return redirect(f"/catalogue/manage/rounds/{made.id}")
    return render(request, "promotion/round_form.html", {
        "form": form, "domains": [(d.id, d.label) for d in domains],
        "selected": parse_ids(form.getlist("domains")),
        "rubric_rows": forms.rubric_rows(form)}, status_code=form.status_code)


async def _managed_round(request: Request) -> CatalogueRound:
    require_organiser(request)
    round_ = await CatalogueRound.get_or_none(id=_int(request, "round_id")).prefetch_related("domains")
    if round_ is None:
        raise HTTPException(404)
    return round_


async def round_manage(request: Request, notice_form: Form | None = None):
    round_ = await _managed_round(request)
    candidates = await Candidate.filter(round_id=round_.id).select_related("domain", "organisation", "panel") \
        .order_by("id")
    notice = await Notice.get_or_none(id=round_.notice_id) if round_.notice_id else None
    rows = await rounds.evaluation(round_) if round_.status != RoundStatus.OPEN else []
    eligible = [r for r in rows if r.candidate.status == CandidateStatus.ELIGIBLE]
    form = notice_form or Form({"working_days": "5", "starts_on": results.default_start(now_utc()).isoformat(),
                                "recommended": ""})
    now = now_utc()
    return render(request, "promotion/round_manage.html", {
        "round": round_, "candidates": candidates, "rows": rows, "eligible": eligible, "notice": notice,
        "objections": await Objection.filter(notice_id=notice.id).order_by("filed_at") if notice else [],
        "form": form, "now": now,
        "publish_problem": results.announce_problem(notice, await results.open_objections(notice), now)
        if notice else "",
        "selected": parse_ids(form.getlist("recommended")), **ENUMS,
    }, status_code=form.status_code)


async def _round_action(request: Request, action: str):
    """Open the round, start the evaluation, or publish the catalogue (after the notice)."""
    user = require_organiser(request)
    round_ = await _managed_round(request)
    messages = {"open": _("征集已发布，项目团队可在截止时间前推荐通过验收的项目。"),
                "evaluate": _("征集已结束，进入技术评价：请为每项通过初审的技术组建评价专家组。"),
                "publish": _("推广目录已发布新版本。")}
    await read_form(request)
    try:
        if action == "open":
            await rounds.open_round(round_=round_, actor=user)
        elif action == "evaluate":
            await rounds.start_evaluation(round_=round_, actor=user)
        elif action == "publish":
            version = await rounds.publish_round(round_=round_, actor=user)
            flash(request, messages[action])
            return redirect(f"/catalogue/versions/{version.number}")
    except DomainError as error:
        flash(request, error.message, "error")
    else:
        flash(request, messages[action])
    return redirect(f"/catalogue/manage/rounds/{round_.id}")


async def open_round(request: Request):
    return await _round_action(request, "open")


async def start_evaluation(request: Request):
    return await _round_action(request, "evaluate")


async def publish_round(request: Request):
    return await _round_action(request, "publish")


async def propose_page(request: Request):
    require_organiser(request)
    round_ = await _managed_round(request)
    return await _candidate_form(request, round_, await rounds.accepted_projects(),
                                 f"/catalogue/manage/rounds/{round_.id}")


async def _managed_candidate(request: Request) -> Candidate:
    require_organiser(request)
    candidate = await Candidate.get_or_none(id=_int(request, "candidate_id")).select_related(
        "round", "domain", "project", "project__challenge", "organisation")
    if candidate is None:
        raise HTTPException(404)
    return candidate


async def screen(request: Request):
    user = require_organiser(request)
    candidate = await _managed_candidate(request)
    form = Form(await read_form(request))
    data = forms.parse_screen(form)
    try:
        await rounds.screen_candidate(candidate=candidate, actor=user, **data)
    except DomainError as error:
        flash(request, _("初审结论未保存：%(reason)s", reason=error.message), "error")
    else:
        flash(request, _("初审结论已保存。"))
    return redirect(f"/catalogue/manage/rounds/{candidate.round_id}#candidate-{candidate.id}")


async def panel_new(request: Request):
    """The candidate's technical evaluation panel, formed as any panel of the reviews area."""
    user = require_organiser(request)
    candidate = await _managed_candidate(request)
    project = candidate.project
    if project is not None:
        pool = await review_queries.pool_with_conflicts(project.challenge_id, [project.bid_id])
    else:  # an offer: conflicts with its organisation
        pool = await review_queries.pool_with_conflicts(None, holder_id=candidate.organisation_id)
    expert_ids = [row["user"].id for row in pool]
    form = Form({"name": _("%(title)s技术评价专家组", title=candidate.name), "dispersion_threshold": "15"})
    if request.method == "POST":
        form = Form(await read_form(request))
        data = forms.parse_panel(form, expert_ids)
        if form.is_valid:
            try:
                panel = await create_once(form, user=user, location=lambda made: f"/review/manage/panels/{made.id}",
                                          create=lambda: rounds.form_evaluation(candidate=candidate, actor=user,
                                                                                **data))
            except DomainError as error:
                form.add_errors(error.errors or {"name": error.message})
            else:
                flash(request, _("评价专家组已组建（利益冲突已按候选技术的承担单位计算），请生成分配建议并确认。"))
                return redirect(f"/review/manage/panels/{panel.id}")
    return render(request, "promotion/panel_new.html", {
        "candidate": candidate, "form": form, "pool": pool,
        "deputies": [(row["user"].id, row["user"].name) for row in pool],
        "selected": parse_ids(form.getlist("members")),
    }, status_code=form.status_code)


async def notice_new(request: Request):
    user = require_organiser(request)
    round_ = await _managed_round(request)
    form = Form(await read_form(request))
    ids = await Candidate.filter(round_id=round_.id, status=CandidateStatus.ELIGIBLE).values_list("id", flat=True)
    data = forms.parse_notice(form, list(ids))
    if form.is_valid:
        try:
            await rounds.publish_notice(round_=round_, actor=user, **data)
        except DomainError as error:
            form.add_errors(error.errors or {"recommended": error.message})
        else:
            flash(request, _("推广目录公示已发布，公示期内任何登录用户均可提出异议。"))
            return redirect(f"/catalogue/manage/rounds/{round_.id}")
    return await round_manage(request, notice_form=form)


async def objection_page(request: Request):
    user = require_organiser(request)
    objection = await Objection.get_or_none(id=_int(request, "objection_id"),
                                            notice__kind=NoticeKind.CATALOGUE).select_related("notice", "objector")
    if objection is None:
        raise HTTPException(404)
    round_ = await CatalogueRound.get(notice_id=objection.notice_id)
    form = Form()
    if request.method == "POST":
        form = Form(await read_form(request))
        outcome = form.choice("outcome", ["upheld", "dismissed"])
        answer = form.text("answer", required=True, max_length=5000)
        if form.is_valid:
            try:
                await objections.answer_objection(objection=objection, actor=user, upheld=outcome == "upheld",
                                                  answer=answer, remedy=Remedy.NEW_DECISION)
            except DomainError as error:
                form.add_errors(error.errors or {"answer": error.message})
            else:
                flash(request, _("异议处理意见已保存，异议人已收到通知。"))
                return redirect(f"/catalogue/manage/rounds/{round_.id}")
    return render(request, "promotion/objection.html", {
        "objection": objection, "round": round_, "form": form, **ENUMS}, status_code=form.status_code)


async def entry_manage(request: Request):
    """Adjust an entry (content with a reason, or withdrawal), and record its adoption cases."""
    user = require_organiser(request)
    entry = await _entry(request)
    form = Form({"name": entry.name, "scope": entry.scope, "core_process": entry.core_process,
                 "benefits": entry.benefits, **forms.parameter_data(entry.parameters)})
    case_form = Form()
    if request.method == "POST":
        posted = Form(await read_form(request))
        action = posted.get("action")
        try:
            if action == "withdraw":
                form = posted
                reason = posted.text("withdraw_reason", required=True, max_length=2000)
                if posted.is_valid:
                    version = await catalogue.withdraw_entry(entry=entry, actor=user, reason=reason)
            elif action == "case":
                case_form = posted
                data = forms.parse_case(posted)
                if posted.is_valid:
                    await create_once(posted, user=user, location=lambda made: f"/catalogue/entries/{entry.number}",
                                      create=lambda: catalogue.add_case(entry=entry, actor=user, **data))
                    flash(request, _("应用案例已记录。"))
                    return redirect(f"/catalogue/entries/{entry.number}#cases")
            else:
                form = posted
                data = forms.parse_adjustment(posted)
                if posted.is_valid:
                    version = await catalogue.update_entry(entry=entry, actor=user, **data)
            if posted.is_valid:
                flash(request, _("目录已调整，并发布为第 %(n)s 版。", n=version.number))
                return redirect(f"/catalogue/entries/{entry.number}")
        except DomainError as error:
            posted.add_errors(error.errors or {"reason": error.message})
    parameters = forms.parse_parameters(Form(form.data))
    return render(request, "promotion/entry_manage.html", {
        "entry": entry, "form": form, "case_form": case_form, "rows": forms.parameter_rows(parameters), **ENUMS,
    }, status_code=400 if form.errors or case_form.errors else 200)


async def results_section() -> dict | None:
    """Catalogue notices on /results: the ones in their period and the latest announced."""
    rounds_ = list(await CatalogueRound.filter(notice_id__isnull=False, status__in=[
        RoundStatus.NOTICE, RoundStatus.PUBLISHED]).select_related("notice").order_by("-notice__published_at")
        .limit(10))
    if not rounds_:
        return None
    return {"template": "promotion/_results_section.html", "rounds": rounds_}


result_routes.INDEX_SECTIONS.append(results_section)

routes = [
    Route("/", index, name="index"),
    Route("/entries/{number:int}", entry_page, name="entry"),
    Route("/versions", versions_page, name="versions"),
    Route("/versions/{number:int}", version_page, name="version"),
    Route("/versions/{number:int}.{fmt}", version_download, name="version_download"),
    Route("/rounds/{round_id:int}", round_page, name="round"),
    Route("/rounds/{round_id:int}/apply", apply_page, methods=["GET", "POST"], name="apply"),
    Route("/rounds/{round_id:int}/offer", offer_apply_page, methods=["GET", "POST"], name="offer_apply"),
    Route("/notices/{notice_id:int}", notice_page, name="notice"),
    Route("/notices/{notice_id:int}/object", object_page, methods=["GET", "POST"], name="object"),
    Route("/manage", manage, name="manage"),
    Route("/manage/rounds/new", round_new, methods=["GET", "POST"], name="round_new"),
    Route("/manage/rounds/{round_id:int}", round_manage, name="round_manage"),
    Route("/manage/rounds/{round_id:int}/propose", propose_page, methods=["GET", "POST"], name="propose"),
    Route("/manage/rounds/{round_id:int}/notice", notice_new, methods=["POST"], name="notice_new"),
    Route("/manage/rounds/{round_id:int}/open", open_round, methods=["POST"], name="open"),
    Route("/manage/rounds/{round_id:int}/evaluate", start_evaluation, methods=["POST"], name="evaluate"),
    Route("/manage/rounds/{round_id:int}/publish", publish_round, methods=["POST"], name="publish"),
    Route("/manage/candidates/{candidate_id:int}/screen", screen, methods=["POST"], name="screen"),
    Route("/manage/candidates/{candidate_id:int}/panel", panel_new, methods=["GET", "POST"], name="panel_new"),
    Route("/manage/objections/{objection_id:int}", objection_page, methods=["GET", "POST"], name="objection"),
    Route("/manage/entries/{number:int}", entry_manage, methods=["GET", "POST"], name="entry_manage"),
]
