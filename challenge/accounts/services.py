"""Accounts and organisations: registration, sign-in with throttling, passwords, approval."""

import hashlib
import secrets
from datetime import timedelta

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from challenge.accounts import credit_code, membership, passwords, sessions
from challenge.accounts.models import (
    LoginAttempt,
    Organisation,
    OrgStatus,
    OrgType,
    PasswordResetToken,
    Role,
    Session,
    TokenPurpose,
    User,
)
from challenge.audit import services as audit
from challenge.catalog import regions
from challenge.errors import DomainError, InvalidTransition
from challenge.mail.services import notify, queue_mail
from challenge.web.i18n import _, in_locale
from challenge.web.timefmt import now_utc

MIN_PASSWORD_LENGTH = 10
CONFIRM_HOURS = 48
BACKOFF_BASE = timedelta(seconds=30)
ACCOUNT_FACTOR = 4
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
                   organisation_id: int | None, new_org: dict | None, base_url: str) -> None:
    """Create an account that signs in once its e-mail is confirmed (a link is mailed).

    An address that already has an account gets a mail to its owner instead, and the caller
    shows the same page either way: registering never reveals whether an address is known.
    The organisation choice is checked first for both; a chosen organisation gets a membership
    request (its managers decide), a new one is registered with this person as its manager.
    """
    if role not in SELF_SERVICE_ROLES:
        raise DomainError(_("请选择账户类型"), field="role")
    check_password_strength(password)
    password_hash = passwords.hash_password(password)  # paid on both paths: the same timing
    organisation = await check_organisation_choice(organisation_id=organisation_id, new_org=new_org)
    existing = await User.get_or_none(email=email)
    if existing is not None:
        await _mail_existing_owner(existing, base_url=base_url)
        return
    try:
        async with in_transaction():
            user = await User.create(
                email=email, name=name, phone=phone, password_hash=password_hash, email_confirmed=False,
                is_submitter=role == Role.SUBMITTER, is_bidder=role == Role.BIDDER,
            )
            await place_in_organisation(user=user, organisation=organisation, new_org=new_org)
            await audit.record(actor=user, action="user.register", obj=user,
                               after={"email": email, "role": role,
                                      "organisation": organisation.name if organisation else new_org["name"]})
            await _mail_confirmation(user, base_url=base_url)
    except IntegrityError:
        # The same address registered a moment ago by a concurrent request: that one stands.
        return


async def _mail_existing_owner(user: User, *, base_url: str) -> None:
    """Someone registered with an address that has an account: tell its owner, nobody else."""
    if not user.email_confirmed:
        await _mail_confirmation(user, base_url=base_url)
        return
    with in_locale(user.locale):
        subject = _("有人使用您的邮箱注册账户")
        body = _("您好，%(name)s：\n\n有人使用您的邮箱在平台注册新账户。您已有账户，请直接登录：%(login)s\n"
                 "如忘记密码，可在此重置：%(forgot)s\n\n如果这不是您本人的操作，请忽略本邮件，您的账户不受影响。",
                 name=user.name, login=f"{base_url}/login", forgot=f"{base_url}/password/forgot")
    await queue_mail(to=user.email, subject=subject, body=body)


async def _mail_confirmation(user: User, *, base_url: str) -> None:
    token = await _new_token(user, TokenPurpose.CONFIRM, hours=CONFIRM_HOURS)
    with in_locale(user.locale):
        subject = _("请确认您的邮箱")
        body = _("您好，%(name)s：\n\n请在 %(hours)s 小时内打开以下链接确认邮箱，完成注册：\n%(link)s\n\n"
                 "如果这不是您本人的操作，请忽略本邮件。",
                 name=user.name, hours=CONFIRM_HOURS, link=f"{base_url}/register/confirm/{token}")
    await queue_mail(to=user.email, subject=subject, body=body)


