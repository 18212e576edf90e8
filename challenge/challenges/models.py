"""Challenges (榜单) and horse-race tracks (赛道), their amendments (补充通知) and questions (答疑)."""

from datetime import datetime

from tortoise import fields
from tortoise.models import Model

from challenge.challenges.search import build_search_text
from challenge.enums import N_, LabelledStrEnum


class Mechanism(LabelledStrEnum):
    OPEN_CALL = "open_call", N_("揭榜挂帅")
    HORSE_RACE = "horse_race", N_("赛马")


class ChallengeStatus(LabelledStrEnum):
    DRAFT = "draft", N_("草稿")
    PUBLISHED = "published", N_("揭榜中")
    CLOSED = "closed", N_("已截止")
    REVIEWING = "reviewing", N_("评审中")
    NOTICE = "notice", N_("公示中")
    ANNOUNCED = "announced", N_("已公告")
    DELIVERING = "delivering", N_("攻关中")
    FINISHED = "finished", N_("已验收")
    CANCELLED = "cancelled", N_("已撤销")


PUBLIC_CHALLENGE_STATES = {
    ChallengeStatus.PUBLISHED,
    ChallengeStatus.CLOSED,
    ChallengeStatus.REVIEWING,
    ChallengeStatus.NOTICE,
    ChallengeStatus.ANNOUNCED,
    ChallengeStatus.DELIVERING,
    ChallengeStatus.FINISHED,
    ChallengeStatus.CANCELLED,
}
# The review result has been put on public notice (公示) or announced.
RESULT_CHALLENGE_STATES = {
    ChallengeStatus.NOTICE,
    ChallengeStatus.ANNOUNCED,
    ChallengeStatus.DELIVERING,
    ChallengeStatus.FINISHED,
}
FINAL_CHALLENGE_STATES = {ChallengeStatus.FINISHED, ChallengeStatus.CANCELLED}

# The state machine of DESIGN 3.3: the only transitions `set_challenge_status` accepts.
CHALLENGE_TRANSITIONS: dict[ChallengeStatus, set[ChallengeStatus]] = {
    ChallengeStatus.DRAFT: {ChallengeStatus.PUBLISHED, ChallengeStatus.CANCELLED},
    ChallengeStatus.PUBLISHED: {ChallengeStatus.CLOSED, ChallengeStatus.CANCELLED},
    ChallengeStatus.CLOSED: {ChallengeStatus.REVIEWING, ChallengeStatus.CANCELLED},
    ChallengeStatus.REVIEWING: {ChallengeStatus.NOTICE, ChallengeStatus.CANCELLED},
    ChallengeStatus.NOTICE: {ChallengeStatus.ANNOUNCED, ChallengeStatus.REVIEWING, ChallengeStatus.CANCELLED},
    ChallengeStatus.ANNOUNCED: {ChallengeStatus.DELIVERING, ChallengeStatus.CANCELLED},
    ChallengeStatus.DELIVERING: {ChallengeStatus.FINISHED, ChallengeStatus.CANCELLED},
    ChallengeStatus.FINISHED: set(),
    ChallengeStatus.CANCELLED: set(),
}


SEARCHED_FIELDS = ("title", "summary", "description", "targets_text")


class Aggregation(LabelledStrEnum):
    MEAN = "mean", N_("算术平均")
    TRIMMED_MEAN = "trimmed_mean", N_("去掉最高最低分后平均")


