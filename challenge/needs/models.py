from tortoise import fields
from tortoise.models import Model

from challenge.enums import N_, LabelledStrEnum


class CampaignStatus(LabelledStrEnum):
    DRAFT = "draft", N_("未开放")
    OPEN = "open", N_("征集中")
    CLOSED = "closed", N_("已截止")


class NeedStatus(LabelledStrEnum):
    DRAFT = "draft", N_("草稿")
    SUBMITTED = "submitted", N_("已提交")
    RETURNED = "returned", N_("退回修改")
    ACCEPTED = "accepted", N_("已采纳")
    REJECTED = "rejected", N_("未采纳")
    MERGED = "merged", N_("已合并")


EDITABLE_NEED_STATES = {NeedStatus.DRAFT, NeedStatus.RETURNED}
SCREENABLE_NEED_STATES = {NeedStatus.SUBMITTED}
FINAL_NEED_STATES = {NeedStatus.ACCEPTED, NeedStatus.REJECTED, NeedStatus.MERGED}
# What organisers see: everything a submitter has sent at least once (never others' drafts).
ORGANISER_VISIBLE_NEED_STATES = {
    NeedStatus.SUBMITTED, NeedStatus.RETURNED, NeedStatus.ACCEPTED, NeedStatus.REJECTED, NeedStatus.MERGED,
}
# A need may be merged into a live need of the same campaign, never into a merged or rejected one.
MERGE_TARGET_STATES = {NeedStatus.SUBMITTED, NeedStatus.RETURNED, NeedStatus.ACCEPTED}
REASON_REQUIRED_STATES = {NeedStatus.RETURNED, NeedStatus.REJECTED}

# The need state machine: status -> statuses it may move to (set_need_status enforces it).
NEED_TRANSITIONS = {
    NeedStatus.DRAFT: {NeedStatus.SUBMITTED},
    NeedStatus.RETURNED: {NeedStatus.SUBMITTED},
    NeedStatus.SUBMITTED: {NeedStatus.RETURNED, NeedStatus.ACCEPTED, NeedStatus.REJECTED, NeedStatus.MERGED},
    NeedStatus.ACCEPTED: set(),
    NeedStatus.REJECTED: set(),
    NeedStatus.MERGED: set(),
}
CAMPAIGN_TRANSITIONS = {
    CampaignStatus.DRAFT: {CampaignStatus.OPEN},
    CampaignStatus.OPEN: {CampaignStatus.CLOSED},
    CampaignStatus.CLOSED: {CampaignStatus.OPEN},
}
# Campaigns submitters can see (a draft campaign is the organisers' work in progress).
PUBLIC_CAMPAIGN_STATES = {CampaignStatus.OPEN, CampaignStatus.CLOSED}
MAX_ATTACHMENTS_PER_NEED = 10


class Campaign(Model):
    """A need-collection campaign (需求征集批次)."""

    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=200)
    instructions = fields.TextField(default="")
    domains = fields.ManyToManyField("models.Domain", related_name="campaigns", through="campaign_domain")
    opens_at = fields.DatetimeField()
    closes_at = fields.DatetimeField()
    status = fields.CharEnumField(CampaignStatus, max_length=10, default=CampaignStatus.DRAFT, db_index=True)
    created_by = fields.ForeignKeyField("models.User", related_name="campaigns", null=True, on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "campaign"
        ordering = ["-opens_at", "-id"]

    def __str__(self) -> str:
        return self.title


class Need(Model):
    """A technology need (技术需求) submitted by an organisation."""

    id = fields.IntField(primary_key=True)
    campaign = fields.ForeignKeyField("models.Campaign", related_name="needs", on_delete=fields.RESTRICT)
    organisation = fields.ForeignKeyField("models.Organisation", related_name="needs", on_delete=fields.RESTRICT)
    created_by = fields.ForeignKeyField("models.User", related_name="needs", null=True, on_delete=fields.SET_NULL)
    domain = fields.ForeignKeyField("models.Domain", related_name="needs", null=True, on_delete=fields.RESTRICT)
    title = fields.CharField(max_length=200)
    bottleneck = fields.TextField(default="")
    state_of_art = fields.TextField(default="")
    target_indicators = fields.TextField(default="")
    application_scenario = fields.TextField(default="")
    expected_results = fields.TextField(default="")
    cofunding_wan = fields.DecimalField(max_digits=14, decimal_places=2, default=0)
    hosts_scenario = fields.BooleanField(default=False)
    contact_name = fields.CharField(max_length=100, default="")
    contact_phone = fields.CharField(max_length=30, default="")
    contact_email = fields.CharField(max_length=254, default="")
    status = fields.CharEnumField(NeedStatus, max_length=12, default=NeedStatus.DRAFT, db_index=True)
    status_reason = fields.TextField(default="")
    merged_into = fields.ForeignKeyField("models.Need", related_name="merged_from", null=True, on_delete=fields.SET_NULL)
    submitted_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "need"
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return self.title
