"""Following a challenge by e-mail: double opt-in, mails on what the public sees change, and a
one-click unsubscribe (RFC 8058).

`subscribe()` sends only the confirmation mail, with a signed token that expires; nothing else
reaches the address before `confirm()`. `notify_followers()` is called by the areas that publish
what a follower wants (amendments and answers by the challenges area, notices and announcements
by the results area), inside their transaction: the mails go through the outbox and leave only if
the event commits. Every such mail carries its own unsubscribe link, in the body and in the
`List-Unsubscribe` / `List-Unsubscribe-Post` headers; that signed token does not expire.
"""

from datetime import datetime, timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from challenge.audit import services as audit
from challenge.challenges.models import Challenge
from challenge.errors import DomainError
from challenge.follow.models import Subscription
from challenge.mail.services import absolute, queue_mail
from challenge.web.i18n import _, in_locale
from challenge.web.timefmt import now_utc

CONFIRM_DAYS = 7
# A pending address asked again gets the confirmation mail again, but not more often than this:
# the form cannot be used to flood someone's mailbox.
RESEND_AFTER = timedelta(minutes=10)
_secret: str | None = None


def configure(*, secret: str) -> None:
    """Set the key that signs the confirmation and unsubscribe tokens (the app and the CLI do)."""
    global _secret
    _secret = secret


def _confirm_signer() -> URLSafeTimedSerializer:
    if not _secret:
        raise RuntimeError("subscriptions need a key: call challenge.follow.services.configure(secret=...)")
    return URLSafeTimedSerializer(_secret, salt="challenge.follow.confirm")


def _unsubscribe_signer() -> URLSafeSerializer:
    if not _secret:
        raise RuntimeError("subscriptions need a key: call challenge.follow.services.configure(secret=...)")
    return URLSafeSerializer(_secret, salt="challenge.follow.unsubscribe")


def confirm_link(subscription: Subscription) -> str:
    return f"/follow/confirm/{_confirm_signer().dumps([subscription.id, subscription.email])}"


def unsubscribe_link(subscription: Subscription) -> str:
    return f"/follow/unsubscribe/{_unsubscribe_signer().dumps([subscription.id, subscription.email])}"


async def _from_token(payload) -> Subscription | None:
    if not isinstance(payload, list) or len(payload) != 2:
        return None
    subscription_id, email = payload
    # The address is part of the token: a row deleted and made again for someone else never
    # answers an old link.
    return await Subscription.get_or_none(id=subscription_id, email=email).select_related("challenge")


async def by_confirm_token(token: str) -> Subscription | None:
    try:
        payload = _confirm_signer().loads(token, max_age=CONFIRM_DAYS * 86400)
    except (SignatureExpired, BadSignature):
        return None
    return await _from_token(payload)


async def by_unsubscribe_token(token: str) -> Subscription | None:
    try:
        payload = _unsubscribe_signer().loads(token)
    except BadSignature:
        return None
    return await _from_token(payload)


async def subscribe(*, challenge: Challenge, email: str, locale: str, now: datetime | None = None) -> Subscription:
    """Ask for a challenge's news at an address: a pending subscription and its confirmation mail.

    The answer is the same whether the address was new, pending or already confirmed, so the
    form tells no one who follows what. A confirmed address gets no mail; a pending one gets the
    confirmation again at most every RESEND_AFTER. Refused for a challenge that is not public.
    """
    now = now or now_utc()
    if not challenge.is_public:
        raise DomainError(_("该榜单尚未发布，不能订阅"))
    email = email.strip().lower()
    async with in_transaction():
        subscription = await Subscription.get_or_none(challenge=challenge, email=email)
        if subscription is None:
            try:
                async with in_transaction():
                    subscription = await Subscription.create(challenge=challenge, email=email, locale=locale)
            except IntegrityError:  # the same address sent twice at once: one row
                subscription = await Subscription.get(challenge=challenge, email=email)
            await audit.record(actor=None, action="subscription.create", obj=subscription,
                               after={"challenge": challenge.id})
        if subscription.is_confirmed or (subscription.confirmation_sent_at is not None
                                         and subscription.confirmation_sent_at > now - RESEND_AFTER):
            return subscription
        subscription.confirmation_sent_at = now
        await subscription.save(update_fields=["confirmation_sent_at"])
        subscription.challenge = challenge
        with in_locale(subscription.locale):
            await queue_mail(
                to=email, subject=_("请确认订阅：%(title)s", title=challenge.title),
                body=_("您（或他人使用您的地址）申请订阅榜单“%(title)s”的补充通知、答疑和结果公示。\n\n"
                       "请在 %(days)s 天内打开以下链接确认订阅；确认前不会向您发送任何其他邮件。"
                       "如非本人操作，请忽略本邮件。\n\n%(link)s",
                       title=challenge.title, days=CONFIRM_DAYS, link=absolute(confirm_link(subscription))))
    return subscription


async def confirm(*, subscription: Subscription, now: datetime | None = None) -> Subscription:
    """Confirm the address (a second confirmation changes nothing)."""
    if subscription.is_confirmed:
        return subscription
    async with in_transaction():
        subscription.confirmed_at = now or now_utc()
        await subscription.save(update_fields=["confirmed_at"])
        await audit.record(actor=None, action="subscription.confirm", obj=subscription,
                           after={"challenge": subscription.challenge_id})
    return subscription


async def unsubscribe(*, subscription: Subscription) -> None:
    """Forget the address for this challenge."""
    async with in_transaction():
        await Subscription.filter(id=subscription.id).delete()
        await audit.record(actor=None, action="subscription.delete", obj=subscription,
                           before={"challenge": subscription.challenge_id})


async def notify_followers(*, challenge: Challenge, subject, body, link: str) -> int:
    """Queue a mail to every confirmed follower of the challenge, in each one's language.
    `subject` and `body` are functions (`lambda: _(...)`), called in the follower's locale.
    Call inside the transaction of the event. Returns how many mails were queued."""
    followers = await Subscription.filter(challenge_id=challenge.id, confirmed_at__isnull=False).order_by("id")
    for follower in followers:
        leave = absolute(unsubscribe_link(follower))
        with in_locale(follower.locale):
            text = "\n\n".join(part for part in (
                body(), absolute(link),
                _("您订阅了榜单“%(title)s”的动态。退订：%(link)s", title=challenge.title, link=leave)) if part)
            await queue_mail(to=follower.email, subject=subject(), body=text, headers={
                "List-Unsubscribe": f"<{leave}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})
    return len(followers)
