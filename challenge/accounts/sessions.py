"""Server-side sessions: created at sign-in, looked up once per request, revoked at sign-out.

The lifetime is absolute (`expires_at`, from CHALLENGE_SESSION_MAX_AGE) and a session unused for
CHALLENGE_SESSION_IDLE_MINUTES ends too. `last_seen_at` is written at most every
TOUCH_INTERVAL, so an ordinary page view does not write to the database.
"""

import hashlib
import secrets
from datetime import timedelta

from tortoise.expressions import RawSQL

from challenge.accounts.models import Session, User
from challenge.audit import services as audit
from challenge.web.timefmt import now_utc

TOUCH_INTERVAL = timedelta(minutes=5)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def create_session(*, user: User, max_age_seconds: int, user_agent: str, ip: str) -> str:
    """A new session for `user`; returns the key for the cookie (never stored in clear)."""
    key = secrets.token_urlsafe(32)
    now = now_utc()
    await Session.create(key_hash=_hash(key), user=user, last_seen_at=now,
                         expires_at=now + timedelta(seconds=max_age_seconds),
                         user_agent=user_agent[:300], ip=ip[:64])
    return key


# The user's unread inbox items, counted in the session's own query: the menu shows the number on
# every page at no extra round trip (notification is indexed by user).
UNREAD = RawSQL('(SELECT COUNT(*) FROM "notification" WHERE "notification"."user_id" = "user_session"."user_id" '
                'AND "notification"."read_at" IS NULL)')


async def live_session(key: str, *, idle_minutes: int) -> Session | None:
    """The session with its user, the user's organisation and the user's unread inbox count
    (`unread`), in one query, if still valid."""
    now = now_utc()
    session = await Session.filter(key_hash=_hash(key), revoked_at__isnull=True, expires_at__gt=now,
                                   user__is_active=True).select_related("user", "user__organisation") \
        .annotate(unread=UNREAD).first()
    if session is None or session.last_seen_at < now - timedelta(minutes=idle_minutes):
        return None
    return session


async def touch(session: Session) -> None:
    """Record use, at most every TOUCH_INTERVAL (the idle timeout's clock)."""
    now = now_utc()
    if session.last_seen_at < now - TOUCH_INTERVAL:
        await Session.filter(id=session.id).update(last_seen_at=now)


async def revoke(key: str) -> None:
    await Session.filter(key_hash=_hash(key), revoked_at__isnull=True).update(revoked_at=now_utc())


async def revoke_all(*, user: User, actor: User | None, reason: str, keep_key: str | None = None) -> int:
    """End every session of `user` (but the one of `keep_key`). Audited as `user.sessions_revoked`."""
    query = Session.filter(user_id=user.id, revoked_at__isnull=True, expires_at__gt=now_utc())
    if keep_key:
        query = query.exclude(key_hash=_hash(keep_key))
    count = await query.update(revoked_at=now_utc())
    await audit.record(actor=actor, action="user.sessions_revoked", obj=user, after={"count": count, "reason": reason})
    return count


async def active_sessions(user: User) -> list[Session]:
    return await Session.filter(user_id=user.id, revoked_at__isnull=True, expires_at__gt=now_utc()) \
        .order_by("-last_seen_at")


def is_current(session: Session, key: str | None) -> bool:
    return bool(key) and session.key_hash == _hash(key)
