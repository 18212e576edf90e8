from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

# SQLite cannot change a column in place: to make a foreign key nullable (0011: a notice without a
# challenge; 0013: a panel without a challenge, an entry and a task without a bid) the table is
# rebuilt, and that rebuild left out the table's other indexes and unique constraints; on
# PostgreSQL the index of `review_panel.purpose` (0006) was never made. They are put back here
# under the names the models give them, so where one exists it is left as it is.
LOST_INDEXES = [
    'CREATE INDEX IF NOT EXISTS "idx_review_assi_status_48d4e1" ON "review_assignment" ("status")',
    'CREATE INDEX IF NOT EXISTS "idx_review_assi_expert__953b12" ON "review_assignment" ("expert_id", "panel_id")',
    'CREATE INDEX IF NOT EXISTS "idx_review_pane_purpose_f051bb" ON "review_panel" ("purpose")',
    'CREATE INDEX IF NOT EXISTS "idx_review_pane_status_b48f41" ON "review_panel" ("status")',
    'CREATE INDEX IF NOT EXISTS "idx_result_noti_status_a6abf2" ON "result_notice" ("status")',
    'CREATE INDEX IF NOT EXISTS "idx_result_noti_ends_at_af12d6" ON "result_notice" ("ends_at")',
    'CREATE INDEX IF NOT EXISTS "idx_result_noti_publish_cb499b" ON "result_notice" ("published_at")',
]
# PostgreSQL kept these (as constraints of other names): SQLite only.
SQLITE_LOST_UNIQUES = [
    'CREATE UNIQUE INDEX IF NOT EXISTS "uid_panel_bid_panel_i_bid" ON "panel_bid" ("panel_id", "bid_id")',
    'CREATE UNIQUE INDEX IF NOT EXISTS "uid_panel_bid_panel_i_code" ON "panel_bid" ("panel_id", "code")',
    'CREATE UNIQUE INDEX IF NOT EXISTS "uid_review_assi_panel_i_bid_expert" ON "review_assignment" '
    '("panel_id", "bid_id", "expert_id")',
    'CREATE UNIQUE INDEX IF NOT EXISTS "uid_result_noti_replaces_id" ON "result_notice" ("replaces_id")',
    'CREATE UNIQUE INDEX IF NOT EXISTS "uid_result_noti_decision_id" ON "result_notice" ("decision_id")',
]


async def restore_lost_indexes(apps, schema_editor) -> None:
    client = schema_editor.client
    sqlite = client.capabilities.dialect == "sqlite"
    for sql in LOST_INDEXES + (SQLITE_LOST_UNIQUES if sqlite else []):
        await client.execute_script(sql)


class Migration(migrations.Migration):
    dependencies = [('models', '0013_offer_candidates')]

    initial = False

    operations = [
        ops.RunPython(restore_lost_indexes, ops.RunPython.noop),
        ops.RemoveIndex(
            model_name='Assignment',
            name=None,
            fields=['expert_id', 'panel_id'],
        ),
        ops.AddIndex(
            model_name='Assignment',
            index=Index(fields=['expert_id', 'panel_id', 'status']),
        ),
        ops.AddIndex(
            model_name='PanelMember',
            index=Index(fields=['expert_id', 'is_chair', 'is_deputy']),
        ),
    ]
