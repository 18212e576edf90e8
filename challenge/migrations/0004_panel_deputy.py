from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0003_accounts')]

    initial = False

    operations = [
        ops.AddField(
            model_name='PanelMember',
            name='is_deputy',
            field=fields.BooleanField(default=False, db_default=False),
        ),
    ]
