from tortoise import fields
from tortoise.models import Model


class Domain(Model):
    """A priority technology domain (领域). Data an organiser edits, not an enum."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100, unique=True)
    name_en = fields.CharField(max_length=150, default="")
    keywords = fields.TextField(default="")
    sort_order = fields.IntField(default=0)
    is_active = fields.BooleanField(default=True)

    class Meta:
        table = "domain"
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.name
