"""Sign-in, registration, passwords, language and the personal inbox."""

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import Route

from challenge.accounts import members as member_routes
from challenge.accounts import membership, oidc, services, sessions
from challenge.accounts.forms import organisation_choices, parse_organisation_choice, parse_registration
from challenge.accounts.models import LinkedIdentity, OrgType, Role, TokenPurpose, User
from challenge.catalog import regions
from challenge.errors import DomainError
from challenge.mail.models import Notification
from challenge.web.auth import end_session, require_user, safe_next, session_key, start_session
from challenge.web.flash import flash
from challenge.web.forms import Form, read_form
from challenge.web.http import client_ip, redirect
from challenge.web.i18n import LOCALES, _, set_locale
from challenge.web.limits import SMALL_FORM, limited
from challenge.web.pagination import page_number, paginate
from challenge.web.templating import render
from challenge.web.timefmt import now_utc

PENDING_LINK = "oidc_pending_link"
PENDING_LINK_SECONDS = 600
ID_TOKEN = "oidc_id_token"


async def login(request: Request):
    if request.state.user is not None and request.method == "GET":
        return redirect(safe_next(request.query_params.get("next"), "/account"))
    form = Form({"next": request.query_params.get("next", "")})
    if request.method == "POST":
        form = Form(await read_form(request))
        email = form.email("email")
        password = form.text("password", required=True, strip=False)
        if form.is_valid:
            settings = request.app.state.settings
            try:
                user = await services.authenticate(
                    email=email, password=password, ip=client_ip(request),
                    max_failures=settings.login_max_failures, window_minutes=settings.login_window_minutes,
                )
            except DomainError as error:
                form.error(error.field or "email", error.message)
            else:
                # A language chosen before signing in is the person's choice: keep it.
                chosen = request.session.get("locale")
                if chosen and chosen != user.locale:
                    await services.set_locale(user=user, locale=chosen)
                await start_session(request, user)
                set_locale(user.locale)
                flash(request, _("欢迎回来，%(name)s", name=user.name))
                return redirect(safe_next(form.get("next"), "/account"))
        form.data.pop("password", None)
    return render(request, "accounts/login.html", {"form": form}, status_code=form.status_code)


async def logout(request: Request):
    id_token = request.session.get(ID_TOKEN, "")
    await end_session(request)
    flash(request, _("您已安全退出"))
    # Signed in through the provider: end the session there too, when it offers sign-out.
    return redirect(await oidc.logout_url(request, id_token) or "/")


async def register(request: Request):
    form = Form({"role": Role.SUBMITTER.value, "org_mode": "existing"})
    organisations = await organisation_choices()
    if request.method == "POST":
        form = Form(await read_form(request))
        data = parse_registration(form)
        if form.is_valid:
            try:
                await services.register(**data, base_url=request.app.state.settings.base_url)
            except DomainError as error:
                form.add_errors(error.errors or {"email": error.message})
            else:
                # The same answer whether or not the address already had an account.
                return render(request, "accounts/register_sent.html", {"email": data["email"]})
        form.data.pop("password", None)
        form.data.pop("password_confirm", None)
    return render(request, "accounts/register.html", {
        "form": form,
        "organisations": [(org.id, org.name) for org in organisations],
        "org_types": OrgType.choices(),
        "regions": regions.choices(),
        "roles": [Role.SUBMITTER, Role.BIDDER],
    }, status_code=form.status_code)


async def confirm_email(request: Request):
    """The link mailed at registration: a page with one button (a GET changes nothing)."""
    token = request.path_params["token"]
    def invalid():
        return render(request, "accounts/confirm.html", {"invalid": True}, status_code=404)

    if await services.valid_token(token, TokenPurpose.CONFIRM) is None:
        return invalid()
    if request.method == "POST":
        await read_form(request)
        try:
            user = await services.confirm_email(token=token)
        except DomainError:
            return invalid()
        await start_session(request, user)
        flash(request, _("邮箱已确认，注册完成。") + (
            _("加入单位的申请已提交，单位管理人通过后您即可查看本单位的需求和申报。")
            if user.organisation_id is None else ""))
        return redirect("/account")
    return render(request, "accounts/confirm.html", {"invalid": False})


async def _account_page(request: Request, user, form: Form, status_code: int = 200):
    return render(request, "accounts/account.html", {
        "user": user, "form": form, "region_name": regions.name,
        "sessions": await sessions.active_sessions(user),
        "pending_request": await membership.current_request(user) if user.organisation_id is None else None,
        "identities": await LinkedIdentity.filter(user_id=user.id).order_by("id"),
        "is_current": lambda session: sessions.is_current(session, session_key(request)),
    }, status_code=status_code)


