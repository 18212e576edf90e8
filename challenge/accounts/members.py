"""The organisation page: members, pending requests, and the managers' decisions.

`/organisation` is one's own organisation; organisers see any at `/admin/organisations/{id}`
(admin.routes renders the same page through `organisation_page`). An object in an organisation
the person does not manage is not found (404).
"""

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import Route

from challenge.accounts import membership
from challenge.accounts.models import Membership, MembershipStatus, Organisation, User
from challenge.catalog import regions
from challenge.errors import DomainError
from challenge.web.auth import require_user
from challenge.web.flash import flash
from challenge.web.forms import Form, read_form
from challenge.web.http import redirect
from challenge.web.i18n import _
from challenge.web.limits import SMALL_FORM, limited
from challenge.web.templating import render

DECISIONS = {"approve": MembershipStatus.APPROVED, "reject": MembershipStatus.REJECTED}


async def organisation_page(request: Request, organisation: Organisation, actor: User):
    context = await membership.organisation_page(organisation)
    return render(request, "accounts/members.html", {
        **context, "can_manage": membership.can_manage_members(actor, organisation.id),
        "region_name": regions.name, "form": Form(), "statuses": MembershipStatus,
    })


async def own_organisation(request: Request):
    user = require_user(request)
    if user.organisation is None:
        pending = await membership.current_request(user)
        if pending is None:
            return redirect("/account/organisation")
        return render(request, "accounts/membership_pending.html", {"membership": pending})
    return await organisation_page(request, user.organisation, user)


def _back(actor: User, organisation_id: int) -> str:
    if actor.organisation_id == organisation_id:
        return "/organisation"
    return f"/admin/organisations/{organisation_id}"


async def decide(request: Request):
    actor = require_user(request)
    status = DECISIONS.get(request.path_params["decision"])
    request_row = await Membership.get_or_none(id=request.path_params["membership_id"])
    if status is None or request_row is None or not membership.can_manage_members(actor,
                                                                                    request_row.organisation_id):
        raise HTTPException(404)
    form = Form(await read_form(request))
    reason = form.text("reason", max_length=1000)
    try:
        await membership.set_membership_status(membership=request_row, status=status, actor=actor, reason=reason)
    except DomainError as error:
        flash(request, error.message, "error")
    else:
        flash(request, _("已通过加入申请") if status == MembershipStatus.APPROVED else _("已不予通过该申请"))
    return redirect(_back(actor, request_row.organisation_id))


async def _member(request: Request, actor: User) -> User:
    member = await User.get_or_none(id=request.path_params["user_id"])
    if member is None or member.organisation_id is None or not membership.can_manage_members(
            actor, member.organisation_id):
        raise HTTPException(404)
    return member


async def remove_member(request: Request):
    actor = require_user(request)
    member = await _member(request, actor)
    organisation_id = member.organisation_id
    form = Form(await read_form(request))
    try:
        await membership.remove_member(member=member, actor=actor, reason=form.text("reason", max_length=1000))
    except DomainError as error:
        flash(request, error.message, "error")
    else:
        flash(request, _("已将 %(name)s 移出本单位，其登录已失效", name=member.name))
    return redirect(_back(actor, organisation_id))


async def set_manager(request: Request):
    actor = require_user(request)
    member = await _member(request, actor)
    form = Form(await read_form(request))
    try:
        await membership.set_manager(member=member, manager=form.boolean("manager"), actor=actor)
    except DomainError as error:
        flash(request, error.message, "error")
    else:
        flash(request, _("已更新 %(name)s 的管理人权限", name=member.name))
    return redirect(_back(actor, member.organisation_id))


async def withdraw_request(request: Request):
    user = require_user(request)
    pending = await membership.current_request(user)
    if pending is None:
        raise HTTPException(404)
    await read_form(request)
    await membership.set_membership_status(membership=pending, status=MembershipStatus.WITHDRAWN, actor=user)
    flash(request, _("已撤回加入申请"))
    return redirect("/account/organisation")


routes = [
    Route("/organisation", own_organisation, name="organisation"),
    limited(Route("/organisation/requests/{membership_id:int}/{decision:str}", decide, methods=["POST"],
                  name="membership_decide"), SMALL_FORM),
    limited(Route("/organisation/members/{user_id:int}/remove", remove_member, methods=["POST"],
                  name="member_remove"), SMALL_FORM),
    limited(Route("/organisation/members/{user_id:int}/manager", set_manager, methods=["POST"],
                  name="member_manager"), SMALL_FORM),
    limited(Route("/organisation/request/withdraw", withdraw_request, methods=["POST"],
                  name="membership_withdraw"), SMALL_FORM),
]
