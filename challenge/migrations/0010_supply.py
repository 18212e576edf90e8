from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from challenge.supply.models import ContactStatus, IpStatus, OfferStatus
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0009_desk')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Offer',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='offers', on_delete=OnDelete.RESTRICT)),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='offers', on_delete=OnDelete.SET_NULL)),
                ('domain', fields.ForeignKeyField('models.Domain', source_field='domain_id', null=True, db_constraint=True, to_field='id', related_name='offers', on_delete=OnDelete.RESTRICT)),
                ('name', fields.CharField(max_length=200)),
                ('trl', fields.IntField(null=True)),
                ('summary', fields.TextField(default='', unique=False)),
                ('core_process', fields.TextField(default='', unique=False)),
                ('scope', fields.TextField(default='', unique=False)),
                ('energy_saved_tce', fields.DecimalField(null=True, max_digits=14, decimal_places=2)),
                ('co2_reduced_t', fields.DecimalField(null=True, max_digits=14, decimal_places=2)),
                ('cost_wan', fields.DecimalField(null=True, max_digits=14, decimal_places=2)),
                ('benefits_text', fields.TextField(default='', unique=False)),
                ('ip_status', fields.CharEnumField(default=IpStatus.NONE, description='NONE: none\nAPPLIED: applied\nGRANTED: granted\nOTHER: other', enum_type=IpStatus, max_length=10)),
                ('patent_numbers', fields.TextField(default='', unique=False)),
                ('transfer_modes', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('contact_name', fields.CharField(default='', max_length=100)),
                ('contact_phone', fields.CharField(default='', max_length=30)),
                ('contact_email', fields.CharField(default='', max_length=254)),
                ('status', fields.CharEnumField(default=OfferStatus.DRAFT, db_index=True, description='DRAFT: draft\nSUBMITTED: submitted\nRETURNED: returned\nPUBLISHED: published\nWITHDRAWN: withdrawn', enum_type=OfferStatus, max_length=12)),
                ('status_reason', fields.TextField(default='', unique=False)),
                ('submitted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('published_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'supply_offer', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A technology offer (技术成果) an organisation can transfer, screened before it is public.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ContactRequest',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('offer', fields.ForeignKeyField('models.Offer', source_field='offer_id', db_constraint=True, to_field='id', related_name='contacts', on_delete=OnDelete.RESTRICT)),
                ('need', fields.ForeignKeyField('models.Need', source_field='need_id', null=True, db_constraint=True, to_field='id', related_name='contacts', on_delete=OnDelete.RESTRICT)),
                ('challenge', fields.ForeignKeyField('models.Challenge', source_field='challenge_id', null=True, db_constraint=True, to_field='id', related_name='contacts', on_delete=OnDelete.RESTRICT)),
                ('requested_by', fields.ForeignKeyField('models.User', source_field='requested_by_id', null=True, db_constraint=True, to_field='id', related_name='contacts_requested', on_delete=OnDelete.SET_NULL)),
                ('requester_organisation', fields.ForeignKeyField('models.Organisation', source_field='requester_organisation_id', null=True, db_constraint=True, to_field='id', related_name='contacts_requested', on_delete=OnDelete.RESTRICT)),
                ('message', fields.TextField(default='', unique=False)),
                ('status', fields.CharEnumField(default=ContactStatus.REQUESTED, db_index=True, description='REQUESTED: requested\nACCEPTED: accepted\nDECLINED: declined\nSIGNED: signed\nNOT_PURSUED: not_pursued', enum_type=ContactStatus, max_length=12)),
                ('response_note', fields.TextField(default='', unique=False)),
                ('outcome_note', fields.TextField(default='', unique=False)),
                ('responded_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'supply_contact', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A request for contact (对接) on an offer, made for a need or a challenge, and its outcome.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MatchShown',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('offer', fields.ForeignKeyField('models.Offer', source_field='offer_id', db_constraint=True, to_field='id', related_name='shown', on_delete=OnDelete.CASCADE)),
                ('subject_type', fields.CharField(max_length=10)),
                ('subject_id', fields.IntField()),
                ('first_shown_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'supply_match_shown', 'app': 'models', 'unique_together': [('offer', 'subject_type', 'subject_id')], 'pk_attr': 'id', 'table_description': "A candidate offer shown for a need or a challenge, recorded once per pair (the funnel's first step)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OfferParameter',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('offer', fields.ForeignKeyField('models.Offer', source_field='offer_id', db_constraint=True, to_field='id', related_name='parameters', on_delete=OnDelete.CASCADE)),
                ('position', fields.IntField(default=0)),
                ('name', fields.CharField(max_length=200)),
                ('value', fields.CharField(max_length=100)),
                ('number', fields.FloatField(null=True)),
                ('unit', fields.CharField(default='', max_length=50)),
            ],
            options={'table': 'supply_offer_parameter', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One main technical parameter of an offer: `value` as typed, `number` parsed from it for matching.'},
            bases=['Model'],
        ),
    ]
