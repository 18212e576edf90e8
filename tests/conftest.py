"""Fixtures: a fresh real database per test, the app over in-process HTTP, signed-in clients.

SQLite is the default (a new file per test). With CHALLENGE_TEST_DATABASE_URL set to a
PostgreSQL server, the process builds one database from the models and empties it after every
test; one backend per pytest process (Tortoise caches SQL per executor class, not per dialect).
"""

import asyncio
import os
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from tortoise.context import TortoiseContext

from challenge.app import create_app
from challenge.audit import services as audit_services
from challenge.db import MODEL_MODULES, connection_config
from challenge.settings import Settings

PG_URL = os.environ.get("CHALLENGE_TEST_DATABASE_URL", "")


def pytest_collection_modifyitems(config, items):
    """With PostgreSQL, tests of what does not depend on the database (message catalogues, pure
    algorithms, file handling, server options) are left to the SQLite run, which holds them."""
    if not PG_URL:
        return
    skip = pytest.mark.skip(reason="does not depend on the database: runs in the SQLite run")
    for item in items:
        if item.get_closest_marker("db_independent"):
            item.add_marker(skip)


TEMPLATE_DB = f"challenge_tpl_{os.getpid()}"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
TEST_AUDIT_KEY = "test-audit-key-" + "k" * 32


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def _asyncpg_dsn(url: str) -> str:
    return url.replace("asyncpg://", "postgresql://").replace("postgres://", "postgresql://", 1)


async def _admin_execute(sql: str) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(PG_URL))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def _build_template() -> None:
    await _admin_execute(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}" WITH (FORCE)')
    await _admin_execute(f'CREATE DATABASE "{TEMPLATE_DB}"')
    async with TortoiseContext() as ctx:
        await ctx.init(config=_config(_with_db(PG_URL, TEMPLATE_DB)))
        await ctx.generate_schemas(safe=False)
        await ctx.close_connections()


def _config(url: str | dict) -> dict:
    return {
        "connections": {"default": url},
        "apps": {"models": {"models": MODEL_MODULES, "default_connection": "default"}},
        "use_tz": True,
        "timezone": "UTC",
    }


async def _table_names(database: str) -> tuple[list[str], list[str]]:
    connection = await asyncpg.connect(_asyncpg_dsn(_with_db(PG_URL, database)))
    try:
        tables = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        sequences = await connection.fetch("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")
    finally:
        await connection.close()
    return sorted(r["tablename"] for r in tables), sorted(r["sequencename"] for r in sequences)


@pytest.fixture(scope="session")
def pg_database():
    """One PostgreSQL database for this test process, emptied after each test.

    Deleting every row and restarting every sequence gives the next test an empty schema with
    fresh ids, the same as a new database, for a fraction of the cost of creating one per test.
    """
    if not PG_URL:
        yield None
        return
    asyncio.run(_build_template())
    tables, sequences = asyncio.run(_table_names(TEMPLATE_DB))
    # DELETE with foreign-key triggers off is much faster than TRUNCATE on a few dozen tiny tables.
    reset = ["SET session_replication_role = replica"]
    reset += [f'DELETE FROM "{table}"' for table in tables]
    reset += [f'ALTER SEQUENCE "{sequence}" RESTART' for sequence in sequences]
    reset += ["SET session_replication_role = DEFAULT"]
    yield TEMPLATE_DB, ";\n".join(reset)
    asyncio.run(_admin_execute(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path | None:
    """An empty SQLite database with the schema, built once for this test process.

    Each test gets a copy of this file: a fresh database of its own, as before, without paying
    for some hundred CREATE TABLE/INDEX statements per test (2.4 s against 0.2 s for a copy)."""
    if PG_URL:
        return None
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"

    async def build() -> None:
        async with TortoiseContext() as ctx:
            await ctx.init(config=_config(connection_config(f"sqlite:///{path}")), _create_db=True)
            await ctx.generate_schemas(safe=False)
            await ctx.close_connections()

    asyncio.run(build())
    # Closed cleanly, the file holds everything (no write-ahead log left beside it).
    assert not path.with_name(path.name + "-wal").exists() or path.with_name(path.name + "-wal").stat().st_size == 0
    return path


@pytest.fixture
async def db(tmp_path: Path, pg_database, sqlite_template):
    audit_services.configure(key=TEST_AUDIT_KEY)
    if not PG_URL:
        # The app's own SQLite engine (challenge/sqlite_backend.py), as `tortoise_test_context` would
        # build a database with Tortoise's, on a copy of the session's empty schema.
        database = tmp_path / "test.sqlite3"
        shutil.copyfile(sqlite_template, database)
        async with TortoiseContext() as ctx:
            await ctx.init(config=_config(connection_config(f"sqlite:///{database}")))
            yield ctx
        return
    name, reset = pg_database
    async with TortoiseContext() as ctx:
        await ctx.init(config=_config(_with_db(PG_URL, name)))
        try:
            yield ctx
        finally:
            await ctx.close_connections()
            await _execute_in(name, reset)


async def _execute_in(database: str, sql: str) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(_with_db(PG_URL, database)))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url="sqlite://:memory:",
        secret_key="test-secret-key-" + "x" * 32,
        audit_key=TEST_AUDIT_KEY,
        upload_dir=tmp_path / "uploads",
        mail_dir=tmp_path / "outbox",
        max_upload_mb=5,
        argon2_time_cost=1,
        argon2_memory_kib=256,
        base_url="http://testserver",
    )


