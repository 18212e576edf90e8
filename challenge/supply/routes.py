"""Technology offers (技术成果), their matches and 对接: thin handlers over supply.services and supply.contacts."""

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import Route

from challenge.catalog.models import Domain
from challenge.challenges import routes as challenge_routes
from challenge.challenges.models import Challenge
from challenge.errors import DomainError, InvalidTransition, PermissionDenied
from challenge.needs import routes as need_routes
from challenge.needs.models import Need, NeedStatus
from challenge.supply import contacts, matching, permissions, services
from challenge.supply.forms import (
    MAX_ID,
    OUTCOMES,
    RESPONSES,
    SCREEN_DECISIONS,
    ListForm,
    offer_form_data,
    parse_contact,
    parse_decision,
    parse_filters,
    parse_offer,
    rows_to_render,
)
from challenge.supply.models import (
    ContactRequest,
    ContactStatus,
    IpStatus,
    Offer,
    OfferStatus,
    TransferMode,
)
from challenge.web.auth import current_user, require_organiser, require_user
from challenge.web.flash import flash
from challenge.web.forms import Form, read_form
from challenge.web.http import redirect
from challenge.web.i18n import _
from challenge.web.once import create_once
from challenge.web.pagination import page_number, paginate
from challenge.web.templating import render


# Parts of the offer page that other areas contribute (promotion: applying to a catalogue round),
# registered by them at import: async (offer, user) -> a context with its "template", or None.
PAGE_SECTIONS: list = []


def path_id(request: Request, name: str) -> int:
    value = request.path_params[name]
    if not 0 < value <= MAX_ID:
        raise HTTPException(404)
    return value


def require_offer_owner(request: Request):
    user = require_user(request)
    if not permissions.can_publish_offers(user):
        raise HTTPException(403, _("只有已通过审核单位的成员可以发布技术成果"))
    return user


async def load_offer(request: Request, user) -> Offer:
    offer = await Offer.get_or_none(id=path_id(request, "offer_id")).select_related("organisation", "domain")
    if offer is None or not permissions.can_view_offer(user, offer):
        raise HTTPException(404)
    return offer


async def _domains() -> list[Domain]:
    return await Domain.filter(is_active=True).order_by("sort_order", "id")


# -- public list and detail ----------------------------------------------------------------------
async def index(request: Request):
    filters = parse_filters(request.query_params)
    query = services.published_offers(filters).select_related("organisation", "domain")
    page = await paginate(query, page_number(request.query_params.get("page")))
    user = current_user(request)
    return render(request, "supply/index.html", {
        "page": page, "filters": filters, "domains": await _domains(),
        "filtered": bool(filters.q or filters.domain_id),
        "can_create": permissions.can_publish_offers(user), "is_organiser": permissions.is_organiser(user),
    })


async def _requestable_subjects(user, offer: Offer) -> list[tuple[str, str]]:
    """What the user may ask for contact for: own organisation's live needs, or (organisers) challenges."""
    if user is None or permissions.is_own_offer(user, offer):
        return []
    options = []
    if user.is_submitter and user.organisation_id is not None:
        needs = await Need.filter(organisation_id=user.organisation_id,
                                  status__in=list(contacts.REQUESTING_NEED_STATES)).order_by("-id").only("id", "title")
        options += [(f"need-{n.id}", _("需求：%(title)s", title=n.title)) for n in needs]
    if user.is_organiser:
        challenges = await Challenge.all().order_by("-id").limit(50).only("id", "title")
        options += [(f"challenge-{c.id}", _("榜单：%(title)s", title=c.title)) for c in challenges]
    return options


