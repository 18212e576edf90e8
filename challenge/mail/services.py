"""Notifications: an in-app inbox item and an e-mail through the transactional outbox.

`notify()`/`queue_mail()` write rows inside the caller's transaction. Delivery happens after
commit (`deliver_pending`, run in the background after a response and by `challenge
send-mail`), so a rolled-back event sends nothing and a crash before delivery loses nothing.
"""

import logging
import unicodedata
from collections.abc import Callable
from contextvars import ContextVar
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid

import aiofiles
import aiofiles.os
import aiosmtplib
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from challenge.accounts.models import User
from challenge.mail.models import MailStatus, Notification, OutboxMessage
from challenge.settings import Settings
from challenge.web.i18n import in_locale
from challenge.web.timefmt import now_utc

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
CLAIM_SECONDS = 120


def header_value(value: str) -> str:
    """A single-line header value: CR, LF and other control characters become spaces.

    A need titled "A\r\nB" would otherwise make `EmailMessage` refuse the subject when the
    message is built, long after the event was committed.
    """
    return " ".join("".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in value).split())


# Set by the delivery middleware for the request it serves: whether that request queued mail.
_queued_in_request: ContextVar[list[bool] | None] = ContextVar("queued_in_request", default=None)


def watch_queued() -> list[bool]:
    """Start watching the current request for queued mail; the flag is in the returned list."""
    flag = [False]
    _queued_in_request.set(flag)
    return flag


async def queue_mail(*, to: str, subject: str, body: str, headers: dict[str, str] | None = None) -> OutboxMessage:
    message = await OutboxMessage.create(
        to_address=header_value(to), subject=header_value(subject)[:300], body=body,
        headers={name: header_value(value) for name, value in headers.items()} if headers else None)
    # A list, not a value: the request's flag changes even when set from a task with a copied context.
    if (flag := _queued_in_request.get()) is not None:
        flag[0] = True
    return message


_public_base_url = "http://127.0.0.1:8000"


def configure(*, base_url: str) -> None:
    """The public address put in front of in-app links in e-mails (set by the app and the CLI)."""
    global _public_base_url
    _public_base_url = base_url.rstrip("/")


def absolute(link: str) -> str:
    return f"{_public_base_url}{link}" if link.startswith("/") else link


Text = str | Callable[[], str]


async def notify(*, user: User, subject: Text, body: Text = "", link: str = "", email: bool = True) -> None:
    """Tell a user in the inbox and by mail. Pass `subject`/`body` as functions (`lambda: _(...)`)
    to have them written in the recipient's language rather than the actor's."""
    with in_locale(user.locale):
        subject = subject() if callable(subject) else subject
        body = body() if callable(body) else body
    await Notification.create(user=user, subject=subject, body=body, link=link)
    if email and user.email:
        await queue_mail(to=user.email, subject=subject, body=body + (f"\n\n{absolute(link)}" if link else ""))


def _message(settings: Settings, row: OutboxMessage) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Message-ID"] = make_msgid(domain="challenge.local")
    for name, value in (row.headers or {}).items():
        message[name] = value
    message.set_content(row.body)
    return message


async def _claim(limit: int) -> list[OutboxMessage]:
    """Mark a batch as taken by this worker so two processes never send the same mail."""
    now = now_utc()
    async with in_transaction():
        candidates = await OutboxMessage.filter(
            Q(status=MailStatus.PENDING) & (Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        ).order_by("id").limit(limit).values_list("id", flat=True)
        claimed = []
        for message_id in candidates:
            updated = await OutboxMessage.filter(
                Q(id=message_id) & (Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            ).update(claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
            if updated:
                claimed.append(message_id)
    return await OutboxMessage.filter(id__in=claimed).order_by("id")


async def _send(settings: Settings, row: OutboxMessage) -> None:
    message = _message(settings, row)
    if settings.smtp_host:
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_user or None,
            password=settings.smtp_password or None,
            start_tls=settings.smtp_starttls,
            timeout=30,
        )
        return
    # No SMTP server configured (a laptop): write the mail where a developer can read it.
    # Written aside, then renamed: a reader (or a backup) never sees half a message.
    settings.mail_dir.mkdir(parents=True, exist_ok=True)
    final = settings.mail_dir / f"{row.id:08d}.eml"
    partial = final.with_suffix(".eml.part")
    async with aiofiles.open(partial, "wb") as handle:
        await handle.write(bytes(message))
    await aiofiles.os.replace(partial, final)


async def deliver_pending(settings: Settings, limit: int = 100) -> tuple[int, int]:
    """Send a claimed batch. A message that cannot be built (a bad header) fails at once; one
    the server refuses or that meets a network error is retried with backoff, then marked
    failed. Either way the rest of the batch goes on."""
    sent = failed = 0
    for row in await _claim(limit):
        try:
            await _send(settings, row)
        except Exception as error:  # noqa: BLE001 - one bad message must not stop the batch
            permanent = not isinstance(error, (OSError, aiosmtplib.SMTPException))
            row.attempts += 1
            row.last_error = f"{type(error).__name__}: {error}"[:2000]
            row.status = MailStatus.FAILED if permanent or row.attempts >= MAX_ATTEMPTS else MailStatus.PENDING
            row.claimed_until = now_utc() + timedelta(seconds=30 * row.attempts)
            await row.save(update_fields=["attempts", "last_error", "status", "claimed_until"])
            log.warning("mail %s to %s failed: %s", row.id, row.to_address, error)
            failed += 1
            continue
        row.status, row.sent_at, row.attempts = MailStatus.SENT, now_utc(), row.attempts + 1
        await row.save(update_fields=["status", "sent_at", "attempts"])
        sent += 1
    return sent, failed
