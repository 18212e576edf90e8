"""Organiser administration: organisations, users and roles, domains, the mail outbox."""

from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import Route
from tortoise.expressions import Q

from challenge.accounts import members
from challenge.accounts import services as accounts
from challenge.accounts.models import Membership, MembershipStatus, Organisation, OrgStatus, Role, User
from challenge.admin import auditlog, charts, desk
from challenge.audit import labels as audit_labels
from challenge.catalog import regions
from challenge.catalog import services as catalog
from challenge.catalog.models import Domain
from challenge.delivery.projects import today
from challenge.errors import DomainError
from challenge.mail.models import OutboxMessage
from challenge.web.auth import require_organiser
from challenge.web.exports import csv_response
from challenge.web.flash import flash
from challenge.web.forms import Form, read_form
from challenge.web.http import redirect
from challenge.web.i18n import _
from challenge.web.once import create_once
from challenge.web.pagination import page_number, paginate
from challenge.web.templating import render
from challenge.web.timefmt import now_utc, to_beijing


MEMBERSHIP_ROWS = 50


async def organisations(request: Request):
    require_organiser(request)
    status = request.query_params.get("status", OrgStatus.PENDING.value)
    query = Organisation.all()
    if status in {s.value for s in OrgStatus}:
        query = query.filter(status=status)
    if q := request.query_params.get("q", "").strip():
        query = query.filter(Q(name__icontains=q) | Q(credit_code__icontains=q))
    page = await paginate(query.order_by("-created_at"), page_number(request.query_params.get("page")))
    # Requests to join an organisation, oldest first: each is decided on its organisation's page.
    pending = Membership.filter(status=MembershipStatus.PENDING)
    requests = await pending.order_by("created_at").limit(MEMBERSHIP_ROWS).prefetch_related("user", "organisation")
    return render(request, "admin/organisations.html", {
        "page": page, "status": status, "q": q, "statuses": list(OrgStatus), "region_name": regions.name,
        "requests": requests, "requests_total": await pending.count(),
    })


async def organisation_detail(request: Request):
    actor = require_organiser(request)
    organisation = await Organisation.get_or_none(id=request.path_params["org_id"])
    if organisation is None:
        raise HTTPException(404)
    return await members.organisation_page(request, organisation, actor)


async def review_organisation(request: Request):
    actor = require_organiser(request)
    organisation = await Organisation.get_or_none(id=request.path_params["org_id"])
    if organisation is None:
        raise HTTPException(404)
    form = Form(await read_form(request))
    approve = form.get("decision") == "approve"
    try:
        await accounts.review_organisation(organisation=organisation, actor=actor, approve=approve,
                                           note=form.text("note", max_length=1000))
    except DomainError as error:
        flash(request, error.message, "error")
    else:
        flash(request, _("已审核：%(name)s", name=organisation.name))
    return redirect("/admin/organisations")


async def users(request: Request):
    require_organiser(request)
    query = User.all().select_related("organisation")
    if q := request.query_params.get("q", "").strip():
        query = query.filter(Q(name__icontains=q) | Q(email__icontains=q))
    role = request.query_params.get("role", "")
    if role in {r.value for r in Role}:
        query = query.filter(**{f"is_{role}": True})
    page = await paginate(query.order_by("id"), page_number(request.query_params.get("page")))
    return render(request, "admin/users.html", {"page": page, "q": q, "role": role, "roles": list(Role)})


async def user_roles(request: Request):
    actor = require_organiser(request)
    user = await User.get_or_none(id=request.path_params["user_id"])
    if user is None:
        raise HTTPException(404)
    form = Form(await read_form(request))
    roles = set(form.choices("roles", list(Role)))
    try:
        await accounts.set_roles(user=user, roles=roles, actor=actor)
    except DomainError as error:
        flash(request, error.message, "error")
    else:
        flash(request, _("已更新 %(name)s 的角色", name=user.name))
    return redirect(f"/admin/users?q={user.email}")


