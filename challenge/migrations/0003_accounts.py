from tortoise import migrations
from tortoise.migrations import operations as ops
from challenge.accounts.models import MembershipStatus, TokenPurpose
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0002_results')]

    initial = False

    operations = [
        ops.CreateModel(
            name='FormToken',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('token', fields.CharField(unique=True, max_length=64)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', null=True, db_constraint=True, to_field='id', related_name='form_tokens', on_delete=OnDelete.CASCADE)),
                ('location', fields.CharField(max_length=500)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'form_token', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The one-time token of a create form, and where the object it created lives (see web.once).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LinkedIdentity',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='identities', on_delete=OnDelete.CASCADE)),
                ('issuer', fields.CharField(max_length=255)),
                ('subject', fields.CharField(max_length=255)),
                ('email', fields.CharField(default='', max_length=254)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('last_used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'linked_identity', 'app': 'models', 'unique_together': (('issuer', 'subject'),), 'pk_attr': 'id', 'table_description': 'A single sign-on identity (issuer + subject) linked to an account.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Membership',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='memberships', on_delete=OnDelete.CASCADE)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='memberships', on_delete=OnDelete.CASCADE)),
                ('status', fields.CharEnumField(default=MembershipStatus.PENDING, db_index=True, description='PENDING: pending\nAPPROVED: approved\nREJECTED: rejected\nREMOVED: removed\nWITHDRAWN: withdrawn', enum_type=MembershipStatus, max_length=12)),
                ('decided_by', fields.ForeignKeyField('models.User', source_field='decided_by_id', null=True, db_constraint=True, to_field='id', related_name='membership_decisions', on_delete=OnDelete.SET_NULL)),
                ('reason', fields.TextField(default='', unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'membership', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A request of a person to belong to an organisation, and its decision.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Session',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key_hash', fields.CharField(unique=True, max_length=64)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='sessions', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('last_seen_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('user_agent', fields.CharField(default='', max_length=300)),
                ('ip', fields.CharField(default='', max_length=64)),
            ],
            options={'table': 'user_session', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A signed-in browser: the cookie carries a random key, and only its SHA-256 is kept here.'},
            bases=['Model'],
        ),
        ops.AlterModelOptions(
            name='PasswordResetToken',
            options={'table': 'password_reset_token', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A mailed single-use link: a password reset, or the confirmation of the e-mail of a new account.'},
        ),
        ops.AddField(
            model_name='PasswordResetToken',
            name='purpose',
            field=fields.CharEnumField(default=TokenPurpose.RESET, description='RESET: reset\nCONFIRM: confirm', db_default='reset', enum_type=TokenPurpose, max_length=10),
        ),
        ops.AddField(
            model_name='User',
            name='email_confirmed',
            field=fields.BooleanField(default=True, db_default=True),
        ),
        ops.AddField(
            model_name='User',
            name='is_org_manager',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.RemoveField(model_name='User', name='auth_epoch'),
        ops.RemoveField(model_name='User', name='oidc_subject'),
    ]
