from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from challenge.promotion.models import CandidateSource, CandidateStatus, ChangeKind, EntryStatus, RoundStatus
from challenge.results.models import NoticeKind
from challenge.reviews.models import PanelPurpose
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0010_supply')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CatalogueRound',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('year', fields.IntField()),
                ('title', fields.CharField(max_length=200)),
                ('conditions', fields.TextField(unique=False)),
                ('deadline', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('domains', fields.ManyToManyField('models.Domain', unique=True, db_constraint=True, through='catalogue_round_domain', forward_key='domain_id', backward_key='catalogue_round_id', related_name='catalogue_rounds', on_delete=OnDelete.CASCADE)),
                ('status', fields.CharEnumField(default=RoundStatus.DRAFT, db_index=True, description='DRAFT: draft\nOPEN: open\nEVALUATING: evaluating\nNOTICE: notice\nPUBLISHED: published', enum_type=RoundStatus, max_length=12)),
                ('notice', fields.ForeignKeyField('models.Notice', source_field='notice_id', null=True, db_constraint=True, to_field='id', related_name='catalogue_rounds', on_delete=OnDelete.RESTRICT)),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='catalogue_rounds', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('published_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'catalogue_round', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A yearly selection round (推广目录遴选批次) with its stated conditions.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Candidate',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('round', fields.ForeignKeyField('models.CatalogueRound', source_field='round_id', db_constraint=True, to_field='id', related_name='candidates', on_delete=OnDelete.CASCADE)),
                ('source', fields.CharEnumField(default=CandidateSource.PROJECT, description='PROJECT: project\nOFFER: offer', enum_type=CandidateSource, max_length=8)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', null=True, db_constraint=True, to_field='id', related_name='catalogue_candidates', on_delete=OnDelete.RESTRICT)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', null=True, db_constraint=True, to_field='id', related_name='catalogue_candidates', on_delete=OnDelete.SET_NULL)),
                ('name', fields.CharField(max_length=200)),
                ('domain', fields.ForeignKeyField('models.Domain', source_field='domain_id', db_constraint=True, to_field='id', related_name='catalogue_candidates', on_delete=OnDelete.RESTRICT)),
                ('scope', fields.TextField(unique=False)),
                ('core_process', fields.TextField(unique=False)),
                ('parameters', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('benefits', fields.TextField(unique=False)),
                ('status', fields.CharEnumField(default=CandidateStatus.PROPOSED, db_index=True, description='PROPOSED: proposed\nELIGIBLE: eligible\nSCREENED_OUT: screened_out\nRECOMMENDED: recommended\nNOT_RECOMMENDED: not_recommended\nLISTED: listed', enum_type=CandidateStatus, max_length=16)),
                ('screen_note', fields.TextField(default='', unique=False)),
                ('panel', fields.OneToOneField('models.Panel', source_field='panel_id', null=True, db_constraint=True, to_field='id', related_name='catalogue_candidate', on_delete=OnDelete.SET_NULL)),
                ('score', fields.DecimalField(null=True, max_digits=7, decimal_places=2)),
                ('proposed_by', fields.ForeignKeyField('models.User', source_field='proposed_by_id', null=True, db_constraint=True, to_field='id', related_name='catalogue_candidates', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'catalogue_candidate', 'app': 'models', 'unique_together': [('round', 'project', 'name')], 'pk_attr': 'id', 'table_description': "A technology proposed for the catalogue in a round, with the catalogue's fields."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CatalogueEntry',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('number', fields.IntField(unique=True)),
                ('candidate', fields.OneToOneField('models.Candidate', source_field='candidate_id', db_constraint=True, to_field='id', related_name='entry', on_delete=OnDelete.RESTRICT)),
                ('round', fields.ForeignKeyField('models.CatalogueRound', source_field='round_id', db_constraint=True, to_field='id', related_name='entries', on_delete=OnDelete.RESTRICT)),
                ('name', fields.CharField(max_length=200)),
                ('domain', fields.ForeignKeyField('models.Domain', source_field='domain_id', db_constraint=True, to_field='id', related_name='catalogue_entries', on_delete=OnDelete.RESTRICT)),
                ('holder', fields.CharField(default='', max_length=200)),
                ('scope', fields.TextField(unique=False)),
                ('core_process', fields.TextField(unique=False)),
                ('parameters', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('benefits', fields.TextField(unique=False)),
                ('status', fields.CharEnumField(default=EntryStatus.LISTED, db_index=True, description='LISTED: listed\nWITHDRAWN: withdrawn', enum_type=EntryStatus, max_length=10)),
                ('listed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'catalogue_entry', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An entry of the catalogue. Its number is given once and kept across versions.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AdoptionCase',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('entry', fields.ForeignKeyField('models.CatalogueEntry', source_field='entry_id', db_constraint=True, to_field='id', related_name='cases', on_delete=OnDelete.CASCADE)),
                ('organisation', fields.CharField(max_length=200)),
                ('place', fields.CharField(max_length=200)),
                ('adopted_on', fields.DateField()),
                ('scale', fields.CharField(max_length=200)),
                ('effect', fields.TextField(unique=False)),
                ('recorded_by', fields.ForeignKeyField('models.User', source_field='recorded_by_id', null=True, db_constraint=True, to_field='id', related_name='adoption_cases', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'catalogue_adoption_case', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A recorded application of a catalogue technology (推广应用案例).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CatalogueVersion',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('number', fields.IntField(unique=True)),
                ('document', fields.TextField(unique=False)),
                ('sha256', fields.CharField(max_length=64)),
                ('entries_count', fields.IntField()),
                ('reason', fields.TextField(default='', unique=False)),
                ('published_by', fields.ForeignKeyField('models.User', source_field='published_by_id', null=True, db_constraint=True, to_field='id', related_name='catalogue_versions', on_delete=OnDelete.SET_NULL)),
                ('published_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'catalogue_version', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A published state of the catalogue, frozen: the exact bytes hashed, and their SHA-256.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='EntryChange',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('entry', fields.ForeignKeyField('models.CatalogueEntry', source_field='entry_id', db_constraint=True, to_field='id', related_name='changes', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='LISTED: listed\nUPDATED: updated\nWITHDRAWN: withdrawn', enum_type=ChangeKind, max_length=10)),
                ('reason', fields.TextField(default='', unique=False)),
                ('fields_changed', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('version', fields.IntField()),
                ('actor', fields.ForeignKeyField('models.User', source_field='actor_id', null=True, db_constraint=True, to_field='id', related_name='catalogue_changes', on_delete=OnDelete.SET_NULL)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'catalogue_entry_change', 'app': 'models', 'pk_attr': 'id', 'table_description': "One step of an entry's history (动态调整), with its reason and the version it produced."},
            bases=['Model'],
        ),
        ops.AlterField(
            model_name='Notice',
            name='challenge',
            field=fields.ForeignKeyField('models.Challenge', source_field='challenge_id', null=True, db_constraint=True, to_field='id', related_name='notices', on_delete=OnDelete.RESTRICT),
        ),
        ops.AlterField(
            model_name='Notice',
            name='kind',
            field=fields.CharEnumField(description='RESULT: result\nSTAGE: stage\nCATALOGUE: catalogue', enum_type=NoticeKind, max_length=12),
        ),
        ops.AlterField(
            model_name='Panel',
            name='purpose',
            field=fields.CharEnumField(default=PanelPurpose.BID, db_index=True, description='BID: bid\nSTAGE: stage\nMIDTERM: midterm\nACCEPTANCE: acceptance\nEVALUATION: evaluation', db_default='bid', enum_type=PanelPurpose, max_length=12),
        ),
    ]
