"""`challenge backup PATH` and `challenge restore PATH`: one tar archive of the whole installation.

The archive holds, in this order:
- `database/challenge.sqlite3` (SQLite's online backup API) or `database/postgres.dump`
  (`pg_dump --format=custom` on a snapshot exported by a repeatable-read transaction);
- `files/<key>`, every attachment the database snapshot records, read from whichever storage
  holds them (local folder or S3) and checked against its recorded SHA-256;
- `data/<path>`, whatever else the data folder holds (the generated secret key, audit
  anchors, development mail): everything but the database file and the uploads folder;
- `manifest.json` last: format version, time, database kind, row counts per table, and the
  size and SHA-256 of every other member.

It is taken while the servers run: the database copy is one consistent snapshot, and the
attachments it names are immutable (content-addressed blobs are never rewritten).
Restore checks every member against the manifest before it touches anything, refuses a
database or storage that already holds data unless `force`, then brings back the rows, the
files and the data folder, and compares the row counts with the manifest.
"""

import asyncio
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from challenge.db import is_postgres
from challenge.files.storage import CHUNK, make_storage
from challenge.settings import Settings

FORMAT = "challenge-backup"
VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database/challenge.sqlite3"
POSTGRES_MEMBER = "database/postgres.dump"
SKIPPED_TABLES = {"tortoise_migrations"}  # present in a freshly migrated, still empty database


class BackupError(Exception):
    pass


# ---------------------------------------------------------------------------- the archive


class ArchiveWriter:
    """A tar archive written member by member, each member streamed and hashed as it goes.

    Members are written as header + data + padding with `TarInfo.tobuf`, so content can come
    from an async source (an S3 object) without a temporary copy; `tarfile` reads the result.
    """

    def __init__(self, path: Path) -> None:
        self.handle = open(path, "wb")  # noqa: SIM115 - closed by finish() or abort()
        self.members: dict[str, dict] = {}

    async def add(self, name: str, size: int, chunks) -> str:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = size, int(time.time()), 0o600
        self.handle.write(info.tobuf(tarfile.PAX_FORMAT))
        digest, written = hashlib.sha256(), 0
        async for chunk in chunks:
            digest.update(chunk)
            written += len(chunk)
            if written > size:
                raise BackupError(f"{name}: more than the announced {size} bytes")
            self.handle.write(chunk)
        if written != size:
            raise BackupError(f"{name}: {written} bytes read, {size} expected")
        self.handle.write(b"\0" * (-size % tarfile.BLOCKSIZE))
        self.members[name] = {"size": size, "sha256": digest.hexdigest()}
        return digest.hexdigest()

    async def add_file(self, name: str, path: Path) -> str:
        return await self.add(name, path.stat().st_size, _file_chunks(path))

    def finish(self, manifest: dict) -> None:
        body = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mtime, info.mode = len(body), int(time.time()), 0o600
        self.handle.write(info.tobuf(tarfile.PAX_FORMAT) + body + b"\0" * (-len(body) % tarfile.BLOCKSIZE))
        self.handle.write(b"\0" * (2 * tarfile.BLOCKSIZE))  # end of archive
        self.handle.write(b"\0" * (-self.handle.tell() % tarfile.RECORDSIZE))
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()


async def _file_chunks(path: Path):
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def _member_chunks(archive: tarfile.TarFile, member: tarfile.TarInfo):
    handle = archive.extractfile(member)
    while chunk := handle.read(CHUNK):
        yield chunk


# ---------------------------------------------------------------------------- the database


def sqlite_path(url: str) -> Path:
    path = url.removeprefix("sqlite://").split("?", 1)[0]
    return Path("/" + path.lstrip("/")) if path.startswith("/") else Path(path)


def libpq_url(url: str) -> str:
    """Tortoise's URL without its pool options, in the form libpq (pg_dump, pg_restore) reads."""
    parts = urlsplit(url)
    return urlunsplit(("postgresql", parts.netloc, parts.path, "", ""))


