"""Bids (揭榜申报): the lead organisation's working copy, its consortium and plan, and the
immutable versions created by each submission."""


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


# The bidder may change the working copy (while the window is open) in these states.
EDITABLE_BID_STATES = {BidStatus.DRAFT, BidStatus.SUBMITTED, BidStatus.WITHDRAWN, BidStatus.FORMAL_FAILED}
# A submission (first, revised, or again after a withdrawal or a failed formal check).
SUBMITTABLE_BID_STATES = EDITABLE_BID_STATES
WITHDRAWABLE_BID_STATES = {BidStatus.SUBMITTED}
# The organiser's formal check (形式审查): fail a submitted bid, pass a submitted or failed one.
FORMAL_FAIL_FROM = {BidStatus.SUBMITTED}
FORMAL_PASS_FROM = {BidStatus.SUBMITTED, BidStatus.FORMAL_FAILED}
# Bids the organiser works with: everything that was submitted at least once and is not withdrawn.
RECEIVED_BID_STATES = {
    BidStatus.SUBMITTED, BidStatus.FORMAL_FAILED, BidStatus.IN_REVIEW, BidStatus.ADVANCED,
    BidStatus.NOT_SELECTED, BidStatus.WINNER,
}
MANAGED_BID_STATES = RECEIVED_BID_STATES | {BidStatus.WITHDRAWN}

# Every allowed status change. Changes to SUBMITTED and WITHDRAWN also need the bid window open.
BID_TRANSITIONS: dict[BidStatus, set[BidStatus]] = {
    BidStatus.DRAFT: {BidStatus.SUBMITTED},
    BidStatus.SUBMITTED: {BidStatus.SUBMITTED, BidStatus.WITHDRAWN, BidStatus.FORMAL_FAILED, BidStatus.IN_REVIEW},
    BidStatus.WITHDRAWN: {BidStatus.SUBMITTED},
    BidStatus.FORMAL_FAILED: {BidStatus.SUBMITTED, BidStatus.IN_REVIEW},
    BidStatus.IN_REVIEW: {BidStatus.ADVANCED, BidStatus.NOT_SELECTED, BidStatus.WINNER},
    BidStatus.ADVANCED: {BidStatus.ADVANCED, BidStatus.NOT_SELECTED, BidStatus.WINNER},
    # After an objection is upheld (异议成立) the organiser may correct an outcome.
    BidStatus.NOT_SELECTED: {BidStatus.ADVANCED, BidStatus.WINNER},
    BidStatus.WINNER: {BidStatus.NOT_SELECTED},
}
WINDOW_BOUND_TARGETS = {BidStatus.SUBMITTED, BidStatus.WITHDRAWN}


class AttachmentCategory(LabelledStrEnum):
    PROPOSAL = "proposal", N_("申报书")
    QUALIFICATION = "qualification", N_("资质证明材料")
    COMMITMENT = "commitment", N_("承诺函")
    OTHER = "other", N_("其他材料")


