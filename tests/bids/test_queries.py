"""The bid lists make the same number of queries whatever the number of bids (no N+1)."""


from challenge.accounts.models import OrgType
from challenge.bids.models import Bid, BidMessage, BidStatus
from factories import make_challenge, make_org, make_organiser
from factories.bids import make_bidder, make_submitted
from querylog import count_queries

async def test_organiser_list_and_bidder_page_do_not_grow_with_bids(client, make_client, settings):
    challenge = await make_challenge()
    organiser = await make_organiser()
    bidder = await make_bidder()
    others = [await make_challenge() for _ in range(4)]
    await make_submitted(settings, challenge=challenge, bidder=bidder)
    await make_submitted(settings, challenge=challenge)
    await client.login(organiser.email)
    small, _ = await count_queries(client, f"/bids/manage?challenge_id={challenge.id}")
    small_index, _ = await count_queries(client, "/bids/manage")
    team = make_client()
    await team.login(bidder.email)
    few, _ = await count_queries(team, "/bids/")
    for other in others:
        await make_submitted(settings, challenge=challenge, bidder=await make_bidder(await make_org(org_type=OrgType.INSTITUTE)))
        bid, _, _ = await make_submitted(settings, challenge=other, bidder=bidder)
        await BidMessage.create(bid=bid, author=organiser, status=BidStatus.SUBMITTED, body="请注意")
    assert await Bid.filter(challenge_id=challenge.id).count() == 6
    assert (await count_queries(client, f"/bids/manage?challenge_id={challenge.id}"))[0] == small
    assert (await count_queries(client, "/bids/manage"))[0] == small_index
    assert await Bid.filter(lead_org_id=bidder.organisation_id).count() == 5
    assert (await count_queries(team, "/bids/"))[0] == few
