"""Challenges (榜单) and horse-race tracks (赛道). Core fields; issue 3 owns the rest."""


from tortoise import fields
from tortoise.models import Model

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


class Aggregation(LabelledStrEnum):
    MEAN = "mean", N_("算术平均")
    TRIMMED_MEAN = "trimmed_mean", N_("去掉最高最低分后平均")


class Challenge(Model):
    id = fields.IntField(primary_key=True)
    mechanism = fields.CharEnumField(Mechanism, max_length=12)
    title = fields.CharField(max_length=200)
    summary = fields.TextField(default="")
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
    published_at = fields.DatetimeField(null=True, db_index=True)
    created_by = fields.ForeignKeyField("models.User", related_name="challenges_created", null=True, on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "challenge"
        ordering = ["-published_at", "-id"]

    def __str__(self) -> str:
        return self.title


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
    id = fields.IntField(primary_key=True)
    challenge = fields.ForeignKeyField("models.Challenge", related_name="criteria", on_delete=fields.CASCADE)
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

    class Meta:
        table = "stage"
        ordering = ["position", "id"]
