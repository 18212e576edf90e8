from tortoise import fields
from tortoise.models import Model


class Blob(Model):
    """File content, stored once per SHA-256 under a random storage key."""

    id = fields.BigIntField(primary_key=True)
    sha256 = fields.CharField(max_length=64, unique=True)
    size = fields.BigIntField()
    kind = fields.CharField(max_length=10)  # sniffed type: pdf, docx, png, zip...
    content_type = fields.CharField(max_length=120)
    storage_key = fields.CharField(max_length=120, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "blob"


class Attachment(Model):
    """A file attached to a domain object (need, bid, objection...) under its original name."""

    id = fields.BigIntField(primary_key=True)
    blob = fields.ForeignKeyField("models.Blob", related_name="attachments", on_delete=fields.RESTRICT)
    owner_type = fields.CharField(max_length=30)
    owner_id = fields.IntField()
    category = fields.CharField(max_length=30, default="other")
    filename = fields.CharField(max_length=255)
    uploaded_by = fields.ForeignKeyField("models.User", related_name="uploads", null=True, on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "attachment"
        ordering = ["id"]
        indexes = [("owner_type", "owner_id")]
