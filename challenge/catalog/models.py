from tortoise import fields
from tortoise.models import Model

from challenge.web.i18n import get_locale


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
        return self.label

    @property
    def label(self) -> str:
        """The name in the reader's language (the English name when there is one)."""
        return self.name_en if self.name_en and get_locale() == "en" else self.name
