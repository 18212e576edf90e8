from tortoise import fields
from tortoise.models import Model

from challenge.enums import N_, LabelledStrEnum


class OfferStatus(LabelledStrEnum):
    DRAFT = "draft", N_("草稿")
    SUBMITTED = "submitted", N_("待审核")
    RETURNED = "returned", N_("退回修改")
    PUBLISHED = "published", N_("已发布")
    WITHDRAWN = "withdrawn", N_("已撤回")


class TransferMode(LabelledStrEnum):
    """How a technology can be had: an offer names one or more."""

    TRANSFER = "transfer", N_("转让")
    LICENCE = "licence", N_("许可")
    EQUITY = "equity", N_("作价入股")
    CODEVELOP = "codevelop", N_("合作开发")


class IpStatus(LabelledStrEnum):
    NONE = "none", N_("无专利")
    APPLIED = "applied", N_("专利申请中")
    GRANTED = "granted", N_("已授权专利")
    OTHER = "other", N_("其他（软件著作权、技术秘密等）")


class ContactStatus(LabelledStrEnum):
    REQUESTED = "requested", N_("待回复")
    ACCEPTED = "accepted", N_("已接受对接")
    DECLINED = "declined", N_("已婉拒")
    SIGNED = "signed", N_("已签约")
    NOT_PURSUED = "not_pursued", N_("未达成")


EDITABLE_OFFER_STATES = {OfferStatus.DRAFT, OfferStatus.RETURNED}
SCREENABLE_OFFER_STATES = {OfferStatus.SUBMITTED}
# What organisers see: every offer its owner has sent at least once (never others' drafts).
ORGANISER_VISIBLE_OFFER_STATES = {
    OfferStatus.SUBMITTED, OfferStatus.RETURNED, OfferStatus.PUBLISHED, OfferStatus.WITHDRAWN,
}
OFFER_TRANSITIONS = {
    OfferStatus.DRAFT: {OfferStatus.SUBMITTED, OfferStatus.WITHDRAWN},
    OfferStatus.RETURNED: {OfferStatus.SUBMITTED, OfferStatus.WITHDRAWN},
    OfferStatus.SUBMITTED: {OfferStatus.PUBLISHED, OfferStatus.RETURNED, OfferStatus.WITHDRAWN},
    OfferStatus.PUBLISHED: {OfferStatus.WITHDRAWN},
    OfferStatus.WITHDRAWN: set(),
}

OPEN_CONTACT_STATES = {ContactStatus.REQUESTED, ContactStatus.ACCEPTED}
FINAL_CONTACT_STATES = {ContactStatus.DECLINED, ContactStatus.SIGNED, ContactStatus.NOT_PURSUED}
CONTACT_TRANSITIONS = {
    ContactStatus.REQUESTED: {ContactStatus.ACCEPTED, ContactStatus.DECLINED},
    ContactStatus.ACCEPTED: {ContactStatus.SIGNED, ContactStatus.NOT_PURSUED},
    ContactStatus.DECLINED: set(),
    ContactStatus.SIGNED: set(),
    ContactStatus.NOT_PURSUED: set(),
}
MAX_PARAMETERS = 30


class Offer(Model):
    """A technology offer (技术成果) an organisation can transfer, screened before it is public."""

    id = fields.IntField(primary_key=True)
    organisation = fields.ForeignKeyField("models.Organisation", related_name="offers", on_delete=fields.RESTRICT)
    created_by = fields.ForeignKeyField("models.User", related_name="offers", null=True, on_delete=fields.SET_NULL)
    domain = fields.ForeignKeyField("models.Domain", related_name="offers", null=True, on_delete=fields.RESTRICT)
    name = fields.CharField(max_length=200)
    trl = fields.IntField(null=True)  # technology readiness level, 1..9
    summary = fields.TextField(default="")
    core_process = fields.TextField(default="")
    scope = fields.TextField(default="")
    # Benefits: structured numbers (per year, at a typical installation) and a text that explains them.
    energy_saved_tce = fields.DecimalField(max_digits=14, decimal_places=2, null=True)
    co2_reduced_t = fields.DecimalField(max_digits=14, decimal_places=2, null=True)
    cost_wan = fields.DecimalField(max_digits=14, decimal_places=2, null=True)
    benefits_text = fields.TextField(default="")
    ip_status = fields.CharEnumField(IpStatus, max_length=10, default=IpStatus.NONE)
    patent_numbers = fields.TextField(default="")
    transfer_modes = fields.JSONField(default=list)
    contact_name = fields.CharField(max_length=100, default="")
    contact_phone = fields.CharField(max_length=30, default="")
    contact_email = fields.CharField(max_length=254, default="")
    status = fields.CharEnumField(OfferStatus, max_length=12, default=OfferStatus.DRAFT, db_index=True)
    status_reason = fields.TextField(default="")
    submitted_at = fields.DatetimeField(null=True)
    published_at = fields.DatetimeField(null=True, db_index=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "supply_offer"
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return self.name

    @property
    def modes(self) -> list[TransferMode]:
        known = {m.value for m in TransferMode}
        return [TransferMode(v) for v in self.transfer_modes or [] if v in known]


class OfferParameter(Model):
    """One main technical parameter of an offer: `value` as typed, `number` parsed from it for matching."""

    id = fields.IntField(primary_key=True)
    offer = fields.ForeignKeyField("models.Offer", related_name="parameters", on_delete=fields.CASCADE)
    position = fields.IntField(default=0)
    name = fields.CharField(max_length=200)
    value = fields.CharField(max_length=100)
    number = fields.FloatField(null=True)
    unit = fields.CharField(max_length=50, default="")

    class Meta:
        table = "supply_offer_parameter"
        ordering = ["position", "id"]


class MatchShown(Model):
    """A candidate offer shown for a need or a challenge, recorded once per pair (the funnel's first step)."""

    id = fields.IntField(primary_key=True)
    offer = fields.ForeignKeyField("models.Offer", related_name="shown", on_delete=fields.CASCADE)
    # "need" or "challenge": a plain pair rather than two nullable keys, so the unique constraint holds.
    subject_type = fields.CharField(max_length=10)
    subject_id = fields.IntField()
    first_shown_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "supply_match_shown"
        unique_together = [("offer", "subject_type", "subject_id")]


class ContactRequest(Model):
    """A request for contact (对接) on an offer, made for a need or a challenge, and its outcome."""

    id = fields.IntField(primary_key=True)
    offer = fields.ForeignKeyField("models.Offer", related_name="contacts", on_delete=fields.RESTRICT)
    need = fields.ForeignKeyField("models.Need", related_name="contacts", null=True, on_delete=fields.RESTRICT)
    challenge = fields.ForeignKeyField("models.Challenge", related_name="contacts", null=True,
                                       on_delete=fields.RESTRICT)
    requested_by = fields.ForeignKeyField("models.User", related_name="contacts_requested", null=True,
                                          on_delete=fields.SET_NULL)
    requester_organisation = fields.ForeignKeyField("models.Organisation", related_name="contacts_requested",
                                                    null=True, on_delete=fields.RESTRICT)
    message = fields.TextField(default="")
    status = fields.CharEnumField(ContactStatus, max_length=12, default=ContactStatus.REQUESTED, db_index=True)
    response_note = fields.TextField(default="")
    outcome_note = fields.TextField(default="")
    responded_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "supply_contact"
        ordering = ["-created_at", "-id"]
