"""Challenge pages: the public list and page, and the organiser's build, publish, amend and answer."""

from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import Route
from tortoise.expressions import Q

from challenge.accounts.models import Organisation, OrgStatus, OrgType
from challenge.catalog import regions
from challenge.catalog.models import Domain
from challenge.challenges import documents, forms, permissions, services
from challenge.challenges.display import describe_changes
from challenge.challenges.models import (
    CHALLENGE_TRANSITIONS,
    PUBLIC_CHALLENGE_STATES,
    Aggregation,
    Challenge,
    ChallengeStatus,
    DocumentKind,
    Mechanism,
    Question,
)
from challenge.enums import N_
from challenge.errors import DomainError
from challenge.files.services import download_response
from challenge.files.uploads import receive_upload
from challenge.needs.models import Need, NeedStatus
from challenge.web.auth import current_user, require_organiser, require_user
from challenge.web.exports import export_response
from challenge.web.flash import flash
from challenge.web.forms import Form, parse_ids, read_form
from challenge.web.http import redirect
from challenge.web.i18n import _
from challenge.web.limits import UPLOAD, limited
from challenge.web.once import AlreadyCreated, create_once
from challenge.web.pagecache import public_page
from challenge.web.pagination import page_number, paginate, sort_helpers
from challenge.web.templating import render
from challenge.web.timefmt import now_utc

PUBLISH_REFUSED = N_("榜单未发布，也未保存本次修改。请先解决以下问题：")
# What the challenge page offers; review, notice and delivery move the rest through their own services.
PAGE_TRANSITIONS = {ChallengeStatus.PUBLISHED, ChallengeStatus.CLOSED, ChallengeStatus.CANCELLED}
# Sections that upper areas add to the challenge page (results: its notices and announcement;
# delivery: a horse race's track, the projects), registered by them at import:
# async (challenge, user) -> a context with its "template" and its "slot" ("top", the default, or
# "stages": where a horse race shows its stages), or None.
PAGE_SECTIONS: list = []


async def _challenge_or_404(request: Request) -> Challenge:
    challenge = await Challenge.get_or_none(id=request.path_params["challenge_id"])
    if challenge is None or not permissions.can_view_challenge(current_user(request), challenge):
        raise HTTPException(404)
    return challenge


def _filter_context(filters, errors) -> dict:
    return {"filters": filters, "filter_errors": errors, "mechanisms": list(Mechanism),
            "provinces": regions.provinces(), "sorts": [("newest", _("最新发布")), ("deadline", _("截止时间")),
                                                        ("funding", _("榜单金额"))]}


# -- public -------------------------------------------------------------------------------------

VIEWS = ("cards", "table")


async def challenge_list(request: Request):
    return render(request, "challenges/list.html", await list_context(request.query_params))


async def list_context(query_params) -> dict:
    """The public list's context for these query parameters (also read once by bench/limit_app.py)."""
    now = now_utc()
    filters, errors = forms.parse_filters(query_params)
    query = await services.filtered_challenges(filters, now=now)
    page = await paginate(query.select_related("domain").prefetch_related("issuers"),
                          page_number(query_params.get("page")))
    view = query_params.get("view")
    params = dict(query_params)
    params["sort"] = filters.sort
    sort_url, sort_state = sort_helpers(params)
    return {
        **_filter_context(filters, errors), "page": page, "now": now,
        "view": view if view in VIEWS else "cards", "sort_url": sort_url, "sort_state": sort_state,
        "view_url": lambda name: "?" + urlencode({**{k: v for k, v in params.items() if v and k != "page"},
                                                  "view": name}),
        "domains": await Domain.filter(is_active=True).order_by("sort_order", "id"),
        "statuses": [s for s in ChallengeStatus if s in PUBLIC_CHALLENGE_STATES],
        "filtered": any(query_params.get(k) for k in
                        ("q", "domain", "mechanism", "status", "region", "funding_min", "funding_max")),
    }


async def challenge_detail(request: Request):
    return await _detail_page(request, await _challenge_or_404(request))


