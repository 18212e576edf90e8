"""Bids (揭榜申报). Core fields; issue 4 owns the rest."""


from tortoise import fields
from tortoise.models import Model

from challenge.enums import N_, LabelledStrEnum


class BidStatus(LabelledStrEnum):
    DRAFT = "draft", N_("草稿")
    SUBMITTED = "submitted", N_("已提交")
    WITHDRAWN = "withdrawn", N_("已撤回")
    FORMAL_FAILED = "formal_failed", N_("形式审查未通过")
    IN_REVIEW = "in_review", N_("评审中")
    ADVANCED = "advanced", N_("晋级/入围")  # shortlisted / went on to the next horse-race stage
    NOT_SELECTED = "not_selected", N_("未入选")
    WINNER = "winner", N_("揭榜成功")


class Bid(Model):
    id = fields.IntField(primary_key=True)
    challenge = fields.ForeignKeyField("models.Challenge", related_name="bids", on_delete=fields.RESTRICT)
    lead_org = fields.ForeignKeyField("models.Organisation", related_name="lead_bids", on_delete=fields.RESTRICT)
    created_by = fields.ForeignKeyField("models.User", related_name="bids", null=True, on_delete=fields.SET_NULL)
    title = fields.CharField(max_length=200, default="")
    approach = fields.TextField(default="")
    foundation = fields.TextField(default="")
    commitment_accepted = fields.BooleanField(default=False)
    status = fields.CharEnumField(BidStatus, max_length=14, default=BidStatus.DRAFT, db_index=True)
    status_reason = fields.TextField(default="")
    current_version = fields.IntField(default=0)
    submitted_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "bid"
        ordering = ["-id"]
        unique_together = [("challenge", "lead_org")]


class BidPartner(Model):
    """A partner organisation of the consortium: registered, or entered by name and credit code."""

    id = fields.IntField(primary_key=True)
    bid = fields.ForeignKeyField("models.Bid", related_name="partners", on_delete=fields.CASCADE)
    organisation = fields.ForeignKeyField("models.Organisation", related_name="partner_bids", null=True, on_delete=fields.RESTRICT)
    name = fields.CharField(max_length=200)
    org_type = fields.CharField(max_length=20)
    credit_code = fields.CharField(max_length=18, null=True)
    position = fields.IntField(default=0)

    class Meta:
        table = "bid_partner"
        ordering = ["position", "id"]


class TeamMember(Model):
    id = fields.IntField(primary_key=True)
    bid = fields.ForeignKeyField("models.Bid", related_name="members", on_delete=fields.CASCADE)
    name = fields.CharField(max_length=100)
    title = fields.CharField(max_length=100, default="")
    role = fields.CharField(max_length=100, default="")
    organisation_name = fields.CharField(max_length=200, default="")
    contact = fields.CharField(max_length=200, default="")
    # Set when the member is a registered user, so conflicts can be computed by identity.
    user = fields.ForeignKeyField("models.User", related_name="team_memberships", null=True, on_delete=fields.SET_NULL)
    position = fields.IntField(default=0)

    class Meta:
        table = "team_member"
        ordering = ["position", "id"]
