"""E-mail subscriptions to one challenge (订阅榜单动态): anyone, signed in or not."""

from tortoise import fields
from tortoise.models import Model


class Subscription(Model):
    """An address that asked for a challenge's amendments, answers and results by mail.

    Nothing is sent to it but the confirmation mail until `confirmed_at` is set (double opt-in).
    Unsubscribing deletes the row, so that the address is kept no longer than it is wanted."""

    id = fields.IntField(primary_key=True)
    challenge = fields.ForeignKeyField("models.Challenge", related_name="subscriptions", on_delete=fields.CASCADE)
    email = fields.CharField(max_length=254)
    # The language the mails are written in: the reader's when subscribing.
    locale = fields.CharField(max_length=8, default="zh_CN")
    confirmed_at = fields.DatetimeField(null=True)
    confirmation_sent_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "challenge_subscription"
        unique_together = [("challenge", "email")]
        ordering = ["id"]

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None
