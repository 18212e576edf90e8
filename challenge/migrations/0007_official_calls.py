from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0006_delivery')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ChallengeNumberCounter',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('year', fields.IntField(unique=True)),
                ('last_number', fields.IntField(default=0)),
            ],
            options={'table': 'challenge_number_counter', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The last public number given in a year: one row per year, raised inside the publishing'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Challenge',
            name='contact_name',
            field=fields.CharField(default='', db_default='', max_length=50),
        ),
        ops.AddField(
            model_name='Challenge',
            name='contact_phone',
            field=fields.CharField(default='', db_default='', max_length=40),
        ),
        ops.AddField(
            model_name='Challenge',
            name='public_number',
            field=fields.CharField(null=True, unique=True, max_length=20),
        ),
    ]
