from tortoise.transactions import in_transaction

from challenge.audit import services as audit
from challenge.catalog.models import Domain

POLICY_DOMAINS = [
    ("能源节约与绿色低碳转型", "Energy saving and low-carbon transition", "节能 能效 余热 储能 氢能 光伏 风电 电网"),
    ("污染治理", "Pollution control", "废水 废气 固废 土壤 VOCs 脱硫 脱硝 污泥"),
    ("资源节约集约循环利用", "Resource efficiency and circular use", "再生 回收 循环 尾矿 废旧电池 再制造"),
    ("低碳与零碳工业流程再造", "Low/zero-carbon industrial process re-engineering", "钢铁 水泥 化工 氢冶金 电炉 工艺"),
    ("生态系统固碳增汇", "Ecosystem carbon sinks", "森林 湿地 海洋 土壤碳汇 草原 监测"),
    ("负碳及温室气体减排", "Negative-carbon and GHG reduction", "二氧化碳 捕集 封存 利用 CCUS 甲烷 氧化亚氮"),
]


async def seed_policy_domains() -> None:
    """Create the six policy domains once; an admin may edit them afterwards."""
    if await Domain.exists():
        return
    for position, (name, name_en, keywords) in enumerate(POLICY_DOMAINS, start=1):
        await Domain.create(name=name, name_en=name_en, keywords=keywords, sort_order=position)


async def active_domains() -> list[Domain]:
    return await Domain.filter(is_active=True).order_by("sort_order", "id")


async def save_domain(*, actor, domain: Domain | None, name: str, name_en: str, keywords: str,
                      sort_order: int, is_active: bool) -> Domain:
    before = None
    if domain is None:
        domain = Domain(name=name)
    else:
        before = {"name": domain.name, "name_en": domain.name_en, "is_active": domain.is_active}
    domain.name, domain.name_en, domain.keywords = name, name_en, keywords
    domain.sort_order, domain.is_active = sort_order, is_active
    async with in_transaction():
        await domain.save()
        await audit.record(actor=actor, action="domain.save", obj=domain, before=before,
                           after={"name": name, "name_en": name_en, "is_active": is_active})
    return domain
