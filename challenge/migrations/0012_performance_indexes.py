from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0011_catalogue')]

    initial = False

    operations = [
        ops.CreateModel(
            name='DataVersion',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('n', fields.BigIntField(default=0)),
            ],
            options={'table': 'data_version', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A counter raised by every request that may write data, read with pages cached per version.'},
            bases=['Model'],
        ),
        ops.AddIndex(
            model_name='Assignment',
            index=Index(fields=['expert_id', 'panel_id']),
        ),
        ops.AddIndex(
            model_name='Bid',
            index=Index(fields=['challenge_id', 'status']),
        ),
    ]
