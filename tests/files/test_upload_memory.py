"""Memory stays flat however large the upload: a 200 MB file streams through in chunks."""

import hashlib
import tracemalloc

import httpx
import pytest

from factories.uploads import CONTENT_TYPE, PDF, StreamedBody, make_upload_app, stored_files

pytestmark = pytest.mark.db_independent

MB = 1024 * 1024


def expected_sha256(total: int, chunk: int) -> str:
    digest = hashlib.sha256(PDF)
    remaining, filler = total - len(PDF), b"\0" * chunk
    while remaining > 0:
        piece = filler if remaining >= chunk else filler[:remaining]
        digest.update(piece)
        remaining -= len(piece)
    return digest.hexdigest()


async def test_a_200_mb_upload_does_not_grow_memory(db, settings):
    total = 200 * MB
    app = make_upload_app(settings, max_bytes=total + MB)
    body = StreamedBody({"title": "大文件"}, "big.pdf", PDF, total=total, chunk=MB)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        tracemalloc.start()
        try:
            response = await http.post("/upload", content=body, headers={"content-type": CONTENT_TYPE})
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert response.status_code == 200, response.text[:500]
    [stored] = response.json()["files"]
    assert stored["size"] == total
    assert stored["sha256"] == expected_sha256(total, MB)
    [path] = stored_files(settings.upload_dir)
    assert path.stat().st_size == total
    # The body passed through a few 1 MiB buffers at a time, never whole (200 MB).
    assert peak < 30 * MB, f"peak traced memory {peak / MB:.1f} MiB"