async def _detail_page(request: Request, challenge: Challenge, *, question_form: Form | None = None,
                       status_code: int = 200):
    user = current_user(request)
    now = now_utc()
    await challenge.fetch_related("domain", "issuers", "needs", "targets", "criteria", "amendments")
    questions = await Question.filter(challenge=challenge).order_by("created_at", "id")
    amendments = sorted(challenge.amendments, key=lambda a: a.version, reverse=True)
    organiser = permissions.is_organiser(user)
    sections = [section for build in PAGE_SECTIONS if (section := await build(challenge, user)) is not None]
    for section in sections:
        section.setdefault("slot", "top")
    return render(request, "challenges/detail.html", {
        "sections": sections,
        "challenge": challenge, "now": now,
        "shown_status": challenge.shown_status(now),
        "accepting": challenge.accepting_bids(now),
        "issuers": sorted(challenge.issuers, key=lambda o: o.name),
        "needs": list(challenge.needs),
        "targets": list(challenge.targets), "criteria": list(challenge.criteria),
        "amendments": [(a, describe_changes(a)) for a in amendments],
        "questions": services.visible_questions(questions, user),
        "unanswered": sum(1 for q in questions if not q.is_answered),
        "can_bid": permissions.can_bid(user, challenge, now),
        "can_ask": permissions.can_ask_question(user, challenge, now),
        "can_edit": permissions.can_edit_challenge(user, challenge),
        "can_amend": permissions.can_amend_challenge(user, challenge, now),
        "is_organiser": organiser,
        "transitions": [s for s in CHALLENGE_TRANSITIONS[challenge.status]
                        if s in PAGE_TRANSITIONS and s != ChallengeStatus.PUBLISHED
                        and (s != ChallengeStatus.CLOSED or challenge.window_passed(now))] if organiser else [],
        "question_form": question_form or Form(), "follow_form": Form(), "region_name": regions.name,
        "documents": await documents.documents_of(challenge), "kind_labels": dict(DocumentKind.choices()),
        "org_type_labels": {t.value: t.label for t in OrgType},
    }, status_code=status_code)


async def ask_question(request: Request):
    user = require_user(request)
    challenge = await _challenge_or_404(request)
    form = Form(await read_form(request))
    typed = len(form.get("body").strip())
    if typed > services.QUESTION_MAX:
        form.error("body", _("问题不能超过 %(max)s 字，现为 %(n)s 字：请精简后再提交（您填写的内容仍在下面）。",
                             max=services.QUESTION_MAX, n=typed))
    body = form.text("body", required=True, max_length=services.QUESTION_MAX)
    if form.is_valid:
        try:
            question = await create_once(
                form, user=user, create=lambda: services.ask_question(challenge=challenge, user=user, body=body),
                location=lambda asked: f"/challenges/{challenge.id}#question-{asked.id}")
        except DomainError as error:
            form.add_errors(error.errors or {"body": error.message})
        else:
            flash(request, _("问题已提交。管理员答复后将公开显示答复，提问人不会公开。"))
            return redirect(f"/challenges/{challenge.id}#question-{question.id}")
    # The page again, with the question as typed (however long) and what is wrong next to it.
    return await _detail_page(request, challenge, question_form=form, status_code=400)


# -- organiser: lists and export ----------------------------------------------------------------

async def manage(request: Request):
    require_organiser(request)
    now = now_utc()
    filters, errors = forms.parse_filters(request.query_params, public=False)
    query = await services.filtered_challenges(filters, now=now, public=False)
    page = await paginate(query.select_related("domain").prefetch_related("issuers"),
                          page_number(request.query_params.get("page")))
    return render(request, "challenges/manage.html", {
        **_filter_context(filters, errors), "page": page, "now": now,
        "domains": await Domain.all().order_by("sort_order", "id"), "statuses": list(ChallengeStatus),
        "query_string": str(request.query_params),
        "accepted_needs": await Need.filter(status=NeedStatus.ACCEPTED).count(),
    })


async def export(request: Request):
    require_organiser(request)
    now = now_utc()
    filters, _errors = forms.parse_filters(request.query_params, public=False)
    query = await services.filtered_challenges(filters, now=now, public=False)
    fmt = request.query_params.get("format", "csv")
    stamp = now.strftime("%Y%m%d")
    return await export_response(fmt, f"challenges-{stamp}", services.export_header(),
                                 services.export_rows(query, now=now))