# Most files per category. The proposal is required to submit.
ATTACHMENT_LIMITS = {
    AttachmentCategory.PROPOSAL: 3,
    AttachmentCategory.QUALIFICATION: 10,
    AttachmentCategory.COMMITMENT: 10,
    AttachmentCategory.OTHER: 10,
}
REQUIRED_CATEGORIES = {AttachmentCategory.PROPOSAL}
ATTACHMENT_OWNER = "bid"


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
    # The working copy was saved after the latest submission and differs from it.
    has_unsubmitted_changes = fields.BooleanField(default=False)
    formal_checked_at = fields.DatetimeField(null=True)
    formal_checked_by = fields.ForeignKeyField("models.User", related_name="formal_checks", null=True,
                                               on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "bid"
        ordering = ["-id"]
        unique_together = [("challenge", "lead_org")]
        # The organiser's list of a challenge's bids by status, and its counts per status.
        indexes = [("challenge_id", "status")]

    def __str__(self) -> str:
        return self.title or self.number

    @property
    def number(self) -> str:
        """The bid number (申报编号) shown on receipts, exports and in ZIP folders."""
        return f"JB{self.challenge_id:04d}-{self.id:05d}"


class BidPartner(Model):
    """A partner organisation of the consortium: registered, or entered by name and credit code."""

    id = fields.IntField(primary_key=True)
    bid = fields.ForeignKeyField("models.Bid", related_name="partners", on_delete=fields.CASCADE)
    organisation = fields.ForeignKeyField("models.Organisation", related_name="partner_bids", null=True, on_delete=fields.RESTRICT)
    name = fields.CharField(max_length=200)
    org_type = fields.CharField(max_length=20)
    credit_code = fields.CharField(max_length=18, null=True)
    region_code = fields.CharField(max_length=6, null=True)
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
    # The e-mail a registered member signs in with, used to link `user` (optional).
    email = fields.CharField(max_length=254, default="")
    # Set when the member is a registered user, so conflicts can be computed by identity.
    user = fields.ForeignKeyField("models.User", related_name="team_memberships", null=True, on_delete=fields.SET_NULL)
    position = fields.IntField(default=0)

    class Meta:
        table = "team_member"
        ordering = ["position", "id"]


class BidTargetCommitment(Model):
    """The value the consortium commits to for one assessment target (考核指标)."""

    id = fields.IntField(primary_key=True)
    bid = fields.ForeignKeyField("models.Bid", related_name="commitments", on_delete=fields.CASCADE)
    target = fields.ForeignKeyField("models.AssessmentTarget", related_name="bid_commitments", on_delete=fields.CASCADE)
    committed_value = fields.CharField(max_length=200, default="")
    note = fields.CharField(max_length=500, default="")

    class Meta:
        table = "bid_target_commitment"
        unique_together = [("bid", "target")]


class Milestone(Model):
    """A step of the bid's milestone plan (攻关计划): title, due date, deliverable."""

    id = fields.IntField(primary_key=True)
    bid = fields.ForeignKeyField("models.Bid", related_name="milestones", on_delete=fields.CASCADE)
    position = fields.IntField(default=0)
    title = fields.CharField(max_length=200)
    due_date = fields.DateField()
    deliverable = fields.TextField(default="")

    class Meta:
        table = "bid_milestone"
        ordering = ["position", "id"]


class BudgetItem(Model):
    """A budget line in 万元: own funds (自筹) and funds requested from the challenge (申请)."""

    id = fields.IntField(primary_key=True)
    bid = fields.ForeignKeyField("models.Bid", related_name="budget_items", on_delete=fields.CASCADE)
    position = fields.IntField(default=0)
    item = fields.CharField(max_length=200)
    own_wan = fields.DecimalField(max_digits=14, decimal_places=2, default=0)
    requested_wan = fields.DecimalField(max_digits=14, decimal_places=2, default=0)
    note = fields.CharField(max_length=500, default="")

    class Meta:
        table = "bid_budget_item"
        ordering = ["position", "id"]


class ImmutableVersion(Exception):
    pass


class BidVersion(Model):
    """One submission, frozen: the canonical JSON of the content and the attachments' hashes,
    and its SHA-256 (the receipt). Rows are written once and never changed."""

    id = fields.IntField(primary_key=True)
    bid = fields.ForeignKeyField("models.Bid", related_name="versions", on_delete=fields.RESTRICT)
    version = fields.IntField()
    document = fields.TextField()  # canonical JSON, the exact bytes that were hashed (UTF-8)
    sha256 = fields.CharField(max_length=64)
    submitted_at = fields.DatetimeField()
    submitted_by = fields.ForeignKeyField("models.User", related_name="bid_versions", null=True,
                                          on_delete=fields.SET_NULL)

    class Meta:
        table = "bid_version"
        ordering = ["bid_id", "version"]
        unique_together = [("bid", "version")]

    async def save(self, *args, **kwargs) -> None:
        if self._saved_in_db:
            raise ImmutableVersion("a bid version is never changed")
        await super().save(*args, **kwargs)

    async def delete(self, *args, **kwargs) -> None:
        raise ImmutableVersion("a bid version is never deleted")

    @property
    def receipt_number(self) -> str:
        return f"R{self.bid_id:05d}-V{self.version:02d}"


class BidMessage(Model):
    """A message from the organiser to the bidder: formal check results and outcome notes."""

    id = fields.IntField(primary_key=True)
    bid = fields.ForeignKeyField("models.Bid", related_name="messages", on_delete=fields.CASCADE)
    author = fields.ForeignKeyField("models.User", related_name="bid_messages", null=True, on_delete=fields.SET_NULL)
    status = fields.CharEnumField(BidStatus, max_length=14, null=True)
    body = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "bid_message"
        ordering = ["-id"]
