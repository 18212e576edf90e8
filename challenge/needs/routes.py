"""Campaigns (需求征集批次) and technology needs (技术需求): thin handlers over needs.services."""

from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.datastructures import MultiDict, QueryParams
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import Route
from tortoise.functions import Count

from challenge.catalog import regions
from challenge.catalog.models import Domain
from challenge.enums import N_
from challenge.challenges.models import PUBLIC_CHALLENGE_STATES
from challenge.errors import DomainError, InvalidTransition
from challenge.files import kept
from challenge.files.kept import KeptFileGone
from challenge.files.models import Attachment
from challenge.files.services import download_response
from challenge.files.uploads import receive_upload
from challenge.needs import permissions, services
from challenge.needs.forms import (
    MAX_ID,
    campaign_form_data,
    need_form_data,
    parse_campaign,
    parse_filters,
    parse_id,
    parse_need,
    parse_screening,
)
from challenge.needs.models import (
    MAX_ATTACHMENTS_PER_NEED,
    MERGE_TARGET_STATES,
    ORGANISER_VISIBLE_NEED_STATES,
    PUBLIC_CAMPAIGN_STATES,
    SCREENABLE_NEED_STATES,
    Campaign,
    CampaignStatus,
    Need,
    NeedStatus,
)
from challenge.web.auth import require_organiser, require_user
from challenge.web.exports import export_response
from challenge.web.flash import flash
from challenge.web.forms import Form, read_form
from challenge.web.http import redirect
from challenge.web.i18n import _
from challenge.web.limits import UPLOAD, limited
from challenge.web.once import AlreadyCreated, create_once
from challenge.web.pagination import page_number, paginate, sort_helpers
from challenge.web.templating import render
from challenge.web.timefmt import now_utc, to_beijing


# Parts of the need page that other areas contribute (supply: the matching technology offers),
# registered by them at import: async (need, user) -> a context with its "template", or None.
PAGE_SECTIONS: list = []


# -- helpers -------------------------------------------------------------------------------------
def require_needs_user(request: Request):
    user = require_user(request)
    if not permissions.can_use_needs(user):
        raise HTTPException(403, _("技术需求仅对需求方和管理员开放"))
    return user


def require_active_submitter(request: Request):
    user = require_needs_user(request)
    if not user.is_submitter:
        raise HTTPException(403, _("只有需求方用户可以填报技术需求，管理员不能代为填写或修改"))
    if not permissions.is_active_submitter(user):
        raise HTTPException(403, _("您的单位尚未通过审核，审核通过后即可填报技术需求"))
    return user


def path_id(request: Request, name: str) -> int:
    """An id from the path; one no table can hold is simply not found (never a database error)."""
    value = request.path_params[name]
    if not 0 < value <= MAX_ID:
        raise HTTPException(404)
    return value


async def load_campaign(request: Request, user) -> Campaign:
    campaign = await Campaign.get_or_none(id=path_id(request, "campaign_id"))
    if campaign is None or not permissions.can_view_campaign(user, campaign):
        raise HTTPException(404)
    return campaign


async def load_need(request: Request, user) -> Need:
    """The need of the path, or 404 when it does not exist or the user may not see it."""
    need = await Need.get_or_none(id=path_id(request, "need_id")).select_related(
        "campaign", "organisation", "domain", "created_by", "merged_into")
    if need is None or not permissions.can_view_need(user, need):
        raise HTTPException(404)
    return need


def upload_settings(request: Request) -> dict:
    settings = request.app.state.settings
    return {"max_bytes": settings.max_upload_bytes, "allowed": settings.allowed_upload_types}


# -- need list and export ------------------------------------------------------------------------
async def index(request: Request):
    return await _render_index(request, require_needs_user(request))


