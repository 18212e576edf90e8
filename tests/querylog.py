"""Seeing the SQL the ORM sends: one `tortoise.db_client` log record per statement.

`captured_sql()` collects the statements (the connection open/close records are skipped);
`count_queries(client, url)` counts those of one GET and returns the count and the page.
"""

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

STATEMENT = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|WITH|CREATE|DROP|ALTER)\b", re.IGNORECASE)
WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|CREATE|DROP|ALTER)\b", re.IGNORECASE)


class _Collector(logging.Handler):
    def __init__(self, statements: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.statements = statements

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if STATEMENT.match(message):
            self.statements.append(message)


@contextmanager
def captured_sql() -> Iterator[list[str]]:
    logger = logging.getLogger("tortoise.db_client")
    statements: list[str] = []
    handler, level = _Collector(statements), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield statements
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def writes(statements: list[str]) -> list[str]:
    return [s for s in statements if WRITE.match(s)]


async def count_queries(client, url: str) -> tuple[int, str]:
    with captured_sql() as statements:
        response = await client.get(url)
    assert response.status_code == 200, response.text[:500]
    assert statements, "the log must see the queries"
    return len(statements), response.text
