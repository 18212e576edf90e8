"""S3Storage against a real S3-API server run here (moto's server, as a subprocess on a free port)."""

import hashlib
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from challenge.files.models import Blob
from challenge.files.storage import S3Storage, make_storage
from factories.uploads import CONTENT_TYPE, PDF, StreamedBody, files_of, make_upload_app

pytest.importorskip("aiobotocore", reason="the optional extra `s3` is not installed")
MOTO = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or shutil.which("moto_server")
pytestmark = pytest.mark.skipif(MOTO is None, reason="moto[server] is not installed")
MB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    port = free_port()
    server = subprocess.Popen([MOTO, "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(10)


@pytest.fixture
async def s3(s3_endpoint):
    storage = S3Storage(bucket=f"attachments-{uuid.uuid4().hex[:12]}", endpoint=s3_endpoint,
                        access_key="testing", secret_key="testing", region="us-east-1")
    client = await storage.client()
    await client.create_bucket(Bucket=storage.bucket)
    yield storage
    await storage.close()


async def objects(storage: S3Storage) -> list[str]:
    listing = await (await storage.client()).list_objects_v2(Bucket=storage.bucket)
    return [item["Key"] for item in listing.get("Contents", [])]


async def unfinished_uploads(storage: S3Storage) -> list:
    listing = await (await storage.client()).list_multipart_uploads(Bucket=storage.bucket)
    return listing.get("Uploads", [])


async def read_all(storage: S3Storage, key: str) -> bytes:
    return b"".join([chunk async for chunk in storage.read(key, chunk_size=64 * 1024)])


async def test_a_small_file_round_trip(s3):
    writer = await s3.writer()
    await writer.write(b"%PDF-1.7 ")
    await writer.write("技术方案".encode())
    assert not await s3.exists(writer.key)  # nothing visible before commit
    key = await writer.commit()
    assert key == writer.key and key.isalnum() and len(key) == 40
    assert await s3.exists(key)
    assert await read_all(s3, key) == b"%PDF-1.7 " + "技术方案".encode()
    await s3.delete(key)
    assert not await s3.exists(key)
    assert await objects(s3) == []


async def test_a_large_file_goes_up_in_parts_and_reads_back_streaming(s3):
    writer = await s3.writer()
    digest = hashlib.sha256()
    for n in range(20):
        chunk = bytes([n]) * MB
        digest.update(chunk)
        await writer.write(chunk)
        assert len(writer.buffer) < writer.PART_SIZE  # never more than one part held in memory
    assert writer.upload_id is not None and len(writer.parts) == 2
    assert not await s3.exists(writer.key)
    key = await writer.commit()
    head = await (await s3.client()).head_object(Bucket=s3.bucket, Key=key)
    assert head["ContentLength"] == 20 * MB
    assert head["ETag"].strip('"').endswith("-3")  # a multipart object of three parts
    chunks = [chunk async for chunk in s3.read(key, chunk_size=MB)]
    assert max(len(chunk) for chunk in chunks) <= MB
    assert hashlib.sha256(b"".join(chunks)).hexdigest() == digest.hexdigest()
    assert await unfinished_uploads(s3) == []


async def test_abort_discards_uploaded_parts(s3):
    writer = await s3.writer()
    for _ in range(10):
        await writer.write(b"\0" * MB)
    assert len(await unfinished_uploads(s3)) == 1
    await writer.abort()
    await writer.abort()  # twice is harmless
    assert await unfinished_uploads(s3) == []
    assert await objects(s3) == []
    small = await s3.writer()
    await small.write(b"abc")
    await small.abort()
    assert await objects(s3) == []


async def test_deleting_or_checking_a_missing_key(s3):
    assert not await s3.exists("0" * 40)
    await s3.delete("0" * 40)  # no error


async def test_uploads_and_downloads_through_the_route_use_the_object_store(db, settings, s3):
    app = make_upload_app(settings, storage=s3, max_bytes=10 * MB)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        content = PDF + b"\1" * (3 * MB)
        response = await http.post("/upload", files=files_of(("file", "方案.pdf", content), ("copy", "副本.pdf", content)))
        assert response.status_code == 200, response.text
        [first, second] = response.json()["files"]
        assert first["blob"] == second["blob"]  # the same content is stored once
        blob = await Blob.get(id=first["blob"])
        assert await objects(s3) == [blob.storage_key]
        download = await http.get(f"/download/{blob.id}", params={"name": "方案.pdf"})
        assert download.status_code == 200 and download.content == content
        assert hashlib.sha256(download.content).hexdigest() == blob.sha256

        body = StreamedBody({}, "big.pdf", PDF, total=30 * MB, chunk=MB)
        refused = await http.post("/upload", content=body, headers={"content-type": CONTENT_TYPE})
        assert refused.status_code == 413
        assert await objects(s3) == [blob.storage_key]
        assert await unfinished_uploads(s3) == []
    assert not settings.upload_dir.exists()  # nothing went to the local folder


def test_make_storage_selects_the_backend(settings, s3_endpoint):
    chosen = make_storage(settings.with_overrides(storage_backend="s3", s3_bucket="b", s3_endpoint=s3_endpoint))
    assert isinstance(chosen, S3Storage) and chosen.bucket == "b"
    with pytest.raises(RuntimeError, match="CHALLENGE_S3_BUCKET"):
        make_storage(settings.with_overrides(storage_backend="s3", s3_bucket=""))
    with pytest.raises(RuntimeError, match="unknown storage backend"):
        make_storage(settings.with_overrides(storage_backend="ftp"))
