"""/api/v1/: the OpenAPI document is valid, every response matches its schema, filters work as on
the list page, responses are cached and open to any origin, and no private field ever appears."""

import csv
import io
import json

from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from challenge.accounts.models import Role, User
from challenge.challenges import services as challenges
from challenge.challenges.models import Mechanism
from challenge.files.services import attach
from challenge.results import objections
from challenge.reviews.models import Score
from factories import make_organiser, make_user
from factories.bids import tiny_pdf
from factories.challenges import make_draft, make_published
from factories.results import concluded_review, open_notice
from factories.reviews import store_file

OBJECTOR_NAME, OBJECTOR_PHONE = "欧阳异议人", "13987654321"
DRAFT_TITLE = "尚未发布的草稿榜单XYZ"
PRIVATE_QUESTION = "这是一个尚未答复的私密提问"
PRIVATE_COMMENT = "专家私密评语QWE"


async def seed(storage) -> dict:
    organiser = await make_organiser()
    open_call = await make_published(actor=organiser, title="烟气二氧化碳捕集", contact_name="王工",
                                     contact_phone="010-68205566")
    race = await make_published(actor=organiser, title="氢冶金赛道", mechanism=Mechanism.HORSE_RACE)
    await make_draft(actor=organiser, title=DRAFT_TITLE)
    asker = await make_user(Role.BIDDER, email="asker-secret@example.cn")
    answered = await challenges.ask_question(challenge=open_call, user=asker, body="联合体成员可以有几家？")
    await challenges.answer_question(question=answered, actor=organiser, answer="不超过 5 家。")
    await challenges.ask_question(challenge=open_call, user=asker, body=PRIVATE_QUESTION)
    data = await challenges.load_data(open_call)
    data.summary += "（补充）"
    await challenges.amend_challenge(challenge=open_call, data=data, explanation="补充测试工况", actor=organiser)
    blob = await store_file(storage, tiny_pdf("guide"), "pdf", "application/pdf")
    await attach(blob=blob, owner=open_call, filename="申报指南.pdf", category="guide")
    review = await concluded_review(scores=[97, 83], recommended=[0])
    await Score.all().update(comment=PRIVATE_COMMENT)
    notice = await open_notice(review)
    await objections.file_objection(notice=notice, user=review.bidders[1], real_name=OBJECTOR_NAME,
                                    contact=OBJECTOR_PHONE, reasons="第一名的中试规模与申报书不符。")
    return {"open_call": open_call, "race": race, "review": review, "notice": notice}


def validator(spec: dict, name: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"#/components/schemas/{name}", "components": spec["components"]})


async def test_the_document_is_valid_and_every_response_matches_its_schema(client, app):
    world = await seed(app.state.storage)
    spec_response = await client.get("/api/v1/openapi.json")
    assert spec_response.status_code == 200
    spec = spec_response.json()
    validate(spec)  # OpenAPI 3.1, by openapi-spec-validator
    assert set(spec["paths"]) == {"/challenges", "/challenges.csv", "/challenges/{challenge_id}", "/notices",
                                  "/notices.csv", "/catalogue", "/catalogue.csv"}
    catalogue = await client.get("/api/v1/catalogue")
    validator(spec, "Catalogue").validate(catalogue.json())  # none published yet: version 0, no entries
    assert catalogue.json()["entries"] == [] and catalogue.headers["access-control-allow-origin"] == "*"

    listed = (await client.get("/api/v1/challenges")).json()
    validator(spec, "ChallengePage").validate(listed)
    assert listed["total"] == 3  # the two published and the review's challenge, never the draft
    detail = (await client.get(f"/api/v1/challenges/{world['open_call'].id}")).json()
    validator(spec, "ChallengeDetail").validate(detail)
    assert detail["number"] == world["open_call"].public_number and detail["contact_phone"] == "010-68205566"
    assert [a["question"] for a in detail["answers"]] == ["联合体成员可以有几家？"]
    assert [a["version"] for a in detail["amendments"]] == [2]
    assert detail["documents"][0]["filename"] == "申报指南.pdf"
    race = (await client.get(f"/api/v1/challenges/{world['race'].id}")).json()
    validator(spec, "ChallengeDetail").validate(race)
    assert len(race["stages"]) == 3
    notices = (await client.get("/api/v1/notices")).json()
    validator(spec, "NoticePage").validate(notices)
    [notice] = notices["items"]
    winner = await world["review"].bids[0].lead_org
    assert [t["lead_organisation"] for t in notice["teams"]] == [winner.name]

    # Filtered like the list page, and a draft or unknown challenge is not found.
    horse = (await client.get("/api/v1/challenges?mechanism=horse_race")).json()
    assert [c["title"] for c in horse["items"]] == ["氢冶金赛道"]
    assert (await client.get("/api/v1/challenges/999999")).status_code == 404

    table = list(csv.reader(io.StringIO((await client.get("/api/v1/challenges.csv")).content.decode("utf-8-sig"))))
    assert table[0][:3] == ["id", "number", "title"] and len(table) == 4
    notice_table = list(csv.reader(io.StringIO((await client.get("/api/v1/notices.csv")).content.decode("utf-8-sig"))))
    assert winner.name in notice_table[1][-2]


async def test_no_private_field_in_any_response(client, app):
    world = await seed(app.state.storage)
    organiser = await make_organiser()
    await client.login(organiser.email)  # signed in as an organiser: still only the public data
    paths = ["/api/v1/openapi.json", "/api/v1/challenges", "/api/v1/challenges.csv", "/api/v1/notices",
             "/api/v1/notices.csv", "/api/v1/challenges?status=draft", "/api/v1/catalogue", "/api/v1/catalogue.csv"]
    listed = (await client.get("/api/v1/challenges")).json()["items"]
    paths += [f"/api/v1/challenges/{c['id']}" for c in listed]
    bodies = {}
    for path in paths:
        response = await client.get(path)
        assert response.status_code == 200, path
        bodies[path] = response.content.decode("utf-8-sig")
    private = [OBJECTOR_NAME, OBJECTOR_PHONE, DRAFT_TITLE, PRIVATE_QUESTION, PRIVATE_COMMENT,
               *await User.all().values_list("email", flat=True)]
    for path, body in bodies.items():
        for secret in private:
            assert secret not in body, (secret, path)
    forbidden_keys = {"email", "score", "scores", "total_score", "objector", "asked_by", "real_name", "comment"}

    def keys(value):
        if isinstance(value, dict):
            for key, inner in value.items():
                yield key
                yield from keys(inner)
        elif isinstance(value, list):
            for inner in value:
                yield from keys(inner)

    for path, body in bodies.items():
        if not path.endswith(".csv") and "openapi" not in path:
            assert not forbidden_keys & set(keys(json.loads(body))), path
    assert world["notice"].id in [n["id"] for n in json.loads(bodies["/api/v1/notices"])["items"]]


async def test_cached_with_etag_and_open_to_any_origin(client):
    await make_published()
    response = await client.get("/api/v1/challenges")
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["cache-control"] == "public, max-age=60"
    etag = response.headers["etag"]
    again = await client.get("/api/v1/challenges", headers={"If-None-Match": etag})
    assert again.status_code == 304 and not again.content
    await make_published(title="新发布的榜单")
    changed = await client.get("/api/v1/challenges", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
