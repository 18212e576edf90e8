"""Builders for campaigns and needs: a submitter, a complete need, the need form as a browser posts it."""

from decimal import Decimal

from challenge.accounts.models import Organisation, Role, User
from challenge.demo.needs import tiny_pdf
from challenge.needs.models import Need, NeedStatus
from factories import domains, make_campaign, make_need, make_organiser, make_user, unique

__all__ = ["make_campaign", "make_organiser", "make_submitter", "make_complete_need", "need_form", "pdf_bytes",
           "COMPLETE"]

COMPLETE = {
    "bottleneck": "焦化企业焦炉煤气利用效率低，制氢成本高，二氧化碳排放强度大。",
    "state_of_art": "国外已有中试装置，国内尚处于实验室阶段，关键吸附材料依赖进口。",
    "target_indicators": "氢气纯度不低于 99.99%，单位制氢能耗降低 20% 以上。",
    "application_scenario": "钢铁联合企业焦化厂，年产焦炭 200 万吨规模。",
    "expected_results": "建成千吨级示范装置一套，形成成套工艺包和行业标准草案。",
    "cofunding_wan": Decimal("500"),
    "hosts_scenario": True,
    "contact_name": "张工",
    "contact_phone": "025-83331234",
    "contact_email": "zhang@example.cn",
}


async def make_submitter(organisation: Organisation | None = None, **overrides) -> User:
    return await make_user(Role.SUBMITTER, organisation=organisation, **overrides)


async def make_complete_need(*, organisation: Organisation | None = None, status: NeedStatus = NeedStatus.DRAFT,
                             **overrides) -> Need:
    """A need with every field filled in, ready to submit (a draft unless told otherwise)."""
    values = {**COMPLETE, "status": status}
    values.update(overrides)
    return await make_need(organisation=organisation, **values)


async def need_form(*, action: str = "save", campaign=None, **overrides) -> dict:
    """The need form's fields as strings, complete enough to submit."""
    domain = (await domains())[1]
    data = {
        "title": f"焦炉煤气制氢耦合碳捕集技术需求{unique()}",
        "domain_id": str(domain.id),
        **{k: v for k, v in COMPLETE.items() if isinstance(v, str)},
        "cofunding_wan": "500.5",
        "hosts_scenario": "yes",
        "intent": action,
    }
    if campaign is not None:
        data["campaign_id"] = str(campaign.id)
    data.update(overrides)
    return data


def pdf_bytes(text: str = "test attachment") -> bytes:
    return tiny_pdf(text)
