"""`challenge storage check | migrate --to s3 | cleanup` on the demo installation, against a real S3 server."""

import hashlib
import os
import time

from factories.seaweed import s3_call
from factories.servers import runner


def blobs(database) -> list[tuple[int, str, str]]:
    return database.query("SELECT id, storage_key, sha256 FROM blob ORDER BY id")


def local_path(database, key: str):
    return database.folder / "data" / "uploads" / key[:2] / key[2:4] / key


async def _bucket_contents(storage) -> dict[str, str]:
    found = {}
    async for item in storage.stored():
        found[item.key] = hashlib.sha256(b"".join([c async for c in storage.read(item.key)])).hexdigest()
    return found


def test_check_reports_a_missing_and_a_changed_file(demo_db):
    cli = runner(demo_db)
    stored = blobs(demo_db)
    assert len(stored) >= 3
    assert f"{len(stored)} stored file(s) checked in local storage, 0 problem(s)" in cli("storage", "check").stdout
    (first_id, first_key, _), (second_id, second_key, _) = stored[0], stored[1]
    local_path(demo_db, first_key).unlink()
    changed = local_path(demo_db, second_key)
    changed.write_bytes(changed.read_bytes()[:-1] + b"X")
    result = cli("storage", "check", expect=1)
    assert f"PROBLEM blob {first_id} key {first_key}: missing" in result.stdout
    assert f"PROBLEM blob {second_id} key {second_key}: differs: SHA-256" in result.stdout
    assert "2 problem(s)" in result.stdout


def test_migrate_to_s3_copies_every_file_verified_and_resumes(demo_db, bucket):
    cli = runner(demo_db, **bucket)
    stored = blobs(demo_db)
    first = cli("storage", "migrate", "--to", "s3").stdout
    assert f"{len(stored)} copied from local to s3 and verified, 0 already there, 0 problem(s)" in first
    assert s3_call(bucket, _bucket_contents) == {key: sha for _, key, sha in stored}

    again = cli("storage", "migrate", "--to", "s3").stdout
    assert f"0 copied from local to s3 and verified, {len(stored)} already there" in again

    # An interrupted earlier run: one object never arrived, another is wrong. A rerun repairs both.
    (_, lost, _), (_, damaged, _) = stored[0], stored[-1]

    async def damage(storage):
        await storage.delete(lost)
        writer = await storage.writer(key=damaged)
        await writer.write(b"half of it")
        await writer.commit()

    s3_call(bucket, damage)
    assert "2 problem(s)" in runner(demo_db, CHALLENGE_STORAGE="s3", **bucket)("storage", "check", expect=1).stdout
    resumed = cli("storage", "migrate", "--to", "s3").stdout
    assert f"2 copied from local to s3 and verified, {len(stored) - 2} already there, 0 problem(s)" in resumed
    assert s3_call(bucket, _bucket_contents) == {key: sha for _, key, sha in stored}
    on_s3 = runner(demo_db, CHALLENGE_STORAGE="s3", **bucket)("storage", "check").stdout
    assert f"{len(stored)} stored file(s) checked in s3 storage, 0 problem(s)" in on_s3


def test_migrate_refuses_to_copy_a_file_that_no_longer_matches_its_record(demo_db, bucket):
    cli = runner(demo_db, **bucket)
    stored = blobs(demo_db)
    blob_id, key, _ = stored[0]
    path = local_path(demo_db, key)
    path.write_bytes(b"tampered" + path.read_bytes())
    result = cli("storage", "migrate", "--to", "s3", expect=1)
    assert f"PROBLEM blob {blob_id} key {key}: differs in the source: not copied" in result.stdout
    assert key not in s3_call(bucket, _bucket_contents)
    assert "set CHALLENGE_STORAGE" not in result.stdout


def test_cleanup_removes_old_unrecorded_files_only(demo_db, bucket):
    stored = blobs(demo_db)
    orphan = local_path(demo_db, "ab" * 20)
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"%PDF-1.7 stored by a process killed before it recorded the file")
    cli = runner(demo_db)
    assert "0 orphaned object(s)" in cli("storage", "cleanup").stdout  # younger than a day: may be in flight
    old = time.time() - 2 * 86400
    os.utime(orphan, (old, old))
    result = cli("storage", "cleanup").stdout
    assert f"removing orphaned object {'ab' * 20}" in result and "1 orphaned object(s)" in result
    assert not orphan.exists()
    assert f"{len(stored)} stored file(s) checked in local storage, 0 problem(s)" in cli("storage", "check").stdout
