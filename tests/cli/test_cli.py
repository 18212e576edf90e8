"""The `challenge` console command, run as a subprocess on a fresh database.

SQLite (a file under tmp_path), or, when CHALLENGE_TEST_DATABASE_URL is set, PostgreSQL (a fresh
database created and dropped here): one backend per pytest process, like the rest of the suite
(Tortoise caches SQL per executor class, and one test signs in in-process).
"""

import asyncio
from pathlib import Path

import httpx
import pytest
from tortoise.context import TortoiseContext

from challenge import db as challenge_db
from challenge.app import create_app
from challenge.settings import Settings
from conftest import Client
from factories.servers import Database, runner


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory):
    """`challenge demo` run once on a fresh database; each test works on a copy of it."""
    template = Database(tmp_path_factory.mktemp("demo")).create()
    first = runner(template)("demo").stdout
    yield template, first
    template.drop()


@pytest.fixture
def demo_db(demo_template, tmp_path):
    database = Database(tmp_path).create(template=demo_template[0])
    yield database
    database.drop()


@pytest.fixture
def demo_cli(demo_db):
    return runner(demo_db)


def tables(database: Database) -> set[str]:
    if database.backend == "sqlite":
        rows = database.query("SELECT name FROM sqlite_master WHERE type = 'table'")
    else:
        rows = database.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {name for (name,) in rows}


def test_migrate_creates_the_schema_and_a_rerun_is_a_no_op(cli, database):
    assert "migrations applied" in cli("migrate").stdout
    created = tables(database)
    assert {"user", "organisation", "audit_entry", "outbox_message", "blob", "attachment",
            "tortoise_migrations"} <= created
    applied = database.query("SELECT app, name FROM tortoise_migrations ORDER BY id")
    assert applied
    cli("migrate")
    assert tables(database) == created
    assert database.query("SELECT app, name FROM tortoise_migrations ORDER BY id") == applied


def test_demo_loads_once_and_the_audit_chain_verifies(demo_template, demo_db, demo_cli):
    first = demo_template[1]
    assert "demo data loaded" in first and "admin@demo.cn" in first
    users = demo_db.query("SELECT email FROM \"user\" ORDER BY email")
    assert ("admin@demo.cn",) in users and ("bidder@demo.cn",) in users
    assert "nothing to do" in demo_cli("demo").stdout
    assert demo_db.query("SELECT email FROM \"user\" ORDER BY email") == users
    verified = demo_cli("audit", "verify").stdout
    assert "audit chain intact" in verified


def _entries(database: Database) -> int:
    return database.query("SELECT count(*) FROM audit_entry")[0][0]


def test_audit_verify_names_an_edited_entry(demo_cli, demo_db):
    assert _entries(demo_db) >= 5
    demo_db.query("UPDATE audit_entry SET note = $1 WHERE seq = 3", "改过的备注")
    result = demo_cli("audit", "verify", expect=1)
    assert "seq=3" in result.stdout and "BROKEN" in result.stdout


def test_audit_verify_names_an_edited_after_value(demo_cli, demo_db):
    before = demo_db.query("SELECT after FROM audit_entry WHERE seq = 4")[0][0]
    tampered = '{"status": "approved"}' if before != '{"status": "approved"}' else '{"status": "rejected"}'
    if demo_db.backend == "postgres":
        demo_db.query("UPDATE audit_entry SET after = $1::jsonb WHERE seq = 4", tampered)
    else:
        demo_db.query("UPDATE audit_entry SET after = $1 WHERE seq = 4", tampered)
    result = demo_cli("audit", "verify", expect=1)
    assert "seq=4" in result.stdout


def test_audit_verify_detects_a_deleted_middle_entry(demo_cli, demo_db):
    total = _entries(demo_db)
    demo_db.query("DELETE FROM audit_entry WHERE seq = 3")
    result = demo_cli("audit", "verify", expect=1)
    assert "seq=3" in result.stdout and "missing" in result.stdout
    assert _entries(demo_db) == total - 1


def test_audit_verify_detects_a_rehashed_entry(demo_cli, demo_db):
    """Recomputing the edited row's own hash is not enough: the next entry's link breaks."""
    demo_db.query("UPDATE audit_entry SET hash = $1 WHERE seq = 3", "f" * 64)
    result = demo_cli("audit", "verify", expect=1)
    assert "seq=3" in result.stdout


def test_create_admin_makes_an_organiser_who_can_sign_in(cli, database, tmp_path):
    result = cli("create-admin", "--email", "office@example.cn", "--name", "项目办管理员",
                 "--password", "office-passw0rd")
    assert "organiser office@example.cn created" in result.stdout
    rows = database.query('SELECT is_organiser, organisation_id FROM "user" WHERE email = $1', "office@example.cn")
    assert len(rows) == 1 and rows[0][0] and rows[0][1] is not None
    assert "audit chain intact" in cli("audit", "verify").stdout
    # The same address again is refused without a traceback.
    again = cli("create-admin", "--email", "office@example.cn", "--password", "office-passw0rd", expect=1)
    assert "already exists" in again.stderr and "Traceback" not in again.stderr
    weak = cli("create-admin", "--email", "weak@example.cn", "--password", "short", expect=1)
    assert "密码至少需要" in weak.stderr and "Traceback" not in weak.stderr
    assert database.query('SELECT count(*) FROM "user" WHERE email = $1', "office@example.cn")[0][0] == 1

    page = asyncio.run(_sign_in(database.url, tmp_path, "office@example.cn", "office-passw0rd"))
    assert page.status_code == 200 and "项目办管理员" in page.text and "管理员" in page.text


async def _sign_in(url: str, tmp_path: Path, email: str, password: str) -> httpx.Response:
    settings = Settings(data_dir=tmp_path / "web", database_url=url, secret_key="s" * 40,
                        upload_dir=tmp_path / "web" / "uploads", mail_dir=tmp_path / "web" / "outbox",
                        argon2_time_cost=1, argon2_memory_kib=1024)
    async with TortoiseContext() as ctx:
        await ctx.init(config=challenge_db.tortoise_config(settings))
        try:
            app = create_app(settings, manage_orm=False)
            async with Client(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
                await http.login(email, password)
                return await http.get("/account")
        finally:
            await ctx.close_connections()