async def domains(request: Request):
    actor = require_organiser(request)
    form = Form()
    if request.method == "POST":
        form = Form(await read_form(request))
        domain_id = form.integer("domain_id")
        domain = await Domain.get_or_none(id=domain_id) if domain_id else None
        if domain_id and domain is None:
            raise HTTPException(404)
        name = form.text("name", required=True, max_length=100)
        name_en = form.text("name_en", max_length=150)
        keywords = form.text("keywords", max_length=2000)
        sort_order = form.integer("sort_order", default=0, min_value=0, max_value=1000)
        if form.is_valid and await Domain.filter(name=name).exclude(id=domain_id or 0).exists():
            form.error("name", _("已有同名领域"))
        if form.is_valid:
            async def save():
                return await catalog.save_domain(actor=actor, domain=domain, name=name, name_en=name_en,
                                                 keywords=keywords, sort_order=sort_order,
                                                 is_active=form.boolean("is_active"))

            if domain is None:
                await create_once(form, user=actor, create=save, location=lambda _domain: "/admin/domains")
            else:
                await save()
            flash(request, _("领域已保存"))
            return redirect("/admin/domains")
    return render(request, "admin/domains.html", {"domains": await Domain.all(), "form": form},
                  status_code=form.status_code)


async def outbox(request: Request):
    require_organiser(request)
    page = await paginate(OutboxMessage.all().order_by("-id"), page_number(request.query_params.get("page")))
    return render(request, "admin/outbox.html", {"page": page})


async def audit_log(request: Request):
    require_organiser(request)
    filters = auditlog.parse_filters(request.query_params)
    page = await paginate(auditlog.filtered(filters).order_by("-seq"), page_number(request.query_params.get("page")),
                          per_page=50)
    return render(request, "admin/audit.html", {
        "page": page, "filters": filters, "export_query": urlencode(filters.params),
        "rows": [{"entry": e, "event": audit_labels.label(e.action), "changes": auditlog.changes(e),
                  "object_type": audit_labels.object_type_label(e.object_type)} for e in page.items],
        "actions": audit_labels.choices(),
        "object_types": sorted(((key, audit_labels.object_type_label(key)) for key in audit_labels.OBJECT_TYPES),
                               key=lambda item: item[0]),
    })


async def audit_export(request: Request):
    require_organiser(request)
    filters = auditlog.parse_filters(request.query_params)
    stamp = to_beijing(now_utc()).strftime("%Y%m%d-%H%M")
    return csv_response(f"audit-{stamp}.csv", auditlog.export_header(), auditlog.export_rows(filters))


async def dashboard(request: Request):
    require_organiser(request)
    now = now_utc()
    figures = await desk.figures()
    timeline = await desk.bids_over_time(now)
    stages = desk.stage_labels()
    return render(request, "admin/dashboard.html", {
        "queue": await desk.work_queue(now, today(now)),
        "figures": figures,
        "stages": stages,
        "timeline": timeline,
        "charts": {
            "funnel": charts.bars(title=_("从需求到验收"), labels=stages, values=figures.totals),
            "domain": charts.grouped_bars(title=_("按技术领域"), groups=[b.label for b in figures.by_domain],
                                          series=_series(stages, figures.by_domain)),
            "region": charts.grouped_bars(title=_("按地区（省级）"), groups=[b.label for b in figures.by_region],
                                          series=_series(stages, figures.by_region)),
            "timeline": charts.columns(title=_("开放中榜单每日收到的申报"),
                                       labels=[d.strftime("%m-%d") for d in timeline.days], values=timeline.counts),
        },
    })


def _series(stages: list[str], rows: list[desk.Breakdown]) -> list[charts.Series]:
    return [charts.Series(label=label, values=[row.values[i] for row in rows]) for i, label in enumerate(stages)]


routes = [
    Route("/", dashboard, name="dashboard"),
    Route("/organisations", organisations, name="organisations"),
    Route("/organisations/{org_id:int}", organisation_detail, name="organisation"),
    Route("/organisations/{org_id:int}/review", review_organisation, methods=["POST"], name="review_organisation"),
    Route("/users", users, name="users"),
    Route("/users/{user_id:int}/roles", user_roles, methods=["POST"], name="user_roles"),
    Route("/domains", domains, methods=["GET", "POST"], name="domains"),
    Route("/outbox", outbox, name="outbox"),
    Route("/audit", audit_log, name="audit"),
    Route("/audit.csv", audit_export, name="audit_export"),
]
