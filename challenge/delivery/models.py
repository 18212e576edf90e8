"""Delivery (攻关与验收): horse-race stage deliverables, projects with their milestones and funding
tranches, progress reports, mid-term and acceptance reviews and their results.

What a team hands in (a stage deliverable, a progress report, an acceptance report) is frozen at
each submission as a `DeliveryVersion`: the canonical JSON of the content and of its files'
hashes, and its SHA-256 (the receipt), the way a bid's versions are.
"""

from tortoise import fields
from tortoise.models import Model

from challenge.enums import N_, LabelledStrEnum


class VersionKind(LabelledStrEnum):
    DELIVERABLE = "deliverable", N_("阶段交付物")
    REPORT = "report", N_("进展报告")
    ACCEPTANCE = "acceptance", N_("验收报告")


class ImmutableVersion(Exception):
    pass


class DeliveryVersion(Model):
    """One submission, frozen: rows are written once and never changed (see `delivery.receipts`)."""

    id = fields.IntField(primary_key=True)
    kind = fields.CharEnumField(VersionKind, max_length=12)
    owner_id = fields.IntField()  # the deliverable, progress report or acceptance report
    version = fields.IntField()
    document = fields.TextField()  # canonical JSON, the exact bytes that were hashed (UTF-8)
    sha256 = fields.CharField(max_length=64)
    submitted_at = fields.DatetimeField()
    submitted_by = fields.ForeignKeyField("models.User", related_name="delivery_versions", null=True,
                                          on_delete=fields.SET_NULL)

    class Meta:
        table = "delivery_version"
        ordering = ["kind", "owner_id", "version"]
        unique_together = [("kind", "owner_id", "version")]

    async def save(self, *args, **kwargs) -> None:
        if self._saved_in_db:
            raise ImmutableVersion("a delivery version is never changed")
        await super().save(*args, **kwargs)

    async def delete(self, *args, **kwargs) -> None:
        raise ImmutableVersion("a delivery version is never deleted")

    @property
    def receipt_number(self) -> str:
        prefix = {VersionKind.DELIVERABLE: "S", VersionKind.REPORT: "P", VersionKind.ACCEPTANCE: "A"}[self.kind]
        return f"{prefix}{self.owner_id:05d}-V{self.version:02d}"


class StageDeliverable(Model):
    """A team's deliverable for one horse-race stage (阶段交付物): the report text now, its files
    (attachments owned by it), and the number of its latest submitted version."""

    id = fields.IntField(primary_key=True)
    stage = fields.ForeignKeyField("models.Stage", related_name="deliverables", on_delete=fields.RESTRICT)
    bid = fields.ForeignKeyField("models.Bid", related_name="stage_deliverables", on_delete=fields.RESTRICT)
    report = fields.TextField(default="")
    current_version = fields.IntField(default=0)
    submitted_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "stage_deliverable"
        ordering = ["stage_id", "bid_id"]
        unique_together = [("stage", "bid")]


class ProjectStatus(LabelledStrEnum):
    ACTIVE = "active", N_("实施中")
    RECTIFYING = "rectifying", N_("限期整改")
    ACCEPTED = "accepted", N_("通过验收")
    FAILED = "failed", N_("未通过验收")
    TERMINATED = "terminated", N_("已终止")


# The team works on the project (reports, acceptance) in these states.
OPEN_PROJECT_STATES = {ProjectStatus.ACTIVE, ProjectStatus.RECTIFYING}
FINAL_PROJECT_STATES = {ProjectStatus.ACCEPTED, ProjectStatus.FAILED, ProjectStatus.TERMINATED}
PROJECT_TRANSITIONS: dict[ProjectStatus, set[ProjectStatus]] = {
    ProjectStatus.ACTIVE: {ProjectStatus.RECTIFYING, ProjectStatus.ACCEPTED, ProjectStatus.FAILED,
                           ProjectStatus.TERMINATED},
    ProjectStatus.RECTIFYING: {ProjectStatus.ACTIVE, ProjectStatus.RECTIFYING, ProjectStatus.ACCEPTED,
                               ProjectStatus.FAILED, ProjectStatus.TERMINATED},
    ProjectStatus.ACCEPTED: set(),
    ProjectStatus.FAILED: set(),
    ProjectStatus.TERMINATED: set(),
}


