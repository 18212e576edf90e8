"""Builders for challenges made through the services (search text, links and audit as in real use)."""

from datetime import timedelta
from decimal import Decimal

from challenge.accounts.models import Organisation, User
from challenge.challenges import services
from challenge.challenges.models import Challenge, ChallengeStatus, Mechanism
from challenge.challenges.services import ChallengeData, CriterionRow, StageRow, TargetRow
from challenge.needs.models import Need, NeedStatus
from challenge.web.timefmt import now_utc
from factories import domains, make_need, make_org, make_organiser


async def make_accepted_need(**overrides) -> Need:
    return await make_need(status=NeedStatus.ACCEPTED, **overrides)


async def challenge_data(*, needs: list[Need] | None = None, issuers: list[Organisation] | None = None,
                         mechanism: Mechanism = Mechanism.OPEN_CALL, **overrides) -> ChallengeData:
    """A complete, publishable challenge."""
    needs = needs if needs is not None else [await make_accepted_need()]
    now = now_utc()
    data = ChallengeData(
        mechanism=mechanism,
        title="高效低成本二氧化碳捕集技术",
        summary="面向燃煤电厂烟气的低能耗、低成本二氧化碳捕集技术攻关",
        description="现有化学吸收法再生能耗高、吸收剂降解快。",
        domain_id=(await domains())[5].id,
        funding_wan=Decimal("3000"),
        delivery_months=36,
        opens_at=now - timedelta(hours=1),
        closes_at=now + timedelta(days=30),
        winners_count=1,
        experts_per_bid=5,
        need_ids=[n.id for n in needs],
        issuer_ids=[o.id for o in issuers] if issuers else [],
        targets=[TargetRow("捕集能耗", "≤2.2", "GJ/tCO2", "第三方检测"),
                 TargetRow("捕集率", "≥90", "%", "连续运行 168 小时")],
        criteria=[CriterionRow("技术路线先进性", 40, 100, "技术路线是否先进可行"),
                  CriterionRow("研究基础与团队", 30, 100, ""),
                  CriterionRow("经费预算合理性", 30, 100, "")],
    )
    if mechanism == Mechanism.HORSE_RACE:
        data.winners_count = 1
        data.stages = [StageRow("小试验证", "小试报告", now + timedelta(days=120), 3),
                       StageRow("中试放大", "中试装置运行报告", now + timedelta(days=300), 2),
                       StageRow("工程示范", "示范工程验收报告", now + timedelta(days=600), 1)]
    for name, value in overrides.items():
        setattr(data, name, value)
    return data


async def make_draft(*, actor: User | None = None, **overrides) -> Challenge:
    actor = actor or await make_organiser()
    return await services.save_draft(challenge=None, data=await challenge_data(**overrides), actor=actor)


async def make_published(*, actor: User | None = None, **overrides) -> Challenge:
    actor = actor or await make_organiser()
    challenge = await make_draft(actor=actor, **overrides)
    return await services.set_challenge_status(challenge=challenge, status=ChallengeStatus.PUBLISHED, actor=actor)


async def make_issuer(region_code: str = "320500", **overrides) -> Organisation:
    return await make_org(region_code=region_code, **overrides)


def form_fields(need_ids, **overrides) -> list[tuple[str, str]]:
    fields = {
        "mechanism": "open_call",
        "title": "工业园区VOCs深度治理技术",
        "summary": "面向化工园区无组织排放的VOCs深度治理",
        "description": "现有治理设施去除效率不稳定。",
        "funding_wan": "1500",
        "delivery_months": "24",
        "winners_count": "1",
        "opens_at": "2020-01-01T09:00",
        "closes_at": "2099-12-31T17:00",
        "experts_per_bid": "5",
        "aggregation": "trimmed_mean",
        "eligibility_text": "境内注册法人单位",
        "max_partners": "4",
        "target_rows": "3",
        "target-0-name": "VOCs去除率", "target-0-value": "≥95", "target-0-unit": "%", "target-0-verification": "第三方检测",
        "target-1-name": "运行成本", "target-1-value": "≤0.8", "target-1-unit": "元/m³", "target-1-verification": "",
        "criterion_rows": "4",
        "criterion-0-name": "技术先进性", "criterion-0-weight": "50", "criterion-0-max_score": "100",
        "criterion-1-name": "团队基础", "criterion-1-weight": "30", "criterion-1-max_score": "100",
        "criterion-2-name": "经费合理性", "criterion-2-weight": "20", "criterion-2-max_score": "100",
        "stage_rows": "3",
        "action": "save",
    }
    fields.update(overrides)
    items = [(k, v) for k, v in fields.items()]
    items += [("need_ids", str(i)) for i in need_ids]
    return items
