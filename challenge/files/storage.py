"""One storage interface for attachment content.

`LocalStorage` keeps files in a folder outside the web root (a laptop, or one server).
Several app servers share an S3-API object store instead (`S3Storage`: SeaweedFS, MinIO, Ceph,
a cloud's object service), selected by CHALLENGE_STORAGE=s3 and implementing the same calls:
`writer()` (then `write`, `commit` -> key, `abort`), `read(key)` streaming, `delete`, `exists`.
Keys are random: never a user's file name.
"""

import contextlib
import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import aiofiles
import aiofiles.os

CHUNK = 1024 * 1024


class LocalWriter:
    def __init__(self, storage: "LocalStorage") -> None:
        self.storage = storage
        self.key = secrets.token_hex(20)
        self.temp_path = storage.root / "tmp" / f"{self.key}.part"
        self._handle = None

    async def open(self) -> "LocalWriter":
        self.temp_path.parent.mkdir(parents=True, exist_ok=True)
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
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        if not key.isalnum():
            raise ValueError("bad storage key")
        return self.root / key[:2] / key[2:4] / key

    async def writer(self) -> LocalWriter:
        return await LocalWriter(self).open()

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


class S3Writer:
    """Streams one object: parts of PART_SIZE go up as a multipart upload while the file arrives.

    At most one part is held in memory. A file smaller than one part is sent with a single PUT
    at commit. Nothing is visible under the key before `commit()`; `abort()` discards the parts.
    """

    PART_SIZE = 8 * 1024 * 1024  # S3 needs at least 5 MiB for every part but the last

    def __init__(self, storage: "S3Storage") -> None:
        self.storage = storage
        self.key = secrets.token_hex(20)
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

    async def writer(self) -> S3Writer:
        return S3Writer(self)

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


def make_storage(settings) -> LocalStorage | S3Storage:
    if settings.storage_backend == "local":
        return LocalStorage(settings.upload_dir)
    if settings.storage_backend == "s3":
        return S3Storage(bucket=settings.s3_bucket, endpoint=settings.s3_endpoint, access_key=settings.s3_access_key,
                         secret_key=settings.s3_secret_key, region=settings.s3_region)
    raise RuntimeError(f"unknown storage backend {settings.storage_backend!r}: use 'local' or 's3'")