async def _render_index(request: Request, user, form: Form | None = None, status_code: int = 200,
                        query: str | None = None):
    params = request.query_params if query is None else QueryParams(query)
    filters = parse_filters(params)
    needs = services.filtered_needs(user, filters).select_related("campaign", "organisation", "domain")
    page = await paginate(needs, page_number(params.get("page")))
    campaign_query = Campaign.all() if user.is_organiser else Campaign.filter(status__in=list(PUBLIC_CAMPAIGN_STATES))
    statuses = list(NeedStatus) if user.is_submitter else [s for s in NeedStatus if s in ORGANISER_VISIBLE_NEED_STATES]
    sort_url, sort_state = sort_helpers(filters.params)
    export_query = urlencode({k: v for k, v in filters.params.items() if v not in (None, "")})
    return render(request, "needs/index.html", {
        "page": page,
        "filters": filters,
        "attachment_counts": await services.attachment_counts(page.items),
        "campaigns": await campaign_query.order_by("-opens_at", "-id"),
        "domains": await Domain.all().order_by("sort_order", "id"),
        "regions": regions.choices(),
        "region_name": regions.name,
        "statuses": statuses,
        "open_campaigns": await services.open_campaigns() if user.is_submitter else [],
        "can_create": permissions.is_active_submitter(user),
        "is_organiser": user.is_organiser,
        "sort_url": sort_url,
        "sort_state": sort_state,
        "sort_options": [("-created", _("最新创建")), ("-updated", _("最近更新")), ("-cofunding", _("配套资金从高到低")),
                         ("title", _("需求名称"))],
        "export_query": export_query,
        "campaign_state": permissions.campaign_state,
        "screenable": SCREENABLE_NEED_STATES,
        "bulk_form": form or Form(),
        "bulk_selected": set(form.getlist("need_ids")) if form else set(),
        "bulk_decisions": [(key, _(label)) for key, label in BULK_DECISION_LABELS.items()],
        "list_query": urlencode(list(params.multi_items())),
    }, status_code=status_code)


async def export(request: Request):
    user = require_organiser(request)
    fmt = request.path_params["fmt"]
    if fmt not in {"xlsx", "csv"}:
        raise HTTPException(404)
    filters = parse_filters(request.query_params)
    query = services.filtered_needs(user, filters)
    stamp = to_beijing(now_utc()).strftime("%Y%m%d-%H%M")
    return await export_response(fmt, f"needs-{stamp}", services.export_header(), services.export_rows(query))


# -- screening several needs at once --------------------------------------------------------------
BULK_DECISIONS = {"accept": NeedStatus.ACCEPTED, "return": NeedStatus.RETURNED}
BULK_DECISION_LABELS = {"accept": N_("采纳"), "return": N_("退回修改")}
BULK_DONE = {"accept": N_("已采纳 %(n)s 项需求，已通知申报单位。"), "return": N_("已退回 %(n)s 项需求修改，已通知申报单位。")}
MAX_BULK = 200


def _back_to_list(query: str) -> str:
    """The list with the filters it was shown with (only the list's own parameters)."""
    params = [(k, v) for k, v in parse_qsl(query) if k in {"q", "campaign", "domain", "region", "status", "sort",
                                                            "page"}]
    return "/needs/" + ("?" + urlencode(params) if params else "")


async def screen_bulk(request: Request):
    """Accept or return the needs ticked on the list with one reason; those the rules refuse are
    named, the others are screened. A replayed post (same form token) screens nothing again."""
    actor = require_organiser(request)
    form = Form(await read_form(request))
    ids = list(dict.fromkeys(i for i in (parse_id(v) for v in form.getlist("need_ids")) if i))[:MAX_BULK]
    decision = form.choice("decision", list(BULK_DECISIONS))
    reason = form.text("reason", max_length=2000)
    if not ids:
        form.error("need_ids", _("请至少勾选一项需求"))
    if decision == "return" and not reason:
        form.error("reason", _("退回时须填写理由，申报单位将看到该理由"))
    back = _back_to_list(form.get("list_query"))
    if not form.is_valid:
        return await _render_index(request, actor, form, status_code=400, query=urlsplit(back).query)
    needs = list(await Need.filter(id__in=ids).order_by("id"))
    missing = len(ids) - len(needs)
    try:
        outcome = await create_once(form, user=actor, location=lambda _outcome: back, create=lambda: (
            services.screen_needs(needs=needs, status=BULK_DECISIONS[decision], actor=actor, reason=reason)))
    except AlreadyCreated:
        flash(request, _("这批需求已经处理过，未重复处理。"), "info")
        return redirect(back)
    if outcome.done:
        flash(request, _(BULK_DONE[decision], n=len(outcome.done)))
    refused = [_("《%(title)s》：%(reason)s", title=need.title, reason=why) for need, why in outcome.refused]
    if missing:
        refused.append(_("%(n)s 项需求不存在", n=missing))
    if refused:
        flash(request, _("以下需求未处理：") + "；".join(refused), "error")
    return redirect(back)


