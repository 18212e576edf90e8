"""The database goes away under a running server: 503 pages (not tracebacks), and service resumes alone.

PostgreSQL: the server reaches it through a TCP proxy the test cuts and restores, and its
connections are also killed with pg_terminate_backend. SQLite: an open file cannot be taken
away from a running process (it keeps its descriptor), but another process can hold its write
lock longer than the server waits.
"""

import asyncio
import json
import sqlite3
import time
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from factories.servers import BACKEND, LiveServer, TcpProxy, admin_sql

pytestmark = pytest.mark.slow
postgres_only = pytest.mark.skipif(BACKEND != "postgres", reason="needs CHALLENGE_TEST_DATABASE_URL (PostgreSQL)")


def through(url: str, port: int) -> str:
    parts = urlsplit(url)
    userinfo = parts.netloc.rpartition("@")[0]
    return urlunsplit(parts._replace(netloc=f"{userinfo}@127.0.0.1:{port}" if userinfo else f"127.0.0.1:{port}"))


def wait_for(url: str, status: int, timeout: float = 30) -> list[int]:
    """GET `url` until it answers `status`; every status seen on the way."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen.append(httpx.get(url, timeout=15).status_code)
        if seen[-1] == status:
            return seen
        time.sleep(0.2)
    raise AssertionError(f"{url} never answered {status}: {seen[-10:]}")


@postgres_only
def test_an_unreachable_database_gives_503_pages_and_service_resumes(database, migrated, cli):
    with TcpProxy(urlsplit(database.url).port or 5432) as proxy:
        env = {"CHALLENGE_DATABASE_URL": through(database.url, proxy.port), "CHALLENGE_LOG_FORMAT": "json"}
        with LiveServer(database, **env) as server:
            assert httpx.get(f"{server.url}/challenges").status_code == 200
            proxy.cut()
            page = httpx.get(f"{server.url}/challenges", timeout=30)
            assert page.status_code == 503
            assert "服务暂时不可用" in page.text and "Traceback" not in page.text
            assert page.headers["retry-after"] == "30"
            health = httpx.get(f"{server.url}/healthz", timeout=30)
            assert health.status_code == 503 and health.json()["status"] == "error"
            assert httpx.get(f"{server.url}/", timeout=30).status_code == 503

            proxy.restore()
            assert set(wait_for(f"{server.url}/challenges", 200)) <= {200, 503}
            assert httpx.get(f"{server.url}/healthz").status_code == 200
    errors = [json.loads(line) for line in server.err.read_text().splitlines()]
    unavailable = [entry for entry in errors if entry["message"].startswith("database unavailable")]
    assert unavailable and unavailable[0]["path"] == "/challenges" and unavailable[0]["level"] == "error"
    assert not [entry for entry in errors if "unhandled error" in entry["message"]]


@postgres_only
def test_terminated_database_connections_are_replaced_without_a_restart(database, migrated, cli):
    with LiveServer(database, workers=2) as server:
        for _ in range(6):
            assert httpx.get(f"{server.url}/challenges").status_code == 200
        asyncio.run(admin_sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              f"WHERE datname = '{database.name}' AND pid <> pg_backend_pid()"))
        statuses = [httpx.get(f"{server.url}/challenges", timeout=30).status_code for _ in range(12)]
        assert set(statuses) <= {200, 503}, statuses
        assert statuses[-4:] == [200] * 4, statuses
        page = httpx.get(f"{server.url}/challenges")
        assert page.status_code == 200 and "Traceback" not in page.text


@pytest.mark.skipif(BACKEND != "sqlite", reason="the SQLite file's write lock")
def test_a_sqlite_file_locked_by_another_process_gives_503_then_service_resumes(database, migrated, cli):
    # A write waits this long for the lock before the 503 (30 s by default; shortened for the test).
    with LiveServer(database, CHALLENGE_DATABASE_URL=f"{database.url}?busy_timeout=3000") as server:
        login = httpx.get(f"{server.url}/login")
        token = login.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        attempt = {"csrf_token": token, "email": "nobody@example.cn", "password": "wrong-password"}
        cookies = login.cookies
        blocker = sqlite3.connect(database.path, isolation_level=None)
        try:
            blocker.execute("BEGIN EXCLUSIVE")  # a long maintenance job holding the write lock
            refused = httpx.post(f"{server.url}/login", data=attempt, cookies=cookies, timeout=60)
            assert refused.status_code == 503 and "服务暂时不可用" in refused.text
            assert httpx.get(f"{server.url}/challenges").status_code == 200  # reading goes on
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        again = httpx.post(f"{server.url}/login", data=attempt, cookies=cookies, timeout=60)
        assert again.status_code == 400 and "邮箱或密码不正确" in again.text  # answered again
