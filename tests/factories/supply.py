"""Builders for technology offers and 对接 requests."""

from challenge.accounts.models import Organisation
from challenge.supply.models import ContactRequest, ContactStatus, Offer, OfferParameter, OfferStatus
from challenge.supply.services import parse_number
from challenge.web.timefmt import now_utc
from factories import domains, make_org


async def make_offer(*, organisation: Organisation | None = None, status: OfferStatus = OfferStatus.PUBLISHED,
                     parameters: tuple[tuple[str, str, str], ...] = (("处理能力", "500", "t/d"),),
                     **overrides) -> Offer:
    organisation = organisation or await make_org()
    values = {
        "name": "烧结烟气低温脱硝成套技术",
        "domain": (await domains())[1],
        "trl": 7,
        "summary": "面向钢铁烧结烟气的低温选择性催化还原脱硝技术，已完成工业示范。",
        "core_process": "低温催化剂在 180℃ 条件下将氮氧化物还原为氮气，配套喷氨优化控制系统。",
        "scope": "钢铁、焦化行业烧结机和球团烟气治理。",
        "benefits_text": "脱硝效率高，运行成本比传统工艺低三成以上。",
        "transfer_modes": ["licence", "codevelop"],
        "contact_name": "王工", "contact_phone": "025-83331234", "contact_email": "wang@example.cn",
        "status": status,
        "published_at": now_utc() if status == OfferStatus.PUBLISHED else None,
    }
    values.update(overrides)
    offer = await Offer.create(organisation=organisation, **values)
    for i, (name, value, unit) in enumerate(parameters):
        await OfferParameter.create(offer=offer, position=i, name=name, value=value, unit=unit,
                                    number=parse_number(value))
    return offer


async def make_contact(*, offer: Offer, need, status: ContactStatus = ContactStatus.REQUESTED,
                       **overrides) -> ContactRequest:
    values = {"message": "我单位有烧结烟气脱硝改造需求，希望进一步了解。", "status": status}
    values.update(overrides)
    return await ContactRequest.create(offer=offer, need=need, requester_organisation_id=need.organisation_id,
                                       requested_by=None, **values)