# -- campaigns -----------------------------------------------------------------------------------
async def campaigns(request: Request):
    user = require_needs_user(request)
    query = Campaign.all() if user.is_organiser else Campaign.filter(status__in=list(PUBLIC_CAMPAIGN_STATES))
    page = await paginate(query.order_by("-opens_at", "-id"), page_number(request.query_params.get("page")))
    counts: dict[int, int] = {}
    if page.items:
        visible = services.visible_needs(user).filter(campaign_id__in=[c.id for c in page.items])
        rows = await visible.annotate(n=Count("id")).group_by("campaign_id").values("campaign_id", "n")
        counts = {row["campaign_id"]: row["n"] for row in rows}
    return render(request, "needs/campaigns.html", {
        "page": page, "counts": counts, "is_organiser": user.is_organiser,
        "campaign_state": permissions.campaign_state,
    })


async def _domain_options() -> list[tuple[int, str]]:
    return [(d.id, d.label) for d in await Domain.filter(is_active=True).order_by("sort_order", "id")]


async def campaign_form(request: Request):
    """New campaign (GET shows the form, POST creates it as a draft) and editing an existing one."""
    actor = require_organiser(request)
    campaign = await load_campaign(request, actor) if "campaign_id" in request.path_params else None
    options = await _domain_options()
    if campaign is not None:
        form = Form(campaign_form_data(campaign, [d.id for d in await campaign.domains.all()]))
    else:
        form = Form(MultiDict([("domains", str(value)) for value, _label in options]))
    if request.method == "POST":
        form = Form(await read_form(request))
        values = parse_campaign(form, domain_ids=[value for value, _label in options])
        if form.is_valid:
            domains = await Domain.filter(id__in=values.domain_ids)
            try:
                async def save():
                    return await services.save_campaign(
                        actor=actor, campaign=campaign, title=values.title, instructions=values.instructions,
                        domains=domains, opens_at=values.opens_at, closes_at=values.closes_at)

                if campaign is None:
                    campaign = await create_once(form, user=actor, create=save,
                                                 location=lambda created: f"/needs/campaigns/{created.id}")
                else:
                    campaign = await save()
            except DomainError as error:
                form.add_errors(error.errors or {"title": error.message})
            else:
                flash(request, _("征集批次已保存：%(title)s", title=campaign.title))
                return redirect(f"/needs/campaigns/{campaign.id}")
    return render(request, "needs/campaign_form.html", {
        "form": form, "campaign": campaign, "domain_options": options,
    }, status_code=form.status_code)


async def campaign_detail(request: Request):
    user = require_needs_user(request)
    campaign = await load_campaign(request, user)
    status_counts: dict[str, int] = {}
    own_needs: list[Need] = []
    if user.is_organiser:
        rows = await Need.filter(campaign=campaign, status__in=list(ORGANISER_VISIBLE_NEED_STATES)).annotate(
            n=Count("id")).group_by("status").values("status", "n")
        status_counts = {str(getattr(row["status"], "value", row["status"])): row["n"] for row in rows}
    if user.is_submitter and user.organisation_id:
        own_needs = await Need.filter(campaign=campaign, organisation_id=user.organisation_id).order_by("-updated_at")
    return render(request, "needs/campaign_detail.html", {
        "campaign": campaign,
        "domains": await campaign.domains.all().order_by("sort_order", "id"),
        "state": permissions.campaign_state(campaign),
        "is_open": permissions.is_campaign_open(campaign),
        "accepts_new": campaign.status == CampaignStatus.OPEN and campaign.closes_at > now_utc(),
        "is_organiser": user.is_organiser,
        "can_create": permissions.is_active_submitter(user),
        "status_counts": status_counts,
        "statuses": [s for s in NeedStatus if s in ORGANISER_VISIBLE_NEED_STATES],
        "own_needs": own_needs,
    })


