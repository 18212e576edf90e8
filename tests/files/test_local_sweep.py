"""Unfinished local uploads: each process writes in its own locked folder; a sweep removes only
the folders whose process is gone."""

import os
import subprocess
import sys
import textwrap

import pytest

from challenge.files.storage import LocalStorage

pytestmark = pytest.mark.db_independent

DIES_MID_UPLOAD = textwrap.dedent("""
    import asyncio, os, signal, sys
    from challenge.files.storage import LocalStorage

    async def main():
        writer = await LocalStorage(sys.argv[1]).writer()
        await writer.write(b"%PDF-1.7 half of a file")
        await writer._handle.flush()
        os.kill(os.getpid(), signal.SIGKILL)

    asyncio.run(main())
""")


async def test_a_sweep_removes_what_a_killed_process_left_and_spares_live_uploads(tmp_path):
    live = LocalStorage(tmp_path)
    writer = await live.writer()
    await writer.write(b"%PDF-1.7 still arriving")
    killed = subprocess.run([sys.executable, "-c", DIES_MID_UPLOAD, str(tmp_path)], capture_output=True)
    assert killed.returncode == -9, killed.stderr
    leftovers = [p for p in (tmp_path / "tmp").rglob("*.part") if p != writer.temp_path]
    assert len(leftovers) == 1 and leftovers[0].read_bytes() == b"%PDF-1.7 half of a file"

    sweeper = LocalStorage(tmp_path)  # another worker starting up
    assert await sweeper.sweep_unfinished() == 1
    assert not leftovers[0].exists() and not leftovers[0].parent.exists()
    assert writer.temp_path.exists()  # this process is alive and still receiving
    key = await writer.commit()
    assert b"".join([chunk async for chunk in live.read(key)]) == b"%PDF-1.7 still arriving"
    assert await sweeper.sweep_unfinished() == 0


async def test_closing_keeps_unfinished_files_findable(tmp_path):
    storage = LocalStorage(tmp_path)
    writer = await storage.writer()
    await writer.write(b"%PDF-1.7")
    await writer._handle.flush()
    await storage.close()  # shutting down with an upload still open
    assert writer.temp_path.exists()
    assert await LocalStorage(tmp_path).sweep_unfinished() == 1
    assert not writer.temp_path.exists()
    await writer.abort()  # the request ends: nothing left to remove

    idle = LocalStorage(tmp_path)
    folder = idle.temp_dir()
    await idle.close()
    assert not folder.exists() and not folder.with_suffix(".lock").exists()
    assert os.listdir(tmp_path / "tmp") == []
