"""Text search over challenges that works for Chinese.

Chinese has no spaces between words, so word tokenizers do not help. `Challenge.save()` keeps
one column, `challenge.search_text` (title, summary, description and the assessment targets,
which the services copy to `targets_text` when they change), up to date on every save, and each
database searches it with substring matching backed by an index:

- SQLite: an FTS5 table with the `trigram` tokenizer (`challenge_fts`), an external-content
  index over `challenge.search_text` kept in step by triggers, so every write of the column (the
  services, bulk inserts, fixtures) is indexed in the same statement. A trigram index answers
  terms of three or more characters (二氧化碳 finds 高效低成本二氧化碳捕集技术); shorter terms
  (碳汇, 氢) fall back to LIKE on the column.
- PostgreSQL: `pg_trgm` with a GIN index on the expression the ORM's case-insensitive `LIKE`
  filter produces, so `%term%` of any length is answered from the column (with the index when the
  term has three characters or more).

The index is created without a migration by `ensure_search_index()`: idempotent, run lazily
before the first search on each database connection (once per process), and harmless at any
time. The SQLite index is rebuilt from the column at that moment, so rows written while the
triggers were absent (before the index existed, by a table rebuild, by a restore) are found.
"""

import logging
import re
import weakref

from tortoise import connections
from tortoise.expressions import Q, RawSQL

log = logging.getLogger(__name__)

FTS_TABLE = "challenge_fts"
MIN_TRIGRAM = 3
MAX_TERMS = 6

_SQLITE_STATEMENTS = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
    "search_text, content='challenge', content_rowid='id', tokenize='trigram')",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_ai AFTER INSERT ON challenge BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (new.id, new.search_text); END",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_ad AFTER DELETE ON challenge BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text) VALUES ('delete', old.id, old.search_text); END",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_au AFTER UPDATE OF search_text ON challenge BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
    f"INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (new.id, new.search_text); END",
]
# The expression must be exactly what `search_text__icontains` compiles to on PostgreSQL.
_PG_STATEMENTS = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS challenge_search_trgm ON challenge "
    "USING gin ((UPPER(CAST(search_text AS VARCHAR))) gin_trgm_ops)",
]

_ready: "weakref.WeakSet" = weakref.WeakSet()


def _connection():
    return connections.get("default")


def dialect() -> str:
    return _connection().capabilities.dialect


def build_search_text(*parts: str) -> str:
    """What the search covers, one line per non-empty part."""
    return "\n".join(part.strip() for part in parts if part and part.strip())


def targets_text(targets) -> str:
    """Assessment targets as searchable text: name, value, unit and verification, one target a line."""
    keys = ("name", "target_value", "unit", "verification")
    return "\n".join(" ".join(str(getattr(t, key, "") or "") for key in keys).strip()
                     for t in targets)


async def ensure_search_index(connection=None) -> None:
    """Create the search index if it is missing. Safe to call any time, from any process."""
    connection = connection or _connection()
    if connection in _ready:
        return
    dialect_name = connection.capabilities.dialect
    if dialect_name == "sqlite":
        for statement in _SQLITE_STATEMENTS:
            await connection.execute_script(statement)
        # Rebuilt once per process from the column: rows written while the triggers were absent
        # (before the index existed, by a migration that rebuilt the table, by a restore) are found.
        await connection.execute_script(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
    elif dialect_name == "postgres":
        for statement in _PG_STATEMENTS:
            try:
                await connection.execute_script(statement)
            except Exception as error:  # noqa: BLE001 - a missing index only makes search slower
                # Another process may be creating it at the same moment, or the role may lack
                # the right to create the extension: the ILIKE search still answers correctly.
                log.warning("search index not created (%s): %s", statement.split(" ON ")[0], error)
    _ready.add(connection)


def terms(query: str) -> list[str]:
    """Whitespace-separated terms, without control characters, at most MAX_TERMS of them."""
    cleaned = re.sub(r"[\x00-\x1f\x7f]", " ", query or "")
    return [term for term in cleaned.split() if term][:MAX_TERMS]


def _fts_literal(term: str) -> str:
    # An FTS5 phrase ("..." with " doubled) inside an SQL string literal (' doubled). SQLite has
    # no backslash escapes, so these two rules make any user text inert.
    phrase = '"' + term.replace('"', '""') + '"'
    return "'" + phrase.replace("'", "''") + "'"


async def apply_search(queryset, query: str):
    """Narrow a Challenge queryset to rows whose text contains every term of `query`."""
    words = terms(query)
    if not words:
        return queryset
    connection = _connection()
    await ensure_search_index(connection)
    sqlite = connection.capabilities.dialect == "sqlite"
    for word in words:
        if sqlite and len(word) >= MIN_TRIGRAM:
            matches = RawSQL(f"(SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH {_fts_literal(word)})")
            queryset = queryset.filter(Q(id__in=matches))
        else:
            queryset = queryset.filter(search_text__icontains=word)
    return queryset