async def campaign_status(request: Request):
    actor = require_organiser(request)
    campaign = await load_campaign(request, actor)
    target = CampaignStatus.OPEN if request.url.path.endswith("/open") else CampaignStatus.CLOSED
    try:
        await services.set_campaign_status(campaign=campaign, status=target, actor=actor)
    except DomainError as error:
        flash(request, error.message, "error")
    else:
        flash(request, _("已开放征集：%(title)s", title=campaign.title) if target == CampaignStatus.OPEN
              else _("已截止征集：%(title)s", title=campaign.title))
    return redirect(f"/needs/campaigns/{campaign.id}")


# -- the need form -------------------------------------------------------------------------------
async def _render_need_form(request: Request, *, form: Form, campaign: Campaign, need: Need | None,
                            status_code: int = 200, kept_files: list | None = None):
    domains = await services.campaign_domains(campaign)
    return render(request, "needs/need_form.html", {
        "kept_files": kept_files or [],
        "form": form,
        "campaign": campaign,
        "need": need,
        "domain_options": [(d.id, d.label) for d in domains],
        "attachments": await services.need_attachments(need) if need else [],
        "is_open": permissions.is_campaign_open(campaign),
        "max_attachments": MAX_ATTACHMENTS_PER_NEED,
        "accept": ",".join("." + ext for ext in request.app.state.settings.allowed_upload_types),
    }, status_code=status_code)


async def need_new(request: Request):
    user = require_active_submitter(request)
    if request.method == "POST":
        return await _save_need_form(request, user, need=None)
    raw = request.query_params.get("campaign", "")
    available = await services.open_campaigns()
    if not raw:
        if len(available) != 1:
            return render(request, "needs/choose_campaign.html", {"campaigns": available})
        campaign = available[0]
    else:
        campaign_id = parse_id(raw)
        campaign = await Campaign.get_or_none(id=campaign_id) if campaign_id else None
        if campaign is None or not permissions.can_view_campaign(user, campaign):
            raise HTTPException(404)
        if campaign.id not in {c.id for c in available}:
            raise HTTPException(409, _("“%(title)s”当前不接受新的需求填报", title=campaign.title))
    form = Form({"contact_name": user.name, "contact_phone": user.phone, "contact_email": user.email,
                 "campaign_id": str(campaign.id)})
    return await _render_need_form(request, form=form, campaign=campaign, need=None)


async def need_edit(request: Request):
    user = require_needs_user(request)
    need = await load_need(request, user)
    _check_editable(user, need)
    if request.method == "POST":
        return await _save_need_form(request, user, need=need)
    return await _render_need_form(request, form=Form(need_form_data(need)), campaign=need.campaign, need=need)


def _check_editable(user, need: Need) -> None:
    if permissions.can_edit_need(user, need):
        return
    if not permissions.is_own_need(user, need):
        raise HTTPException(403, _("管理员不能修改需求方填写的内容"))
    if not permissions.is_active_submitter(user):
        raise HTTPException(403, _("您的单位尚未通过审核，审核通过后即可填报技术需求"))
    raise HTTPException(403, _("该需求当前为“%(state)s”，只有草稿或退回修改的需求可以修改", state=need.status.label))


