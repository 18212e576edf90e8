"""S3Storage against a real S3-API server started by the tests (SeaweedFS: `weed server -s3`)."""

import hashlib
import os
import tracemalloc
from datetime import timedelta

import httpx
import pytest
from botocore.exceptions import ClientError

from challenge.files.models import Blob
from challenge.files.storage import S3Storage, make_storage
from factories.uploads import CONTENT_TYPE, PDF, StreamedBody, files_of, make_upload_app, part_header

MB = 1024 * 1024


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


async def test_a_file_of_more_than_three_parts_round_trips_byte_for_byte(s3):
    writer = await s3.writer()
    digest = hashlib.sha256()
    size = 3 * writer.PART_SIZE + 5 * MB + 12345  # three full parts and a fourth, odd-sized one
    block = os.urandom(MB)
    written = 0
    while written < size:
        chunk = block[: min(MB, size - written)]
        digest.update(chunk)
        await writer.write(chunk)
        written += len(chunk)
        assert len(writer.buffer) < writer.PART_SIZE  # never more than one part held in memory
    assert writer.upload_id is not None and len(writer.parts) == 3
    assert not await s3.exists(writer.key)
    key = await writer.commit()
    head = await (await s3.client()).head_object(Bucket=s3.bucket, Key=key)
    assert head["ContentLength"] == size
    assert head["ETag"].strip('"').endswith("-4")  # a multipart object of four parts
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


def test_make_storage_selects_the_backend(settings, seaweedfs):
    chosen = make_storage(settings.with_overrides(storage_backend="s3", s3_bucket="b", s3_endpoint=seaweedfs.endpoint))
    assert isinstance(chosen, S3Storage) and chosen.bucket == "b"
    with pytest.raises(RuntimeError, match="CHALLENGE_S3_BUCKET"):
        make_storage(settings.with_overrides(storage_backend="s3", s3_bucket=""))
    with pytest.raises(RuntimeError, match="unknown storage backend"):
        make_storage(settings.with_overrides(storage_backend="ftp"))


async def test_a_wrong_secret_is_refused(s3, seaweedfs):
    writer = await s3.writer()
    await writer.write(PDF)
    key = await writer.commit()
    impostor = S3Storage(bucket=s3.bucket, endpoint=seaweedfs.endpoint, access_key=seaweedfs.access_key,
                         secret_key="not-the-secret")
    try:
        with pytest.raises(ClientError) as refused:
            await read_all(impostor, key)
        assert refused.value.response["Error"]["Code"] in {"AccessDenied", "SignatureDoesNotMatch", "403"}
        with pytest.raises(ClientError):
            await impostor.delete(key)
    finally:
        await impostor.close()
    assert await read_all(s3, key) == PDF


async def test_a_big_upload_streams_through_the_route_with_flat_memory(db, settings, s3):
    app = make_upload_app(settings, storage=s3, max_bytes=64 * MB)
    total = 40 * MB  # five parts
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        body = StreamedBody({"title": "方案"}, "big.pdf", PDF, total=total, chunk=MB)
        tracemalloc.start()
        try:
            response = await http.post("/upload", content=body, headers={"content-type": CONTENT_TYPE})
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert response.status_code == 200, response.text
        [stored] = response.json()["files"]
        blob = await Blob.get(id=stored["blob"])
        digest = hashlib.sha256()
        size = 0
        async for chunk in s3.read(blob.storage_key):
            digest.update(chunk)
            size += len(chunk)
    assert size == blob.size == total and digest.hexdigest() == blob.sha256
    # A part (8 MiB) and its copy on the way out at a time, never the whole file (40 MiB).
    assert peak < 30 * MB, f"peak traced memory {peak / MB:.1f} MiB for a {total // MB} MiB file"
    print(f"peak {peak / MB:.1f} MiB")


async def test_an_upload_cut_off_midway_leaves_no_object_and_no_record(db, settings, s3):
    """The client goes away after two parts went up: the multipart upload is aborted, nothing is kept."""
    app = make_upload_app(settings, storage=s3, max_bytes=64 * MB)
    chunks = [part_header("file", "half.pdf") + PDF] + [b"\1" * MB] * 20
    messages = [{"type": "http.request", "body": chunk, "more_body": True} for chunk in chunks]
    messages.append({"type": "http.disconnect"})
    seen_parts = []

    async def receive():
        if len(messages) == 1:  # about to disconnect: parts are on the server right now
            seen_parts.extend(await unfinished_uploads(s3))
        return messages.pop(0)

    async def send(message):
        pass

    scope = {"type": "http", "method": "POST", "path": "/upload", "raw_path": b"/upload", "query_string": b"",
             "headers": [(b"content-type", CONTENT_TYPE.encode())], "http_version": "1.1", "scheme": "http",
             "server": ("testserver", 80), "client": ("127.0.0.1", 5000), "root_path": "", "app": app}
    try:
        await app(scope, receive, send)
    except Exception:  # noqa: BLE001 - what the server answers a gone client is not the point here
        pass
    assert seen_parts, "the test must catch the upload in the middle"
    assert await unfinished_uploads(s3) == []
    assert await objects(s3) == []
    assert await Blob.all().count() == 0


async def test_a_sweep_aborts_multipart_uploads_a_crashed_process_left(s3):
    crashed = await s3.writer()
    for _ in range(10):
        await crashed.write(b"\0" * MB)  # one part went up, then the process died: no abort() call
    assert len(await unfinished_uploads(s3)) == 1
    assert await s3.sweep_unfinished(timedelta(hours=1)) == 0  # may still be a live request
    assert len(await unfinished_uploads(s3)) == 1
    assert await s3.sweep_unfinished(timedelta(0)) == 1
    assert await unfinished_uploads(s3) == [] and await objects(s3) == []