async def confirm_email(*, token: str) -> User:
    """Open the account of a confirmed address. Side effect: audit `user.email_confirmed`."""
    async with in_transaction():
        row = await valid_token(token, TokenPurpose.CONFIRM)
        if row is None or not await _claim(row):
            raise DomainError(_("链接无效或已过期，请重新注册以获取新的确认邮件"))
        await User.filter(id=row.user_id).update(email_confirmed=True)
        await audit.record(actor=row.user, action="user.email_confirmed", obj=row.user)
    return await User.get(id=row.user_id)


async def check_organisation_choice(*, organisation_id: int | None, new_org: dict | None) -> Organisation | None:
    """The approved organisation chosen from the list, or None for a new one that may be registered."""
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
    return None


async def place_in_organisation(*, user: User, organisation: Organisation | None, new_org: dict | None) -> Organisation:
    """A membership request to the chosen organisation, or a new organisation (awaiting an
    organiser's approval) with `user` as its first member and manager.

    Side effects for a new one: audit `organisation.register`, inbox notices to organisers.
    Call inside the caller's transaction.
    """
    if organisation is not None:
        await membership.request_membership(user=user, organisation=organisation)
        return organisation
    organisation = await Organisation.create(
        name=new_org["name"], org_type=new_org["org_type"], region_code=new_org["region_code"],
        credit_code=credit_code.normalise(new_org["credit_code"]) or None, status=OrgStatus.PENDING,
    )
    await audit.record(actor=user, action="organisation.register", obj=organisation,
                       after={"name": organisation.name, "status": organisation.status})
    for organiser in await User.filter(is_organiser=True, is_active=True):
        await notify(user=organiser, subject=lambda: _("新单位待审核：%(name)s", name=organisation.name),
                     link="/admin/organisations", email=False)
    await membership.register_founder(user=user, organisation=organisation)
    return organisation


async def join_organisation(*, user: User, organisation_id: int | None, new_org: dict | None) -> Organisation:
    """An account without an organisation (a new single sign-on account) asks to join one, or
    registers a new one. Side effects: those of `place_in_organisation`."""
    if user.organisation_id is not None or await membership.current_request(user) is not None:
        raise DomainError(_("您的账户已属于一个单位或已有待审核的加入申请；如需更换，请联系单位管理人。"))
    organisation = await check_organisation_choice(organisation_id=organisation_id, new_org=new_org)
    async with in_transaction():
        return await place_in_organisation(user=user, organisation=organisation, new_org=new_org)


async def authenticate(*, email: str, password: str, ip: str, max_failures: int, window_minutes: int) -> User:
    """The account for an e-mail and password, with throttling (see `check_throttle`).

    An unknown address, an account without a password and a wrong password all cost one
    Argon2 verification and give the same answer.
    """
    await check_throttle(email=email, ip=ip, max_failures=max_failures, window_minutes=window_minutes)
    user = await User.get_or_none(email=email, is_active=True)
    if user is None or not user.password_hash:
        passwords.dummy_verify(password)
        verified = False
    else:
        verified = passwords.verify_password(user.password_hash, password)
    if not verified:
        await LoginAttempt.create(email=email, ip=ip)
        raise DomainError(_("邮箱或密码不正确"), field="password")
    if not user.email_confirmed:
        raise DomainError(_("请先打开确认邮件中的链接完成注册。没有收到？请用同一邮箱再次注册，我们会重新发送。"),
                          field="email")
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.last_login_at = now_utc()
    await user.save(update_fields=["password_hash", "last_login_at"])
    await LoginAttempt.filter(email=email).delete()
    return user


def _locked(times: list, threshold: int, window: timedelta) -> bool:
    """Exponential backoff: from the `threshold`-th failure on, each failure doubles the wait
    (BACKOFF_BASE, 2×, 4× … at most the window) counted from the latest failure."""
    if len(times) < threshold:
        return False
    wait = min(BACKOFF_BASE * 2 ** (len(times) - threshold), window)
    return now_utc() < max(times) + wait