async def _save_need_form(request: Request, user, *, need: Need | None):
    storage = request.app.state.storage
    parsed = await receive_upload(request, storage, **upload_settings(request))
    form = Form(parsed.form)
    if need is None:
        campaign_id = form.integer("campaign_id", min_value=1, max_value=MAX_ID)
        campaign = await Campaign.get_or_none(id=campaign_id) if campaign_id else None
        if campaign is None or not permissions.can_view_campaign(user, campaign):
            await parsed.discard()
            raise HTTPException(404)
    else:
        campaign = need.campaign
    submitting = form.get("intent") == "submit"
    domains = await services.campaign_domains(campaign)
    content = parse_need(form, domain_ids=[d.id for d in domains], for_submit=submitting)
    form.add_errors(parsed.errors)
    # Files of a refused post are kept (challenge.files.kept): listed on the re-rendered form and
    # saved with the corrected one, never stored or attached twice.
    secret = request.app.state.settings.secret_key
    brought = await kept.kept_uploads(form.getlist(kept.FIELD), user_id=user.id, secret=secret)
    fresh = await kept.fresh_only(brought, parsed.files)

    async def again(*, keep_fresh: bool = True):
        if keep_fresh:
            kept_files = kept.as_kept(brought) + await kept.keep(storage, fresh, user_id=user.id, secret=secret)
        else:  # refused for its files (too many): this post's new ones are not kept
            for upload in fresh:
                await upload.writer.abort()
            kept_files = kept.as_kept(brought)
        return await _render_need_form(request, form=form, campaign=campaign, need=need, status_code=400,
                                       kept_files=kept_files)

    if not form.is_valid:
        return await again()

    async def save():
        return await services.save_need(actor=user, need=need, campaign=campaign, content=content,
                                        uploads=[upload for _token, upload in brought] + fresh, storage=storage)

    try:
        if need is None:
            need = await create_once(form, user=user, create=save, location=lambda created: f"/needs/{created.id}")
        else:
            need = await save()
    except AlreadyCreated:
        await parsed.discard()
        raise
    except KeptFileGone as error:
        form.add_errors({kept.FIELD: error.message})
        return await again()
    except DomainError as error:
        form.add_errors(error.errors or {"title": error.message})
        return await again(keep_fresh=error.field != "attachments")  # refused before anything is stored
    if not submitting:
        flash(request, _("草稿已保存。填写完整后可在征集截止前提交。"))
        return redirect(f"/needs/{need.id}/edit")
    return await _submit(request, user, need)


async def _submit(request: Request, user, need: Need):
    try:
        await services.set_need_status(need=need, status=NeedStatus.SUBMITTED, actor=user)
    except InvalidTransition as error:
        flash(request, error.message, "error")
        return redirect(f"/needs/{need.id}")
    except DomainError as error:
        if error.field == "campaign" or not error.errors:
            flash(request, error.message, "error")
            return redirect(f"/needs/{need.id}/edit")
        form = Form(need_form_data(need))
        form.add_errors(error.errors)
        campaign = await Campaign.get(id=need.campaign_id)
        return await _render_need_form(request, form=form, campaign=campaign, need=need, status_code=400)
    flash(request, _("需求已提交，管理员筛选后会通知您。"))
    return redirect(f"/needs/{need.id}")


async def need_submit(request: Request):
    user = require_needs_user(request)
    need = await load_need(request, user)
    _check_editable(user, need)
    return await _submit(request, user, need)


# -- detail and screening ------------------------------------------------------------------------
async def _render_detail(request: Request, user, need: Need, form: Form | None = None, status_code: int = 200):
    merged_from = await Need.filter(merged_into_id=need.id).select_related("organisation").order_by("id")
    challenges = await need.challenges.all().order_by("id").only("id", "title", "status")
    if not user.is_organiser:
        challenges = [c for c in challenges if c.status in PUBLIC_CHALLENGE_STATES]
    can_screen = permissions.can_screen_need(user, need)
    merge_targets = []
    if can_screen:
        candidates = await Need.filter(campaign_id=need.campaign_id, status__in=list(MERGE_TARGET_STATES)).exclude(
            id=need.id).select_related("organisation").order_by("id")
        merge_targets = [(n.id, f"#{n.id} {n.title}（{n.organisation.name} · {n.status.label}）") for n in candidates]
    sections = [section for build in PAGE_SECTIONS if (section := await build(need, user)) is not None]
    return render(request, "needs/need_detail.html", {
        "sections": sections,
        "need": need,
        "attachments": await services.need_attachments(need),
        "history": await services.need_history(need),
        "merged_from": merged_from,
        "merged_into_visible": need.merged_into is not None and permissions.can_view_need(user, need.merged_into),
        "challenges": challenges,
        "public_challenge_states": PUBLIC_CHALLENGE_STATES,
        "can_edit": permissions.can_edit_need(user, need),
        "can_submit": permissions.can_submit_need(user, need),
        "can_screen": can_screen,
        "can_download": permissions.can_download_attachments(user, need),
        "can_view": lambda other: permissions.can_view_need(user, other),
        "merge_targets": merge_targets,
        "form": form or Form(),
        "region_name": regions.name,
        "is_open": permissions.is_campaign_open(need.campaign),
    }, status_code=status_code)


