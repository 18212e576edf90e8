"""Create forms are idempotent (issue #8, defect 6): the same form posted twice makes one object."""

import asyncio
import re

import pytest

from challenge.accounts.models import Role
from challenge.challenges.models import Challenge, ChallengeStatus
from challenge.needs.models import Campaign, Need
from challenge.web.models import FormToken
from factories import make_campaign, make_user
from factories.challenges import form_fields, make_accepted_need
from factories.web import all_routes

TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


def token_in(html: str) -> str:
    return TOKEN.search(html).group(1)


async def test_the_same_need_form_posted_twice_makes_one_need(client):
    submitter = await make_user(Role.SUBMITTER)
    campaign = await make_campaign()
    await client.login(submitter.email)
    page = await client.get(f"/needs/new?campaign={campaign.id}")
    token = token_in(page.text)
    fields = {"campaign_id": str(campaign.id), "title": "钢铁行业余热回收", "form_token": token, "intent": "save"}
    no_file = {"attachments": ("", b"", "application/octet-stream")}
    first = await client.submit("/needs/new", fields, files=no_file)
    second = await client.submit("/needs/new", fields, files=no_file)
    assert first.status_code == second.status_code == 303
    need = await Need.get(title="钢铁行业余热回收")
    assert await Need.filter(title="钢铁行业余热回收").count() == 1
    assert first.headers["location"] == f"/needs/{need.id}/edit"
    assert second.headers["location"] == f"/needs/{need.id}"
    assert "该表单已提交过" in (await client.get(second.headers["location"])).text
    # A fresh rendering of the form is a new token: a second need is possible on purpose.
    assert token_in((await client.get(f"/needs/new?campaign={campaign.id}")).text) != token


async def test_back_and_resubmit_does_not_publish_a_second_challenge(client):
    organiser = await make_user(Role.ORGANISER)
    need = await make_accepted_need()
    await client.login(organiser.email)
    page = await client.get("/challenges/new")
    data = [*form_fields([need.id], action="publish"), ("form_token", token_in(page.text))]
    first = await client.submit("/challenges/new", data)
    assert first.status_code == 303, first.text[:2000]
    again = await client.submit("/challenges/new", data)
    assert again.status_code == 303 and again.headers["location"] == first.headers["location"]
    assert await Challenge.filter(status=ChallengeStatus.PUBLISHED).count() == 1


async def test_concurrent_posts_of_one_form_make_one_object(client):
    organiser = await make_user(Role.ORGANISER)
    await client.login(organiser.email)
    token = token_in((await client.get("/needs/campaigns/new")).text)
    data = {"title": "2027年第一批", "opens_at": "2027-01-01T09:00", "closes_at": "2027-03-01T17:00",
            "form_token": token}
    data = [*data.items(), *[("domains", str(d)) for d in await _domain_ids()]]
    responses = await asyncio.gather(*(client.submit("/needs/campaigns/new", data) for _ in range(3)))
    assert [r.status_code for r in responses] == [303] * 3
    assert len({r.headers["location"] for r in responses}) == 1
    assert await Campaign.filter(title="2027年第一批").count() == 1


async def test_a_refused_post_keeps_its_token_usable(client):
    organiser = await make_user(Role.ORGANISER)
    await client.login(organiser.email)
    token = token_in((await client.get("/needs/campaigns/new")).text)
    refused = await client.submit("/needs/campaigns/new", {"title": "", "form_token": token})
    assert refused.status_code == 400 and token_in(refused.text) == token
    assert not await FormToken.exists()


async def _domain_ids() -> list[int]:
    from factories import domains

    return [d.id for d in await domains()]


CREATE_FORMS = {
    # path of the page showing the form: the create form on it carries a token
    "/needs/campaigns/new", "/challenges/new", "/admin/domains", "/review/conflicts",
    "/review/manage/experts",
}


@pytest.mark.parametrize("path", sorted(CREATE_FORMS))
async def test_create_forms_carry_a_one_time_token(client, path):
    person = await make_user(Role.ORGANISER, Role.EXPERT)
    await client.login(person.email)
    page = await client.get(path)
    assert page.status_code == 200 and TOKEN.search(page.text), path


def test_the_list_of_create_pages_names_real_routes(app):
    paths = {path for path, _methods in all_routes(app.routes)}
    assert CREATE_FORMS <= paths
