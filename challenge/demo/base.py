"""Demo organisations of every type across several regions, and one account per role."""

from dataclasses import dataclass, field

from challenge.accounts import membership, passwords
from challenge.accounts.credit_code import complete
from challenge.accounts.models import MembershipStatus, Organisation, OrgStatus, OrgType, User
from challenge.audit import services as audit
from challenge.catalog.models import Domain
from challenge.catalog.services import seed_policy_domains

DEMO_PASSWORD = "demo-password-2025"
OFFICE_NAME = "绿色技术创新揭榜挂帅项目管理办公室"

# name, type, region, first 17 characters of the credit code (None: no code), status
ORGANISATIONS = [
    (OFFICE_NAME, OrgType.GOVERNMENT, "110000", "11100000MB0000001", OrgStatus.APPROVED),
    ("江苏省工业和信息化厅", OrgType.GOVERNMENT, "320000", "11320000014000001", OrgStatus.APPROVED),
    ("内蒙古自治区鄂尔多斯市生态环境局", OrgType.GOVERNMENT, "150600", "11150600MB1900002", OrgStatus.APPROVED),
    ("中国钢铁工业节能减排协会", OrgType.ASSOCIATION, "110000", "51100000500000012", OrgStatus.APPROVED),
    ("广东省循环经济协会", OrgType.ASSOCIATION, "440100", "51440000MJ0000023", OrgStatus.APPROVED),
    ("华能清洁能源集团有限公司", OrgType.ENTERPRISE, "110000", "91110000100001234", OrgStatus.APPROVED),
    ("宝武低碳冶金科技有限公司", OrgType.ENTERPRISE, "310000", "91310000MA1K00045", OrgStatus.APPROVED),
    ("海螺绿色建材股份有限公司", OrgType.ENTERPRISE, "340100", "91340100MA2N00067", OrgStatus.APPROVED),
    ("宁德新能源循环科技有限公司", OrgType.ENTERPRISE, "350100", "91350100MA3200089", OrgStatus.APPROVED),
    ("清华大学", OrgType.UNIVERSITY, "110000", "12100000400000624", OrgStatus.APPROVED),
    ("浙江大学", OrgType.UNIVERSITY, "330100", "12330000470003281", OrgStatus.APPROVED),
    ("华中科技大学", OrgType.UNIVERSITY, "420100", "12420000441626035", OrgStatus.APPROVED),
    ("中国科学院过程工程研究所", OrgType.INSTITUTE, "110000", "12100000400012345", OrgStatus.APPROVED),
    ("中国科学院大连化学物理研究所", OrgType.INSTITUTE, "210200", "12100000400056789", OrgStatus.APPROVED),
    ("四川绿色低碳产业研究院", OrgType.INSTITUTE, "510100", "52510000MJ4500012", OrgStatus.APPROVED),
    ("国家绿色发展基金股份有限公司", OrgType.FINANCE, "310000", "91310000MA1FL7XX1", OrgStatus.APPROVED),
    ("深圳碳中和技术转移中心", OrgType.FINANCE, "440300", "52440300MJL000034", OrgStatus.APPROVED),
    ("西安绿源环保科技有限公司", OrgType.ENTERPRISE, "610100", "91610100MA6U00056", OrgStatus.PENDING),
]

# email, name, title, organisation, roles
USERS = [
    ("admin@demo.cn", "王主任", "项目办主任", OFFICE_NAME, {"organiser"}),
    ("submitter@demo.cn", "李处长", "节能与综合利用处处长", "江苏省工业和信息化厅", {"submitter"}),
    ("bidder@demo.cn", "陈教授", "教授、博士生导师", "清华大学", {"bidder"}),
    ("bidder2@demo.cn", "周研究员", "研究员", "中国科学院过程工程研究所", {"bidder"}),
    ("expert1@demo.cn", "赵院士", "中国工程院院士", "浙江大学", {"expert"}),
    ("expert2@demo.cn", "钱教授", "教授", "华中科技大学", {"expert"}),
    ("expert3@demo.cn", "孙研究员", "研究员", "中国科学院大连化学物理研究所", {"expert"}),
    ("expert4@demo.cn", "吴总工", "总工程师", "华能清洁能源集团有限公司", {"expert"}),
    ("expert5@demo.cn", "郑高工", "正高级工程师", "海螺绿色建材股份有限公司", {"expert"}),
    ("expert6@demo.cn", "冯教授", "教授", "四川绿色低碳产业研究院", {"expert"}),
    ("association@demo.cn", "刘秘书长", "秘书长", "中国钢铁工业节能减排协会", {"submitter"}),
    ("enterprise@demo.cn", "黄经理", "技术中心主任", "宝武低碳冶金科技有限公司", {"submitter", "bidder"}),
    ("pending@demo.cn", "马经理", "总经理", "西安绿源环保科技有限公司", {"bidder"}),
]


@dataclass
class DemoContext:
    """What later demo modules build on."""

    orgs: dict[str, Organisation] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    domains: list[Domain] = field(default_factory=list)
    extra: dict = field(default_factory=dict)


async def programme_office() -> Organisation:
    office = await Organisation.get_or_none(name=OFFICE_NAME)
    if office is None:
        office = await Organisation.create(
            name=OFFICE_NAME, org_type=OrgType.GOVERNMENT, region_code="110000",
            credit_code=complete("11100000MB0000001"), status=OrgStatus.APPROVED,
        )
    return office


async def load() -> DemoContext:
    ctx = DemoContext()
    await seed_policy_domains()
    ctx.domains = await Domain.all().order_by("sort_order")
    for name, org_type, region, code17, status in ORGANISATIONS:
        org = await Organisation.get_or_none(name=name)
        if org is None:
            org = await Organisation.create(name=name, org_type=org_type, region_code=region,
                                            credit_code=complete(code17) if code17 else None, status=status)
        ctx.orgs[name] = org
    password_hash = passwords.hash_password(DEMO_PASSWORD)
    for email, name, title, org_name, roles in USERS:
        user = await User.create(email=email, name=name, title=title, password_hash=password_hash,
                                 **{f"is_{role}": True for role in roles})
        await audit.record(actor=None, action="user.create", obj=user, after={"email": email, "roles": sorted(roles)},
                           note="demo")
        ctx.users[email] = user
        await join(ctx, user, ctx.orgs[org_name])
    return ctx


async def join(ctx: DemoContext, user: User, organisation: Organisation) -> User:
    """Membership the way people get it: a request, approved by the programme office; the first
    member of an organisation becomes its manager."""
    admin = ctx.users["admin@demo.cn"]
    first = not await User.filter(organisation_id=organisation.id).exists()
    request = await membership.request_membership(user=user, organisation=organisation)
    await membership.set_membership_status(membership=request, status=MembershipStatus.APPROVED, actor=admin)
    await user.refresh_from_db()
    if first:
        await membership.set_manager(member=user, manager=True, actor=admin)
    await user.fetch_related("organisation")
    return user
