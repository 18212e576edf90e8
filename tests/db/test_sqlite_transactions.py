"""SQLite shared by several processes (the web server's workers, `challenge send-mail`): a
transaction that has read waits for another process's write instead of failing at once with
"database is locked" (challenge/sqlite_backend.py)."""

import asyncio
import sqlite3
import threading

import pytest
from tortoise import connections
from tortoise.transactions import in_transaction

from challenge.mail.models import MailStatus, OutboxMessage
from challenge.mail.services import deliver_pending, queue_mail
from conftest import PG_URL

pytestmark = pytest.mark.skipif(bool(PG_URL), reason="SQLite's database lock; PostgreSQL locks rows")


@pytest.fixture
def database_file(db) -> str:
    return connections.get("default").filename


async def another_process_writing(path: str, sql: str, *, seconds: float = 0.5,
                                  wait_for_lock: float = 2.0) -> threading.Thread:
    """Another connection to the database file (as another process has) takes the write lock,
    runs `sql` and commits `seconds` later. On return it holds the lock if it could take it within
    `wait_for_lock` seconds; join the thread to know it committed."""
    locked = threading.Event()

    def write() -> None:
        other = sqlite3.connect(path, timeout=10, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            locked.set()
            other.execute(sql)
            threading.Event().wait(seconds)
            other.execute("COMMIT")
        finally:
            other.close()

    writer = threading.Thread(target=write)
    writer.start()
    await asyncio.to_thread(locked.wait, wait_for_lock)
    return writer


async def test_a_transaction_that_has_read_waits_for_another_process_writing(database_file):
    await queue_mail(to="earlier@example.cn", subject="早先的邮件", body="正文")
    async with in_transaction():
        await OutboxMessage.all().count()  # this transaction has read
        # The other process takes the lock if it can (it cannot: this transaction holds it).
        writer = await another_process_writing(database_file, "UPDATE outbox_message SET attempts = attempts + 1 "
                                               "WHERE to_address = 'earlier@example.cn'", wait_for_lock=0.3)
        await queue_mail(to="this@example.cn", subject="本进程", body="正文")
    await asyncio.to_thread(writer.join)
    assert await OutboxMessage.all().order_by("id").values_list("to_address", "attempts") == [
        ("earlier@example.cn", 1), ("this@example.cn", 0)]


async def test_send_mail_waits_while_another_process_writes(database_file, settings):
    """What two `challenge send-mail` at once met: one claims a batch while the other writes."""
    for n in range(3):
        await queue_mail(to=f"p{n}@example.cn", subject=f"通知 {n}", body="正文")
    writer = await another_process_writing(database_file, "UPDATE outbox_message SET attempts = 0 WHERE id = 0")
    assert await deliver_pending(settings) == (3, 0)
    await asyncio.to_thread(writer.join)
    assert await OutboxMessage.filter(status=MailStatus.SENT).count() == 3
