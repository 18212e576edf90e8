"""Expert review (专家评审): the expert pool, conflicts, panels, assignments, scores, results."""

from tortoise import fields
from tortoise.models import Model

from challenge.challenges.models import Aggregation
from challenge.enums import N_, LabelledStrEnum


class Availability(LabelledStrEnum):
    AVAILABLE = "available", N_("可参加评审")
    LIMITED = "limited", N_("时间有限")
    UNAVAILABLE = "unavailable", N_("暂不参加")


class ConflictKind(LabelledStrEnum):
    ORGANISATION = "organisation", N_("单位")
    PERSON = "person", N_("个人")


class PanelStatus(LabelledStrEnum):
    FORMING = "forming", N_("组建中")
    REVIEWING = "reviewing", N_("评审中")
    CONCLUDED = "concluded", N_("已出结论")


class AssignmentStatus(LabelledStrEnum):
    PROPOSED = "proposed", N_("待确认")
    ASSIGNED = "assigned", N_("待评审")
    IN_PROGRESS = "in_progress", N_("评审中")
    SUBMITTED = "submitted", N_("已提交")
    DECLINED = "declined", N_("已拒绝")
    REVOKED = "revoked", N_("已撤销")


# Assignments that count towards an expert's load and a bid's k experts.
ACTIVE_ASSIGNMENT_STATES = {
    AssignmentStatus.PROPOSED,
    AssignmentStatus.ASSIGNED,
    AssignmentStatus.IN_PROGRESS,
    AssignmentStatus.SUBMITTED,
}
# Confirmed assignments an expert works on.
LIVE_ASSIGNMENT_STATES = {
    AssignmentStatus.ASSIGNED,
    AssignmentStatus.IN_PROGRESS,
    AssignmentStatus.SUBMITTED,
}
# An expert may still edit his scores.
EDITABLE_ASSIGNMENT_STATES = {AssignmentStatus.ASSIGNED, AssignmentStatus.IN_PROGRESS}


class PanelPurpose(LabelledStrEnum):
    """What a panel reviews: the bids, one horse-race stage's deliverables, or a project in delivery."""

    BID = "bid", N_("申报评审")
    STAGE = "stage", N_("阶段评审")
    MIDTERM = "midterm", N_("中期评估")
    ACCEPTANCE = "acceptance", N_("验收评审")
    EVALUATION = "evaluation", N_("技术评价")  # a catalogue candidate (推广目录遴选), see `promotion`


# Panels whose result goes through the results area (decision, notice, announcement).
RESULT_PURPOSES = {PanelPurpose.BID, PanelPurpose.STAGE}
# Panels that review a project (攻关项目) of the delivery area: one bid, the project's team.
PROJECT_PURPOSES = {PanelPurpose.MIDTERM, PanelPurpose.ACCEPTANCE}
# Panels that review one bid chosen when the panel is formed (never synced with the challenge's bids).
SINGLE_BID_PURPOSES = PROJECT_PURPOSES | {PanelPurpose.EVALUATION}


class StageOutcome(LabelledStrEnum):
    ADVANCED = "advanced", N_("晋级")
    ELIMINATED = "eliminated", N_("淘汰")


class ExpertProfile(Model):
    """An expert of the pool (评审专家库)."""

    id = fields.IntField(primary_key=True)
    user = fields.OneToOneField("models.User", related_name="expert_profile", on_delete=fields.CASCADE)
    # The expert's employer: a registered organisation, or a name and credit code.
    organisation = fields.ForeignKeyField(
        "models.Organisation", related_name="experts", null=True, on_delete=fields.SET_NULL
    )
    organisation_name = fields.CharField(max_length=200, default="")
    credit_code = fields.CharField(max_length=18, default="")
    title = fields.CharField(max_length=100, default="")
    keywords = fields.TextField(default="")
    bio = fields.TextField(default="")
    availability = fields.CharEnumField(Availability, max_length=12, default=Availability.AVAILABLE)
    domains = fields.ManyToManyField("models.Domain", related_name="experts", through="expert_domain")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "expert_profile"
        ordering = ["id"]


