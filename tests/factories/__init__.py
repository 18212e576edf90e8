"""Small async builders for test data. Each area adds its own module next to this one."""

import itertools

from challenge.accounts import passwords
from challenge.accounts.credit_code import complete
from challenge.accounts.models import Organisation, OrgStatus, OrgType, Role, User

PASSWORD = "correct-horse-42"
_counter = itertools.count(1)


def unique() -> int:
    return next(_counter)


def credit_code(n: int | None = None) -> str:
    n = unique() if n is None else n
    return complete(f"9111000010{n:07d}")


async def make_org(**overrides) -> Organisation:
    n = unique()
    values = {
        "name": f"测试单位{n}",
        "org_type": OrgType.ENTERPRISE,
        "region_code": "320500",
        "credit_code": credit_code(n),
        "status": OrgStatus.APPROVED,
    }
    values.update(overrides)
    return await Organisation.create(**values)


async def make_user(*roles: Role, organisation: Organisation | None = None, **overrides) -> User:
    n = unique()
    if organisation is None:
        organisation = await make_org()
    values = {
        "email": f"user{n}@example.cn",
        "name": f"用户{n}",
        "organisation": organisation,
        "password_hash": passwords.hash_password(PASSWORD),
    }
    values.update({f"is_{role.value}": True for role in roles})
    values.update(overrides)
    return await User.create(**values)


async def make_organiser(**overrides) -> User:
    return await make_user(Role.ORGANISER, **overrides)


# -- core objects of the later areas; each area's own module adds richer builders ---------------
from datetime import timedelta  # noqa: E402
from decimal import Decimal  # noqa: E402

from challenge.bids.models import Bid, BidStatus  # noqa: E402
from challenge.catalog.models import Domain  # noqa: E402
from challenge.catalog.services import seed_policy_domains  # noqa: E402
from challenge.challenges.models import (  # noqa: E402
    AssessmentTarget,
    Challenge,
    ChallengeStatus,
    Mechanism,
    RubricCriterion,
)
from challenge.needs.models import Campaign, CampaignStatus, Need, NeedStatus  # noqa: E402
from challenge.web.timefmt import now_utc  # noqa: E402


async def domains() -> list[Domain]:
    await seed_policy_domains()
    return await Domain.all().order_by("sort_order")


async def make_campaign(**overrides) -> Campaign:
    values = {
        "title": f"2026年绿色技术需求征集第{unique()}批",
        "opens_at": now_utc() - timedelta(days=1),
        "closes_at": now_utc() + timedelta(days=30),
        "status": CampaignStatus.OPEN,
    }
    values.update(overrides)
    campaign = await Campaign.create(**values)
    await campaign.domains.add(*(await domains()))
    return campaign


async def make_need(*, organisation: Organisation | None = None, campaign: Campaign | None = None,
                    **overrides) -> Need:
    values = {
        "title": f"钢铁行业余热高效回收技术需求{unique()}",
        "bottleneck": "中低温余热回收效率低",
        "target_indicators": "回收效率不低于 60%",
        "status": NeedStatus.SUBMITTED,
        "cofunding_wan": Decimal("100"),
        "domain": (await domains())[0],
    }
    values.update(overrides)
    return await Need.create(
        organisation=organisation or await make_org(), campaign=campaign or await make_campaign(), **values
    )


async def make_challenge(*, targets: int = 2, criteria: tuple[int, ...] = (40, 30, 30), **overrides) -> Challenge:
    values = {
        "mechanism": Mechanism.OPEN_CALL,
        "title": f"高效低成本二氧化碳捕集技术攻关{unique()}",
        "summary": "面向燃煤电厂烟气的低能耗碳捕集技术",
        "domain": (await domains())[5],
        "status": ChallengeStatus.PUBLISHED,
        "funding_wan": Decimal("3000"),
        "opens_at": now_utc() - timedelta(days=1),
        "closes_at": now_utc() + timedelta(days=30),
        "published_at": now_utc() - timedelta(days=1),
        "experts_per_bid": 3,
    }
    values.update(overrides)
    challenge = await Challenge.create(**values)
    for position in range(targets):
        await AssessmentTarget.create(challenge=challenge, position=position, name=f"指标{position + 1}",
                                      target_value="90", unit="%", verification="第三方检测")
    for position, weight in enumerate(criteria):
        await RubricCriterion.create(challenge=challenge, position=position, name=f"评审要素{position + 1}",
                                     weight=weight, max_score=100)
    return challenge


async def make_bid(*, challenge: Challenge | None = None, lead_org: Organisation | None = None,
                   **overrides) -> Bid:
    values = {"title": "联合攻关方案", "approach": "技术路线", "status": BidStatus.SUBMITTED,
              "commitment_accepted": True, "current_version": 1, "submitted_at": now_utc()}
    values.update(overrides)
    return await Bid.create(challenge=challenge or await make_challenge(), lead_org=lead_org or await make_org(),
                            **values)