# -- organiser: build and publish ---------------------------------------------------------------

async def _form_context(form, *, challenge: Challenge | None, action: str = "") -> dict:
    linked = form.getlist("need_ids")
    linked_ids = parse_ids(linked)
    needs = await (Need.filter(Q(status=NeedStatus.ACCEPTED) | Q(id__in=linked_ids))
                   .select_related("organisation", "domain").prefetch_related("challenges").order_by("-id"))
    return {
        "form": form, "challenge": challenge, "rows": forms.rows_to_render(form, action),
        "needs": needs, "organisations": await Organisation.filter(status=OrgStatus.APPROVED).order_by("name"),
        "domains_options": [(d.id, d.label) for d in await Domain.filter(is_active=True).order_by("sort_order", "id")],
        "mechanisms": Mechanism.choices(), "aggregations": Aggregation.choices(),
        "org_types": OrgType.choices(), "provinces": regions.provinces(),
    }


async def _prefill_from_needs(request: Request) -> forms.ListForm:
    """A new challenge starts from the needs chosen on the needs pages (?need_id=1&need_id=2)."""
    ids = parse_ids(request.query_params.getlist("need_id"))
    needs = await Need.filter(id__in=ids, status=NeedStatus.ACCEPTED).select_related("organisation")
    data = services.ChallengeData(need_ids=[n.id for n in needs],
                                  issuer_ids=sorted({n.organisation_id for n in needs}))
    if needs:
        first = needs[0]
        data.title, data.summary, data.domain_id = first.title, first.bottleneck, first.domain_id
        data.description = "\n\n".join(part for part in (first.application_scenario, first.expected_results) if part)
    return forms.initial_form(data)


async def _save(request: Request, challenge: Challenge | None):
    """POST of the build form: add rows, save the draft, or save and publish (all or nothing)."""
    actor = require_organiser(request)
    form = Form(await read_form(request))
    action = form.get("action", "save")
    template = "challenges/form.html"
    if action in forms.ADD_ACTIONS:
        return render(request, template, await _form_context(form, challenge=challenge, action=action))
    data = forms.parse_challenge(form)
    if form.is_valid:
        try:
            save = services.save_and_publish if action == "publish" else services.save_draft
            if challenge is None:
                saved = await create_once(form, user=actor, create=lambda: save(challenge=None, data=data, actor=actor),
                                          location=lambda created: f"/challenges/{created.id}")
            else:
                saved = await save(challenge=challenge, data=data, actor=actor)
            if action == "publish":
                flash(request, _("榜单已发布：%(title)s", title=saved.title))
            else:
                flash(request, _("草稿已保存。发布前可继续修改。"))
            return redirect(f"/challenges/{saved.id}")
        except services.EditAfterPublish as error:
            flash(request, error.message, "error")
            return redirect(f"/challenges/{challenge.id}/amend")
        except DomainError as error:
            form.add_errors(error.errors or {"title": error.message})
            if action == "publish":
                flash(request, _(PUBLISH_REFUSED), "error")
    return render(request, template, await _form_context(form, challenge=challenge), status_code=400)


async def new_challenge(request: Request):
    require_organiser(request)
    if request.method == "POST":
        return await _save(request, None)
    form = await _prefill_from_needs(request)
    return render(request, "challenges/form.html", await _form_context(form, challenge=None))


async def edit_challenge(request: Request):
    require_organiser(request)
    challenge = await _challenge_or_404(request)
    if challenge.status != ChallengeStatus.DRAFT:
        flash(request, _("榜单已发布，不能直接修改。请通过“发布补充通知”说明并公开修改内容，未做任何修改。"), "error")
        return redirect(f"/challenges/{challenge.id}/amend" if permissions.can_amend_challenge(
            current_user(request), challenge, now_utc()) else f"/challenges/{challenge.id}")
    if request.method == "POST":
        return await _save(request, challenge)
    form = forms.initial_form(await services.load_data(challenge))
    return render(request, "challenges/form.html", await _form_context(form, challenge=challenge))


