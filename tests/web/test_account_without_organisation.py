"""Single sign-on creates accounts with no organisation yet: no page or form may fail on them."""

from challenge.accounts.models import Role, User
from factories import make_bid, make_challenge, make_need, make_user
from factories.web import get_paths, post_paths


async def test_no_route_fails_for_an_account_without_organisation(app, client):
    owner = await make_user(Role.SUBMITTER, Role.BIDDER)
    await make_need(organisation=owner.organisation)
    await make_bid(challenge=await make_challenge(), lead_org=owner.organisation)
    newcomer = await make_user(Role.BIDDER)
    await User.filter(id=newcomer.id).update(organisation_id=None)
    await client.login(newcomer.email)
    errors = []
    for path in get_paths(app):
        if not path.startswith("/static") and (response := await client.get(path)).status_code >= 500:
            errors.append(f"GET {path}: {response.status_code}")
    for path in post_paths(app):
        if path in {"/logout", "/account/password", "/account/sessions/revoke"}:
            continue
        response = await client.submit(path, {"title": "测试", "name": "测试", "locale": "zh_CN"})
        if response.status_code >= 500:
            errors.append(f"POST {path}: {response.status_code}")
    assert errors == []
    assert (await client.get("/account")).status_code == 200
