"""Operations tests: real `challenge` processes on a database of their own."""

import asyncio
import shutil

import pytest

from factories.seaweed import new_bucket_storage
from factories.servers import Database


@pytest.fixture
def demo_db(demo_template, tmp_path):
    database = Database(tmp_path).create(template=demo_template)
    shutil.copytree(demo_template.folder / "data" / "uploads", tmp_path / "data" / "uploads")
    yield database
    database.drop()


@pytest.fixture
def bucket(seaweedfs):
    """A new, empty bucket on the test S3 server: the environment that selects it, and the storage."""
    async def create():
        storage = await new_bucket_storage(seaweedfs)
        await storage.close()
        return storage.bucket

    name = asyncio.run(create())
    return {"CHALLENGE_S3_ENDPOINT": seaweedfs.endpoint, "CHALLENGE_S3_BUCKET": name,
            "CHALLENGE_S3_ACCESS_KEY": seaweedfs.access_key, "CHALLENGE_S3_SECRET_KEY": seaweedfs.secret_key}