async def change_status(request: Request):
    """Publish, cancel or move a challenge along its states through `set_challenge_status`."""
    actor = require_organiser(request)
    challenge = await _challenge_or_404(request)
    form = Form(await read_form(request))
    status = form.choice("status", list(PAGE_TRANSITIONS))
    if status is None:
        flash(request, _("请选择要变更的状态；评审、公示和验收的状态由相应流程变更"), "error")
        return redirect(f"/challenges/{challenge.id}")
    try:
        await services.set_challenge_status(challenge=challenge, status=status, actor=actor,
                                            reason=form.text("reason", max_length=2000))
    except DomainError as error:
        if status == ChallengeStatus.PUBLISHED and error.errors and challenge.status == ChallengeStatus.DRAFT:
            # Show the problems on the form where they are fixed.
            edit_form = forms.initial_form(await services.load_data(challenge))
            edit_form.add_errors(error.errors)
            flash(request, _("榜单未发布。请先解决以下问题："), "error")
            return render(request, "challenges/form.html", await _form_context(edit_form, challenge=challenge),
                          status_code=400)
        flash(request, error.message + "".join(f" {m}" for m in error.errors.values() if m != error.message), "error")
    else:
        flash(request, _("榜单状态已变更为“%(s)s”", s=status.label))
    return redirect(f"/challenges/{challenge.id}")


# -- organiser: amendments and answers ----------------------------------------------------------

async def amend(request: Request):
    actor = require_organiser(request)
    challenge = await _challenge_or_404(request)
    now = now_utc()
    if not permissions.can_amend_challenge(actor, challenge, now):
        if challenge.status == ChallengeStatus.DRAFT:
            flash(request, _("草稿尚未发布，可直接修改。"), "info")
            return redirect(f"/challenges/{challenge.id}/edit")
        flash(request, services.not_amendable_message(challenge, now), "error")
        return redirect(f"/challenges/{challenge.id}")
    current = await services.load_data(challenge)
    can_move_close = challenge.accepting_bids(now)
    form = forms.initial_form(current)
    status_code = 200
    if request.method == "POST":
        form = Form(await read_form(request))
        action = form.get("action", "amend")
        if action in forms.ADD_ACTIONS:
            return render(request, "challenges/amend.html", {
                "form": form, "challenge": challenge, "rows": forms.rows_to_render(form, action),
                "stages": current.stages, "can_move_close": can_move_close, "org_types": OrgType.choices(),
                "provinces": regions.provinces()})
        data, explanation = forms.parse_amendment(form, current, can_move_close=can_move_close)
        if not explanation:
            form.error("explanation", _("请说明修改的内容和理由，补充通知将公开发布"))
        if form.is_valid:
            try:
                amendment = await create_once(
                    form, user=actor, location=lambda made: f"/challenges/{challenge.id}#amendment-{made.version}",
                    create=lambda: services.amend_challenge(challenge=challenge, data=data, explanation=explanation,
                                                            actor=actor, now=now))
            except DomainError as error:
                form.add_errors(error.errors or {"explanation": error.message})
            else:
                flash(request, _("补充通知（第 %(v)s 版）已发布，已通知已申报的团队。", v=amendment.version))
                return redirect(f"/challenges/{challenge.id}#amendment-{amendment.version}")
        status_code = 400
    return render(request, "challenges/amend.html", {
        "form": form, "challenge": challenge, "rows": forms.rows_to_render(form), "stages": current.stages,
        "can_move_close": can_move_close, "org_types": OrgType.choices(), "provinces": regions.provinces(),
    }, status_code=status_code)


async def answer_question(request: Request):
    actor = require_organiser(request)
    challenge = await _challenge_or_404(request)
    question = await Question.get_or_none(id=request.path_params["question_id"], challenge=challenge)
    if question is None:
        raise HTTPException(404)
    form = Form(await read_form(request))
    try:
        await services.answer_question(question=question, actor=actor, answer=form.text("answer", max_length=5000))
    except DomainError as error:
        flash(request, error.message, "error")
    else:
        flash(request, _("答复已公开发布，提问人已收到通知。"))
    return redirect(f"/challenges/{challenge.id}#question-{question.id}")


# -- documents (申报指南, 申报书模板, the official notice) ---------------------------------------------

def _upload_settings(request: Request) -> dict:
    settings = request.app.state.settings
    return {"max_bytes": settings.max_upload_bytes, "allowed": settings.allowed_upload_types}


