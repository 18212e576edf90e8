"""Accounts and organisations: registration, sign-in with throttling, passwords, approval."""

import hashlib
import secrets
from datetime import timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from challenge.accounts import credit_code, passwords, sessions
from challenge.accounts.models import (
    LoginAttempt,
    Organisation,
    OrgStatus,
    OrgType,
    PasswordResetToken,
    Role,
    User,
)
from challenge.audit import services as audit
from challenge.catalog import regions
from challenge.errors import DomainError, InvalidTransition
from challenge.mail.services import notify, queue_mail
from challenge.web.i18n import _, in_locale
from challenge.web.timefmt import now_utc

MIN_PASSWORD_LENGTH = 10
SELF_SERVICE_ROLES = {Role.SUBMITTER, Role.BIDDER}


class SignInThrottled(DomainError):
    pass


def check_password_strength(password: str, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(_("密码至少需要 %(n)s 个字符", n=MIN_PASSWORD_LENGTH), field=field)
    if password.isdigit() or password.isalpha():
        raise DomainError(_("密码需同时包含字母和数字或符号"), field=field)


def validate_organisation(*, name: str, org_type: OrgType, region_code: str, code: str) -> dict[str, str]:
    errors = {}
    if not regions.is_valid(region_code):
        errors["org_region"] = _("请选择有效的行政区划")
    if code and not credit_code.is_valid(code):
        errors["org_credit_code"] = _("统一社会信用代码无效：应为 18 位，且校验位正确（GB 32100-2015）")
    if not code and org_type != OrgType.GOVERNMENT:
        errors["org_credit_code"] = _("法人单位须填写统一社会信用代码")
    return errors


async def register(*, email: str, password: str, name: str, phone: str, role: Role,
                   organisation_id: int | None, new_org: dict | None) -> User:
    """Create an account; a new organisation waits for an organiser's approval."""
    if role not in SELF_SERVICE_ROLES:
        raise DomainError(_("请选择账户类型"), field="role")
    check_password_strength(password)
    if await User.filter(email=email).exists():
        raise DomainError(_("该邮箱已注册，请直接登录或找回密码"), field="email")
    async with in_transaction():
        try:
            user = await User.create(
                email=email, name=name, phone=phone,
                password_hash=passwords.hash_password(password),
                is_submitter=role == Role.SUBMITTER, is_bidder=role == Role.BIDDER,
            )
        except IntegrityError:
            raise DomainError(_("该邮箱已注册，请直接登录或找回密码"), field="email") from None
        organisation = await resolve_organisation(actor=user, organisation_id=organisation_id, new_org=new_org)
        user.organisation = organisation
        await user.save(update_fields=["organisation_id"])
        await audit.record(actor=user, action="user.register", obj=user,
                           after={"email": email, "role": role, "organisation": organisation.name})
    return user


async def resolve_organisation(*, actor: User, organisation_id: int | None, new_org: dict | None) -> Organisation:
    """An approved organisation chosen from the list, or a new one registered to await approval.

    Side effects for a new one: audit `organisation.register`, inbox notices to organisers.
    Call inside the caller's transaction.
    """
    if new_org is None:
        organisation = await Organisation.get_or_none(id=organisation_id, status=OrgStatus.APPROVED)
        if organisation is None:
            raise DomainError(_("请选择已登记的单位，或登记新单位"), field="organisation_id")
        return organisation
    code = credit_code.normalise(new_org["credit_code"]) or None
    if code and await Organisation.filter(credit_code=code).exists():
        raise DomainError(_("该统一社会信用代码的单位已注册，请在列表中选择"), field="org_credit_code")
    if await Organisation.filter(name=new_org["name"]).exists():
        raise DomainError(_("同名单位已注册，请在列表中选择"), field="org_name")
    organisation = await Organisation.create(
        name=new_org["name"], org_type=new_org["org_type"], region_code=new_org["region_code"],
        credit_code=code, status=OrgStatus.PENDING,
    )
    await audit.record(actor=actor, action="organisation.register", obj=organisation,
                       after={"name": organisation.name, "status": organisation.status})
    for organiser in await User.filter(is_organiser=True, is_active=True):
        await notify(user=organiser, subject=lambda: _("新单位待审核：%(name)s", name=organisation.name),
                     link="/admin/organisations", email=False)
    return organisation


async def join_organisation(*, user: User, organisation_id: int | None, new_org: dict | None) -> Organisation:
    """Give an account without an organisation (a new single sign-on account) one.

    Side effects: audit `user.join_organisation`, and those of `resolve_organisation`.
    """
    if user.organisation_id is not None:
        raise DomainError(_("您的账户已属于一个单位；如需更换，请联系平台管理员。"))
    async with in_transaction():
        organisation = await resolve_organisation(actor=user, organisation_id=organisation_id, new_org=new_org)
        joined = await User.filter(id=user.id, organisation_id__isnull=True).update(organisation_id=organisation.id)
        if not joined:
            raise DomainError(_("您的账户已属于一个单位；如需更换，请联系平台管理员。"))
        await audit.record(actor=user, action="user.join_organisation", obj=user,
                           after={"organisation": organisation.name})
    return organisation


async def authenticate(*, email: str, password: str, ip: str, max_failures: int, window_minutes: int) -> User:
    since = now_utc() - timedelta(minutes=window_minutes)
    failures = await LoginAttempt.filter(email=email, at__gte=since).count()
    ip_failures = await LoginAttempt.filter(ip=ip, at__gte=since).count()
    if failures >= max_failures or ip_failures >= max_failures * 5:
        raise SignInThrottled(_("登录失败次数过多，请 %(n)s 分钟后再试，或找回密码", n=window_minutes))
    user = await User.get_or_none(email=email, is_active=True)
    if user is None:
        passwords.dummy_verify(password)
    if user is None or not passwords.verify_password(user.password_hash, password):
        await LoginAttempt.create(email=email, ip=ip)
        raise DomainError(_("邮箱或密码不正确"), field="password")
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.last_login_at = now_utc()
    await user.save(update_fields=["password_hash", "last_login_at"])
    await LoginAttempt.filter(email=email).delete()
    return user


async def set_password(*, user: User, new_password: str, actor: User | None, action: str,
                       keep_session: str | None = None) -> None:
    """Side effects: every session of the account but `keep_session` is revoked; audit `action`."""
    check_password_strength(new_password, field="new_password")
    async with in_transaction():
        user.password_hash = passwords.hash_password(new_password)
        await user.save(update_fields=["password_hash"])
        await audit.record(actor=actor, action=action, obj=user)
        await sessions.revoke_all(user=user, actor=actor, reason=action, keep_key=keep_session)


async def change_password(*, user: User, current: str, new_password: str, session_key: str | None) -> None:
    """The signed-in person's own change: their other sessions end, this one goes on."""
    if not passwords.verify_password(user.password_hash, current):
        raise DomainError(_("当前密码不正确"), field="current_password")
    await set_password(user=user, new_password=new_password, actor=user, action="user.password_change",
                       keep_session=session_key)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def request_password_reset(*, email: str, base_url: str, valid_hours: int) -> None:
    """Mail a single-use link. Says nothing about whether the address has an account."""
    user = await User.get_or_none(email=email, is_active=True)
    if user is None:
        return
    token = secrets.token_urlsafe(32)
    async with in_transaction():
        await PasswordResetToken.create(user=user, token_hash=_token_hash(token),
                                        expires_at=now_utc() + timedelta(hours=valid_hours))
        with in_locale(user.locale):
            subject = _("重置密码")
            body = _("您好，%(name)s：\n\n请在 %(hours)s 小时内打开以下链接设置新密码（仅可使用一次）：\n%(link)s\n\n"
                     "如果这不是您本人的操作，请忽略本邮件。",
                     name=user.name, hours=valid_hours, link=f"{base_url}/password/reset/{token}")
        await queue_mail(to=user.email, subject=subject, body=body)
        await audit.record(actor=None, action="user.password_reset_requested", obj=user)


async def reset_token_user(token: str) -> PasswordResetToken | None:
    row = await PasswordResetToken.get_or_none(token_hash=_token_hash(token)).select_related("user")
    if row is None or row.used_at is not None or row.expires_at < now_utc() or not row.user.is_active:
        return None
    return row


async def reset_password(*, token: str, new_password: str) -> User:
    check_password_strength(new_password, field="new_password")
    async with in_transaction():
        row = await reset_token_user(token)
        if row is None:
            raise DomainError(_("链接无效或已过期，请重新申请"))
        # Marking it used with a conditional update makes the link single-use even under races.
        claimed = await PasswordResetToken.filter(id=row.id, used_at__isnull=True).update(used_at=now_utc())
        if not claimed:
            raise DomainError(_("链接无效或已过期，请重新申请"))
        await set_password(user=row.user, new_password=new_password, actor=row.user, action="user.password_reset")
    return row.user


async def review_organisation(*, organisation: Organisation, actor: User, approve: bool, note: str) -> None:
    if organisation.status != OrgStatus.PENDING:
        raise InvalidTransition(_("该单位已审核"))
    if not approve and not note:
        raise DomainError(_("请说明不予通过的原因"), field="note")
    before = organisation.status
    async with in_transaction():
        organisation.status = OrgStatus.APPROVED if approve else OrgStatus.REJECTED
        organisation.review_note = note
        await organisation.save(update_fields=["status", "review_note"])
        await audit.record(actor=actor, action="organisation.review", obj=organisation,
                           before={"status": before}, after={"status": organisation.status}, note=note)
        def subject() -> str:
            if approve:
                return _("单位审核通过：%(name)s", name=organisation.name)
            return _("单位审核未通过：%(name)s", name=organisation.name)

        for member in await User.filter(organisation=organisation, is_active=True):
            await notify(user=member, subject=subject, body=note, link="/account")


async def create_user(*, email: str, name: str, password: str | None, organisation: Organisation | None,
                      roles: set[Role], actor: User | None = None, title: str = "") -> User:
    if password is not None:
        check_password_strength(password)
    async with in_transaction():
        user = await User.create(
            email=email.lower(), name=name, title=title, organisation=organisation,
            password_hash=passwords.hash_password(password) if password else "",
            **{f"is_{role.value}": True for role in roles},
        )
        await audit.record(actor=actor, action="user.create", obj=user,
                           after={"email": user.email, "roles": sorted(r.value for r in roles)})
    return user


async def set_roles(*, user: User, roles: set[Role], actor: User) -> None:
    before = sorted(r.value for r in user.roles)
    if user.id == actor.id and Role.ORGANISER not in roles:
        raise DomainError(_("不能取消自己的管理员权限"), field="roles")
    async with in_transaction():
        for role in Role:
            setattr(user, f"is_{role.value}", role in roles)
        await user.save()
        await audit.record(actor=actor, action="user.roles", obj=user, before={"roles": before},
                           after={"roles": sorted(r.value for r in roles)})


async def set_locale(*, user: User, locale: str) -> None:
    user.locale = locale
    await user.save(update_fields=["locale"])