class Project(Model):
    """A project (攻关项目): a winning bid delivering against the challenge's assessment targets.

    Its plan is the winning bid's submitted milestones (copied as `ProjectMilestone`) and budget
    (the bid version `plan_version`, whose requested total bounds the funding tranches)."""

    id = fields.IntField(primary_key=True)
    challenge = fields.ForeignKeyField("models.Challenge", related_name="projects", on_delete=fields.RESTRICT)
    bid = fields.OneToOneField("models.Bid", related_name="project", on_delete=fields.RESTRICT)
    title = fields.CharField(max_length=200)
    status = fields.CharEnumField(ProjectStatus, max_length=12, default=ProjectStatus.ACTIVE, db_index=True)
    plan_version = fields.IntField(default=0)
    requested_wan = fields.DecimalField(max_digits=14, decimal_places=2, default=0)
    own_wan = fields.DecimalField(max_digits=14, decimal_places=2, default=0)
    # The acceptance round the team reports for: 1, then one more after each 限期整改.
    acceptance_round = fields.IntField(default=1)
    rectify_by = fields.DateField(null=True)
    started_at = fields.DatetimeField()
    finished_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "delivery_project"
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.title

    @property
    def number(self) -> str:
        return f"XM{self.challenge_id:04d}-{self.id:04d}"


class ProjectMilestone(Model):
    """A milestone of the project's plan (攻关节点), from the winning bid."""

    id = fields.IntField(primary_key=True)
    project = fields.ForeignKeyField("models.Project", related_name="milestones", on_delete=fields.CASCADE)
    position = fields.IntField(default=0)
    title = fields.CharField(max_length=200)
    due_date = fields.DateField(db_index=True)
    deliverable = fields.TextField(default="")

    class Meta:
        table = "delivery_milestone"
        ordering = ["position", "id"]