async def _documents_page(request: Request, challenge: Challenge, form: Form, status_code: int = 200):
    return render(request, "challenges/documents.html", {
        "challenge": challenge, "form": form, "documents": await documents.documents_of(challenge),
        "kinds": DocumentKind.choices(), "kind_labels": dict(DocumentKind.choices()), "max_documents": documents.MAX_DOCUMENTS,
        "accept": ",".join("." + ext for ext in request.app.state.settings.allowed_upload_types),
    }, status_code=status_code)


async def manage_documents(request: Request):
    """The organiser's page of a challenge's documents: the list, and the upload form."""
    actor = require_organiser(request)
    challenge = await _challenge_or_404(request)
    if request.method == "GET":
        return await _documents_page(request, challenge, Form({"kind": DocumentKind.GUIDE.value}))
    storage = request.app.state.storage
    parsed = await receive_upload(request, storage, **_upload_settings(request))
    form = Form(parsed.form)
    kind = form.choice("kind", list(DocumentKind), required=True)
    form.add_errors({"files" if name != "kind" else name: message for name, message in parsed.errors.items()})
    if not form.is_valid:
        await parsed.discard()
        return await _documents_page(request, challenge, form, status_code=400)
    try:
        added = await create_once(form, user=actor, location=lambda _added: f"/challenges/{challenge.id}/documents",
                                  create=lambda: documents.add_documents(challenge=challenge, kind=kind,
                                                                         uploads=parsed.files, actor=actor,
                                                                         storage=storage))
    except AlreadyCreated:
        await parsed.discard()
        raise
    except DomainError as error:
        await parsed.discard()
        form.add_errors(error.errors or {"files": error.message})
        return await _documents_page(request, challenge, form, status_code=400)
    flash(request, _("已上传 %(n)s 个文件：%(names)s", n=len(added), names="、".join(a.filename for a in added)))
    return redirect(f"/challenges/{challenge.id}/documents")


async def _document_or_404(request: Request, challenge: Challenge):
    document = await documents.document_of(challenge, request.path_params["document_id"])
    if document is None:
        raise HTTPException(404)
    return document


async def document_download(request: Request):
    """Public once the challenge is (its page decides who sees a draft: organisers only)."""
    challenge = await _challenge_or_404(request)
    document = await _document_or_404(request, challenge)
    response = download_response(request.app.state.storage, document.blob, document.filename)
    if challenge.is_public:
        response.headers["Cache-Control"] = "public, max-age=300"
    return response


async def document_delete(request: Request):
    actor = require_organiser(request)
    challenge = await _challenge_or_404(request)
    document = await _document_or_404(request, challenge)
    await read_form(request)
    try:
        await documents.remove_document(challenge=challenge, document=document, actor=actor)
    except DomainError as error:
        flash(request, error.message, "error")
    else:
        flash(request, _("已删除文件：%(name)s", name=document.filename))
    return redirect(f"/challenges/{challenge.id}/documents")


routes = [
    Route("/", public_page(challenge_list), name="list"),
    Route("/manage", manage, name="manage"),
    Route("/manage/export", export, name="export"),
    Route("/new", new_challenge, methods=["GET", "POST"], name="new"),
    Route("/{challenge_id:int}", public_page(challenge_detail), name="detail"),
    Route("/{challenge_id:int}/edit", edit_challenge, methods=["GET", "POST"], name="edit"),
    Route("/{challenge_id:int}/status", change_status, methods=["POST"], name="status"),
    Route("/{challenge_id:int}/amend", amend, methods=["GET", "POST"], name="amend"),
    Route("/{challenge_id:int}/questions", ask_question, methods=["POST"], name="ask"),
    Route("/{challenge_id:int}/questions/{question_id:int}/answer", answer_question, methods=["POST"],
          name="answer"),
    limited(Route("/{challenge_id:int}/documents", manage_documents, methods=["GET", "POST"], name="documents"),
            UPLOAD),
    Route("/{challenge_id:int}/documents/{document_id:int}", document_download, name="document"),
    Route("/{challenge_id:int}/documents/{document_id:int}/delete", document_delete, methods=["POST"],
          name="document_delete"),
]
