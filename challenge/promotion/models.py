"""Catalogue rounds (推广目录遴选), their candidates, and the published catalogue (推广目录).

A round is opened by the programme office with its conditions; candidates come from accepted
projects (the achieved values of their assessment targets carried into their parameters) and from
published technology offers their owners apply with (技术成果申报). Each
candidate eligible after screening is evaluated by an expert panel of the reviews area (purpose
`evaluation`), the proposed entries go on a public notice of the results area, and publishing
the round lists them in the catalogue. Every published state of the catalogue is a
`CatalogueVersion`: the canonical JSON of all its entries and its SHA-256, never changed.
"""

from tortoise import fields
from tortoise.models import Model

from challenge.enums import N_, LabelledStrEnum


class RoundStatus(LabelledStrEnum):
    DRAFT = "draft", N_("草稿")
    OPEN = "open", N_("征集中")
    EVALUATING = "evaluating", N_("技术评价中")
    NOTICE = "notice", N_("公示中")
    PUBLISHED = "published", N_("已发布")


ROUND_TRANSITIONS: dict[RoundStatus, set[RoundStatus]] = {
    RoundStatus.DRAFT: {RoundStatus.OPEN},
    RoundStatus.OPEN: {RoundStatus.EVALUATING},
    # Back from notice when an objection is upheld: the round is evaluated again.
    RoundStatus.EVALUATING: {RoundStatus.NOTICE},
    RoundStatus.NOTICE: {RoundStatus.PUBLISHED, RoundStatus.EVALUATING},
    RoundStatus.PUBLISHED: set(),
}
PUBLIC_ROUND_STATES = {RoundStatus.OPEN, RoundStatus.EVALUATING, RoundStatus.NOTICE, RoundStatus.PUBLISHED}


class CandidateSource(LabelledStrEnum):
    PROJECT = "project", N_("通过验收的攻关项目")
    OFFER = "offer", N_("技术成果")


class CandidateStatus(LabelledStrEnum):
    PROPOSED = "proposed", N_("待初审")
    ELIGIBLE = "eligible", N_("通过初审")
    SCREENED_OUT = "screened_out", N_("未通过初审")
    RECOMMENDED = "recommended", N_("拟入选")
    NOT_RECOMMENDED = "not_recommended", N_("未入选")
    LISTED = "listed", N_("已入目录")


CANDIDATE_TRANSITIONS: dict[CandidateStatus, set[CandidateStatus]] = {
    CandidateStatus.PROPOSED: {CandidateStatus.ELIGIBLE, CandidateStatus.SCREENED_OUT},
    CandidateStatus.ELIGIBLE: {CandidateStatus.RECOMMENDED, CandidateStatus.NOT_RECOMMENDED},
    CandidateStatus.SCREENED_OUT: set(),
    # An upheld objection sends the round back to evaluation: the proposal is made again.
    CandidateStatus.RECOMMENDED: {CandidateStatus.LISTED, CandidateStatus.ELIGIBLE},
    CandidateStatus.NOT_RECOMMENDED: {CandidateStatus.ELIGIBLE},
    CandidateStatus.LISTED: set(),
}


class EntryStatus(LabelledStrEnum):
    LISTED = "listed", N_("有效")
    WITHDRAWN = "withdrawn", N_("已撤销")


class ChangeKind(LabelledStrEnum):
    LISTED = "listed", N_("列入目录")
    UPDATED = "updated", N_("内容调整")
    WITHDRAWN = "withdrawn", N_("撤销")


