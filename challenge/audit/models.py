from tortoise import fields
from tortoise.models import Model


class AuditEntry(Model):
    """Append-only event log: the hash of each entry covers its content and the previous hash."""

    id = fields.BigIntField(primary_key=True)
    seq = fields.BigIntField(unique=True)
    at = fields.DatetimeField()
    actor_id = fields.IntField(null=True)
    actor_label = fields.CharField(max_length=300, default="")
    action = fields.CharField(max_length=80, db_index=True)
    object_type = fields.CharField(max_length=40)
    object_id = fields.CharField(max_length=40)
    before = fields.JSONField(null=True)
    after = fields.JSONField(null=True)
    note = fields.TextField(default="")
    prev_hash = fields.CharField(max_length=64)
    hash = fields.CharField(max_length=64)

    class Meta:
        table = "audit_entry"
        ordering = ["seq"]
        indexes = [("object_type", "object_id")]
