"""One storage interface for attachment content.

`LocalStorage` keeps files in a folder outside the web root (a laptop, or one server).
Several app servers share an S3-API object store instead (`S3Storage`: SeaweedFS, MinIO, Ceph,
a cloud's object service), selected by CHALLENGE_STORAGE=s3 and implementing the same calls:
`writer()` (then `write`, `commit` -> key, `abort`), `read(key)` streaming, `delete`, `exists`,
and for maintenance (`challenge storage ...`) `stored()` listing every object and
`sweep_unfinished(older_than)` removing what uploads cut off by a crash left behind.
Keys are random: never a user's file name (a migration copies an object under its own key).
"""

import contextlib
import fcntl
import os
import secrets
import shutil
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import aiofiles
import aiofiles.os

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    modified: datetime


def new_key() -> str:
    return secrets.token_hex(20)


class LocalWriter:
    def __init__(self, storage: "LocalStorage", key: str | None = None) -> None:
        self.storage = storage
        self.key = key or new_key()
        self.temp_path = storage.temp_dir() / f"{self.key}.part"
        self._handle = None

    async def open(self) -> "LocalWriter":
        self._handle = await aiofiles.open(self.temp_path, "wb")
        return self

    async def write(self, data: bytes) -> None:
        await self._handle.write(data)

    async def commit(self) -> str:
        """Move the finished file to its permanent place and return its key."""
        await self._handle.close()
        final = self.storage.path(self.key)
        final.parent.mkdir(parents=True, exist_ok=True)
        await aiofiles.os.replace(self.temp_path, final)
        return self.key

    async def abort(self) -> None:
        if self._handle is not None and not self._handle.closed:
            await self._handle.close()
        try:
            await aiofiles.os.remove(self.temp_path)
        except FileNotFoundError:
            pass


class LocalStorage:
    """Objects under `root/ab/cd/<key>`; unfinished uploads under `root/tmp/<process>/`.

    Each process writes its unfinished uploads in a folder of its own and holds a lock on it
    while it lives. A process killed mid-upload releases the lock, so the next start (or
    `challenge storage cleanup`) removes exactly the leftovers of processes that are gone.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._temp_dir: Path | None = None
        self._unlock = None

    def temp_dir(self) -> Path:
        if self._temp_dir is None:
            tmp = self.root / "tmp"
            tmp.mkdir(parents=True, exist_ok=True)
            name = f"{os.getpid()}-{secrets.token_hex(4)}"
            lock = os.open(tmp / f"{name}.lock", os.O_WRONLY | os.O_CREAT, 0o600)
            fcntl.flock(lock, fcntl.LOCK_EX)
            self._unlock = weakref.finalize(self, os.close, lock)  # held while this storage lives
            (tmp / name).mkdir()
            self._temp_dir = tmp / name
        return self._temp_dir

    async def close(self) -> None:
        """Give up this process's folder for unfinished uploads (removed if empty)."""
        if self._temp_dir is not None:
            try:
                self._temp_dir.rmdir()
            except OSError:
                pass  # unfinished files remain: the lock file stays, so a later sweep finds them
            else:
                self._temp_dir.with_suffix(".lock").unlink(missing_ok=True)
            self._unlock()
            self._temp_dir = None

    def path(self, key: str) -> Path:
        if not key.isalnum():
            raise ValueError("bad storage key")
        return self.root / key[:2] / key[2:4] / key

    async def writer(self, key: str | None = None) -> LocalWriter:
        return await LocalWriter(self, key).open()

    async def read(self, key: str, chunk_size: int = CHUNK) -> AsyncIterator[bytes]:
        async with aiofiles.open(self.path(key), "rb") as handle:
            while chunk := await handle.read(chunk_size):
                yield chunk

    async def delete(self, key: str) -> None:
        try:
            await aiofiles.os.remove(self.path(key))
        except FileNotFoundError:
            pass

    async def exists(self, key: str) -> bool:
        return os.path.exists(self.path(key))

    async def stored(self) -> AsyncIterator[StoredObject]:
        """Every finished object (temporary files are not objects)."""
        for path in sorted(self.root.glob("??/??/*")):
            if path.is_file() and path.name.isalnum():
                info = path.stat()
                yield StoredObject(path.name, info.st_size, datetime.fromtimestamp(info.st_mtime, timezone.utc))

    async def sweep_unfinished(self, older_than: timedelta | None = None) -> int:
        """Remove the unfinished uploads of processes that are gone, whatever their age; returns the file count."""
        removed = 0
        for lock_path in sorted((self.root / "tmp").glob("*.lock")):
            folder = lock_path.with_suffix("")
            if folder == self._temp_dir:
                continue
            with open(lock_path, "a") as lock:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # its process is alive and may be receiving a file right now
                if folder.exists():
                    removed += sum(1 for _ in folder.iterdir())
                    shutil.rmtree(folder, ignore_errors=True)
                lock_path.unlink(missing_ok=True)
        return removed