class CatalogueRound(Model):
    """A yearly selection round (推广目录遴选批次) with its stated conditions."""

    id = fields.IntField(primary_key=True)
    year = fields.IntField()
    title = fields.CharField(max_length=200)
    conditions = fields.TextField()
    deadline = fields.DatetimeField()  # applications close
    # The technical evaluation rubric (技术评价) of the round: [{"name", "weight", "max_score", "guidance"}].
    rubric = fields.JSONField(default=list)
    domains = fields.ManyToManyField("models.Domain", related_name="catalogue_rounds", through="catalogue_round_domain")
    status = fields.CharEnumField(RoundStatus, max_length=12, default=RoundStatus.DRAFT, db_index=True)
    # The current catalogue notice (a withdrawn one is chained to its revision by `replaces`).
    notice = fields.ForeignKeyField("models.Notice", related_name="catalogue_rounds", null=True,
                                    on_delete=fields.RESTRICT)
    created_by = fields.ForeignKeyField("models.User", related_name="catalogue_rounds", null=True,
                                        on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField(auto_now_add=True)
    published_at = fields.DatetimeField(null=True)

    class Meta:
        table = "catalogue_round"
        ordering = ["-year", "-id"]


class Candidate(Model):
    """A technology proposed for the catalogue in a round, with the catalogue's fields.

    A project may yield several technologies (a material and a process), each its own candidate
    under its own name. An offer applies once per round."""

    id = fields.IntField(primary_key=True)
    round = fields.ForeignKeyField("models.CatalogueRound", related_name="candidates", on_delete=fields.CASCADE)
    source = fields.CharEnumField(CandidateSource, max_length=8, default=CandidateSource.PROJECT)
    project = fields.ForeignKeyField("models.Project", related_name="catalogue_candidates", null=True,
                                     on_delete=fields.RESTRICT)
    offer = fields.ForeignKeyField("models.Offer", related_name="catalogue_candidates", null=True,
                                   on_delete=fields.RESTRICT)
    organisation = fields.ForeignKeyField("models.Organisation", related_name="catalogue_candidates", null=True,
                                          on_delete=fields.SET_NULL)
    name = fields.CharField(max_length=200)
    domain = fields.ForeignKeyField("models.Domain", related_name="catalogue_candidates", on_delete=fields.RESTRICT)
    scope = fields.TextField()  # 适用范围
    core_process = fields.TextField()  # 核心工艺
    parameters = fields.JSONField(default=list)  # [{"name", "value", "unit"}]: 主要技术参数
    benefits = fields.TextField()  # 综合效益
    status = fields.CharEnumField(CandidateStatus, max_length=16, default=CandidateStatus.PROPOSED, db_index=True)
    screen_note = fields.TextField(default="")
    panel = fields.OneToOneField("models.Panel", related_name="catalogue_candidate", null=True,
                                 on_delete=fields.SET_NULL)
    score = fields.DecimalField(max_digits=7, decimal_places=2, null=True)  # the panel's, when proposed
    proposed_by = fields.ForeignKeyField("models.User", related_name="catalogue_candidates", null=True,
                                         on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "catalogue_candidate"
        ordering = ["id"]
        unique_together = [("round", "project", "name"), ("round", "offer")]


class CatalogueEntry(Model):
    """An entry of the catalogue. Its number is given once and kept across versions."""

    id = fields.IntField(primary_key=True)
    number = fields.IntField(unique=True)
    candidate = fields.OneToOneField("models.Candidate", related_name="entry", on_delete=fields.RESTRICT)
    round = fields.ForeignKeyField("models.CatalogueRound", related_name="entries", on_delete=fields.RESTRICT)
    name = fields.CharField(max_length=200)
    domain = fields.ForeignKeyField("models.Domain", related_name="catalogue_entries", on_delete=fields.RESTRICT)
    holder = fields.CharField(max_length=200, default="")  # the organisation that owns the technology
    scope = fields.TextField()
    core_process = fields.TextField()
    parameters = fields.JSONField(default=list)
    benefits = fields.TextField()
    status = fields.CharEnumField(EntryStatus, max_length=10, default=EntryStatus.LISTED, db_index=True)
    listed_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "catalogue_entry"
        ordering = ["number"]


class EntryChange(Model):
    """One step of an entry's history (动态调整), with its reason and the version it produced."""

    id = fields.IntField(primary_key=True)
    entry = fields.ForeignKeyField("models.CatalogueEntry", related_name="changes", on_delete=fields.CASCADE)
    kind = fields.CharEnumField(ChangeKind, max_length=10)
    reason = fields.TextField(default="")
    fields_changed = fields.JSONField(default=list)
    version = fields.IntField()
    actor = fields.ForeignKeyField("models.User", related_name="catalogue_changes", null=True,
                                   on_delete=fields.SET_NULL)
    at = fields.DatetimeField()

    class Meta:
        table = "catalogue_entry_change"
        ordering = ["at", "id"]


class ImmutableVersion(Exception):
    pass


class CatalogueVersion(Model):
    """A published state of the catalogue, frozen: the exact bytes hashed, and their SHA-256."""

    id = fields.IntField(primary_key=True)
    number = fields.IntField(unique=True)
    document = fields.TextField()  # canonical JSON (UTF-8) of every entry of this version
    sha256 = fields.CharField(max_length=64)
    entries_count = fields.IntField()
    reason = fields.TextField(default="")
    published_by = fields.ForeignKeyField("models.User", related_name="catalogue_versions", null=True,
                                          on_delete=fields.SET_NULL)
    published_at = fields.DatetimeField()

    class Meta:
        table = "catalogue_version"
        ordering = ["-number"]

    async def save(self, *args, **kwargs) -> None:
        if self._saved_in_db:
            raise ImmutableVersion("a catalogue version is never changed")
        await super().save(*args, **kwargs)

    async def delete(self, *args, **kwargs) -> None:
        raise ImmutableVersion("a catalogue version is never deleted")


class AdoptionCase(Model):
    """A recorded application of a catalogue technology (推广应用案例)."""

    id = fields.IntField(primary_key=True)
    entry = fields.ForeignKeyField("models.CatalogueEntry", related_name="cases", on_delete=fields.CASCADE)
    organisation = fields.CharField(max_length=200)
    place = fields.CharField(max_length=200)
    adopted_on = fields.DateField()
    scale = fields.CharField(max_length=200)
    effect = fields.TextField()
    recorded_by = fields.ForeignKeyField("models.User", related_name="adoption_cases", null=True,
                                         on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "catalogue_adoption_case"
        ordering = ["-adopted_on", "-id"]
