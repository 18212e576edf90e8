from challenge.needs.models import NeedStatus
from factories import make_need, make_organiser


async def test_accepted_need_offers_the_organiser_to_build_a_challenge(client):
    organiser = await make_organiser()
    accepted = await make_need(status=NeedStatus.ACCEPTED)
    submitted = await make_need(status=NeedStatus.SUBMITTED)
    await client.login(organiser.email)
    page = await client.get(f"/needs/{accepted.id}")
    assert f'href="/challenges/new?need_id={accepted.id}"' in page.text
    form = await client.get(f"/challenges/new?need_id={accepted.id}")
    assert form.status_code == 200 and accepted.title in form.text
    assert "/challenges/new?need_id=" not in (await client.get(f"/needs/{submitted.id}")).text
