"""`challenge migrate` builds the schema the models describe, indexes and unique constraints
included. The rest of the suite builds its schema from the models, so a migration that loses an
index (SQLite rebuilds a table to change a column) would pass everywhere else."""

import asyncio
import sqlite3

import asyncpg

from conftest import PG_URL, _asyncpg_dsn, _with_db

PG_INDEXES = """
SELECT t.relname AS "table", i.indisunique AS "unique", array_agg(a.attname ORDER BY k.ord) AS "columns"
FROM pg_index i
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public'
CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
WHERE NOT i.indisprimary
GROUP BY i.indexrelid, t.relname, i.indisunique
"""


def sqlite_indexes(path) -> set[tuple]:
    with sqlite3.connect(path) as db:
        tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        found = set()
        for table in tables:
            for _seq, name, unique, origin, _partial in db.execute(f'PRAGMA index_list("{table}")'):
                if origin == "pk":
                    continue
                columns = tuple(row[2] for row in db.execute(f'PRAGMA index_info("{name}")'))
                found.add((table, columns, bool(unique)))
    return found


async def pg_indexes(database: str) -> set[tuple]:
    connection = await asyncpg.connect(_asyncpg_dsn(_with_db(PG_URL, database)))
    try:
        return {(r["table"], tuple(r["columns"]), r["unique"]) for r in await connection.fetch(PG_INDEXES)}
    finally:
        await connection.close()


def test_the_migrated_schema_has_every_index_of_the_models(migrated_template, sqlite_template, pg_database):
    if PG_URL:
        migrated = asyncio.run(pg_indexes(migrated_template.name))
        modelled = asyncio.run(pg_indexes(pg_database[0]))
    else:
        migrated = sqlite_indexes(migrated_template.path)
        modelled = sqlite_indexes(sqlite_template)
    migrated = {index for index in migrated if index[0] != "tortoise_migrations"}
    assert modelled - migrated == set(), "missing after `challenge migrate`"
    assert migrated - modelled == set(), "left by the migrations, not in the models"
    assert len(modelled) > 50
