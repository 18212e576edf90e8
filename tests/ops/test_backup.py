"""`challenge backup` while a server runs and writes, `challenge restore` into an empty installation.

Runs on SQLite, or on PostgreSQL when CHALLENGE_TEST_DATABASE_URL is set (pg_dump/pg_restore).
"""

import json
import tarfile
import threading
import time

import httpx
import pytest

from factories.seaweed import s3_call
from factories.servers import Database, LiveServer, runner


def _keep_writing(base_url: str, stop: threading.Event, done: list[int]) -> None:
    """Failed sign-ins and reset requests: each one writes rows while the backup runs."""
    with httpx.Client(base_url=base_url, timeout=30) as http:
        while not stop.is_set():
            page = http.get("/login")
            token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            http.post("/login", data={"csrf_token": token, "email": f"nobody{len(done)}@example.cn",
                                      "password": "wrong-password"})
            done.append(1)


def manifest_of(path) -> dict:
    with tarfile.open(path) as archive:
        return json.load(archive.extractfile("manifest.json"))


def verify_everything(database: Database, **env: str) -> None:
    cli = runner(database, **env)
    assert "audit chain intact" in cli("audit", "verify").stdout
    assert ", 0 mismatch(es)" in cli("verify-receipts").stdout
    for (challenge_id,) in database.query("SELECT DISTINCT challenge_id FROM review_panel"):
        assert "rankings agree" in cli("verify-results", str(challenge_id)).stdout
    assert ", 0 problem(s)" in cli("storage", "check").stdout


@pytest.fixture
def empty(tmp_path):
    database = Database(tmp_path / "restored").create()
    yield database
    database.drop()


def test_a_backup_taken_while_serving_restores_every_row_and_file(demo_db, empty, tmp_path):
    archive = tmp_path / "backup.tar"
    # Something else the data folder holds (what is there otherwise depends on what ran: a mail
    # lock file, development mail, anchors): the backup must carry it.
    extra = demo_db.folder / "data" / "anchors" / "audit-head.txt"
    extra.parent.mkdir(parents=True, exist_ok=True)
    extra.write_text("seq=1 head=00\n")
    stop, done = threading.Event(), []
    with LiveServer(demo_db) as server:
        writer = threading.Thread(target=_keep_writing, args=(server.url, stop, done))
        writer.start()
        try:
            while not done:
                time.sleep(0.05)
            result = runner(demo_db)("backup", str(archive))
        finally:
            stop.set()
            writer.join(30)
    assert len(done) > 1, "the backup must overlap with writes"
    manifest = manifest_of(archive)
    assert manifest["format"] == "challenge-backup" and manifest["version"] == 1
    assert manifest["database"] == demo_db.backend and manifest["created_at"].endswith("+00:00")
    blobs = manifest["counts"]["blob"]
    assert blobs >= 3 and manifest["files"] == blobs
    assert sum(1 for name in manifest["members"] if name.startswith("files/")) == blobs
    data_files = [name for name in manifest["members"] if name.startswith("data/")]
    assert "data/anchors/audit-head.txt" in data_files and not any(name.startswith("data/uploads") or name.endswith(".sqlite3") for name in data_files)
    assert f"{blobs} attachments" in result.stdout

    restored = runner(empty)("restore", str(archive)).stdout
    assert f"{sum(manifest['counts'].values())} rows, {blobs} attachments" in restored
    for table in ("user", "bid_version", "audit_entry", "review_score", "blob"):
        assert empty.query(f'SELECT count(*) FROM "{table}"')[0][0] == manifest["counts"][table] > 0
    for name in data_files:  # what else the data folder held (development mail, keys, anchors)
        relative = name.removeprefix("data/")
        assert (empty.folder / "data" / relative).read_bytes() == (demo_db.folder / "data" / relative).read_bytes()
    verify_everything(empty)

    again = runner(empty)("restore", str(archive), expect=1)
    assert "already holds data" in again.stderr and "Traceback" not in again.stderr
    assert "rows" in runner(empty)("restore", "--force", str(archive)).stdout
    verify_everything(empty)


def test_a_damaged_archive_is_refused_before_anything_is_touched(demo_db, empty, tmp_path):
    archive = tmp_path / "backup.tar"
    runner(demo_db)("backup", str(archive))
    data = bytearray(archive.read_bytes())
    with tarfile.open(archive) as tar:
        member = next(m for m in tar.getmembers() if m.name.startswith("files/"))
    data[member.offset_data + 10] ^= 0xFF
    archive.write_bytes(bytes(data))
    result = runner(empty)("restore", str(archive), expect=1)
    assert f"{member.name} does not match its SHA-256" in result.stderr
    if empty.backend == "sqlite":
        assert not empty.path.exists() or empty.query("SELECT count(*) FROM sqlite_master")[0][0] == 0
    else:
        assert empty.query("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")[0][0] == 0
    assert not (empty.folder / "data" / "uploads").exists()
    assert "already exists" in runner(demo_db)("backup", str(archive), expect=1).stderr


def test_attachments_on_s3_are_backed_up_and_restored_into_another_bucket(demo_db, empty, tmp_path, bucket, seaweedfs):
    runner(demo_db, **bucket)("storage", "migrate", "--to", "s3")
    archive = tmp_path / "backup.tar"
    on_s3 = {"CHALLENGE_STORAGE": "s3", **bucket}
    runner(demo_db, **on_s3)("backup", str(archive))
    target = {**on_s3, "CHALLENGE_S3_BUCKET": bucket["CHALLENGE_S3_BUCKET"] + "-restored"}

    async def create_bucket(storage):
        await (await storage.client()).create_bucket(Bucket=target["CHALLENGE_S3_BUCKET"])

    s3_call(bucket, create_bucket)
    runner(empty, **target)("restore", str(archive))
    verify_everything(empty, **target)
    assert not (empty.folder / "data" / "uploads").exists()  # the files went to the bucket
    stored = s3_call(target, lambda storage: _keys(storage))
    assert stored == {key for (key,) in demo_db.query("SELECT storage_key FROM blob")}


async def _keys(storage) -> set[str]:
    return {item.key async for item in storage.stored()}


def test_a_backup_written_inside_the_data_folder_leaves_itself_out(demo_db):
    archive = demo_db.folder / "data" / "backups" / "nightly.tar"
    runner(demo_db)("backup", str(archive))
    members = manifest_of(archive)["members"]
    assert not [name for name in members if "backups" in name]
    assert not list(archive.parent.glob("*.partial"))


def test_the_generated_audit_key_stays_out_of_the_backup(tmp_path, migrated_template):
    database = Database(tmp_path / "keys").create(template=migrated_template)
    try:
        cli = runner(database, CHALLENGE_AUDIT_KEY="", CHALLENGE_SECRET_KEY="")  # both generated into data/
        cli("backup", str(tmp_path / "backup.tar"))
        assert (database.folder / "data" / "audit_key").exists()
        members = manifest_of(tmp_path / "backup.tar")["members"]
        assert "data/secret_key" in members and "data/audit_key" not in members
    finally:
        database.drop()