async def _render_detail(request: Request, user, offer: Offer, form: Form | None = None, status_code: int = 200):
    own = permissions.is_own_offer(user, offer)
    needs = await matching.needs_for_offer(offer) if own and offer.status == OfferStatus.PUBLISHED else []
    subjects = await _requestable_subjects(user, offer) if offer.status == OfferStatus.PUBLISHED else []
    preselect = request.query_params.get("for", "")
    form = form or Form({"subject": preselect} if preselect else {})
    sections = [section for build in PAGE_SECTIONS if (section := await build(offer, user)) is not None]
    return render(request, "supply/detail.html", {
        "offer": offer,
        "sections": sections,
        "parameters": await services.parameters_of(offer),
        "modes": services.mode_labels(offer.transfer_modes),
        "history": await services.offer_history(offer) if own or permissions.is_organiser(user) else [],
        "matched_needs": needs,
        "own": own,
        "can_edit": permissions.can_edit_offer(user, offer),
        "can_withdraw": permissions.can_withdraw_offer(user, offer),
        "can_screen": permissions.can_screen_offer(user, offer),
        "subjects": subjects,
        "form": form,
    }, status_code=status_code)


async def detail(request: Request):
    user = current_user(request)
    offer = await load_offer(request, user)
    return await _render_detail(request, user, offer)


# -- the owner's forms ---------------------------------------------------------------------------
async def mine(request: Request):
    user = require_offer_owner(request)
    offers = await Offer.filter(organisation_id=user.organisation_id).select_related("domain").order_by("-updated_at")
    return render(request, "supply/mine.html", {"offers": offers})


async def _render_form(request: Request, *, form: Form, offer: Offer | None, adding: bool = False,
                       status_code: int = 200):
    return render(request, "supply/form.html", {
        "form": form, "offer": offer, "rows": rows_to_render(form, adding),
        "domain_options": [(d.id, d.label) for d in await _domains()],
        "trl_options": [(n, _("TRL %(n)s", n=n)) for n in range(1, 10)],
        "ip_options": IpStatus.choices(), "mode_options": TransferMode.choices(),
    }, status_code=status_code)


async def new(request: Request):
    user = require_offer_owner(request)
    if request.method == "POST":
        return await _save(request, user, offer=None)
    form = Form({"contact_name": user.name, "contact_phone": user.phone, "contact_email": user.email})
    return await _render_form(request, form=form, offer=None)


async def edit(request: Request):
    user = require_offer_owner(request)
    offer = await load_offer(request, user)
    if not permissions.can_edit_offer(user, offer):
        raise HTTPException(403, _("只有本单位草稿或退回修改的技术成果可以修改"))
    if request.method == "POST":
        return await _save(request, user, offer=offer)
    parameters = await services.parameters_of(offer)
    form = ListForm(offer_form_data(offer, parameters), lists={"transfer_modes": list(offer.transfer_modes)})
    return await _render_form(request, form=form, offer=offer)


async def _save(request: Request, user, *, offer: Offer | None):
    form = Form(await read_form(request))
    action = form.get("action")
    domain_ids = [d.id for d in await _domains()]
    content = parse_offer(form, domain_ids=domain_ids, for_submit=action == "submit")
    if action == "add_param":
        form.errors.clear()
        return await _render_form(request, form=form, offer=offer, adding=True)
    if not form.is_valid:
        return await _render_form(request, form=form, offer=offer, status_code=400)

    async def save():
        return await services.save_offer(actor=user, offer=offer, content=content)

    try:
        if offer is None:
            offer = await create_once(form, user=user, create=save, location=lambda created: f"/supply/{created.id}")
        else:
            offer = await save()
        if action == "submit":
            await services.set_offer_status(offer=offer, status=OfferStatus.SUBMITTED, actor=user)
    except InvalidTransition as error:
        flash(request, error.message, "error")
        return redirect(f"/supply/{offer.id}" if offer else "/supply/mine")
    except DomainError as error:
        form.add_errors(error.errors or {"name": error.message})
        return await _render_form(request, form=form, offer=offer, status_code=400)
    if action == "submit":
        flash(request, _("技术成果已提交，管理员审核后将公开发布。"))
        return redirect(f"/supply/{offer.id}")
    flash(request, _("草稿已保存。填写完整后可提交审核。"))
    return redirect(f"/supply/{offer.id}/edit")


async def submit(request: Request):
    user = require_offer_owner(request)
    offer = await load_offer(request, user)
    try:
        await services.set_offer_status(offer=offer, status=OfferStatus.SUBMITTED, actor=user)
    except DomainError as error:
        flash(request, error.message, "error")
        return redirect(f"/supply/{offer.id}/edit" if permissions.can_edit_offer(user, offer) else f"/supply/{offer.id}")
    flash(request, _("技术成果已提交，管理员审核后将公开发布。"))
    return redirect(f"/supply/{offer.id}")