class ExpertInvitation(Model):
    """An invitation to join the expert pool, accepted through a single-use link."""

    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=254, db_index=True)
    name = fields.CharField(max_length=100)
    organisation_name = fields.CharField(max_length=200, default="")
    title = fields.CharField(max_length=100, default="")
    # Only the SHA-256 of the token is stored.
    token_hash = fields.CharField(max_length=64, unique=True)
    expires_at = fields.DatetimeField()
    accepted_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    user = fields.ForeignKeyField("models.User", related_name="expert_invitations", null=True, on_delete=fields.SET_NULL)
    invited_by = fields.ForeignKeyField("models.User", related_name="expert_invitations_sent", null=True, on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "expert_invitation"
        ordering = ["-id"]


class ConflictDeclaration(Model):
    """A conflict of interest an expert declares himself (利益冲突申报)."""

    id = fields.IntField(primary_key=True)
    expert = fields.ForeignKeyField("models.User", related_name="conflict_declarations", on_delete=fields.CASCADE)
    kind = fields.CharEnumField(ConflictKind, max_length=14)
    organisation = fields.ForeignKeyField(
        "models.Organisation", related_name="declared_conflicts", null=True, on_delete=fields.CASCADE
    )
    # Free text for organisations not registered here and for people.
    name = fields.CharField(max_length=200, default="")
    credit_code = fields.CharField(max_length=18, default="")
    email = fields.CharField(max_length=254, default="")
    reason = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "conflict_declaration"
        ordering = ["id"]


class Panel(Model):
    """A review panel (评审专家组) of a challenge, or of one horse-race stage.

    A catalogue round's technical evaluation panel scores on a rubric of its own (the round's,
    `RubricCriterion.panel`) and aggregates by its own rule. A panel outside any challenge (the
    evaluation of a candidate that came from a technology offer) has no challenge but a holder,
    the organisation whose technology it reviews: its one entry has no bid, and conflicts are
    computed against the holder."""

    id = fields.IntField(primary_key=True)
    challenge = fields.ForeignKeyField("models.Challenge", related_name="panels", null=True,
                                       on_delete=fields.CASCADE)
    holder = fields.ForeignKeyField("models.Organisation", related_name="held_panels", null=True,
                                    on_delete=fields.RESTRICT)
    # None: as the challenge says.
    aggregation = fields.CharEnumField(Aggregation, max_length=16, null=True)
    stage = fields.ForeignKeyField("models.Stage", related_name="panels", null=True, on_delete=fields.CASCADE)
    purpose = fields.CharEnumField(PanelPurpose, max_length=12, default=PanelPurpose.BID, db_default="bid",
                                   db_index=True)
    # Blind review for this panel; None: as the challenge says (bid and stage reviews).
    blind = fields.BooleanField(null=True)
    name = fields.CharField(max_length=200)
    status = fields.CharEnumField(PanelStatus, max_length=12, default=PanelStatus.FORMING, db_index=True)
    due_at = fields.DatetimeField(null=True)
    # Standard deviation of the weighted totals above which a bid is flagged for the chair.
    dispersion_threshold = fields.DecimalField(max_digits=6, decimal_places=2, default=15)
    created_by = fields.ForeignKeyField("models.User", related_name="panels_created", null=True, on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField(auto_now_add=True)
    confirmed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "review_panel"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    def is_blind(self, challenge) -> bool:
        if self.blind is not None or challenge is None:
            return bool(self.blind)
        return challenge.blind_review

    def aggregation_rule(self, challenge) -> Aggregation:
        if self.aggregation is not None or challenge is None:
            return self.aggregation or Aggregation.TRIMMED_MEAN
        return challenge.aggregation


class PanelMember(Model):
    id = fields.IntField(primary_key=True)
    panel = fields.ForeignKeyField("models.Panel", related_name="members", on_delete=fields.CASCADE)
    expert = fields.ForeignKeyField("models.User", related_name="panel_memberships", on_delete=fields.CASCADE)
    is_chair = fields.BooleanField(default=False)
    # The deputy chair (副组长) acts instead of the chair on the bids the chair is conflicted with.
    is_deputy = fields.BooleanField(default=False, db_default=False)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "panel_member"
        ordering = ["-is_chair", "id"]
        unique_together = [("panel", "expert")]
        # The panels an expert leads, counted from the index alone.
        indexes = [("expert_id", "is_chair", "is_deputy")]


class PanelBid(Model):
    """A bid under review by a panel with its blind code (申报 A, B, C...), or no bid (see `Panel`)."""

    id = fields.IntField(primary_key=True)
    panel = fields.ForeignKeyField("models.Panel", related_name="panel_bids", on_delete=fields.CASCADE)
    bid = fields.ForeignKeyField("models.Bid", related_name="panel_entries", null=True, on_delete=fields.CASCADE)
    code = fields.CharField(max_length=8)
    position = fields.IntField(default=0)

    class Meta:
        table = "panel_bid"
        ordering = ["position", "id"]
        unique_together = [("panel", "bid"), ("panel", "code")]


class Assignment(Model):
    """One expert reviewing one bid for one panel (no bid: the panel's one entry, see `Panel`)."""

    id = fields.IntField(primary_key=True)
    panel = fields.ForeignKeyField("models.Panel", related_name="assignments", on_delete=fields.CASCADE)
    bid = fields.ForeignKeyField("models.Bid", related_name="review_assignments", null=True,
                                 on_delete=fields.CASCADE)
    expert = fields.ForeignKeyField("models.User", related_name="review_assignments", on_delete=fields.CASCADE)
    status = fields.CharEnumField(AssignmentStatus, max_length=12, default=AssignmentStatus.PROPOSED, db_index=True)
    reason = fields.TextField(default="")  # why it was declined, revoked or reopened
    opinion = fields.TextField(default="")  # the expert's overall opinion (总体评价)
    submitted_at = fields.DatetimeField(null=True)
    reminded_at = fields.DatetimeField(null=True)
    reopen_count = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "review_assignment"
        ordering = ["id"]
        unique_together = [("panel", "bid", "expert")]
        # An expert's task list, a page at a time in panel order; the status in it answers the
        # count of his tasks from the index alone (14,000 of them at 100k bids).
        indexes = [("expert_id", "panel_id", "status")]


class Score(Model):
    """An expert's score on one rubric criterion, with a comment."""

    id = fields.BigIntField(primary_key=True)
    assignment = fields.ForeignKeyField("models.Assignment", related_name="scores", on_delete=fields.CASCADE)
    criterion = fields.ForeignKeyField("models.RubricCriterion", related_name="scores", on_delete=fields.CASCADE)
    value = fields.DecimalField(max_digits=7, decimal_places=2, null=True)
    comment = fields.TextField(default="")
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "review_score"
        ordering = ["id"]
        unique_together = [("assignment", "criterion")]


class TargetJudgement(Model):
    """An expert's judgement whether a project met one assessment target (考核指标), in an acceptance review."""

    id = fields.IntField(primary_key=True)
    assignment = fields.ForeignKeyField("models.Assignment", related_name="judgements", on_delete=fields.CASCADE)
    target = fields.ForeignKeyField("models.AssessmentTarget", related_name="judgements", on_delete=fields.CASCADE)
    met = fields.BooleanField(null=True)
    comment = fields.CharField(max_length=500, default="")
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "review_target_judgement"
        ordering = ["id"]
        unique_together = [("assignment", "target")]


class ReviewOpinion(Model):
    """The panel's opinion (专家组意见) recorded by the chair, with the recommended winners."""

    id = fields.IntField(primary_key=True)
    panel = fields.OneToOneField("models.Panel", related_name="opinion", on_delete=fields.CASCADE)
    text = fields.TextField()
    recommended = fields.ManyToManyField("models.Bid", related_name="recommended_by", through="review_recommendation")
    recorded_by = fields.ForeignKeyField("models.User", related_name="review_opinions", null=True, on_delete=fields.SET_NULL)
    recorded_at = fields.DatetimeField()

    class Meta:
        table = "review_opinion"


class StageResult(Model):
    """The outcome of a horse-race stage gate for one team."""

    id = fields.IntField(primary_key=True)
    panel = fields.ForeignKeyField("models.Panel", related_name="stage_results", on_delete=fields.CASCADE)
    stage = fields.ForeignKeyField("models.Stage", related_name="results", on_delete=fields.CASCADE)
    bid = fields.ForeignKeyField("models.Bid", related_name="stage_results", on_delete=fields.CASCADE)
    rank = fields.IntField()
    score = fields.DecimalField(max_digits=7, decimal_places=2, null=True)
    outcome = fields.CharEnumField(StageOutcome, max_length=12)
    decided_by = fields.ForeignKeyField("models.User", related_name="stage_decisions", null=True, on_delete=fields.SET_NULL)
    decided_at = fields.DatetimeField()

    class Meta:
        table = "stage_result"
        ordering = ["stage_id", "rank"]
        unique_together = [("stage", "bid")]


class SanitisedBlob(Model):
    """A cached copy of a blob with its document metadata removed, for blind review."""

    id = fields.BigIntField(primary_key=True)
    original = fields.OneToOneField("models.Blob", related_name="sanitised_copy", on_delete=fields.CASCADE)
    sanitised = fields.ForeignKeyField("models.Blob", related_name="sanitised_from", on_delete=fields.RESTRICT)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "sanitised_blob"
