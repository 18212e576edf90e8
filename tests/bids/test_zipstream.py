"""The streaming ZIP writer: readable by zipfile (and Info-ZIP), ZIP64 records, safe names."""

import io
import os
import shutil
import subprocess
import zipfile
from datetime import datetime

import pytest

from challenge.bids.zipstream import ZipEntry, safe_component, stream_zip, unique_names

pytestmark = pytest.mark.db_independent


async def _chunks(data: bytes, size: int = 1000):
    for start in range(0, len(data), size):
        yield data[start:start + size]


async def _archive(files: dict[str, bytes], **options) -> bytes:
    async def entries():
        for name, data in files.items():
            yield ZipEntry(name=name, size=len(data), modified=datetime(2026, 3, 5, 14, 30, 20), chunks=_chunks(data))

    return b"".join([chunk async for chunk in stream_zip(entries(), **options)])


FILES = {"JB0001-00001/proposal/申报书.pdf": os.urandom(5000), "JB0001-00001/other/空.txt": b"",
         "JB0002-00003/commitment/承诺函.pdf": os.urandom(123)}


@pytest.mark.parametrize("zip64_from", [0xFFFFFFFF, 0, 4000])
async def test_archive_reads_back(zip64_from, tmp_path):
    data = await _archive(FILES, zip64_from=zip64_from)
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    assert archive.namelist() == list(FILES)
    for name, content in FILES.items():
        assert archive.read(name) == content
        info = archive.getinfo(name)
        assert info.compress_type == zipfile.ZIP_STORED and info.date_time == (2026, 3, 5, 14, 30, 20)
    if shutil.which("unzip"):
        path = tmp_path / "a.zip"
        path.write_bytes(data)
        result = subprocess.run(["unzip", "-t", str(path)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


async def test_zip64_records_are_written_when_needed():
    plain = await _archive(FILES)
    forced = await _archive(FILES, zip64_from=0)
    assert b"PK\x06\x06" not in plain and b"PK\x06\x06" in forced  # the ZIP64 end of central directory


async def test_entry_longer_than_announced_is_an_error():
    async def entries():
        yield ZipEntry(name="a", size=10, modified=datetime(2026, 1, 1), chunks=_chunks(b"x" * 100))

    with pytest.raises(ValueError):
        [chunk async for chunk in stream_zip(entries(), zip64_from=50)]


@pytest.mark.parametrize("raw, safe", [
    ("../../x.pdf", "x.pdf"), ("..\\..\\evil.pdf", "evil.pdf"), ("a:b*c?.pdf", "a_b_c_.pdf"),
    ("CON.pdf", "_CON.pdf"), ("", "file"), ("...", "file"), ("name\x00.pdf", "name_.pdf"),
    ("技术方案（终稿）.pdf", "技术方案（终稿）.pdf"),
])
def test_safe_component(raw, safe):
    assert safe_component(raw) == safe


def test_long_names_keep_their_extension():
    name = safe_component("长" * 300 + ".docx")
    assert len(name) <= 120 and name.endswith(".docx")


def test_unique_names():
    assert unique_names(["a/b.pdf", "a/B.pdf", "a/b.pdf", "c/b.pdf", "a/noext", "a/noext"]) == [
        "a/b.pdf", "a/B (2).pdf", "a/b (3).pdf", "c/b.pdf", "a/noext", "a/noext (2)"]
