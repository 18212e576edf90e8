from tortoise import migrations
from tortoise.migrations import operations as ops
from challenge.results.models import NoticeKind, NoticeStatus, ObjectionStatus, Remedy
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Decision',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('panel', fields.ForeignKeyField('models.Panel', source_field='panel_id', db_constraint=True, to_field='id', related_name='decisions', on_delete=OnDelete.RESTRICT)),
                ('challenge', fields.ForeignKeyField('models.Challenge', source_field='challenge_id', db_constraint=True, to_field='id', related_name='decisions', on_delete=OnDelete.RESTRICT)),
                ('stage', fields.ForeignKeyField('models.Stage', source_field='stage_id', null=True, db_constraint=True, to_field='id', related_name='decisions', on_delete=OnDelete.RESTRICT)),
                ('revision', fields.IntField(default=1)),
                ('scores_sha256', fields.CharField(max_length=64)),
                ('scores_count', fields.IntField(default=0)),
                ('recorded_by', fields.ForeignKeyField('models.User', source_field='recorded_by_id', null=True, db_constraint=True, to_field='id', related_name='result_decisions', on_delete=OnDelete.SET_NULL)),
                ('recorded_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'result_decision', 'app': 'models', 'unique_together': [('panel', 'revision')], 'pk_attr': 'id', 'table_description': "The organiser's decision on the bids of a concluded panel: who is proposed (or goes on)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DecisionEntry',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('decision', fields.ForeignKeyField('models.Decision', source_field='decision_id', db_constraint=True, to_field='id', related_name='entries', on_delete=OnDelete.CASCADE)),
                ('bid', fields.ForeignKeyField('models.Bid', source_field='bid_id', db_constraint=True, to_field='id', related_name='decision_entries', on_delete=OnDelete.RESTRICT)),
                ('rank', fields.IntField()),
                ('score', fields.DecimalField(null=True, max_digits=7, decimal_places=2)),
                ('in_top', fields.BooleanField()),
                ('recommended', fields.BooleanField()),
                ('selected', fields.BooleanField()),
                ('reason', fields.TextField(default='', unique=False)),
            ],
            options={'table': 'result_decision_entry', 'app': 'models', 'unique_together': [('decision', 'bid')], 'pk_attr': 'id', 'table_description': "One bid in a decision, with what the ranking and the panel's recommendation said of it."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Notice',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharEnumField(description='RESULT: result\nSTAGE: stage', enum_type=NoticeKind, max_length=12)),
                ('challenge', fields.ForeignKeyField('models.Challenge', source_field='challenge_id', db_constraint=True, to_field='id', related_name='notices', on_delete=OnDelete.RESTRICT)),
                ('stage', fields.ForeignKeyField('models.Stage', source_field='stage_id', null=True, db_constraint=True, to_field='id', related_name='notices', on_delete=OnDelete.RESTRICT)),
                ('decision', fields.OneToOneField('models.Decision', source_field='decision_id', null=True, db_constraint=True, to_field='id', related_name='notice', on_delete=OnDelete.RESTRICT)),
                ('revision', fields.IntField(default=1)),
                ('replaces', fields.OneToOneField('models.Notice', source_field='replaces_id', null=True, db_constraint=True, to_field='id', related_name='replaced_by', on_delete=OnDelete.RESTRICT)),
                ('status', fields.CharEnumField(default=NoticeStatus.OPEN, db_index=True, description='OPEN: open\nANNOUNCED: announced\nSUPERSEDED: superseded', enum_type=NoticeStatus, max_length=12)),
                ('working_days', fields.IntField()),
                ('starts_on', fields.DateField()),
                ('ends_on', fields.DateField()),
                ('ends_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('published_by', fields.ForeignKeyField('models.User', source_field='published_by_id', null=True, db_constraint=True, to_field='id', related_name='notices_published', on_delete=OnDelete.SET_NULL)),
                ('published_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('closed_by', fields.ForeignKeyField('models.User', source_field='closed_by_id', null=True, db_constraint=True, to_field='id', related_name='notices_closed', on_delete=OnDelete.SET_NULL)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('announcement', fields.TextField(default='', unique=False)),
            ],
            options={'table': 'result_notice', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A public notice (公示): what is proposed, its period and how to object, then its outcome.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Objection',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('notice', fields.ForeignKeyField('models.Notice', source_field='notice_id', db_constraint=True, to_field='id', related_name='objections', on_delete=OnDelete.RESTRICT)),
                ('objector', fields.ForeignKeyField('models.User', source_field='objector_id', db_constraint=True, to_field='id', related_name='objections', on_delete=OnDelete.RESTRICT)),
                ('real_name', fields.CharField(max_length=50)),
                ('contact', fields.CharField(max_length=200)),
                ('reasons', fields.TextField(unique=False)),
                ('status', fields.CharEnumField(default=ObjectionStatus.OPEN, db_index=True, description='OPEN: open\nDISMISSED: dismissed\nUPHELD: upheld', enum_type=ObjectionStatus, max_length=12)),
                ('answer', fields.TextField(default='', unique=False)),
                ('remedy', fields.CharEnumField(null=True, description='REOPEN_REVIEW: reopen_review\nNEW_DECISION: new_decision', enum_type=Remedy, max_length=14)),
                ('answered_by', fields.ForeignKeyField('models.User', source_field='answered_by_id', null=True, db_constraint=True, to_field='id', related_name='objections_answered', on_delete=OnDelete.SET_NULL)),
                ('answered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('filed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'result_objection', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An objection (异议) to a notice. Confidential: only its objector and the organisers see it,'},
            bases=['Model'],
        ),
    ]
