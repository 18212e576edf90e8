"""The promotion part of `challenge demo`: the published catalogue from the demo's acceptance, and
a second round, open, to which a published demo offer has applied (through the services)."""

from challenge.accounts import passwords
from challenge.audit.services import verify_chain
from challenge.demo import AREAS, _area, base
from challenge.promotion.models import (
    Candidate,
    CandidateSource,
    CandidateStatus,
    CatalogueEntry,
    CatalogueRound,
    RoundStatus,
)


async def test_demo_catalogue_and_an_offer_applied_to_the_open_round(db, settings):
    passwords.configure(time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib)
    ctx = await base.load()
    for name in AREAS:
        if (module := _area(name)) is not None:
            await module.load(ctx, settings)
    published, open_ = await CatalogueRound.all().order_by("id")
    assert published.status == RoundStatus.PUBLISHED and open_.status == RoundStatus.OPEN
    assert await CatalogueEntry.filter(round_id=published.id).count() == 2
    (applied,) = await Candidate.filter(round_id=open_.id).select_related("offer", "organisation")
    assert applied.source == CandidateSource.OFFER and applied.status == CandidateStatus.PROPOSED
    assert applied.organisation.name == "清华大学" and applied.name == applied.offer.name and applied.parameters
    assert (await verify_chain()).ok
