"""One storage interface for attachment content.

`LocalStorage` keeps files in a folder outside the web root (a laptop, or one server).
Several app servers share an S3-API object store instead; its class implements the same
four calls (see README, "Scaling out"). Keys are random: never a user's file name.
"""

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


def make_storage(settings) -> LocalStorage:
    if settings.storage_backend != "local":
        raise RuntimeError(f"storage backend {settings.storage_backend!r} is not available in this build")
    return LocalStorage(settings.upload_dir)