def pg_tool(name: str) -> str:
    """pg_dump or pg_restore: on PATH, or the newest under /usr/lib/postgresql/*/bin (Debian)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
                        key=lambda path: int(path.parts[-3]) if path.parts[-3].isdigit() else 0)
    if not candidates:
        raise BackupError(f"{name} not found: install the PostgreSQL client tools")
    return str(candidates[-1])


def _sqlite_tables(connection: sqlite3.Connection) -> list[str]:
    rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    return sorted(name for (name,) in rows)


def _sqlite_snapshot(source: Path, target: Path) -> tuple[dict[str, int], list[tuple[str, str, int]]]:
    """Copy a live SQLite database with the online backup API; (row counts, blobs) of the copy."""
    if not source.exists():
        raise BackupError(f"no database at {source}")
    with sqlite3.connect(source) as live, sqlite3.connect(target) as copy:
        live.backup(copy)
    with sqlite3.connect(target) as copy:
        counts = {table: copy.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
                  for table in _sqlite_tables(copy)}
        blobs = copy.execute("SELECT storage_key, sha256, size FROM blob ORDER BY id").fetchall()
    return counts, blobs


async def _pg_tables(connection) -> list[str]:
    rows = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    return [row["tablename"] for row in rows]


async def _pg_snapshot(url: str, target: Path) -> tuple[dict[str, int], list[tuple[str, str, int]]]:
    """pg_dump of a snapshot exported by our own repeatable-read transaction, which also reads
    the counts and the blobs: all three see exactly the same state."""
    connection = await asyncpg.connect(libpq_url(url))
    try:
        async with connection.transaction(isolation="repeatable_read", readonly=True):
            snapshot = await connection.fetchval("SELECT pg_export_snapshot()")
            dump = await asyncio.create_subprocess_exec(
                pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                f"--snapshot={snapshot}", f"--file={target}", f"--dbname={libpq_url(url)}",
                stderr=subprocess.PIPE)
            counts = {table: await connection.fetchval(f'SELECT count(*) FROM "{table}"')
                      for table in await _pg_tables(connection)}
            blobs = [tuple(row) for row in await connection.fetch(
                "SELECT storage_key, sha256, size FROM blob ORDER BY id")]
            _, errors = await dump.communicate()
            if dump.returncode != 0:
                raise BackupError(f"pg_dump failed: {errors.decode(errors='replace').strip()}")
    finally:
        await connection.close()
    return counts, blobs


def _data_files(settings: Settings, archive: Path) -> list[Path]:
    """What the data folder holds besides the database, the attachments and the archive being written.

    The generated audit key stays out: whoever holds a backup and can write a database must not be
    able to rewrite the audit chain so that it still verifies. Keep the key apart (README).
    """
    root = settings.data_dir
    if not root.exists():
        return []
    skipped = {root / "tmp", root / "audit_key", archive}
    if not is_postgres(settings.database_url):
        database = sqlite_path(settings.database_url)
        skipped |= {database, *(database.with_name(database.name + suffix) for suffix in ("-wal", "-shm", "-journal"))}
    uploads = settings.upload_dir.resolve()
    return sorted(
        path for path in root.rglob("*")
        if path.is_file() and path not in skipped and path.suffix != ".part"  # .part: still being written
        and not path.resolve().is_relative_to(uploads)
        and not any(parent in skipped for parent in path.parents)
    )


# ---------------------------------------------------------------------------- backup


@dataclass
class Summary:
    database: str
    counts: dict[str, int]
    files: int
    data_files: int
    size: int


async def backup(settings: Settings, path: Path, out: Callable[[str], None] = print) -> Summary:
    path = Path(path).resolve()
    if path.exists():
        raise BackupError(f"{path} already exists: choose a new file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    storage = make_storage(settings)
    archive = ArchiveWriter(partial)
    try:
        with tempfile.TemporaryDirectory(dir=path.parent) as scratch:
            kind, counts, blobs = await _snapshot(settings, Path(scratch))
            member = POSTGRES_MEMBER if kind == "postgres" else SQLITE_MEMBER
            await archive.add_file(member, Path(scratch) / Path(member).name)
        out(f"database ({kind}): {sum(counts.values())} rows in {len(counts)} tables")
        for key, sha256, size in blobs:
            if await archive.add(f"files/{key}", size, storage.read(key)) != sha256:
                raise BackupError(f"the stored file {key} differs from its record: run `challenge storage check`")
        out(f"attachments: {len(blobs)} files from {settings.storage_backend} storage")
        data_files = _data_files(settings, partial)
        for file in data_files:
            await archive.add_file(f"data/{file.relative_to(settings.data_dir).as_posix()}", file)
        archive.finish({
            "format": FORMAT,
            "version": VERSION,
            "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "database": kind,
            "counts": counts,
            "files": len(blobs),
            "data_files": len(data_files),
            "members": archive.members,
        })
        os.replace(partial, path)
    except BaseException:
        archive.handle.close()
        partial.unlink(missing_ok=True)
        raise
    finally:
        await storage.close()
    return Summary(kind, counts, len(blobs), len(data_files), path.stat().st_size)


async def _snapshot(settings: Settings, scratch: Path):
    if is_postgres(settings.database_url):
        return ("postgres", *await _pg_snapshot(settings.database_url, scratch / Path(POSTGRES_MEMBER).name))
    source = sqlite_path(settings.database_url)
    target = scratch / Path(SQLITE_MEMBER).name
    return ("sqlite", *await asyncio.to_thread(_sqlite_snapshot, source, target))


# ---------------------------------------------------------------------------- restore


def read_manifest(archive: tarfile.TarFile) -> dict:
    try:
        manifest = json.load(archive.extractfile(MANIFEST))
    except (KeyError, ValueError) as error:
        raise BackupError("not a challenge backup: no readable manifest.json") from error
    if manifest.get("format") != FORMAT:
        raise BackupError("not a challenge backup: unknown format")
    if manifest.get("version") != VERSION:
        raise BackupError(f"backup format version {manifest.get('version')} is not supported (this is {VERSION})")
    return manifest


def verify_members(archive: tarfile.TarFile, manifest: dict) -> None:
    """Every member the manifest lists is there with its size and SHA-256, and nothing else is."""
    expected = manifest["members"]
    present = {member.name: member for member in archive.getmembers() if member.name != MANIFEST}
    if missing := sorted(set(expected) - set(present)):
        raise BackupError(f"the archive is incomplete: {missing[0]} is missing ({len(missing)} member(s))")
    if extra := sorted(set(present) - set(expected)):
        raise BackupError(f"the archive holds {extra[0]}, which its manifest does not list")
    for name, member in present.items():
        digest = hashlib.sha256()
        for chunk in _member_chunks(archive, member):
            digest.update(chunk)
        if member.size != expected[name]["size"] or digest.hexdigest() != expected[name]["sha256"]:
            raise BackupError(f"the archive is damaged: {name} does not match its SHA-256 in the manifest")


async def restore(settings: Settings, path: Path, *, force: bool = False,
                  out: Callable[[str], None] = print) -> Summary:
    try:
        archive = tarfile.open(path, "r:")  # noqa: SIM115 - closed by the with-block below
    except (OSError, tarfile.TarError) as error:
        raise BackupError(f"cannot read {path}: {error}") from error
    with archive:
        manifest = read_manifest(archive)
        kind = "postgres" if is_postgres(settings.database_url) else "sqlite"
        if manifest["database"] != kind:
            raise BackupError(f"this backup holds a {manifest['database']} database; "
                              f"CHALLENGE_DATABASE_URL points at {kind}")
        await asyncio.to_thread(verify_members, archive, manifest)
        out(f"archive verified: {len(manifest['members'])} members match the manifest of {manifest['created_at']}")
        storage = make_storage(settings)
        try:
            if not force:
                await _refuse_if_not_empty(settings, storage)
            await _restore_database(settings, archive, kind)
            for member in archive.getmembers():
                if member.name.startswith("files/"):
                    await _restore_file(storage, archive, member)
        finally:
            await storage.close()
        data_files = [m for m in archive.getmembers() if m.name.startswith("data/")]
        for member in data_files:
            _restore_data_file(settings, archive, member)
    counts = await _counts(settings)
    if counts != manifest["counts"]:
        differing = sorted(t for t in set(counts) | set(manifest["counts"])
                           if counts.get(t) != manifest["counts"].get(t))
        raise BackupError(f"row counts differ from the backup after restore: {', '.join(differing)}")
    return Summary(kind, counts, manifest["files"], len(data_files), Path(path).stat().st_size)


async def _counts(settings: Settings) -> dict[str, int]:
    if is_postgres(settings.database_url):
        connection = await asyncpg.connect(libpq_url(settings.database_url))
        try:
            return {table: await connection.fetchval(f'SELECT count(*) FROM "{table}"')
                    for table in await _pg_tables(connection)}
        finally:
            await connection.close()
    with sqlite3.connect(sqlite_path(settings.database_url)) as connection:
        return {table: connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
                for table in _sqlite_tables(connection)}


async def _holds_rows(settings: Settings) -> bool:
    if not is_postgres(settings.database_url):
        if not sqlite_path(settings.database_url).exists():
            return False
    counts = await _counts(settings)
    return any(rows for table, rows in counts.items() if table not in SKIPPED_TABLES)


async def _refuse_if_not_empty(settings: Settings, storage) -> None:
    if await _holds_rows(settings):
        raise BackupError("the database already holds data: restore only into an empty one, or use --force "
                          "to replace it")
    async for _ in storage.stored():
        raise BackupError("the attachment storage already holds files: restore only into an empty one, "
                          "or use --force")


async def _restore_database(settings: Settings, archive: tarfile.TarFile, kind: str) -> None:
    if kind == "sqlite":
        target = sqlite_path(settings.database_url)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".restoring")
        with open(partial, "wb") as handle:
            for chunk in _member_chunks(archive, archive.getmember(SQLITE_MEMBER)):
                handle.write(chunk)
        for suffix in ("-wal", "-shm", "-journal"):
            target.with_name(target.name + suffix).unlink(missing_ok=True)
        os.replace(partial, target)
        return
    with tempfile.NamedTemporaryFile(suffix=".dump") as dump:
        for chunk in _member_chunks(archive, archive.getmember(POSTGRES_MEMBER)):
            dump.write(chunk)
        dump.flush()
        # --clean --if-exists: a database that was only migrated (tables, no rows) counts as empty.
        process = await asyncio.create_subprocess_exec(
            pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
            "--clean", "--if-exists", f"--dbname={libpq_url(settings.database_url)}", dump.name, stderr=subprocess.PIPE)
        _, errors = await process.communicate()
    if process.returncode != 0:
        raise BackupError(f"pg_restore failed: {errors.decode(errors='replace').strip()}")


async def _restore_file(storage, archive: tarfile.TarFile, member: tarfile.TarInfo) -> None:
    key = member.name.removeprefix("files/")
    if not key.isalnum():
        raise BackupError(f"refusing the unsafe storage key {key!r}")
    writer = await storage.writer(key=key)
    try:
        for chunk in _member_chunks(archive, member):
            await writer.write(chunk)
        await writer.commit()
    except BaseException:
        await writer.abort()
        raise


def _restore_data_file(settings: Settings, archive: tarfile.TarFile, member: tarfile.TarInfo) -> None:
    relative = Path(member.name.removeprefix("data/"))
    if relative.is_absolute() or ".." in relative.parts:
        raise BackupError(f"refusing the unsafe path {member.name}")
    target = settings.data_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as handle:
        for chunk in _member_chunks(archive, member):
            handle.write(chunk)
    target.chmod(0o600)
