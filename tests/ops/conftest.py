"""Operations tests: real `challenge` processes on a database of their own."""

import pytest

from factories.servers import Database, runner


@pytest.fixture
def database(tmp_path):
    database = Database(tmp_path).create()
    yield database
    database.drop()


@pytest.fixture
def cli(database):
    return runner(database)
