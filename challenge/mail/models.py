from tortoise import fields
from tortoise.models import Model

from challenge.enums import N_, LabelledStrEnum


class MailStatus(LabelledStrEnum):
    PENDING = "pending", N_("待发送")
    SENT = "sent", N_("已发送")
    FAILED = "failed", N_("发送失败")


class OutboxMessage(Model):
    """Mail written in the same transaction as the event it reports, sent after commit."""

    id = fields.BigIntField(primary_key=True)
    to_address = fields.CharField(max_length=254)
    subject = fields.CharField(max_length=300)
    body = fields.TextField()
    # Extra headers of the message, e.g. List-Unsubscribe of a subscription's mail (RFC 8058).
    headers = fields.JSONField(null=True)
    status = fields.CharEnumField(MailStatus, max_length=10, default=MailStatus.PENDING, db_index=True)
    attempts = fields.IntField(default=0)
    last_error = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    sent_at = fields.DatetimeField(null=True)
    # Set while one worker is sending, so that two processes never send the same message.
    claimed_until = fields.DatetimeField(null=True)

    class Meta:
        table = "outbox_message"
        ordering = ["id"]


class Notification(Model):
    """An in-app inbox item."""

    id = fields.BigIntField(primary_key=True)
    user = fields.ForeignKeyField("models.User", related_name="notifications", on_delete=fields.CASCADE)
    subject = fields.CharField(max_length=300)
    body = fields.TextField(default="")
    link = fields.CharField(max_length=500, default="")
    read_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "notification"
        ordering = ["-id"]
        # The menu counts a user's unread items on every page.
        indexes = [("user_id", "read_at")]