async def withdraw(request: Request):
    user = require_offer_owner(request)
    offer = await load_offer(request, user)
    if not permissions.is_own_offer(user, offer):
        raise HTTPException(403)
    try:
        await services.set_offer_status(offer=offer, status=OfferStatus.WITHDRAWN, actor=user)
    except DomainError as error:
        flash(request, error.message, "error")
    else:
        flash(request, _("技术成果已撤回，不再公开展示。"))
    return redirect(f"/supply/{offer.id}")


# -- screening (the programme office) ------------------------------------------------------------
async def manage(request: Request):
    require_organiser(request)
    page = await paginate(services.screening_queue().select_related("organisation", "domain"),
                          page_number(request.query_params.get("page")))
    return render(request, "supply/manage.html", {"page": page})


async def screen(request: Request):
    actor = require_organiser(request)
    offer = await load_offer(request, actor)
    form = Form(await read_form(request))
    decision = parse_decision(form, SCREEN_DECISIONS, note_required_for={OfferStatus.RETURNED},
                              note_message=_("退回修改时须填写理由，成果单位将看到该理由"))
    if not form.is_valid:
        return await _render_detail(request, actor, offer, form, status_code=400)
    try:
        await services.set_offer_status(offer=offer, status=decision.status, actor=actor, reason=decision.note)
    except InvalidTransition as error:
        flash(request, error.message, "error")
        return redirect(f"/supply/{offer.id}")
    except DomainError as error:
        form.add_errors(error.errors or {"decision": error.message})
        return await _render_detail(request, actor, offer, form, status_code=400)
    flash(request, _("已发布该技术成果，已通知成果单位") if decision.status == OfferStatus.PUBLISHED
          else _("已退回修改，已通知成果单位"))
    return redirect(f"/supply/{offer.id}")


# -- 对接 -----------------------------------------------------------------------------------------
async def contact_new(request: Request):
    user = require_user(request)
    offer = await load_offer(request, user)
    form = Form(await read_form(request))
    subjects = await _requestable_subjects(user, offer) if offer.status == OfferStatus.PUBLISHED else []
    if not subjects:
        raise HTTPException(403, _("您没有可以发起对接的需求或榜单"))
    data = parse_contact(form, subjects=[value for value, _label in subjects])
    if not form.is_valid:
        return await _render_detail(request, user, offer, form, status_code=400)
    kind, _sep, raw_id = data.subject.partition("-")
    need = await Need.get(id=int(raw_id)) if kind == "need" else None
    challenge = await Challenge.get(id=int(raw_id)) if kind == "challenge" else None
    try:
        contact = await create_once(form, user=user, location=lambda created: f"/supply/contacts/{created.id}",
                                    create=lambda: contacts.request_contact(actor=user, offer=offer, need=need,
                                                                           challenge=challenge, message=data.message))
    except DomainError as error:
        form.add_errors(error.errors or {"message": error.message})
        return await _render_detail(request, user, offer, form, status_code=400)
    flash(request, _("对接请求已发送，成果单位回复后会通知您。"))
    return redirect(f"/supply/contacts/{contact.id}")


async def contact_list(request: Request):
    user = require_user(request)
    query = contacts.contacts_of(user).select_related("offer", "need", "challenge", "requester_organisation")
    page = await paginate(query.order_by("-updated_at", "-id"), page_number(request.query_params.get("page")))
    return render(request, "supply/contacts.html", {"page": page, "user": user})


async def load_contact(request: Request, user) -> ContactRequest:
    contact = await ContactRequest.get_or_none(id=path_id(request, "contact_id")).select_related(
        "offer", "offer__organisation", "need", "challenge", "requested_by", "requester_organisation")
    if contact is None or not permissions.can_view_contact(user, contact):
        raise HTTPException(404)
    return contact


async def _render_contact(request: Request, user, contact: ContactRequest, form: Form | None = None,
                          status_code: int = 200):
    return render(request, "supply/contact.html", {
        "contact": contact,
        "history": await contacts.contact_history(contact),
        "can_respond": permissions.can_respond(user, contact),
        "can_record": permissions.can_record_outcome(user, contact),
        "sees_details": permissions.sees_contact_details(user, contact),
        "is_owner": permissions.is_offer_owner(user, contact),
        "form": form or Form(),
    }, status_code=status_code)


