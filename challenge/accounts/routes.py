"""Sign-in, registration, passwords, language and the personal inbox."""

from starlette.requests import Request
from starlette.routing import Route

from challenge.accounts import oidc, services
from challenge.accounts.forms import organisation_choices, parse_organisation_choice, parse_registration
from challenge.accounts.models import OrgType, Role
from challenge.catalog import regions
from challenge.errors import DomainError
from challenge.mail.models import Notification
from challenge.accounts import sessions
from challenge.web.auth import end_session, require_user, safe_next, session_key, start_session
from challenge.web.flash import flash
from challenge.web.forms import Form
from challenge.web.http import client_ip, redirect
from challenge.web.i18n import LOCALES, _, set_locale
from challenge.web.pagination import page_number, paginate
from challenge.web.templating import render
from challenge.web.timefmt import now_utc


async def login(request: Request):
    if request.state.user is not None and request.method == "GET":
        return redirect(safe_next(request.query_params.get("next"), "/account"))
    form = Form({"next": request.query_params.get("next", "")})
    if request.method == "POST":
        form = Form(await request.form())
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
    await end_session(request)
    flash(request, _("您已安全退出"))
    return redirect("/")


async def register(request: Request):
    form = Form({"role": Role.SUBMITTER.value, "org_mode": "existing"})
    organisations = await organisation_choices()
    if request.method == "POST":
        form = Form(await request.form())
        data = parse_registration(form)
        if form.is_valid:
            try:
                user = await services.register(**data)
            except DomainError as error:
                form.add_errors(error.errors or {"email": error.message})
            else:
                await start_session(request, user)
                flash(request, _("注册成功。") + (
                    _("新登记的单位需管理员审核，审核通过后即可提交需求或申报。") if data["new_org"] else ""))
                return redirect("/account")
        form.data.pop("password", None)
        form.data.pop("password_confirm", None)
    return render(request, "accounts/register.html", {
        "form": form,
        "organisations": [(org.id, org.name) for org in organisations],
        "org_types": OrgType.choices(),
        "regions": regions.choices(),
        "roles": [Role.SUBMITTER, Role.BIDDER],
    }, status_code=form.status_code)


async def _account_page(request: Request, user, form: Form, status_code: int = 200):
    return render(request, "accounts/account.html", {
        "user": user, "form": form, "region_name": regions.name,
        "sessions": await sessions.active_sessions(user),
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
    form = Form(await request.form())
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
        form = Form(await request.form())
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
        form = Form(await request.form())
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
    form = Form(await request.form())
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
        user, target = await oidc.finish(request)
    except oidc.SignInFailed as failure:
        return oidc.failure_page(request, failure)
    await start_session(request, user)
    set_locale(user.locale)
    flash(request, _("欢迎，%(name)s", name=user.name))
    return redirect(target)


async def choose_organisation(request: Request):
    """An account without an organisation (a new single sign-on account) picks or registers one."""
    user = require_user(request)
    if user.organisation_id is not None:
        return redirect("/account")
    form = Form({"org_mode": "existing"})
    if request.method == "POST":
        form = Form(await request.form())
        choice = parse_organisation_choice(form)
        if form.is_valid:
            try:
                organisation = await services.join_organisation(user=user, **choice)
            except DomainError as error:
                form.add_errors(error.errors or {"organisation_id": error.message})
            else:
                flash(request, _("已加入单位：%(name)s", name=organisation.name) + (
                    "" if organisation.is_approved else _("。新登记的单位需管理员审核，审核通过后即可提交需求或申报。")))
                return redirect("/account")
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
    Route("/login", login, methods=["GET", "POST"], name="login"),
    Route("/logout", logout, methods=["POST"], name="logout"),
    Route("/register", register, methods=["GET", "POST"], name="register"),
    Route("/account", account, name="account"),
    Route("/account/password", change_password, methods=["POST"], name="change_password"),
    Route("/account/sessions/revoke", sign_out_everywhere, methods=["POST"], name="sign_out_everywhere"),
    Route("/password/forgot", forgot_password, methods=["GET", "POST"], name="forgot_password"),
    Route("/password/reset/{token}", reset_password, methods=["GET", "POST"], name="reset_password"),
    Route("/locale", switch_locale, methods=["POST"], name="locale"),
    Route("/oidc/login", oidc_login, name="oidc_login"),
    Route("/oidc/callback", oidc_callback, name="oidc_callback"),
    Route("/account/organisation", choose_organisation, methods=["GET", "POST"], name="choose_organisation"),
    Route("/inbox", inbox, name="inbox"),
    Route("/inbox/read", inbox_read, methods=["POST"], name="inbox_read"),
]