class FundingTranche(Model):
    """A funding tranche (拨付批次) tied to a milestone: planned, then released, as the organiser records."""

    id = fields.IntField(primary_key=True)
    project = fields.ForeignKeyField("models.Project", related_name="tranches", on_delete=fields.CASCADE)
    milestone = fields.ForeignKeyField("models.ProjectMilestone", related_name="tranches", null=True,
                                       on_delete=fields.SET_NULL)
    planned_wan = fields.DecimalField(max_digits=14, decimal_places=2)
    planned_on = fields.DateField()
    released_wan = fields.DecimalField(max_digits=14, decimal_places=2, null=True)
    released_on = fields.DateField(null=True)
    note = fields.CharField(max_length=500, default="")
    created_by = fields.ForeignKeyField("models.User", related_name="tranches_planned", null=True,
                                        on_delete=fields.SET_NULL)
    released_by = fields.ForeignKeyField("models.User", related_name="tranches_released", null=True,
                                         on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "delivery_tranche"
        ordering = ["planned_on", "id"]

    @property
    def is_released(self) -> bool:
        return self.released_on is not None


class ReportStatus(LabelledStrEnum):
    SUBMITTED = "submitted", N_("待审核")
    RETURNED = "returned", N_("需补充")
    ACCEPTED = "accepted", N_("已通过")


REPORT_TRANSITIONS: dict[ReportStatus, set[ReportStatus]] = {
    ReportStatus.SUBMITTED: {ReportStatus.SUBMITTED, ReportStatus.RETURNED, ReportStatus.ACCEPTED},
    ReportStatus.RETURNED: {ReportStatus.SUBMITTED},
    ReportStatus.ACCEPTED: set(),
}


class ProgressReport(Model):
    """The team's progress report (进展报告) on one milestone, revised until the organiser accepts it."""

    id = fields.IntField(primary_key=True)
    project = fields.ForeignKeyField("models.Project", related_name="reports", on_delete=fields.CASCADE)
    milestone = fields.OneToOneField("models.ProjectMilestone", related_name="report", on_delete=fields.CASCADE)
    status = fields.CharEnumField(ReportStatus, max_length=12, default=ReportStatus.SUBMITTED, db_index=True)
    text = fields.TextField(default="")
    current_version = fields.IntField(default=0)
    submitted_at = fields.DatetimeField(null=True)
    reason = fields.TextField(default="")  # why the organiser asked for more
    decided_by = fields.ForeignKeyField("models.User", related_name="report_decisions", null=True,
                                        on_delete=fields.SET_NULL)
    decided_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "delivery_progress_report"
        ordering = ["id"]


class AcceptanceReport(Model):
    """The team's acceptance report (验收报告) for one round: a summary, the achieved value of every
    assessment target with its evidence (attachments in the category `target-<id>`)."""

    id = fields.IntField(primary_key=True)
    project = fields.ForeignKeyField("models.Project", related_name="acceptance_reports", on_delete=fields.CASCADE)
    round = fields.IntField(default=1)
    summary = fields.TextField(default="")
    current_version = fields.IntField(default=0)
    submitted_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "delivery_acceptance_report"
        ordering = ["project_id", "round"]
        unique_together = [("project", "round")]


class AchievedValue(Model):
    """The value a project achieved for one assessment target, as reported for acceptance, and the
    acceptance panel's verdict (met by the majority of its experts) once the result is recorded."""

    id = fields.IntField(primary_key=True)
    report = fields.ForeignKeyField("models.AcceptanceReport", related_name="achieved", on_delete=fields.CASCADE)
    target = fields.ForeignKeyField("models.AssessmentTarget", related_name="achieved_values",
                                    on_delete=fields.RESTRICT)
    value = fields.CharField(max_length=200)
    note = fields.CharField(max_length=1000, default="")
    met = fields.BooleanField(null=True)

    class Meta:
        table = "delivery_achieved_value"
        ordering = ["report_id", "id"]
        unique_together = [("report", "target")]


class ProjectReview(Model):
    """A mid-term or acceptance review of a project: the review panel (its purpose says which) and
    the acceptance round it judges (1 for a mid-term review)."""

    id = fields.IntField(primary_key=True)
    project = fields.ForeignKeyField("models.Project", related_name="reviews", on_delete=fields.CASCADE)
    panel = fields.OneToOneField("models.Panel", related_name="project_review", on_delete=fields.CASCADE)
    round = fields.IntField(default=1)
    acceptance_report = fields.ForeignKeyField("models.AcceptanceReport", related_name="reviews", null=True,
                                               on_delete=fields.RESTRICT)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "delivery_project_review"
        ordering = ["id"]


class Outcome(LabelledStrEnum):
    PASSED = "passed", N_("予以通过")
    RECTIFY = "rectify", N_("限期整改")
    FAILED = "failed", N_("不予通过")


class ReviewResult(Model):
    """The organiser's result of a mid-term or acceptance review, with the panel's opinion.
    An acceptance result is public (published on the challenge page, /results and the feeds)."""

    id = fields.IntField(primary_key=True)
    review = fields.OneToOneField("models.ProjectReview", related_name="result", on_delete=fields.RESTRICT)
    project = fields.ForeignKeyField("models.Project", related_name="results", on_delete=fields.RESTRICT)
    outcome = fields.CharEnumField(Outcome, max_length=10)
    opinion = fields.TextField()
    rectify_by = fields.DateField(null=True)  # 限期整改: the date the re-acceptance report is due
    score = fields.DecimalField(max_digits=7, decimal_places=2, null=True)  # the panel's score
    published = fields.BooleanField(default=False)
    recorded_by = fields.ForeignKeyField("models.User", related_name="review_results", null=True,
                                         on_delete=fields.SET_NULL)
    recorded_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "delivery_review_result"
        ordering = ["-recorded_at", "-id"]


class ReminderKind(LabelledStrEnum):
    MILESTONE_DUE = "milestone_due", N_("节点到期提醒")
    MILESTONE_OVERDUE = "milestone_overdue", N_("节点逾期提醒")


class Reminder(Model):
    """A reminder mailed about a milestone to one person: sent once (`challenge remind`)."""

    id = fields.IntField(primary_key=True)
    kind = fields.CharEnumField(ReminderKind, max_length=20)
    milestone = fields.ForeignKeyField("models.ProjectMilestone", related_name="reminders", on_delete=fields.CASCADE)
    user = fields.ForeignKeyField("models.User", related_name="delivery_reminders", on_delete=fields.CASCADE)
    sent_at = fields.DatetimeField()

    class Meta:
        table = "delivery_reminder"
        ordering = ["id"]
        unique_together = [("kind", "milestone", "user")]
