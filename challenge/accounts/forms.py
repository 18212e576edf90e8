from challenge.accounts import credit_code, services
from challenge.accounts.models import Organisation, OrgStatus, OrgType, Role
from challenge.catalog import regions
from challenge.web.forms import Form
from challenge.web.i18n import _


async def organisation_choices() -> list[Organisation]:
    return await Organisation.filter(status=OrgStatus.APPROVED).order_by("name").only("id", "name")


def parse_registration(form: Form) -> dict:
    """Clean the registration form; errors are left on `form`."""
    email = form.email("email")
    name = form.text("name", required=True, max_length=100)
    phone = form.text("phone", max_length=30)
    role = form.choice("role", [Role.SUBMITTER, Role.BIDDER])
    password = form.text("password", required=True, strip=False, max_length=200)
    if password and form.text("password_confirm", strip=False) != password:
        form.error("password_confirm", _("两次输入的密码不一致"))
    if password:
        try:
            services.check_password_strength(password)
        except Exception as error:  # DomainError: keep the message next to the field
            form.error("password", getattr(error, "message", str(error)))
    if not form.boolean("agree"):
        form.error("agree", _("请阅读并同意平台使用须知"))
    choice = parse_organisation_choice(form)
    return {
        "email": email, "password": password, "name": name, "phone": phone, "role": role,
        **choice,
    }


def parse_organisation_choice(form: Form) -> dict:
    """The organisation part of a form: an approved one by id, or a new one to register."""
    if form.get("org_mode") != "new":
        return {"organisation_id": form.integer("organisation_id", required=True), "new_org": None}
    org_type = form.choice("org_type", list(OrgType))
    new_org = {
        "name": form.text("org_name", required=True, max_length=200),
        "org_type": org_type,
        "region_code": form.choice("org_region", list(regions.regions())),
        "credit_code": credit_code.normalise(form.text("org_credit_code", max_length=30)),
    }
    if org_type and new_org["region_code"]:
        form.add_errors(services.validate_organisation(
            name=new_org["name"], org_type=org_type, region_code=new_org["region_code"], code=new_org["credit_code"],
        ))
    return {"organisation_id": None, "new_org": new_org}