@pytest.fixture
def app(db, settings):
    return create_app(settings, manage_orm=False)


@pytest.fixture
async def client(app):
    async with Client(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def make_client(app):
    """More clients on the same app: one per person in a multi-user test."""
    clients = []

    def make() -> "Client":
        http = Client(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        clients.append(http)
        return http

    yield make
    for http in clients:
        await http.aclose()


class Client(httpx.AsyncClient):
    """An HTTP client that fills in the CSRF token the way a browser form would."""

    async def csrf(self) -> str:
        response = await self.get("/login" if "challenge_session" not in self.cookies else "/account")
        match = CSRF_RE.search(response.text)
        if match is None:
            response = await self.get("/")
            match = CSRF_RE.search(response.text)
        return match.group(1)

    async def submit(self, url: str, data: dict | list | None = None, files=None, **kwargs) -> httpx.Response:
        """POST a form with the session's CSRF token as its first field."""
        token = await self.csrf()
        items = list(data.items()) if isinstance(data, dict) else list(data or [])
        fields = [("csrf_token", token), *items]
        if files is not None:
            return await self.post(url, data=dict(_group(fields)), files=files, **kwargs)
        return await self.post(url, content=httpx.QueryParams(fields).__str__().encode(),
                               headers={"content-type": "application/x-www-form-urlencoded"}, **kwargs)

    async def login(self, email: str, password: str = "correct-horse-42") -> httpx.Response:
        response = await self.submit("/login", {"email": email, "password": password})
        assert response.status_code == 303, response.text[:2000]
        return response


def _group(fields):
    grouped: dict[str, list[str]] = {}
    for key, value in fields:
        grouped.setdefault(key, []).append(value)
    return {key: values if len(values) > 1 else values[0] for key, values in grouped.items()}


@pytest.fixture
def database(tmp_path):
    """A database of the test's own for `challenge` subprocesses and live servers (factories.servers)."""
    from factories.servers import Database

    database = Database(tmp_path).create()
    yield database
    database.drop()


@pytest.fixture
def cli(database):
    """Run `challenge ...` on the test's `database`."""
    from factories.servers import runner

    return runner(database)


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory):
    """`challenge migrate` run once per test process (replaying the migrations takes seconds)."""
    from factories.servers import Database, runner

    template = Database(tmp_path_factory.mktemp("migrated")).create()
    runner(template)("migrate")
    yield template
    template.drop()


@pytest.fixture
def migrated(database, migrated_template):
    """The test's `database` with every migration applied: a copy of the migrated template."""
    database.drop()
    return database.create(template=migrated_template)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory, migrated_template):
    """`challenge demo` run once per test process on a database of its own (with its attachments
    and its output in `demo_output`); the operations and command tests each work on a copy."""
    from factories.servers import Database, runner

    template = Database(tmp_path_factory.mktemp("demo")).create(template=migrated_template)
    template.demo_output = runner(template)("demo").stdout
    yield template
    template.drop()


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory):
    """A real S3-API server (SeaweedFS) for this test process, started on first use."""
    from factories.seaweed import start_seaweedfs

    server = start_seaweedfs(tmp_path_factory.mktemp("seaweedfs"))
    yield server
    server.stop()


@pytest.fixture
async def s3(seaweedfs):
    """An S3Storage on a new, empty bucket of the test's own."""
    from factories.seaweed import new_bucket_storage

    storage = await new_bucket_storage(seaweedfs)
    yield storage
    await storage.close()