class Challenge(Model):
    id = fields.IntField(primary_key=True)
    mechanism = fields.CharEnumField(Mechanism, max_length=12)
    title = fields.CharField(max_length=200)
    summary = fields.TextField(default="")
    description = fields.TextField(default="")
    domain = fields.ForeignKeyField("models.Domain", related_name="challenges", null=True, on_delete=fields.RESTRICT)
    status = fields.CharEnumField(ChallengeStatus, max_length=12, default=ChallengeStatus.DRAFT, db_index=True)
    funding_wan = fields.DecimalField(max_digits=14, decimal_places=2, default=0)
    delivery_months = fields.IntField(default=24)
    opens_at = fields.DatetimeField(null=True)
    closes_at = fields.DatetimeField(null=True, db_index=True)
    winners_count = fields.IntField(default=1)
    experts_per_bid = fields.IntField(default=5)
    blind_review = fields.BooleanField(default=False)
    aggregation = fields.CharEnumField(Aggregation, max_length=14, default=Aggregation.TRIMMED_MEAN)
    # Eligibility (揭榜条件)
    eligibility_text = fields.TextField(default="")
    allowed_org_types = fields.JSONField(default=list)
    allowed_regions = fields.JSONField(default=list)
    consortium_required = fields.BooleanField(default=False)
    max_partners = fields.IntField(default=5)
    issuers = fields.ManyToManyField("models.Organisation", related_name="issued_challenges", through="challenge_issuer")
    needs = fields.ManyToManyField("models.Need", related_name="challenges", through="challenge_need")
    version = fields.IntField(default=1)
    cancel_reason = fields.TextField(default="")
    # The assessment targets as text (kept by the services when targets change), and what text
    # search reads: title, summary, description and targets, recomputed by save() every time.
    targets_text = fields.TextField(default="")
    search_text = fields.TextField(default="")
    published_at = fields.DatetimeField(null=True, db_index=True)
    # The public number (榜单编号, LC-2026-0007), given by `set_challenge_status` on publishing
    # and never changed: official notices, portals and bidders quote it.
    public_number = fields.CharField(max_length=20, null=True, unique=True)
    # Who answers questions about the call by telephone (咨询联系人/电话), printed on the page.
    contact_name = fields.CharField(max_length=50, default="", db_default="")
    contact_phone = fields.CharField(max_length=40, default="", db_default="")
    created_by = fields.ForeignKeyField("models.User", related_name="challenges_created", null=True, on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "challenge"
        ordering = ["-published_at", "-id"]

    def __str__(self) -> str:
        return self.title

    async def save(self, *args, update_fields=None, **kwargs) -> None:
        self.search_text = build_search_text(self.title, self.summary, self.description, self.targets_text)
        if update_fields is not None and set(update_fields) & set(SEARCHED_FIELDS):
            update_fields = [*update_fields, "search_text"]
        await super().save(*args, update_fields=update_fields, **kwargs)

    def window_passed(self, now: datetime) -> bool:
        return self.closes_at is not None and self.closes_at <= now

    def accepting_bids(self, now: datetime) -> bool:
        """Bids are accepted only while published AND inside the window, whatever a job has done."""
        return (self.status == ChallengeStatus.PUBLISHED and self.opens_at is not None
                and self.opens_at <= now and not self.window_passed(now))

    def amendable(self, now: datetime) -> bool:
        """After publishing, changes are amendments (补充通知), until the bid window closes: bidders
        must be able to act on every change, and the review judges bids against what was published."""
        return self.status == ChallengeStatus.PUBLISHED and not self.window_passed(now)

    def shown_status(self, now: datetime) -> ChallengeStatus:
        """Published with its window passed is shown closed even before `close-expired` flips it."""
        if self.status == ChallengeStatus.PUBLISHED and self.window_passed(now):
            return ChallengeStatus.CLOSED
        return self.status

    @property
    def is_public(self) -> bool:
        return self.status in PUBLIC_CHALLENGE_STATES


class ChallengeNumberCounter(Model):
    """The last public number given in a year: one row per year, raised inside the publishing
    transaction so that two challenges published at once never get the same number."""

    id = fields.IntField(primary_key=True)
    year = fields.IntField(unique=True)
    last_number = fields.IntField(default=0)

    class Meta:
        table = "challenge_number_counter"


class DocumentKind(LabelledStrEnum):
    """What an organiser's document on a challenge page is (stored as the attachment's category)."""

    GUIDE = "guide", N_("申报指南")
    TEMPLATE = "template", N_("申报书模板")
    NOTICE = "notice", N_("正式通知（PDF）")
    OTHER = "other", N_("其他文件")


class AssessmentTarget(Model):
    """A measurable assessment item (考核指标)."""

    id = fields.IntField(primary_key=True)
    challenge = fields.ForeignKeyField("models.Challenge", related_name="targets", on_delete=fields.CASCADE)
    position = fields.IntField(default=0)
    name = fields.CharField(max_length=200)
    target_value = fields.CharField(max_length=100)
    unit = fields.CharField(max_length=50, default="")
    verification = fields.CharField(max_length=300, default="")

    class Meta:
        table = "assessment_target"
        ordering = ["position", "id"]


class RubricCriterion(Model):
    """A criterion of a challenge's review rubric, or of a panel's own (a panel outside any challenge)."""

    id = fields.IntField(primary_key=True)
    challenge = fields.ForeignKeyField("models.Challenge", related_name="criteria", null=True,
                                       on_delete=fields.CASCADE)
    panel = fields.ForeignKeyField("models.Panel", related_name="own_criteria", null=True, on_delete=fields.CASCADE)
    position = fields.IntField(default=0)
    name = fields.CharField(max_length=200)
    weight = fields.IntField()  # percent; a rubric's weights sum to 100
    max_score = fields.IntField(default=100)
    guidance = fields.TextField(default="")

    class Meta:
        table = "rubric_criterion"
        ordering = ["position", "id"]


class Stage(Model):
    """A horse-race stage (赛马阶段)."""

    id = fields.IntField(primary_key=True)
    challenge = fields.ForeignKeyField("models.Challenge", related_name="stages", on_delete=fields.CASCADE)
    position = fields.IntField(default=0)
    name = fields.CharField(max_length=200)
    deliverable = fields.TextField(default="")
    due_at = fields.DatetimeField()
    advance_count = fields.IntField(default=1)
    # The funding of the stage (阶段经费, 万元): what the teams racing in it share.
    funding_wan = fields.DecimalField(max_digits=14, decimal_places=2, default=0, db_default=0)

    class Meta:
        table = "stage"
        ordering = ["position", "id"]


class Amendment(Model):
    """A supplementary notice (补充通知): a versioned, dated change to a published challenge."""

    id = fields.IntField(primary_key=True)
    challenge = fields.ForeignKeyField("models.Challenge", related_name="amendments", on_delete=fields.CASCADE)
    version = fields.IntField()
    explanation = fields.TextField()
    # [{"field": name, "before": value, "after": value}] with JSON values (dates as ISO text).
    changes = fields.JSONField(default=list)
    created_by = fields.ForeignKeyField("models.User", related_name="amendments", null=True, on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "challenge_amendment"
        ordering = ["-version"]
        unique_together = [("challenge", "version")]


class Question(Model):
    """A public question (答疑). The asker is never shown to the public."""

    id = fields.IntField(primary_key=True)
    challenge = fields.ForeignKeyField("models.Challenge", related_name="questions", on_delete=fields.CASCADE)
    asked_by = fields.ForeignKeyField("models.User", related_name="questions_asked", null=True, on_delete=fields.SET_NULL)
    body = fields.TextField()
    answer = fields.TextField(default="")
    answered_by = fields.ForeignKeyField("models.User", related_name="questions_answered", null=True,
                                         on_delete=fields.SET_NULL)
    answered_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "challenge_question"
        ordering = ["created_at", "id"]

    @property
    def is_answered(self) -> bool:
        return self.answered_at is not None
