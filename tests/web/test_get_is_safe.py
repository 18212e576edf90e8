"""No GET changes state: every GET route of the app, as each kind of person, leaves the database as it was."""

import pytest

from challenge.accounts.models import Role, User
from challenge.mail.services import notify
from factories import make_bid, make_challenge, make_need, make_user
from factories.web import changed_tables, get_paths, snapshot
from querylog import captured_sql, writes

@pytest.fixture
async def people():
    organiser = await make_user(Role.ORGANISER)
    submitter = await make_user(Role.SUBMITTER, Role.BIDDER)
    expert = await make_user(Role.EXPERT)
    # A new single sign-on account: a bidder with no organisation yet.
    newcomer = await make_user(Role.BIDDER)
    await User.filter(id=newcomer.id).update(organisation_id=None)
    await make_need(organisation=submitter.organisation)
    await make_bid(challenge=await make_challenge(), lead_org=submitter.organisation)
    return {"organiser": organiser, "submitter": submitter, "expert": expert, "newcomer": newcomer}


@pytest.mark.parametrize("who", ["anonymous", "organiser", "submitter", "expert", "newcomer"])
async def test_get_routes_change_nothing_and_never_fail(app, client, people, who):
    if who != "anonymous":
        await client.login(people[who].email)
    before = await snapshot()
    errors = []
    for path in get_paths(app):
        if path.startswith("/static"):
            continue
        with captured_sql() as statements:
            response = await client.get(path)
        if response.status_code >= 500:
            errors.append(f"{path}: {response.status_code}")
        if written := writes(statements):
            errors.append(f"GET {path} wrote: {written[0][:120]}")
    assert errors == []
    assert changed_tables(before, await snapshot()) == []


async def test_reading_the_inbox_does_not_mark_it_read(client, people):
    """Marking read is a POST (/inbox/read); opening the page must not do it."""
    user = people["submitter"]
    await notify(user=user, subject="需求已受理", email=False)
    await client.login(user.email)
    assert (await client.get("/inbox")).status_code == 200
    assert await user.notifications.filter(read_at__isnull=True).count() == 1

