"""Sign-in throttling that an attacker cannot turn against the account's owner (issue #8, defect 4)."""

import statistics
import time
from datetime import timedelta

import httpx
import pytest
from argon2 import PasswordHasher

from challenge.accounts import passwords, services
from challenge.accounts.models import LoginAttempt, Role
from challenge.app import create_app
from challenge.errors import DomainError
from challenge.mail.models import OutboxMessage
from challenge.web.timefmt import now_utc
from conftest import Client
from factories import PASSWORD, make_user

WRONG = "wrong-password-1"


@pytest.fixture
async def browser_at(app):
    """A browser at a given client address."""
    opened = []

    def make(ip: str) -> Client:
        client = Client(transport=httpx.ASGITransport(app=app, client=(ip, 50000)), base_url="http://testserver")
        opened.append(client)
        return client

    yield make
    for client in opened:
        await client.aclose()


async def fail(browser: Client, email: str, times: int) -> None:
    for _ in range(times):
        response = await browser.submit("/login", {"email": email, "password": WRONG})
        assert response.status_code == 400


async def test_failures_from_one_address_do_not_lock_the_owner_out_elsewhere(browser_at, settings):
    user = await make_user(Role.BIDDER)
    attacker = browser_at("203.0.113.7")
    await fail(attacker, user.email, settings.login_max_failures)
    refused = await attacker.submit("/login", {"email": user.email, "password": PASSWORD})
    assert refused.status_code == 400 and "登录失败次数过多" in refused.text
    owner = browser_at("198.51.100.20")
    await owner.login(user.email)


async def test_a_distributed_attack_spares_the_owners_known_address_and_a_reset_lifts_it(browser_at, settings):
    user = await make_user(Role.BIDDER)
    home = browser_at("198.51.100.20")
    await home.login(user.email)
    await home.submit("/logout")
    # Many failures from many addresses, each staying under its own limit.
    for n in range(settings.login_max_failures * 4 + 2):
        await fail(browser_at(f"203.0.113.{n + 1}"), user.email, 1)
    # From an address never used by the owner: held back.
    cafe = browser_at("192.0.2.50")
    refused = await cafe.submit("/login", {"email": user.email, "password": PASSWORD})
    assert refused.status_code == 400 and "登录失败次数过多" in refused.text
    # From the owner's usual address: fine.
    await home.login(user.email)
    await home.submit("/logout")
    # A completed reset clears the account's failures: the new address works too.
    await cafe.submit("/password/forgot", {"email": user.email})
    mail = await OutboxMessage.filter(to_address=user.email).order_by("-id").first()
    path = next(w for w in mail.body.split() if "/password/reset/" in w).replace("http://testserver", "")
    assert (await cafe.submit(path, {"new_password": "brand-new-pass-9",
                                     "new_password_confirm": "brand-new-pass-9"})).status_code == 303
    assert not await LoginAttempt.filter(email=user.email).exists()
    await cafe.login(user.email, "brand-new-pass-9")


async def test_one_address_spraying_many_accounts_is_stopped(browser_at, settings):
    sprayer = browser_at("203.0.113.99")
    for n in range(settings.login_max_failures * 5):
        await sprayer.submit("/login", {"email": f"nobody{n}@example.cn", "password": WRONG})
    user = await make_user(Role.BIDDER)
    refused = await sprayer.submit("/login", {"email": user.email, "password": PASSWORD})
    assert refused.status_code == 400 and "登录失败次数过多" in refused.text


async def test_backoff_grows_with_each_failure(db, settings):
    user = await make_user(Role.BIDDER)
    limit = settings.login_max_failures
    for _ in range(limit):
        await LoginAttempt.create(email=user.email, ip="10.0.0.1")
    # The first lock is BACKOFF_BASE long; once it has passed, the next failure locks twice as long.
    await LoginAttempt.filter(email=user.email).update(at=now_utc() - services.BACKOFF_BASE - timedelta(seconds=1))
    await services.check_throttle(email=user.email, ip="10.0.0.1", max_failures=limit, window_minutes=15)
    await LoginAttempt.create(email=user.email, ip="10.0.0.1")
    await LoginAttempt.filter(email=user.email).update(at=now_utc() - services.BACKOFF_BASE - timedelta(seconds=1))
    with pytest.raises(DomainError):
        await services.check_throttle(email=user.email, ip="10.0.0.1", max_failures=limit, window_minutes=15)


class CountingHasher(PasswordHasher):
    """The real Argon2 hasher, counting the hashes it computes (a verification computes one)."""

    computed = 0

    def hash(self, *args, **kwargs) -> str:
        self.computed += 1
        return super().hash(*args, **kwargs)

    def verify(self, *args, **kwargs) -> bool:
        self.computed += 1
        return super().verify(*args, **kwargs)


async def test_unknown_and_known_addresses_get_the_same_answer_in_the_same_time(db, settings, monkeypatch):
    """What makes one refusal slower than another is Argon2 work: it is counted exactly. The time is
    this process's CPU time (which the other processes on a busy machine do not inflate the way
    they inflate wall time), compared by the median of interleaved samples."""
    # Hashing costs about 10 ms here, so that it, not the rest of the request, decides the time.
    cheap = settings.with_overrides(argon2_time_cost=2, argon2_memory_kib=8192)
    app = create_app(cheap, manage_orm=False)
    hasher = CountingHasher(time_cost=cheap.argon2_time_cost, memory_cost=cheap.argon2_memory_kib)
    monkeypatch.setattr(passwords, "_hasher", hasher)
    client = Client(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    user = await make_user(Role.BIDDER, password_hash=passwords.hash_password(PASSWORD))
    passwordless = await make_user(Role.BIDDER, password_hash="")
    token = await client.csrf()
    answers, work = {}, {"known": set(), "unknown": set(), "passwordless": set()}
    cpu = {kind: [] for kind in work}
    for n in range(15):
        for kind, email in (("known", user.email), ("unknown", f"ghost{n}@example.cn"),
                            ("passwordless", passwordless.email)):
            await LoginAttempt.all().delete()
            computed, started = hasher.computed, time.process_time()
            response = await client.post("/login", data={"csrf_token": token, "email": email, "password": WRONG})
            cpu[kind].append(time.process_time() - started)
            work[kind].add(hasher.computed - computed)
            answers[kind] = (response.status_code, response.text.replace(email, "@"))
    await client.aclose()
    assert answers["known"] == answers["unknown"] == answers["passwordless"]
    assert work == {"known": {1}, "unknown": {1}, "passwordless": {1}}
    known = statistics.median(cpu["known"])
    for kind in ("unknown", "passwordless"):
        assert 0.7 < statistics.median(cpu[kind]) / known < 1.4, cpu  # the old gap was 1.6 (CPU), 2 (wall)


async def test_a_completed_reset_cancels_the_other_reset_links(client, make_client):
    user = await make_user(Role.BIDDER)
    for _ in range(2):
        await client.submit("/password/forgot", {"email": user.email})
    mails = await OutboxMessage.filter(to_address=user.email).order_by("id")
    first, second = [next(w for w in m.body.split() if "/password/reset/" in w).replace("http://testserver", "")
                     for m in mails]
    assert (await client.submit(second, {"new_password": "brand-new-pass-9",
                                         "new_password_confirm": "brand-new-pass-9"})).status_code == 303
    assert (await make_client().get(first)).status_code == 404
