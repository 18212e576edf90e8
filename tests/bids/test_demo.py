"""The bids demo: bids in every state, with consortia, attachments, versions and receipts."""

import importlib.util

from challenge.accounts.models import User
from challenge.audit.services import verify_chain
from challenge.bids import services
from challenge.bids.models import Bid, BidStatus, BidVersion
from challenge.challenges.models import Challenge
from challenge.demo import base
from challenge.demo import bids as demo_bids
from challenge.files.models import Attachment, Blob


async def _load(settings):
    ctx = await base.load()
    if importlib.util.find_spec("challenge.demo.challenges") is not None:
        from challenge.demo import challenges as demo_challenges

        await demo_challenges.load(ctx, settings)
    await demo_bids.load(ctx, settings)
    return ctx


async def test_demo_bids_cover_every_state(db, settings):
    ctx = await _load(settings)
    statuses = {bid.status for bid in await Bid.all()}
    if "challenges" in ctx.extra:
        # The outcomes come from the results demo (tests/results/test_demo.py).
        assert statuses == set(BidStatus) - {BidStatus.ADVANCED, BidStatus.NOT_SELECTED, BidStatus.WINNER}
    else:
        assert BidStatus.SUBMITTED in statuses
    made = ctx.extra["bids"]
    assert made and all(isinstance(b, Bid) for bids in made.values() for b in bids)
    for version in await BidVersion.all():
        assert services.verify_version(version)
    # Small real PDFs, the shared commitment letter stored once.
    blobs = await Blob.all()
    assert blobs and all(blob.kind == "pdf" for blob in blobs)
    letters = await Attachment.filter(filename="联合体承诺函.pdf").values_list("blob_id", flat=True)
    assert len(letters) > 1 and len(set(letters)) == 1
    for blob in blobs:
        path = settings.upload_dir / blob.storage_key[:2] / blob.storage_key[2:4] / blob.storage_key
        assert path.read_bytes().startswith(b"%PDF-1.4")
    # Consortia with registered and unregistered partners, members linked to accounts.
    bidder = await User.get(email="bidder@demo.cn")
    own = await Bid.filter(lead_org_id=bidder.organisation_id)
    assert own and {bidder.id} in [await services.member_user_ids(bid) for bid in own]
    partners = [await services.consortium_org_ids(bid) for bid in await Bid.all()]
    assert any(len(ids) > 1 for ids in partners)
    assert (await verify_chain()).ok


async def test_bidder_has_an_open_challenge_left_to_bid_on(db, settings):
    ctx = await _load(settings)
    bidder = await User.get(email="bidder@demo.cn")
    open_ones = await services.open_challenges_for(bidder.organisation_id)
    assert open_ones
    if "challenges" in ctx.extra:
        assert ctx.extra["challenges"]["open_call_open"].id in {c.id for c in open_ones}
        assert (await Challenge.get(id=ctx.extra["challenges"]["reviewing"].id)).status == "reviewing"


async def test_demo_runs_once(db, settings):
    ctx = await _load(settings)
    count = await Bid.all().count()
    await demo_bids.load(ctx, settings)
    assert await Bid.all().count() == count
