"""Each horse-race stage has its funding: set on the challenge form, changed by an amendment, shown
on the track page; the stages together stay within the challenge's funding."""

from decimal import Decimal

import pytest

from challenge.challenges import services
from challenge.challenges.forms import challenge_form_data
from challenge.challenges.models import Mechanism, Stage
from challenge.errors import DomainError
from factories import PASSWORD, make_organiser
from factories.challenges import form_fields, make_accepted_need, make_published


async def test_the_form_sets_each_stages_funding_within_the_challenges(client):
    organiser = await make_organiser()
    need = await make_accepted_need()
    await client.login(organiser.email, PASSWORD)
    stages = {"stage-0-name": "小试", "stage-0-deliverable": "小试报告", "stage-0-due": "2100-06-30",
              "stage-0-advance": "2", "stage-0-funding": "600",
              "stage-1-name": "示范", "stage-1-deliverable": "示范报告", "stage-1-due": "2100-12-31",
              "stage-1-advance": "1", "stage-1-funding": "1200"}
    fields = form_fields([need.id], mechanism="horse_race", action="publish", **stages)
    refused = await client.submit("/challenges/new", fields)
    assert refused.status_code == 400 and "各阶段经费合计 1800.00 万元，超过榜单金额 1500.00 万元" in refused.text
    fields = form_fields([need.id], mechanism="horse_race", action="publish", **{**stages, "stage-1-funding": "900"})
    response = await client.submit("/challenges/new", fields)
    assert response.status_code == 303
    assert [s.funding_wan for s in await Stage.all().order_by("position")] == [Decimal("600"), Decimal("900")]
    track = (await client.get(response.headers["location"])).text.split('id="h-stages"')[1].split("</section>")[0]
    assert "600 万元" in track and "900 万元" in track and "1,500 万元" in track


async def test_an_amendment_changes_a_stages_funding(client):
    organiser = await make_organiser()
    challenge = await make_published(actor=organiser, mechanism=Mechanism.HORSE_RACE)
    data = await services.load_data(challenge)
    data.stages[0].funding_wan = Decimal("5000")
    with pytest.raises(DomainError) as refused:
        await services.amend_challenge(challenge=challenge, data=data, actor=organiser, explanation="追加阶段经费")
    assert "stages" in refused.value.errors
    await client.login(organiser.email, PASSWORD)
    page = await client.get(f"/challenges/{challenge.id}/amend")
    assert 'name="stage-0-funding"' in page.text and "第 1 阶段“小试验证”经费（万元）" in page.text
    form = {**challenge_form_data(await services.load_data(challenge)), "explanation": "第一阶段增设经费 300 万元",
            "stage-0-funding": "300"}
    response = await client.submit(f"/challenges/{challenge.id}/amend", form)
    assert response.status_code == 303, response.text
    assert (await Stage.get(challenge=challenge, position=0)).funding_wan == Decimal("300")
    page = (await client.get(f"/challenges/{challenge.id}")).text
    notice = page.split('id="amendment-2"')[1].split("</article>")[0]
    assert "阶段经费" in notice and "小试验证：300 万元" in notice
