"""Server-side sessions (issue #8, defect 3): sign-out, password change and "sign out everywhere"
end sessions for good; a session has an absolute lifetime and an idle timeout."""

from datetime import timedelta

import httpx

from challenge.accounts.models import Role, Session
from challenge.app import create_app
from challenge.mail.models import OutboxMessage
from challenge.web.timefmt import now_utc
from conftest import Client
from factories import PASSWORD, make_user
from querylog import captured_sql


def copy_of(client: Client, app) -> Client:
    """Another browser holding a copy of `client`'s cookies (a stolen or copied cookie)."""
    thief = Client(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    for name, value in client.cookies.items():
        thief.cookies.set(name, value)
    return thief


async def test_a_copied_cookie_is_useless_after_sign_out(app, client):
    user = await make_user(Role.BIDDER)
    await client.login(user.email)
    async with copy_of(client, app) as thief:
        assert (await thief.get("/account")).status_code == 200
        assert (await client.submit("/logout")).status_code == 303
        response = await thief.get("/account")
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
    session = await Session.get(user_id=user.id)
    assert session.revoked_at is not None


async def test_the_cookie_holds_only_a_random_key_stored_hashed(client):
    user = await make_user(Role.BIDDER)
    await client.login(user.email)
    session = await Session.get(user_id=user.id)
    assert len(session.key_hash) == 64
    assert session.key_hash not in client.cookies["challenge_session"]
    assert session.user_agent and session.ip


async def test_password_change_ends_other_sessions_but_not_this_one(app, client, make_client):
    user = await make_user(Role.BIDDER)
    other = make_client()
    await other.login(user.email)
    await client.login(user.email)
    response = await client.submit("/account/password", {
        "current_password": PASSWORD, "new_password": "another-pass-77", "new_password_confirm": "another-pass-77"})
    assert response.status_code == 303
    assert (await client.get("/account")).status_code == 200
    assert (await other.get("/account")).status_code == 303


async def test_password_reset_ends_every_session(client, make_client):
    user = await make_user(Role.BIDDER)
    await client.login(user.email)
    other = make_client()
    await other.submit("/password/forgot", {"email": user.email})
    mail = await OutboxMessage.get(to_address=user.email)
    path = next(w for w in mail.body.split() if "/password/reset/" in w).replace("http://testserver", "")
    assert (await other.submit(path, {"new_password": "brand-new-pass-9",
                                      "new_password_confirm": "brand-new-pass-9"})).status_code == 303
    assert (await client.get("/account")).status_code == 303


async def test_sign_out_everywhere(app, client, make_client):
    user = await make_user(Role.BIDDER)
    phone = make_client()
    await phone.login(user.email)
    await client.login(user.email)
    page = await client.get("/account")
    assert "登录设备" in page.text and "本设备" in page.text and page.text.count("<tr>") >= 3
    response = await client.submit("/account/sessions/revoke")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert (await client.get("/account")).status_code == 303
    assert (await phone.get("/account")).status_code == 303
    assert not await Session.filter(user_id=user.id, revoked_at__isnull=True).exists()


async def test_absolute_lifetime(db, settings):
    app = create_app(settings.with_overrides(session_max_age=60), manage_orm=False)
    user = await make_user(Role.BIDDER)
    async with Client(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as browser:
        await browser.login(user.email)
        assert (await browser.get("/account")).status_code == 200
        # Kept busy all along, the session still ends at its absolute expiry.
        await Session.filter(user_id=user.id).update(expires_at=now_utc() - timedelta(seconds=1),
                                                     last_seen_at=now_utc())
        assert (await browser.get("/account")).status_code == 303


async def test_idle_timeout(client, settings):
    user = await make_user(Role.BIDDER)
    await client.login(user.email)
    await Session.filter(user_id=user.id).update(
        last_seen_at=now_utc() - timedelta(minutes=settings.session_idle_minutes - 10))
    assert (await client.get("/account")).status_code == 200
    session = await Session.get(user_id=user.id)
    assert session.last_seen_at > now_utc() - timedelta(minutes=1)  # use moves the idle clock on
    await Session.filter(user_id=user.id).update(
        last_seen_at=now_utc() - timedelta(minutes=settings.session_idle_minutes + 1))
    assert (await client.get("/account")).status_code == 303


async def test_one_query_finds_the_signed_in_user(client):
    user = await make_user(Role.BIDDER)
    await client.login(user.email)
    with captured_sql() as statements:
        response = await client.get("/healthz")
    assert response.status_code == 200
    # The session lookup (user and organisation joined) and the health check itself.
    assert len(statements) == 2, statements
    assert "user_session" in statements[0] and "organisation" in statements[0]


async def test_deactivated_account_is_signed_out(client):
    user = await make_user(Role.BIDDER)
    await client.login(user.email)
    user.is_active = False
    await user.save(update_fields=["is_active"])
    assert (await client.get("/account")).status_code == 303