async def account(request: Request):
    user = require_user(request)
    return await _account_page(request, user, Form())


async def sign_out_everywhere(request: Request):
    """Every session of this account ends, this browser's included."""
    user = require_user(request)
    await sessions.revoke_all(user=user, actor=user, reason="user.sign_out_everywhere")
    request.session.clear()
    flash(request, _("已退出所有设备上的登录，请重新登录"))
    return redirect("/login")


async def change_password(request: Request):
    user = require_user(request)
    form = Form(await read_form(request))
    current = form.text("current_password", required=True, strip=False)
    new = form.text("new_password", required=True, strip=False)
    if form.text("new_password_confirm", strip=False) != new:
        form.error("new_password_confirm", _("两次输入的新密码不一致"))
    if form.is_valid:
        try:
            await services.change_password(user=user, current=current, new_password=new,
                                           session_key=session_key(request))
        except DomainError as error:
            form.add_errors(error.errors)
        else:
            flash(request, _("密码已修改，其他设备上的登录已失效"))
            return redirect("/account")
    form.data.clear()
    return await _account_page(request, user, form, status_code=400)


async def forgot_password(request: Request):
    form = Form()
    if request.method == "POST":
        form = Form(await read_form(request))
        email = form.email("email")
        if form.is_valid:
            settings = request.app.state.settings
            await services.request_password_reset(email=email, base_url=settings.base_url,
                                                  valid_hours=settings.password_reset_hours)
            flash(request, _("如果该邮箱已注册，我们已发送重置密码的邮件，请在有效期内查收。"))
            return redirect("/login")
    return render(request, "accounts/forgot.html", {"form": form}, status_code=form.status_code)


async def reset_password(request: Request):
    token = request.path_params["token"]
    row = await services.reset_token_user(token)
    if row is None:
        return render(request, "accounts/reset_invalid.html", status_code=404)
    form = Form()
    if request.method == "POST":
        form = Form(await read_form(request))
        new = form.text("new_password", required=True, strip=False)
        if form.text("new_password_confirm", strip=False) != new:
            form.error("new_password_confirm", _("两次输入的新密码不一致"))
        if form.is_valid:
            try:
                await services.reset_password(token=token, new_password=new)
            except DomainError as error:
                form.add_errors(error.errors or {"new_password": error.message})
            else:
                await end_session(request)
                flash(request, _("密码已重置，请用新密码登录"))
                return redirect("/login")
        form.data.clear()
    return render(request, "accounts/reset.html", {"form": form}, status_code=form.status_code)


async def switch_locale(request: Request):
    form = Form(await read_form(request))
    locale = form.get("locale")
    if locale in LOCALES:
        request.session["locale"] = locale
        if request.state.user is not None:
            await services.set_locale(user=request.state.user, locale=locale)
    return redirect(safe_next(form.get("next"), "/"))


async def oidc_login(request: Request):
    try:
        return await oidc.start(request)
    except oidc.SignInFailed as failure:
        return oidc.failure_page(request, failure)


async def oidc_callback(request: Request):
    try:
        outcome = await oidc.finish(request)
    except oidc.SignInFailed as failure:
        return oidc.failure_page(request, failure)
    if outcome.user is None:
        # The e-mail belongs to a local account: its owner proves it before anything is linked.
        request.session[PENDING_LINK] = {**outcome.pending, "next": outcome.target, "id_token": outcome.id_token}
        return redirect("/oidc/link")
    await _signed_in_via_sso(request, outcome.user, outcome.id_token)
    return redirect(outcome.target)


async def _signed_in_via_sso(request: Request, user, id_token: str) -> None:
    await start_session(request, user)
    request.session[ID_TOKEN] = id_token  # for the provider's sign-out
    set_locale(user.locale)
    flash(request, _("欢迎，%(name)s", name=user.name))


async def oidc_link(request: Request):
    """Link a single sign-on identity to the local account with its e-mail: password required."""
    pending = request.session.get(PENDING_LINK)
    if not pending or now_utc().timestamp() - pending["at"] > PENDING_LINK_SECONDS:
        request.session.pop(PENDING_LINK, None)
        raise HTTPException(404)
    user = await User.get_or_none(id=pending["user_id"], is_active=True)
    if user is None:
        raise HTTPException(404)
    form = Form()
    if request.method == "POST":
        form = Form(await read_form(request))
        if form.get("action") == "cancel":
            request.session.pop(PENDING_LINK, None)
            flash(request, _("未关联统一身份认证账号"), "info")
            return redirect("/login")
        password = form.text("password", required=True, strip=False)
        if form.is_valid:
            settings = request.app.state.settings
            try:
                user = await services.authenticate(
                    email=user.email, password=password, ip=client_ip(request),
                    max_failures=settings.login_max_failures, window_minutes=settings.login_window_minutes)
                await oidc.link_identity(user=user, issuer=pending["issuer"], subject=pending["subject"],
                                         email=pending["email"])
            except DomainError as error:
                form.error("password", error.message)
            else:
                await _signed_in_via_sso(request, user, pending["id_token"])
                flash(request, _("已将统一身份认证账号关联到您的账户，今后可直接使用统一身份认证登录。"))
                return redirect(pending["next"])
        form.data.clear()
    return render(request, "accounts/oidc_link.html", {"form": form, "email": user.email},
                  status_code=form.status_code)


