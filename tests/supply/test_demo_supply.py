"""The supply part of `challenge demo`: offers in several domains and states, 对接 in every state,
matches shown for the funnel, all through the services (a sound audit chain)."""

from challenge.accounts import passwords
from challenge.audit.services import verify_chain
from challenge.demo import base
from challenge.demo import needs as demo_needs
from challenge.demo import supply as demo_supply
from challenge.needs.models import Need
from challenge.supply import contacts, matching
from challenge.supply.models import ContactRequest, ContactStatus, Offer, OfferStatus


async def test_demo_supply(db, settings):
    passwords.configure(time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib)
    ctx = await base.load()
    await demo_needs.load(ctx, settings)
    await demo_supply.load(ctx, settings)

    offers = await Offer.all()
    published = [o for o in offers if o.status == OfferStatus.PUBLISHED]
    assert len({o.domain_id for o in published}) >= 3
    assert [o.status for o in offers].count(OfferStatus.RETURNED) == 1
    assert {c.status for c in await ContactRequest.all()} >= {
        ContactStatus.REQUESTED, ContactStatus.ACCEPTED, ContactStatus.DECLINED, ContactStatus.SIGNED}
    funnel = await contacts.funnel()
    assert funnel.shown >= funnel.requested >= funnel.accepted >= funnel.signed >= 1

    need = await Need.get(title="钢铁行业中低温余热高效回收利用技术")
    [best, *_rest] = await matching.offers_for_need(need)
    assert best.offer.name == "工业中低温余热有机朗肯循环发电成套技术" and best.same_domain and best.met
    assert (await verify_chain()).ok
