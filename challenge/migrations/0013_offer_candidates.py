from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from challenge.challenges.models import Aggregation
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import UniqueConstraint

class Migration(migrations.Migration):
    dependencies = [('models', '0012_performance_indexes')]

    initial = False

    operations = [
        ops.AlterModelOptions(
            name='Assignment',
            options={'table': 'review_assignment', 'app': 'models', 'unique_together': [('panel', 'bid', 'expert')], 'indexes': [Index(fields=['expert_id', 'panel_id'])], 'pk_attr': 'id', 'table_description': "One expert reviewing one bid for one panel (no bid: the panel's one entry, see `Panel`)."},
        ),
        ops.AlterField(
            model_name='Assignment',
            name='bid',
            field=fields.ForeignKeyField('models.Bid', source_field='bid_id', null=True, db_constraint=True, to_field='id', related_name='review_assignments', on_delete=OnDelete.CASCADE),
        ),
        ops.AddField(
            model_name='Candidate',
            name='offer',
            field=fields.ForeignKeyField('models.Offer', source_field='offer_id', null=True, db_constraint=True, to_field='id', related_name='catalogue_candidates', on_delete=OnDelete.RESTRICT),
        ),
        ops.AddConstraint(
            model_name='Candidate',
            constraint=UniqueConstraint(fields=('round', 'offer'), name=None),
        ),
        ops.AddField(
            model_name='CatalogueRound',
            name='rubric',
            field=fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AlterField(
            model_name='Panel',
            name='challenge',
            field=fields.ForeignKeyField('models.Challenge', source_field='challenge_id', null=True, db_constraint=True, to_field='id', related_name='panels', on_delete=OnDelete.CASCADE),
        ),
        ops.AddField(
            model_name='Panel',
            name='aggregation',
            field=fields.CharEnumField(null=True, description='MEAN: mean\nTRIMMED_MEAN: trimmed_mean', enum_type=Aggregation, max_length=16),
        ),
        ops.AddField(
            model_name='Panel',
            name='holder',
            field=fields.ForeignKeyField('models.Organisation', source_field='holder_id', null=True, db_constraint=True, to_field='id', related_name='held_panels', on_delete=OnDelete.RESTRICT),
        ),
        ops.AlterModelOptions(
            name='PanelBid',
            options={'table': 'panel_bid', 'app': 'models', 'unique_together': [('panel', 'bid'), ('panel', 'code')], 'pk_attr': 'id', 'table_description': 'A bid under review by a panel with its blind code (申报 A, B, C...), or no bid (see `Panel`).'},
        ),
        ops.AlterField(
            model_name='PanelBid',
            name='bid',
            field=fields.ForeignKeyField('models.Bid', source_field='bid_id', null=True, db_constraint=True, to_field='id', related_name='panel_entries', on_delete=OnDelete.CASCADE),
        ),
        ops.AlterModelOptions(
            name='RubricCriterion',
            options={'table': 'rubric_criterion', 'app': 'models', 'pk_attr': 'id', 'table_description': "A criterion of a challenge's review rubric, or of a panel's own (a panel outside any challenge)."},
        ),
        ops.AlterField(
            model_name='RubricCriterion',
            name='challenge',
            field=fields.ForeignKeyField('models.Challenge', source_field='challenge_id', null=True, db_constraint=True, to_field='id', related_name='criteria', on_delete=OnDelete.CASCADE),
        ),
        ops.AddField(
            model_name='RubricCriterion',
            name='panel',
            field=fields.ForeignKeyField('models.Panel', source_field='panel_id', null=True, db_constraint=True, to_field='id', related_name='own_criteria', on_delete=OnDelete.CASCADE),
        ),
    ]