class S3Writer:
    """Streams one object: parts of PART_SIZE go up as a multipart upload while the file arrives.

    At most one part is held in memory. A file smaller than one part is sent with a single PUT
    at commit. Nothing is visible under the key before `commit()`; `abort()` discards the parts.
    """

    PART_SIZE = 8 * 1024 * 1024  # S3 needs at least 5 MiB for every part but the last

    def __init__(self, storage: "S3Storage", key: str | None = None) -> None:
        self.storage = storage
        self.key = key or new_key()
        self.buffer = bytearray()
        self.upload_id: str | None = None
        self.parts: list[dict] = []
        self.done = False

    async def write(self, data: bytes) -> None:
        self.buffer += data
        while len(self.buffer) >= self.PART_SIZE:
            part = bytes(memoryview(self.buffer)[: self.PART_SIZE])  # one copy, not two
            del self.buffer[: self.PART_SIZE]
            await self._send_part(part)

    async def _send_part(self, data: bytes) -> None:
        client = await self.storage.client()
        if self.upload_id is None:
            created = await client.create_multipart_upload(Bucket=self.storage.bucket, Key=self.key)
            self.upload_id = created["UploadId"]
        number = len(self.parts) + 1
        sent = await client.upload_part(Bucket=self.storage.bucket, Key=self.key, UploadId=self.upload_id,
                                        PartNumber=number, Body=data)
        self.parts.append({"PartNumber": number, "ETag": sent["ETag"]})

    async def commit(self) -> str:
        client = await self.storage.client()
        if self.upload_id is None:
            await client.put_object(Bucket=self.storage.bucket, Key=self.key, Body=bytes(self.buffer))
        else:
            if self.buffer:
                await self._send_part(bytes(self.buffer))
            await client.complete_multipart_upload(Bucket=self.storage.bucket, Key=self.key,
                                                   UploadId=self.upload_id, MultipartUpload={"Parts": self.parts})
        self.buffer.clear()
        self.done = True
        return self.key

    async def abort(self) -> None:
        self.buffer.clear()
        if self.upload_id is not None and not self.done:
            client = await self.storage.client()
            with contextlib.suppress(Exception):  # an unfinished upload also expires by bucket policy
                await client.abort_multipart_upload(Bucket=self.storage.bucket, Key=self.key, UploadId=self.upload_id)
        self.done = True


class S3Storage:
    """Objects in one bucket of an S3-API store, through aiobotocore (`pip install challenge[s3]`)."""

    def __init__(self, *, bucket: str, endpoint: str = "", access_key: str = "", secret_key: str = "",
                 region: str = "us-east-1") -> None:
        try:
            from aiobotocore.config import AioConfig
            from aiobotocore.session import get_session
        except ImportError as error:  # the optional extra is not installed
            raise RuntimeError("CHALLENGE_STORAGE=s3 needs aiobotocore: pip install 'challenge[s3]'") from error
        if not bucket:
            raise RuntimeError("CHALLENGE_STORAGE=s3 needs CHALLENGE_S3_BUCKET")
        self.bucket = bucket
        self._session = get_session()
        self._options = {
            "endpoint_url": endpoint or None,
            "aws_access_key_id": access_key or None,
            "aws_secret_access_key": secret_key or None,
            "region_name": region,
            # Path-style addressing works with every S3-compatible server (MinIO, SeaweedFS, Ceph).
            "config": AioConfig(s3={"addressing_style": "path"}, signature_version="s3v4",
                                retries={"max_attempts": 3, "mode": "standard"}),
        }
        self._client = None
        self._exit = contextlib.AsyncExitStack()

    async def client(self):
        """One client per storage, opened on first use in the running event loop."""
        if self._client is None:
            self._client = await self._exit.enter_async_context(self._session.create_client("s3", **self._options))
        return self._client

    async def close(self) -> None:
        await self._exit.aclose()
        self._client = None

    async def writer(self, key: str | None = None) -> S3Writer:
        return S3Writer(self, key)

    async def read(self, key: str, chunk_size: int = CHUNK) -> AsyncIterator[bytes]:
        client = await self.client()
        response = await client.get_object(Bucket=self.bucket, Key=key)
        body = response["Body"]
        async with body:  # releases the connection even when the reader stops early
            while chunk := await body.read(chunk_size):
                yield chunk

    async def delete(self, key: str) -> None:
        client = await self.client()
        await client.delete_object(Bucket=self.bucket, Key=key)

    async def exists(self, key: str) -> bool:
        client = await self.client()
        try:
            await client.head_object(Bucket=self.bucket, Key=key)
        except client.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise
        return True

    async def stored(self) -> AsyncIterator[StoredObject]:
        client = await self.client()
        async for page in client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            for item in page.get("Contents", []):
                yield StoredObject(item["Key"], item["Size"], item["LastModified"])

    async def sweep_unfinished(self, older_than: timedelta | None = None) -> int:
        """Abort multipart uploads started `older_than` ago and never finished (a killed process)."""
        client = await self.client()
        cutoff = datetime.now(timezone.utc) - (older_than or timedelta(0))
        removed = 0
        async for page in client.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket):
            for upload in page.get("Uploads", []):
                if upload["Initiated"] < cutoff:
                    await client.abort_multipart_upload(Bucket=self.bucket, Key=upload["Key"],
                                                        UploadId=upload["UploadId"])
                    removed += 1
        return removed


def make_storage(settings) -> LocalStorage | S3Storage:
    if settings.storage_backend == "local":
        return LocalStorage(settings.upload_dir)
    if settings.storage_backend == "s3":
        return S3Storage(bucket=settings.s3_bucket, endpoint=settings.s3_endpoint, access_key=settings.s3_access_key,
                         secret_key=settings.s3_secret_key, region=settings.s3_region)
    raise RuntimeError(f"unknown storage backend {settings.storage_backend!r}: use 'local' or 's3'")
