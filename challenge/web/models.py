from tortoise import fields
from tortoise.models import Model


class FormToken(Model):
    """The one-time token of a create form, and where the object it created lives (see web.once)."""

    id = fields.BigIntField(primary_key=True)
    token = fields.CharField(max_length=64, unique=True)
    user = fields.ForeignKeyField("models.User", related_name="form_tokens", null=True, on_delete=fields.CASCADE)
    location = fields.CharField(max_length=500)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "form_token"


class DataVersion(Model):
    """A counter raised by every request that may write data, read with pages cached per version."""

    id = fields.IntField(primary_key=True)
    n = fields.BigIntField(default=0)

    class Meta:
        table = "data_version"
