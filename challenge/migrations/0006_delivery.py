from tortoise import migrations
from tortoise.migrations import operations as ops
from challenge.delivery.models import Outcome, ProjectStatus, ReminderKind, ReportStatus, VersionKind
from challenge.reviews.models import PanelPurpose
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0005_notice_audit_heads')]

    initial = False

    operations = [
        ops.CreateModel(
            name='DeliveryVersion',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharEnumField(description='DELIVERABLE: deliverable\nREPORT: report\nACCEPTANCE: acceptance', enum_type=VersionKind, max_length=12)),
                ('owner_id', fields.IntField()),
                ('version', fields.IntField()),
                ('document', fields.TextField(unique=False)),
                ('sha256', fields.CharField(max_length=64)),
                ('submitted_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('submitted_by', fields.ForeignKeyField('models.User', source_field='submitted_by_id', null=True, db_constraint=True, to_field='id', related_name='delivery_versions', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'delivery_version', 'app': 'models', 'unique_together': [('kind', 'owner_id', 'version')], 'pk_attr': 'id', 'table_description': 'One submission, frozen: rows are written once and never changed (see `delivery.receipts`).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Project',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('challenge', fields.ForeignKeyField('models.Challenge', source_field='challenge_id', db_constraint=True, to_field='id', related_name='projects', on_delete=OnDelete.RESTRICT)),
                ('bid', fields.OneToOneField('models.Bid', source_field='bid_id', db_constraint=True, to_field='id', related_name='project', on_delete=OnDelete.RESTRICT)),
                ('title', fields.CharField(max_length=200)),
                ('status', fields.CharEnumField(default=ProjectStatus.ACTIVE, db_index=True, description='ACTIVE: active\nRECTIFYING: rectifying\nACCEPTED: accepted\nFAILED: failed\nTERMINATED: terminated', enum_type=ProjectStatus, max_length=12)),
                ('plan_version', fields.IntField(default=0)),
                ('requested_wan', fields.DecimalField(default=0, max_digits=14, decimal_places=2)),
                ('own_wan', fields.DecimalField(default=0, max_digits=14, decimal_places=2)),
                ('acceptance_round', fields.IntField(default=1)),
                ('rectify_by', fields.DateField(null=True)),
                ('started_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'delivery_project', 'app': 'models', 'pk_attr': 'id', 'table_description': "A project (攻关项目): a winning bid delivering against the challenge's assessment targets."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AcceptanceReport',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='acceptance_reports', on_delete=OnDelete.CASCADE)),
                ('round', fields.IntField(default=1)),
                ('summary', fields.TextField(default='', unique=False)),
                ('current_version', fields.IntField(default=0)),
                ('submitted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'delivery_acceptance_report', 'app': 'models', 'unique_together': [('project', 'round')], 'pk_attr': 'id', 'table_description': "The team's acceptance report (验收报告) for one round: a summary, the achieved value of every"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AchievedValue',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('report', fields.ForeignKeyField('models.AcceptanceReport', source_field='report_id', db_constraint=True, to_field='id', related_name='achieved', on_delete=OnDelete.CASCADE)),
                ('target', fields.ForeignKeyField('models.AssessmentTarget', source_field='target_id', db_constraint=True, to_field='id', related_name='achieved_values', on_delete=OnDelete.RESTRICT)),
                ('value', fields.CharField(max_length=200)),
                ('note', fields.CharField(default='', max_length=1000)),
                ('met', fields.BooleanField(null=True)),
            ],
            options={'table': 'delivery_achieved_value', 'app': 'models', 'unique_together': [('report', 'target')], 'pk_attr': 'id', 'table_description': 'The value a project achieved for one assessment target, as reported for acceptance, and the'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ProjectMilestone',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='milestones', on_delete=OnDelete.CASCADE)),
                ('position', fields.IntField(default=0)),
                ('title', fields.CharField(max_length=200)),
                ('due_date', fields.DateField(db_index=True)),
                ('deliverable', fields.TextField(default='', unique=False)),
            ],
            options={'table': 'delivery_milestone', 'app': 'models', 'pk_attr': 'id', 'table_description': "A milestone of the project's plan (攻关节点), from the winning bid."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FundingTranche',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='tranches', on_delete=OnDelete.CASCADE)),
                ('milestone', fields.ForeignKeyField('models.ProjectMilestone', source_field='milestone_id', null=True, db_constraint=True, to_field='id', related_name='tranches', on_delete=OnDelete.SET_NULL)),
                ('planned_wan', fields.DecimalField(max_digits=14, decimal_places=2)),
                ('planned_on', fields.DateField()),
                ('released_wan', fields.DecimalField(null=True, max_digits=14, decimal_places=2)),
                ('released_on', fields.DateField(null=True)),
                ('note', fields.CharField(default='', max_length=500)),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='tranches_planned', on_delete=OnDelete.SET_NULL)),
                ('released_by', fields.ForeignKeyField('models.User', source_field='released_by_id', null=True, db_constraint=True, to_field='id', related_name='tranches_released', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'delivery_tranche', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A funding tranche (拨付批次) tied to a milestone: planned, then released, as the organiser records.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ProgressReport',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='reports', on_delete=OnDelete.CASCADE)),
                ('milestone', fields.OneToOneField('models.ProjectMilestone', source_field='milestone_id', db_constraint=True, to_field='id', related_name='report', on_delete=OnDelete.CASCADE)),
                ('status', fields.CharEnumField(default=ReportStatus.SUBMITTED, db_index=True, description='SUBMITTED: submitted\nRETURNED: returned\nACCEPTED: accepted', enum_type=ReportStatus, max_length=12)),
                ('text', fields.TextField(default='', unique=False)),
                ('current_version', fields.IntField(default=0)),
                ('submitted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('reason', fields.TextField(default='', unique=False)),
                ('decided_by', fields.ForeignKeyField('models.User', source_field='decided_by_id', null=True, db_constraint=True, to_field='id', related_name='report_decisions', on_delete=OnDelete.SET_NULL)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'delivery_progress_report', 'app': 'models', 'pk_attr': 'id', 'table_description': "The team's progress report (进展报告) on one milestone, revised until the organiser accepts it."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ProjectReview',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='reviews', on_delete=OnDelete.CASCADE)),
                ('panel', fields.OneToOneField('models.Panel', source_field='panel_id', db_constraint=True, to_field='id', related_name='project_review', on_delete=OnDelete.CASCADE)),
                ('round', fields.IntField(default=1)),
                ('acceptance_report', fields.ForeignKeyField('models.AcceptanceReport', source_field='acceptance_report_id', null=True, db_constraint=True, to_field='id', related_name='reviews', on_delete=OnDelete.RESTRICT)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'delivery_project_review', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A mid-term or acceptance review of a project: the review panel (its purpose says which) and'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Reminder',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharEnumField(description='MILESTONE_DUE: milestone_due\nMILESTONE_OVERDUE: milestone_overdue', enum_type=ReminderKind, max_length=20)),
                ('milestone', fields.ForeignKeyField('models.ProjectMilestone', source_field='milestone_id', db_constraint=True, to_field='id', related_name='reminders', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='delivery_reminders', on_delete=OnDelete.CASCADE)),
                ('sent_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'delivery_reminder', 'app': 'models', 'unique_together': [('kind', 'milestone', 'user')], 'pk_attr': 'id', 'table_description': 'A reminder mailed about a milestone to one person: sent once (`challenge remind`).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ReviewResult',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('review', fields.OneToOneField('models.ProjectReview', source_field='review_id', db_constraint=True, to_field='id', related_name='result', on_delete=OnDelete.RESTRICT)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='results', on_delete=OnDelete.RESTRICT)),
                ('outcome', fields.CharEnumField(description='PASSED: passed\nRECTIFY: rectify\nFAILED: failed', enum_type=Outcome, max_length=10)),
                ('opinion', fields.TextField(unique=False)),
                ('rectify_by', fields.DateField(null=True)),
                ('score', fields.DecimalField(null=True, max_digits=7, decimal_places=2)),
                ('published', fields.BooleanField(default=False)),
                ('recorded_by', fields.ForeignKeyField('models.User', source_field='recorded_by_id', null=True, db_constraint=True, to_field='id', related_name='review_results', on_delete=OnDelete.SET_NULL)),
                ('recorded_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'delivery_review_result', 'app': 'models', 'pk_attr': 'id', 'table_description': "The organiser's result of a mid-term or acceptance review, with the panel's opinion."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StageDeliverable',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('stage', fields.ForeignKeyField('models.Stage', source_field='stage_id', db_constraint=True, to_field='id', related_name='deliverables', on_delete=OnDelete.RESTRICT)),
                ('bid', fields.ForeignKeyField('models.Bid', source_field='bid_id', db_constraint=True, to_field='id', related_name='stage_deliverables', on_delete=OnDelete.RESTRICT)),
                ('report', fields.TextField(default='', unique=False)),
                ('current_version', fields.IntField(default=0)),
                ('submitted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'stage_deliverable', 'app': 'models', 'unique_together': [('stage', 'bid')], 'pk_attr': 'id', 'table_description': "A team's deliverable for one horse-race stage (阶段交付物): the report text now, its files"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TargetJudgement',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('assignment', fields.ForeignKeyField('models.Assignment', source_field='assignment_id', db_constraint=True, to_field='id', related_name='judgements', on_delete=OnDelete.CASCADE)),
                ('target', fields.ForeignKeyField('models.AssessmentTarget', source_field='target_id', db_constraint=True, to_field='id', related_name='judgements', on_delete=OnDelete.CASCADE)),
                ('met', fields.BooleanField(null=True)),
                ('comment', fields.CharField(default='', max_length=500)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'review_target_judgement', 'app': 'models', 'unique_together': [('assignment', 'target')], 'pk_attr': 'id', 'table_description': "An expert's judgement whether a project met one assessment target (考核指标), in an acceptance review."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Panel',
            name='blind',
            field=fields.BooleanField(null=True),
        ),
        ops.AddField(
            model_name='Panel',
            name='purpose',
            field=fields.CharEnumField(default=PanelPurpose.BID, db_index=True, description='BID: bid\nSTAGE: stage\nMIDTERM: midterm\nACCEPTANCE: acceptance', db_default='bid', enum_type=PanelPurpose, max_length=12),
        ),
        ops.AddField(
            model_name='Stage',
            name='funding_wan',
            field=fields.DecimalField(default=0, db_default=0, max_digits=14, decimal_places=2),
        ),
        # Panels formed before panels had a purpose: those of a stage review a stage.
        ops.RunSQL("UPDATE review_panel SET purpose = 'stage' WHERE stage_id IS NOT NULL", reverse_sql=""),
    ]