async def remove_identity(request: Request):
    user = require_user(request)
    identity = await LinkedIdentity.get_or_none(id=request.path_params["identity_id"], user_id=user.id)
    if identity is None:
        raise HTTPException(404)
    await read_form(request)
    try:
        await oidc.unlink_identity(identity=identity, actor=user)
    except DomainError as error:
        flash(request, error.message, "error")
    else:
        flash(request, _("已删除关联的统一身份认证账号"))
    return redirect("/account#identities")


async def choose_organisation(request: Request):
    """An account without an organisation (a new single sign-on account) picks or registers one."""
    user = require_user(request)
    if user.organisation_id is not None or await membership.current_request(user) is not None:
        return redirect("/organisation")
    form = Form({"org_mode": "existing"})
    if request.method == "POST":
        form = Form(await read_form(request))
        choice = parse_organisation_choice(form)
        if form.is_valid:
            try:
                organisation = await services.join_organisation(user=user, **choice)
            except DomainError as error:
                form.add_errors(error.errors or {"organisation_id": error.message})
            else:
                if organisation.is_approved:
                    flash(request, _("已申请加入“%(name)s”，单位管理人通过后您即可查看本单位的需求和申报。",
                                     name=organisation.name))
                else:
                    flash(request, _("已登记单位“%(name)s”，您是该单位的管理人。新登记的单位需平台管理员审核，"
                                     "审核通过后即可提交需求或申报。", name=organisation.name))
                return redirect("/organisation")
    return render(request, "accounts/organisation.html", {
        "form": form,
        "organisations": [(org.id, org.name) for org in await organisation_choices()],
        "org_types": OrgType.choices(),
        "regions": regions.choices(),
    }, status_code=form.status_code)


async def inbox(request: Request):
    user = require_user(request)
    page = await paginate(Notification.filter(user=user).order_by("-id"), page_number(request.query_params.get("page")))
    return render(request, "accounts/inbox.html", {"page": page})


async def inbox_read(request: Request):
    user = require_user(request)
    await Notification.filter(user=user, read_at__isnull=True).update(read_at=now_utc())
    return redirect("/inbox")


routes = [
    limited(Route("/login", login, methods=["GET", "POST"], name="login"), SMALL_FORM),
    limited(Route("/logout", logout, methods=["POST"], name="logout"), SMALL_FORM),
    limited(Route("/register", register, methods=["GET", "POST"], name="register"), SMALL_FORM),
    limited(Route("/register/confirm/{token}", confirm_email, methods=["GET", "POST"], name="confirm_email"),
            SMALL_FORM),
    Route("/account", account, name="account"),
    limited(Route("/account/password", change_password, methods=["POST"], name="change_password"), SMALL_FORM),
    limited(Route("/account/sessions/revoke", sign_out_everywhere, methods=["POST"], name="sign_out_everywhere"),
            SMALL_FORM),
    limited(Route("/password/forgot", forgot_password, methods=["GET", "POST"], name="forgot_password"), SMALL_FORM),
    limited(Route("/password/reset/{token}", reset_password, methods=["GET", "POST"], name="reset_password"), SMALL_FORM),
    limited(Route("/locale", switch_locale, methods=["POST"], name="locale"), SMALL_FORM),
    Route("/oidc/login", oidc_login, name="oidc_login"),
    Route("/oidc/callback", oidc_callback, name="oidc_callback"),
    limited(Route("/oidc/link", oidc_link, methods=["GET", "POST"], name="oidc_link"), SMALL_FORM),
    limited(Route("/account/identities/{identity_id:int}/remove", remove_identity, methods=["POST"],
                  name="remove_identity"), SMALL_FORM),
    limited(Route("/account/organisation", choose_organisation, methods=["GET", "POST"],
                  name="choose_organisation"), SMALL_FORM),
    Route("/inbox", inbox, name="inbox"),
    limited(Route("/inbox/read", inbox_read, methods=["POST"], name="inbox_read"), SMALL_FORM),
    *member_routes.routes,
]