async def check_throttle(*, email: str, ip: str, max_failures: int, window_minutes: int) -> None:
    """Refuse a sign-in attempt while one of three counters is over its limit:

    - this address from this client (`max_failures`, then exponential backoff): guessing one
      account from one place;
    - this client for any address (5 × `max_failures`): password spraying;
    - this address from anywhere (ACCOUNT_FACTOR × `max_failures`, with backoff), but only for
      clients that never signed in to the account: an attacker's failures from elsewhere do not
      lock the owner out of the places they use, and a completed reset clears them.
    """
    window = timedelta(minutes=window_minutes)
    rows = await LoginAttempt.filter(Q(email=email) | Q(ip=ip), at__gte=now_utc() - window) \
        .values_list("email", "ip", "at")
    pair = [at for address, client, at in rows if address == email and client == ip]
    account = [at for address, _client, at in rows if address == email]
    client = [at for _address, client, at in rows if client == ip]
    if _locked(pair, max_failures, window) or len(client) >= max_failures * 5 or (
            _locked(account, max_failures * ACCOUNT_FACTOR, window)
            and not await Session.filter(user__email=email, ip=ip).exists()):
        raise SignInThrottled(_("登录失败次数过多，请稍后再试，或通过“忘记密码”重置密码"))


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


async def _new_token(user: User, purpose: TokenPurpose, *, hours: int) -> str:
    token = secrets.token_urlsafe(32)
    await PasswordResetToken.create(user=user, purpose=purpose, token_hash=_token_hash(token),
                                    expires_at=now_utc() + timedelta(hours=hours))
    return token


async def valid_token(token: str, purpose: TokenPurpose) -> PasswordResetToken | None:
    row = await PasswordResetToken.get_or_none(token_hash=_token_hash(token), purpose=purpose).select_related("user")
    if row is None or row.used_at is not None or row.expires_at < now_utc() or not row.user.is_active:
        return None
    return row


async def _claim(row: PasswordResetToken) -> bool:
    """Mark a link used; a conditional update makes it single-use even under races."""
    return bool(await PasswordResetToken.filter(id=row.id, used_at__isnull=True).update(used_at=now_utc()))


async def request_password_reset(*, email: str, base_url: str, valid_hours: int) -> None:
    """Mail a single-use link. Says nothing about whether the address has an account."""
    user = await User.get_or_none(email=email, is_active=True)
    if user is None:
        return
    async with in_transaction():
        token = await _new_token(user, TokenPurpose.RESET, hours=valid_hours)
        with in_locale(user.locale):
            subject = _("重置密码")
            body = _("您好，%(name)s：\n\n请在 %(hours)s 小时内打开以下链接设置新密码（仅可使用一次）：\n%(link)s\n\n"
                     "如果这不是您本人的操作，请忽略本邮件。",
                     name=user.name, hours=valid_hours, link=f"{base_url}/password/reset/{token}")
        await queue_mail(to=user.email, subject=subject, body=body)
        await audit.record(actor=None, action="user.password_reset_requested", obj=user)


async def reset_token_user(token: str) -> PasswordResetToken | None:
    return await valid_token(token, TokenPurpose.RESET)


async def reset_password(*, token: str, new_password: str) -> User:
    """Side effects: the account's other reset links are cancelled, its sign-in failures
    cleared (a throttle on it is lifted), every session ended; a link proves the address, so an
    unconfirmed account is confirmed."""
    check_password_strength(new_password, field="new_password")
    async with in_transaction():
        row = await reset_token_user(token)
        if row is None or not await _claim(row):
            raise DomainError(_("链接无效或已过期，请重新申请"))
        await PasswordResetToken.filter(user_id=row.user_id, purpose=TokenPurpose.RESET, used_at__isnull=True) \
            .update(used_at=now_utc())
        await LoginAttempt.filter(email=row.user.email).delete()
        await User.filter(id=row.user_id).update(email_confirmed=True)
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
