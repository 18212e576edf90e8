"""The committed migrations describe the models exactly: a model change without its migration
would pass the tests (they build the schema from the models) and break `challenge migrate`."""

import pytest
from tortoise.context import TortoiseContext
from tortoise.migrations.autodetector import MigrationAutodetector

from challenge.db import tortoise_config

pytestmark = pytest.mark.db_independent


async def test_models_need_no_new_migration(settings, tmp_path):
    config = tortoise_config(settings.with_overrides(database_url=f"sqlite:///{tmp_path / 'm.sqlite3'}"))
    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        writers = await MigrationAutodetector(ctx.apps, config["apps"]).changes()
        await ctx.close_connections()
    pending = [op for writer in writers for op in writer.operations]
    assert pending == [], f"models changed without a migration: {pending[:5]}"
