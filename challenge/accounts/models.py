from tortoise import fields
from tortoise.models import Model

from challenge.enums import N_, LabelledStrEnum


class OrgType(LabelledStrEnum):
    GOVERNMENT = "government", N_("地区/政府部门")
    ASSOCIATION = "association", N_("行业协会")
    ENTERPRISE = "enterprise", N_("企业")
    UNIVERSITY = "university", N_("高等院校")
    INSTITUTE = "institute", N_("科研院所")
    FINANCE = "finance", N_("金融/中介机构")


class OrgStatus(LabelledStrEnum):
    PENDING = "pending", N_("待审核")
    APPROVED = "approved", N_("已通过")
    REJECTED = "rejected", N_("未通过")


class Role(LabelledStrEnum):
    SUBMITTER = "submitter", N_("需求方")
    BIDDER = "bidder", N_("揭榜方")
    EXPERT = "expert", N_("评审专家")
    ORGANISER = "organiser", N_("管理员")


class Organisation(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200, unique=True)
    org_type = fields.CharEnumField(OrgType, max_length=20)
    region_code = fields.CharField(max_length=6, db_index=True)
    credit_code = fields.CharField(max_length=18, null=True, unique=True)
    status = fields.CharEnumField(OrgStatus, max_length=12, default=OrgStatus.PENDING, db_index=True)
    review_note = fields.TextField(default="")
    address = fields.CharField(max_length=300, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "organisation"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_approved(self) -> bool:
        return self.status == OrgStatus.APPROVED


class User(Model):
    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=254, unique=True)
    name = fields.CharField(max_length=100)
    phone = fields.CharField(max_length=30, default="")
    title = fields.CharField(max_length=100, default="")
    password_hash = fields.CharField(max_length=200, default="")
    organisation = fields.ForeignKeyField(
        "models.Organisation", related_name="users", null=True, on_delete=fields.RESTRICT
    )
    is_submitter = fields.BooleanField(default=False)
    is_bidder = fields.BooleanField(default=False)
    is_expert = fields.BooleanField(default=False)
    is_organiser = fields.BooleanField(default=False)
    # A manager of `organisation`: approves and removes its members (the registrant is the first).
    is_org_manager = fields.BooleanField(default=False, db_default=False)
    is_active = fields.BooleanField(default=True)
    # A self-registered account signs in once its owner has opened the mailed confirmation link.
    email_confirmed = fields.BooleanField(default=True, db_default=True)
    locale = fields.CharField(max_length=10, default="zh_CN")
    created_at = fields.DatetimeField(auto_now_add=True)
    last_login_at = fields.DatetimeField(null=True)

    class Meta:
        table = "user"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    def has_role(self, role: Role) -> bool:
        return bool(getattr(self, f"is_{role.value}"))

    @property
    def roles(self) -> list[Role]:
        return [role for role in Role if self.has_role(role)]


class Session(Model):
    """A signed-in browser: the cookie carries a random key, and only its SHA-256 is kept here.

    A leaked table signs nobody in. Sign-out, a password change or reset, removal from an
    organisation and "sign out everywhere" set `revoked_at`: a copied cookie is then useless."""

    id = fields.BigIntField(primary_key=True)
    key_hash = fields.CharField(max_length=64, unique=True)
    user = fields.ForeignKeyField("models.User", related_name="sessions", on_delete=fields.CASCADE)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_seen_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)
    user_agent = fields.CharField(max_length=300, default="")
    ip = fields.CharField(max_length=64, default="")

    class Meta:
        table = "user_session"
        ordering = ["-last_seen_at"]


class LoginAttempt(Model):
    """One row per failed sign-in: the throttle counts rows in a window, across processes."""

    id = fields.BigIntField(primary_key=True)
    email = fields.CharField(max_length=254, db_index=True)
    ip = fields.CharField(max_length=64, db_index=True)
    at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "login_attempt"


class MembershipStatus(LabelledStrEnum):
    PENDING = "pending", N_("待审核")
    APPROVED = "approved", N_("已加入")
    REJECTED = "rejected", N_("未通过")
    REMOVED = "removed", N_("已移出")
    WITHDRAWN = "withdrawn", N_("已撤回")


OPEN_MEMBERSHIP_STATES = {MembershipStatus.PENDING}
# A request (or membership) that still holds the person's place: at most one per person.
CURRENT_MEMBERSHIP_STATES = {MembershipStatus.PENDING, MembershipStatus.APPROVED}


class Membership(Model):
    """A request of a person to belong to an organisation, and its decision.

    `User.organisation` is set only when a request is approved (by a manager of the
    organisation or an organiser), so every check on `user.organisation_id` means "a member".
    """

    id = fields.IntField(primary_key=True)
    user = fields.ForeignKeyField("models.User", related_name="memberships", on_delete=fields.CASCADE)
    organisation = fields.ForeignKeyField("models.Organisation", related_name="memberships",
                                          on_delete=fields.CASCADE)
    status = fields.CharEnumField(MembershipStatus, max_length=12, default=MembershipStatus.PENDING,
                                  db_index=True)
    decided_by = fields.ForeignKeyField("models.User", related_name="membership_decisions", null=True,
                                        on_delete=fields.SET_NULL)
    reason = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    decided_at = fields.DatetimeField(null=True)

    class Meta:
        table = "membership"
        ordering = ["-id"]


class LinkedIdentity(Model):
    """A single sign-on identity (issuer + subject) linked to an account."""

    id = fields.IntField(primary_key=True)
    user = fields.ForeignKeyField("models.User", related_name="identities", on_delete=fields.CASCADE)
    issuer = fields.CharField(max_length=255)
    subject = fields.CharField(max_length=255)
    email = fields.CharField(max_length=254, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    last_used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "linked_identity"
        unique_together = (("issuer", "subject"),)
        ordering = ["id"]


class TokenPurpose(LabelledStrEnum):
    RESET = "reset", N_("重置密码")
    CONFIRM = "confirm", N_("确认邮箱")


class PasswordResetToken(Model):
    """A mailed single-use link: a password reset, or the confirmation of the e-mail of a new account."""

    id = fields.IntField(primary_key=True)
    purpose = fields.CharEnumField(TokenPurpose, max_length=10, default=TokenPurpose.RESET,
                                   db_default=TokenPurpose.RESET.value)
    user = fields.ForeignKeyField("models.User", related_name="reset_tokens", on_delete=fields.CASCADE)
    # Only the SHA-256 of the token is stored: a leaked table does not leak usable links.
    token_hash = fields.CharField(max_length=64, unique=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "password_reset_token"
