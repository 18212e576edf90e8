"""The `challenge` console command, run as a subprocess on a fresh database.

SQLite (a file under tmp_path), or, when CHALLENGE_TEST_DATABASE_URL is set, PostgreSQL (a fresh
database created and dropped here): one backend per pytest process, like the rest of the suite
(Tortoise caches SQL per executor class, and one test signs in in-process).
"""

import asyncio
import json
import re
from pathlib import Path

import httpx
import pytest
from tortoise.context import TortoiseContext

from challenge import db as challenge_db
from challenge.app import create_app
from challenge.settings import Settings
from conftest import Client
from factories.servers import Database, runner


@pytest.fixture
def demo_db(demo_template, tmp_path):
    database = Database(tmp_path).create(template=demo_template)
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
    first = demo_template.demo_output
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


async def _rewrite_chain_without_the_key(url: str, from_seq: int) -> None:
    """What someone with write access to the database can do: edit a row, then recompute every
    later hash with the application's own digest function, but without the real key."""
    from challenge.audit import services as audit
    from challenge.audit.models import AuditEntry

    audit.configure(key="a guess at the key")
    async with TortoiseContext() as ctx:
        await ctx.init(config=challenge_db.tortoise_config(Settings(
            data_dir=Path("/nonexistent"), database_url=url, secret_key="s" * 40, upload_dir=Path("/nonexistent"))))
        try:
            previous = (await AuditEntry.get(seq=from_seq - 1)).hash
            for entry in await AuditEntry.filter(seq__gte=from_seq).order_by("seq"):
                if entry.seq == from_seq:
                    entry.note = "改写的记录"
                entry.prev_hash = previous
                entry.hash = audit._digest(entry)
                await entry.save(update_fields=["note", "prev_hash", "hash"])
                previous = entry.hash
        finally:
            await ctx.close_connections()


def test_audit_verify_detects_a_chain_rewritten_without_the_key(demo_cli, demo_db):
    asyncio.run(_rewrite_chain_without_the_key(demo_db.url, 5))
    result = demo_cli("audit", "verify", expect=1)
    assert "seq=5" in result.stdout and "BROKEN" in result.stdout


def test_audit_anchor_then_deleting_the_last_entries_is_detected(demo_cli, demo_db, tmp_path):
    anchors = tmp_path / "shipped" / "anchors.jsonl"
    total = _entries(demo_db)
    first = json.loads(demo_cli("audit", "anchor", "--out", str(anchors)).stdout)
    assert first["seq"] == first["count"] == total and len(first["hash"]) == 64 and first["at"]
    assert "intact" in demo_cli("audit", "verify", "--anchor", str(anchors)).stdout
    # Anchors are appended, one JSON line each; the default file lives in the data folder.
    demo_cli("audit", "anchor", "--out", str(anchors))
    assert len(anchors.read_text().splitlines()) == 2
    demo_cli("audit", "anchor")
    assert (demo_db.folder / "data" / "audit-anchors.jsonl").exists()

    demo_db.query("DELETE FROM audit_entry WHERE seq = $1", total)
    # The shorter chain still links up by itself...
    assert _entries(demo_db) == total - 1
    # ...but not against the anchor, given explicitly or found in the data folder.
    for args in (["--anchor", str(anchors)], []):
        result = demo_cli("audit", "verify", *args, expect=1)
        assert "BROKEN" in result.stdout and "1 entries missing" in result.stdout, result.stdout
    assert demo_cli("audit", "verify", "--anchor", str(tmp_path / "none.jsonl"), expect=2).returncode == 2


def test_the_audit_key_is_generated_into_the_data_folder(tmp_path, monkeypatch):
    from challenge.settings import load_settings

    monkeypatch.delenv("CHALLENGE_AUDIT_KEY", raising=False)
    monkeypatch.setenv("CHALLENGE_DATA_DIR", str(tmp_path / "data"))
    first, second = load_settings().audit_key, load_settings().audit_key
    assert first == second and len(first) >= 40
    key_file = tmp_path / "data" / "audit_key"
    assert key_file.read_text() == first and oct(key_file.stat().st_mode & 0o777) == "0o600"
    monkeypatch.setenv("CHALLENGE_AUDIT_KEY", "configured-key")
    assert load_settings().audit_key == "configured-key"


def test_create_admin_makes_an_organiser_who_can_sign_in(cli, database, migrated, tmp_path):
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
                        audit_key="a" * 40,
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


def test_verify_results_passes_on_the_demo_and_fails_after_a_score_is_edited(demo_cli, demo_db):
    noticed = sorted({row[0] for row in demo_db.query("SELECT challenge_id FROM result_notice WHERE challenge_id IS NOT NULL")})
    assert len(noticed) == 5
    for challenge_id in noticed:
        assert "scores match the published decision" in demo_cli("verify-results", str(challenge_id)).stdout
    announced = demo_db.query("SELECT challenge_id FROM result_notice WHERE kind = 'result' AND status = 'announced'")
    challenge_id = announced[0][0]
    score_id = demo_db.query(
        "SELECT s.id FROM review_score s JOIN review_assignment a ON a.id = s.assignment_id "
        "JOIN review_panel p ON p.id = a.panel_id WHERE p.challenge_id = $1 AND a.status = 'submitted' "
        "ORDER BY s.id LIMIT 1", challenge_id)[0][0]
    demo_db.query("UPDATE review_score SET value = value - 1 WHERE id = $1", score_id)  # as with psql
    result = demo_cli("verify-results", str(challenge_id), expect=1)
    assert "rankings agree" in result.stdout  # the ranking alone follows the edited row
    assert f"challenge {challenge_id}: scores DIFFER from the published decision" in result.stdout


def test_audit_verify_finds_a_score_changed_in_the_database(demo_cli, demo_db):
    assert "intact" in demo_cli("audit", "verify").stdout
    [(score_id, assignment_id)] = demo_db.query(
        "SELECT s.id, a.id FROM review_score s JOIN review_assignment a ON a.id = s.assignment_id "
        "WHERE a.status = 'submitted' ORDER BY s.id LIMIT 1")
    demo_db.query("UPDATE review_score SET value = value + 1 WHERE id = $1", score_id)
    result = demo_cli("audit", "verify", expect=1)
    assert "audit chain intact" in result.stdout
    assert f"score CHANGED outside the app: assignment {assignment_id}" in result.stdout


def test_verify_receipts_checks_the_delivery_versions_too(demo_cli, demo_db):
    checked = demo_cli("verify-receipts").stdout
    assert re.search(r"[1-9]\d* delivery version\(s\) checked, 0 mismatch\(es\)", checked)
    [(version_id, owner_id)] = demo_db.query(
        "SELECT id, owner_id FROM delivery_version WHERE kind = 'deliverable' ORDER BY id LIMIT 1")
    demo_db.query("UPDATE delivery_version SET document = replace(document, '小试', '中试') WHERE id = $1", version_id)
    result = demo_cli("verify-receipts", expect=1)
    assert f"MISMATCH: deliverable {owner_id} version 1" in result.stdout
    assert "delivery version(s) checked, 1 mismatch(es)" in result.stdout
