"""The SQLite engine for Tortoise, for a database file that several processes share (the web
server's workers, `challenge send-mail`, the other commands).

Tortoise begins a SQLite transaction with a plain BEGIN, which takes the write lock only at the
first write. A transaction that has read before it writes cannot then wait for another process
that holds the lock or has written since: SQLite answers "database is locked" at once, whatever
the busy timeout. Here transactions begin with BEGIN IMMEDIATE: they take the write lock first,
waiting for it up to the busy timeout, so concurrent transactions queue instead of failing.
(Within one process Tortoise runs every SQLite statement on one connection, one transaction at a
time, so nothing changes there.)
"""

import sqlite3

from tortoise.backends.sqlite.client import SqliteClient, SqliteTransactionContext, SqliteTransactionWrapper
from tortoise.exceptions import TransactionManagementError
from tortoise.backends.base.client import TransactionContext

BUSY_TIMEOUT_MS = 30_000  # how long a statement waits for another process's write lock


class ImmediateTransactionWrapper(SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransactionManagementError(exc) from exc


class ImmediateSqliteClient(SqliteClient):
    def _in_transaction(self) -> TransactionContext:
        return SqliteTransactionContext(ImmediateTransactionWrapper(self), self._lock)


client_class = ImmediateSqliteClient