async def need_detail(request: Request):
    user = require_needs_user(request)
    need = await load_need(request, user)
    return await _render_detail(request, user, need)


async def need_screen(request: Request):
    actor = require_organiser(request)
    need = await load_need(request, actor)
    form = Form(await read_form(request))
    targets = await Need.filter(campaign_id=need.campaign_id, status__in=list(MERGE_TARGET_STATES)).exclude(
        id=need.id).values_list("id", flat=True)
    decision = parse_screening(form, merge_target_ids=list(targets))
    if not form.is_valid:
        return await _render_detail(request, actor, need, form, status_code=400)
    target = await Need.get(id=decision.merge_into_id) if decision.merge_into_id else None
    try:
        await services.set_need_status(need=need, status=decision.status, actor=actor, reason=decision.reason,
                                       merge_into=target)
    except InvalidTransition as error:
        flash(request, error.message, "error")
        return redirect(f"/needs/{need.id}")
    except DomainError as error:
        form.add_errors(error.errors or {"decision": error.message})
        return await _render_detail(request, actor, need, form, status_code=400)
    messages = {
        NeedStatus.ACCEPTED: _("已采纳该需求，已通知申报单位"),
        NeedStatus.RETURNED: _("已退回修改，已通知申报单位"),
        NeedStatus.REJECTED: _("已不予采纳，已通知申报单位"),
        NeedStatus.MERGED: _("已合并至需求“%(title)s”，已通知申报单位", title=target.title if target else ""),
    }
    flash(request, messages[decision.status])
    return redirect(f"/needs/{need.id}")


# -- attachments ---------------------------------------------------------------------------------
async def _load_attachment(request: Request, need: Need) -> Attachment:
    attachment = await Attachment.get_or_none(id=path_id(request, "attachment_id"), owner_type="need",
                                              owner_id=need.id).select_related("blob")
    if attachment is None:
        raise HTTPException(404)
    return attachment


async def attachment_download(request: Request):
    user = require_user(request)
    need = await Need.get_or_none(id=path_id(request, "need_id"))
    if need is None or not permissions.can_download_attachments(user, need):
        raise HTTPException(404)
    attachment = await _load_attachment(request, need)
    return download_response(request.app.state.storage, attachment.blob, attachment.filename)


async def attachment_delete(request: Request):
    user = require_needs_user(request)
    need = await load_need(request, user)
    _check_editable(user, need)
    attachment = await _load_attachment(request, need)
    try:
        await services.remove_attachment(need=need, attachment=attachment, actor=user)
    except DomainError as error:
        flash(request, error.message, "error")
    else:
        flash(request, _("已删除附件：%(name)s", name=attachment.filename))
    return redirect(f"/needs/{need.id}/edit")


routes = [
    Route("/", index, name="index"),
    Route("/export.{fmt:str}", export, name="export"),
    Route("/screen", screen_bulk, methods=["POST"], name="screen_bulk"),
    Route("/campaigns", campaigns, name="campaigns"),
    Route("/campaigns/new", campaign_form, methods=["GET", "POST"], name="campaign_new"),
    Route("/campaigns/{campaign_id:int}", campaign_detail, name="campaign"),
    Route("/campaigns/{campaign_id:int}/edit", campaign_form, methods=["GET", "POST"], name="campaign_edit"),
    Route("/campaigns/{campaign_id:int}/open", campaign_status, methods=["POST"], name="campaign_open"),
    Route("/campaigns/{campaign_id:int}/close", campaign_status, methods=["POST"], name="campaign_close"),
    limited(Route("/new", need_new, methods=["GET", "POST"], name="new"), UPLOAD),
    Route("/{need_id:int}", need_detail, name="detail"),
    limited(Route("/{need_id:int}/edit", need_edit, methods=["GET", "POST"], name="edit"), UPLOAD),
    Route("/{need_id:int}/submit", need_submit, methods=["POST"], name="submit"),
    Route("/{need_id:int}/screen", need_screen, methods=["POST"], name="screen"),
    Route("/{need_id:int}/attachments/{attachment_id:int}", attachment_download, name="attachment"),
    Route("/{need_id:int}/attachments/{attachment_id:int}/delete", attachment_delete, methods=["POST"],
          name="attachment_delete"),
]
