"""Results: the organiser's decision on a concluded review (评审结果), the public notice (公示)
with its period in working days, objections (异议), and the announcement (结果公告).

A notice has a kind and points at a challenge and, for a horse-race stage gate, a stage; the
decision it publishes is optional, so that later kinds (other subjects put up for public notice)
can reuse the notice and objection machinery.
"""

from datetime import datetime

from tortoise import fields
from tortoise.models import Model

from challenge.enums import N_, LabelledStrEnum


class NoticeKind(LabelledStrEnum):
    RESULT = "result", N_("评审结果公示")  # the proposed winners of a challenge
    STAGE = "stage", N_("阶段晋级公示")  # the teams going on at a horse-race stage gate
    CATALOGUE = "catalogue", N_("推广目录公示")  # a catalogue round's proposed entries (no challenge)


class NoticeStatus(LabelledStrEnum):
    OPEN = "open", N_("公示中")
    ANNOUNCED = "announced", N_("已公告")
    SUPERSEDED = "superseded", N_("已撤回")  # an objection was upheld; a revised notice follows


# Notices that stand: the one being shown, or the one whose result was announced.
LIVE_NOTICE_STATES = {NoticeStatus.OPEN, NoticeStatus.ANNOUNCED}
NOTICE_TRANSITIONS: dict[NoticeStatus, set[NoticeStatus]] = {
    NoticeStatus.OPEN: {NoticeStatus.ANNOUNCED, NoticeStatus.SUPERSEDED},
    NoticeStatus.ANNOUNCED: set(),
    NoticeStatus.SUPERSEDED: set(),
}


class ObjectionStatus(LabelledStrEnum):
    OPEN = "open", N_("待处理")
    DISMISSED = "dismissed", N_("异议不成立")
    UPHELD = "upheld", N_("异议成立")


ANSWERED_OBJECTION_STATES = {ObjectionStatus.DISMISSED, ObjectionStatus.UPHELD}
OBJECTION_TRANSITIONS: dict[ObjectionStatus, set[ObjectionStatus]] = {
    ObjectionStatus.OPEN: ANSWERED_OBJECTION_STATES,
    ObjectionStatus.DISMISSED: set(),
    ObjectionStatus.UPHELD: set(),
}


class Remedy(LabelledStrEnum):
    """What an upheld objection does to the review."""

    REOPEN_REVIEW = "reopen_review", N_("退回专家组重新评审")
    NEW_DECISION = "new_decision", N_("重新作出评审结果")


class Decision(Model):
    """The organiser's decision on the bids of a concluded panel: who is proposed (or goes on).

    Rewritten while it has no notice, kept as it was once published. A revision after an upheld
    objection is a new row with the next `revision`.
    """

    id = fields.IntField(primary_key=True)
    panel = fields.ForeignKeyField("models.Panel", related_name="decisions", on_delete=fields.RESTRICT)
    challenge = fields.ForeignKeyField("models.Challenge", related_name="decisions", on_delete=fields.RESTRICT)
    stage = fields.ForeignKeyField("models.Stage", related_name="decisions", null=True, on_delete=fields.RESTRICT)
    revision = fields.IntField(default=1)
    # SHA-256 of the canonical table of the raw scores behind the decision (see results.digest).
    scores_sha256 = fields.CharField(max_length=64)
    scores_count = fields.IntField(default=0)
    recorded_by = fields.ForeignKeyField("models.User", related_name="result_decisions", null=True,
                                         on_delete=fields.SET_NULL)
    recorded_at = fields.DatetimeField()

    class Meta:
        table = "result_decision"
        ordering = ["panel_id", "revision"]
        unique_together = [("panel", "revision")]