async def contact_detail(request: Request):
    user = require_user(request)
    return await _render_contact(request, user, await load_contact(request, user))


async def contact_decide(request: Request):
    user = require_user(request)
    contact = await load_contact(request, user)
    responding = request.url.path.endswith("/respond")
    # The side that may act; a request in another state is the service's to refuse (InvalidTransition).
    owner = permissions.is_offer_owner(user, contact)
    if not (owner if responding else owner or permissions.is_requester(user, contact)):
        raise HTTPException(403, _("只有成果单位可以回复对接请求") if responding else _("只有对接双方可以记录对接结果"))
    form = Form(await read_form(request))
    decision = parse_decision(form, RESPONSES if responding else OUTCOMES,
                              note_required_for={ContactStatus.NOT_PURSUED}, note_message=_("请说明未达成的原因"))
    if not form.is_valid:
        return await _render_contact(request, user, contact, form, status_code=400)
    try:
        await contacts.set_contact_status(contact=contact, status=decision.status, actor=user, note=decision.note)
    except PermissionDenied as error:
        raise HTTPException(403, error.message) from None
    except InvalidTransition as error:
        flash(request, error.message, "error")
        return redirect(f"/supply/contacts/{contact.id}")
    except DomainError as error:
        form.add_errors(error.errors or {"decision": error.message})
        return await _render_contact(request, user, contact, form, status_code=400)
    flash(request, _("对接状态已更新为“%(state)s”，已通知对方", state=decision.status.label))
    return redirect(f"/supply/contacts/{contact.id}")


async def funnel(request: Request):
    require_organiser(request)
    return render(request, "supply/funnel.html", {"funnel": await contacts.funnel()})


routes = [
    Route("/", index, name="index"),
    Route("/mine", mine, name="mine"),
    Route("/new", new, methods=["GET", "POST"], name="new"),
    Route("/manage", manage, name="manage"),
    Route("/funnel", funnel, name="funnel"),
    Route("/contacts", contact_list, name="contacts"),
    Route("/contacts/{contact_id:int}", contact_detail, name="contact"),
    Route("/contacts/{contact_id:int}/respond", contact_decide, methods=["POST"], name="contact_respond"),
    Route("/contacts/{contact_id:int}/outcome", contact_decide, methods=["POST"], name="contact_outcome"),
    Route("/{offer_id:int}", detail, name="detail"),
    Route("/{offer_id:int}/edit", edit, methods=["GET", "POST"], name="edit"),
    Route("/{offer_id:int}/submit", submit, methods=["POST"], name="submit"),
    Route("/{offer_id:int}/withdraw", withdraw, methods=["POST"], name="withdraw"),
    Route("/{offer_id:int}/screen", screen, methods=["POST"], name="screen"),
    Route("/{offer_id:int}/contact", contact_new, methods=["POST"], name="contact_new"),
]


# -- sections of other areas' pages --------------------------------------------------------------
async def need_section(need: Need, user) -> dict | None:
    """The matching offers on a need's page (its submitters and the office see that page)."""
    if need.status in {NeedStatus.REJECTED, NeedStatus.MERGED}:
        return None
    matches = await matching.offers_for_need(need)
    asks = bool(user.is_submitter and user.organisation_id == need.organisation_id
                and need.status in contacts.REQUESTING_NEED_STATES)
    return {"template": "supply/_matches.html", "matches": matches, "contact_for": f"need-{need.id}" if asks else ""}


async def challenge_section(challenge: Challenge, user) -> dict | None:
    """The matching offers on a challenge's page, for the programme office that runs it."""
    if not permissions.is_organiser(user):
        return None
    matches = await matching.offers_for_challenge(challenge)
    return {"template": "supply/_matches.html", "slot": "stages", "matches": matches,
            "contact_for": f"challenge-{challenge.id}"}


need_routes.PAGE_SECTIONS.append(need_section)
challenge_routes.PAGE_SECTIONS.append(challenge_section)
