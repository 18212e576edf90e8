"""Real processes for operations tests: a database of its own, the `challenge` command, a live server.

SQLite (a file under the test's folder) or, when CHALLENGE_TEST_DATABASE_URL is set, PostgreSQL
(a fresh database created and dropped here): one backend per pytest process, like the rest of
the suite.
"""

import asyncio
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
from tortoise.context import TortoiseContext

from challenge import db as challenge_db
from challenge.accounts import passwords
from challenge.audit import services as audit
from challenge.settings import Settings
from conftest import PG_URL, _asyncpg_dsn, _with_db

BACKEND = "postgres" if PG_URL else "sqlite"
AUDIT_KEY = "cli-test-audit-key-" + "q" * 32


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def admin_sql(sql: str) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(PG_URL))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


class Database:
    """A database the CLI and servers work on, with raw SQL access for the test (as a person with psql would)."""

    def __init__(self, folder: Path, backend: str = BACKEND) -> None:
        self.backend = backend
        self.folder = folder
        if self.backend == "sqlite":
            self.path = folder / "data" / "challenge.sqlite3"
            self.url = f"sqlite:///{self.path}"
        else:
            self.name = f"cli_{uuid.uuid4().hex[:12]}"
            self.url = _with_db(PG_URL, self.name)

    def create(self, template: "Database | None" = None) -> "Database":
        """An empty database, or a copy of `template`."""
        if self.backend == "sqlite":
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if template is not None:
                shutil.copy(template.path, self.path)
        else:
            source = f' TEMPLATE "{template.name}"' if template is not None else ""
            asyncio.run(admin_sql(f'CREATE DATABASE "{self.name}"{source}'))
        return self

    def drop(self) -> None:
        if self.backend == "postgres":
            asyncio.run(admin_sql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))

    def query(self, sql: str, *args):
        if self.backend == "sqlite":
            with sqlite3.connect(self.path) as connection:
                return connection.execute(sql.replace("$1", "?").replace("$2", "?"), args).fetchall()
        return asyncio.run(self._pg(sql, *args))

    async def _pg(self, sql: str, *args):
        connection = await asyncpg.connect(_asyncpg_dsn(self.url))
        try:
            return [tuple(row) for row in await connection.fetch(sql, *args)]
        finally:
            await connection.close()

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a `challenge` process working on this database."""
        env = {
            **os.environ,
            "CHALLENGE_DATA_DIR": str(self.folder / "data"),
            "CHALLENGE_DATABASE_URL": self.url,
            "CHALLENGE_SECRET_KEY": "ops-test-secret-" + "k" * 32,
            "CHALLENGE_ARGON2_TIME_COST": "1",
            "CHALLENGE_ARGON2_MEMORY_KIB": "1024",
            # One audit key for a template database and its copies (each copy has its own data folder).
            "CHALLENGE_AUDIT_KEY": AUDIT_KEY,
        }
        for name in ("CHALLENGE_SMTP_HOST", "CHALLENGE_BASE_URL", "CHALLENGE_STORAGE", "CHALLENGE_LOG_FORMAT"):
            env.pop(name, None)
        env.update(extra)
        return env


def challenge_command() -> list[str]:
    command = shutil.which("challenge", path=str(Path(sys.executable).parent))
    return [command] if command else [sys.executable, "-m", "challenge.cli"]


def runner(database: Database, **extra_env: str):
    """Run `challenge ...` as a subprocess on `database`; checks the exit code unless expect=None."""
    env = database.env(**extra_env)

    def run(*args: str, expect: int | None = 0) -> subprocess.CompletedProcess:
        result = subprocess.run([*challenge_command(), *args], env=env, capture_output=True, text=True, timeout=300)
        if expect is not None:
            assert result.returncode == expect, f"{args}: {result.stdout}\n{result.stderr}"
        return result

    return run


class LiveServer:
    """`challenge serve` in its own process group (the uvicorn supervisor and its workers)."""

    def __init__(self, database: Database, *, workers: int = 1, port: int | None = None, **extra_env: str) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = database.env(**extra_env)
        self.workers = workers
        self.out = database.folder / f"server-{self.port}.out"
        self.err = database.folder / f"server-{self.port}.err"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> "LiveServer":
        with open(self.out, "ab") as out, open(self.err, "ab") as err:
            self.process = subprocess.Popen(
                [*challenge_command(), "serve", "--port", str(self.port), "--workers", str(self.workers)],
                env=self.env, stdout=out, stderr=err, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.err.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server did not start: {self.err.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL to every process of the server: no clean-up code runs."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> "LiveServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


async def with_orm_on(database: Database, work):
    """Run `await work(settings)` in the test process with the ORM on `database` (to seed or inspect
    what a live server uses), through the same services the app calls."""
    settings = Settings(data_dir=database.folder / "data", database_url=database.url, secret_key="s" * 40,
                        upload_dir=database.folder / "data" / "uploads", mail_dir=database.folder / "data" / "outbox",
                        argon2_time_cost=1, argon2_memory_kib=1024, audit_key=AUDIT_KEY)
    passwords.configure(time_cost=1, memory_kib=1024)
    audit.configure(key=AUDIT_KEY)  # the key the `challenge` processes on this database use
    async with TortoiseContext() as ctx:
        await ctx.init(config=challenge_db.tortoise_config(settings))
        try:
            return await work(settings)
        finally:
            await ctx.close_connections()


class TcpProxy:
    """A loopback TCP proxy to stand between app servers and PostgreSQL: `cut()` closes the port and
    every connection through it (the database "goes away"), `restore()` listens again."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.server = None
        self.writers: set[asyncio.StreamWriter] = set()

    def __enter__(self) -> "TcpProxy":
        self.thread.start()
        self.restore()
        return self

    def __exit__(self, *exc) -> None:
        self.cut()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    def _run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(10)

    def restore(self) -> None:
        async def listen():
            self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, reuse_address=True)
        self._run(listen())

    def cut(self) -> None:
        async def close():
            if self.server is not None:
                self.server.close()
                self.server = None
            for writer in list(self.writers):
                writer.transport.abort()
            self.writers.clear()
        self._run(close())

    async def _serve(self, client_reader, client_writer) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.transport.abort()
            return
        self.writers |= {client_writer, server_writer}
        await asyncio.gather(self._pipe(client_reader, server_writer), self._pipe(server_reader, client_writer))

    async def _pipe(self, reader, writer) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.transport.abort()
            self.writers.discard(writer)