class DecisionEntry(Model):
    """One bid in a decision, with what the ranking and the panel's recommendation said of it."""

    id = fields.IntField(primary_key=True)
    decision = fields.ForeignKeyField("models.Decision", related_name="entries", on_delete=fields.CASCADE)
    bid = fields.ForeignKeyField("models.Bid", related_name="decision_entries", on_delete=fields.RESTRICT)
    rank = fields.IntField()
    score = fields.DecimalField(max_digits=7, decimal_places=2, null=True)
    in_top = fields.BooleanField()  # within the first N of the ranking (N winners or teams to go on)
    recommended = fields.BooleanField()  # recommended in the panel's opinion
    selected = fields.BooleanField()  # the organiser's decision
    reason = fields.TextField(default="")  # required when `selected` departs from the ranking or the panel

    class Meta:
        table = "result_decision_entry"
        ordering = ["rank", "id"]
        unique_together = [("decision", "bid")]


class Notice(Model):
    """A public notice (公示): what is proposed, its period and how to object, then its outcome."""

    id = fields.IntField(primary_key=True)
    kind = fields.CharEnumField(NoticeKind, max_length=12)
    # None for a notice that is not a challenge's (a catalogue round's: see `promotion`).
    challenge = fields.ForeignKeyField("models.Challenge", related_name="notices", null=True,
                                       on_delete=fields.RESTRICT)
    stage = fields.ForeignKeyField("models.Stage", related_name="notices", null=True, on_delete=fields.RESTRICT)
    decision = fields.OneToOneField("models.Decision", related_name="notice", null=True, on_delete=fields.RESTRICT)
    revision = fields.IntField(default=1)
    replaces = fields.OneToOneField("models.Notice", related_name="replaced_by", null=True,
                                    on_delete=fields.RESTRICT)
    status = fields.CharEnumField(NoticeStatus, max_length=12, default=NoticeStatus.OPEN, db_index=True)
    working_days = fields.IntField()
    starts_on = fields.DateField()  # the first working day of the period
    ends_on = fields.DateField()  # the last working day of the period
    ends_at = fields.DatetimeField(db_index=True)
    published_by = fields.ForeignKeyField("models.User", related_name="notices_published", null=True,
                                          on_delete=fields.SET_NULL)
    published_at = fields.DatetimeField(db_index=True)
    closed_by = fields.ForeignKeyField("models.User", related_name="notices_closed", null=True,
                                       on_delete=fields.SET_NULL)
    closed_at = fields.DatetimeField(null=True)  # announced, or superseded
    announcement = fields.TextField(default="")  # the organiser's words on the announcement
    # The audit chain's head (seq, count, hash, at) when the notice was published and when its
    # result was announced: printed on the page, so a later rewrite of the log shows.
    published_head = fields.JSONField(null=True)
    announced_head = fields.JSONField(null=True)

    class Meta:
        table = "result_notice"
        ordering = ["-published_at", "-id"]

    def accepts_objections(self, now: datetime) -> bool:
        return self.status == NoticeStatus.OPEN and now < self.ends_at

    def period_over(self, now: datetime) -> bool:
        return now >= self.ends_at


class Objection(Model):
    """An objection (异议) to a notice. Confidential: only its objector and the organisers see it,
    the public sees how many there are and their outcomes."""

    id = fields.IntField(primary_key=True)
    notice = fields.ForeignKeyField("models.Notice", related_name="objections", on_delete=fields.RESTRICT)
    objector = fields.ForeignKeyField("models.User", related_name="objections", on_delete=fields.RESTRICT)
    real_name = fields.CharField(max_length=50)
    contact = fields.CharField(max_length=200)
    reasons = fields.TextField()
    status = fields.CharEnumField(ObjectionStatus, max_length=12, default=ObjectionStatus.OPEN, db_index=True)
    answer = fields.TextField(default="")
    remedy = fields.CharEnumField(Remedy, max_length=14, null=True)
    answered_by = fields.ForeignKeyField("models.User", related_name="objections_answered", null=True,
                                         on_delete=fields.SET_NULL)
    answered_at = fields.DatetimeField(null=True)
    filed_at = fields.DatetimeField()

    class Meta:
        table = "result_objection"
        ordering = ["filed_at", "id"]
