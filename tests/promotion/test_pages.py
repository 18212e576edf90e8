"""The catalogue's pages through HTTP: the organiser's round form, the team's application with its
achieved values, the notice and objection, the public catalogue searched by a Chinese word,
versions shown as they were, downloads and the open-data API."""

import io
import json
from datetime import timedelta

from jsonschema import Draft202012Validator
from openpyxl import load_workbook

from challenge.promotion import catalogue, rounds
from challenge.promotion.models import Candidate, CandidateStatus, CatalogueEntry, CatalogueRound, CatalogueVersion
from challenge.results import services as results
from challenge.results.models import Objection
from challenge.reviews.models import Assignment
from challenge.web.timefmt import now_utc
from factories import PASSWORD, domains, make_organiser, make_user
from factories.promotion import evaluating_round, make_accepted, open_round, published_catalogue


async def test_the_organiser_creates_a_round_and_bad_input_keeps_what_was_typed(client, settings):
    organiser = await make_organiser()
    await client.login(organiser.email, PASSWORD)
    domain = str((await domains())[0].id)
    page = await client.get("/catalogue/manage/rounds/new")
    assert page.status_code == 200 and f'name="domains" value="{domain}"' in page.text
    bad = await client.submit("/catalogue/manage/rounds/new", {"year": "2026", "title": "2026年度推广目录遴选",
                                                                "conditions": "", "deadline": "2026-12-31T17:00"})
    assert bad.status_code == 400 and "2026年度推广目录遴选" in bad.text and 'id="error-conditions"' in bad.text
    assert not await CatalogueRound.exists()
    form = {"year": "2026", "title": "2026年度推广目录遴选", "conditions": "通过验收的成果",
            "deadline": (now_utc() + timedelta(days=40)).strftime("%Y-%m-%dT%H:%M"), "domains": domain,
            "form_token": "t" * 30}
    made = await client.submit("/catalogue/manage/rounds/new", form)
    again = await client.submit("/catalogue/manage/rounds/new", form)  # a double click
    assert made.status_code == 303 and again.headers["location"] == made.headers["location"]
    assert await CatalogueRound.all().count() == 1
    round_ = await CatalogueRound.first()
    opened = await client.submit(f"/catalogue/manage/rounds/{round_.id}/open")
    assert opened.status_code == 303
    assert (await client.get(f"/catalogue/rounds/{round_.id}")).status_code == 200


async def test_the_team_applies_with_its_achieved_values_carried_over(client, settings):
    made = await open_round()
    project = await make_accepted(settings, achieved="97.5")
    await client.login(project.team.email, PASSWORD)
    url = f"/catalogue/rounds/{made.round.id}/apply"
    page = await client.get(f"{url}?project={project.project.id}")
    assert page.status_code == 200 and 'value="97.5"' in page.text
    form = {"project": str(project.project.id), "name": "高效低成本二氧化碳捕集技术", "domain": str(made.domain.id),
            "scope": "钢铁行业", "core_process": "", "benefits": "减排", "param-0-name": "捕集率",
            "param-0-value": "97.5", "param-0-unit": "%"}
    bad = await client.submit(url, form)
    assert bad.status_code == 400 and "高效低成本二氧化碳捕集技术" in bad.text and not await Candidate.exists()
    done = await client.submit(url, {**form, "core_process": "胺吸收"})
    assert done.status_code == 303
    candidate = await Candidate.get()
    assert candidate.parameters == [{"name": "捕集率", "value": "97.5", "unit": "%"}]
    stranger = await make_user()
    await client.login(stranger.email, PASSWORD)
    assert (await client.get(url)).status_code in {403, 404}


async def test_notice_objection_and_publication_through_the_pages(client, settings):
    made = await evaluating_round(settings, names=("钢渣矿化固碳技术",))
    await client.login(made.organiser.email, PASSWORD)
    url = f"/catalogue/manage/rounds/{made.round.id}"
    page = await client.get(url)
    assert page.status_code == 200 and "钢渣矿化固碳技术" in page.text
    empty = await client.submit(f"{url}/notice", {"working_days": "5",
                                                  "starts_on": results.default_start(now_utc()).isoformat()})
    assert empty.status_code == 400 and 'id="error-recommended"' in empty.text
    posted = await client.submit(f"{url}/notice", {"recommended": str(made.candidates[0].id), "working_days": "5",
                                                   "starts_on": results.default_start(now_utc()).isoformat()})
    assert posted.status_code == 303
    round_ = await CatalogueRound.get(id=made.round.id)
    public = await client.get(f"/catalogue/rounds/{round_.id}")
    assert "钢渣矿化固碳技术" in public.text and "推广目录公示" in public.text
    objector = await make_user()
    await client.login(objector.email, PASSWORD)
    filed = await client.submit(f"/catalogue/notices/{round_.notice_id}/object", {
        "real_name": "周研究员", "contact": "13800000000", "reasons": "该技术的固碳量数据与检测报告不一致。"})
    assert filed.status_code == 303
    objection = await Objection.get()
    assert (await client.get(f"/catalogue/manage/objections/{objection.id}")).status_code == 403
    await client.login(made.organiser.email, PASSWORD)
    answered = await client.submit(f"/catalogue/manage/objections/{objection.id}",
                                   {"outcome": "dismissed", "answer": "经核实，检测报告数据一致。"})
    assert answered.status_code == 303
    early = await client.submit(f"{url}/publish")
    assert early.status_code == 303 and not await CatalogueEntry.exists()  # the period is running


async def test_the_public_finds_an_entry_by_a_chinese_word_and_downloads_the_catalogue(client, settings):
    await published_catalogue(settings, names=("高效低成本二氧化碳捕集技术", "工业余热梯级利用技术"))
    found = await client.get("/catalogue", params={"q": "余热"})
    assert found.status_code == 200 and "工业余热梯级利用技术" in found.text and "高效低成本二氧化碳捕集技术" not in found.text
    entry = await CatalogueEntry.get(name="工业余热梯级利用技术")
    page = await client.get(f"/catalogue/entries/{entry.number}")
    assert "捕集率" in page.text and "钢铁、水泥行业" in page.text
    xlsx = await client.get("/catalogue/versions/1.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == [e.name for e in
                                                                                  await CatalogueEntry.all()]
    pdf = await client.get("/catalogue/versions/1.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    api = await client.get("/api/v1/catalogue")
    version = await CatalogueVersion.get(number=1)
    assert api.content == version.document.encode() and api.headers["x-content-sha256"] == version.sha256
    assert len(json.loads(api.content)["entries"]) == 2
    spec = (await client.get("/api/v1/openapi.json")).json()  # the frozen document is what the API promises
    Draft202012Validator({"$ref": "#/components/schemas/Catalogue", "components": spec["components"]}).validate(
        json.loads(api.content))
    csv = await client.get("/api/v1/catalogue.csv")
    assert "工业余热梯级利用技术" in csv.text


async def test_a_withdrawn_entry_makes_version_2_and_version_1_still_shows_as_it_was(client, settings):
    made, v1 = await published_catalogue(settings, names=("高效低成本二氧化碳捕集技术", "工业余热梯级利用技术"))
    entry = await CatalogueEntry.get(name="工业余热梯级利用技术")
    await client.login(made.organiser.email, PASSWORD)
    url = f"/catalogue/manage/entries/{entry.number}"
    missing = await client.submit(url, {"action": "withdraw", "withdraw_reason": ""})
    assert missing.status_code == 400 and await CatalogueVersion.all().count() == 1
    withdrawn = await client.submit(url, {"action": "withdraw", "withdraw_reason": "技术已被更先进工艺替代"})
    assert withdrawn.status_code == 303
    v2 = await CatalogueVersion.get(number=2)
    assert v2.entries_count == 1 and catalogue.verifies(v2) and catalogue.verifies(await CatalogueVersion.get(number=1))
    # Entry numbers stay: the other entry keeps its number in v2.
    other = await CatalogueEntry.get(name="高效低成本二氧化碳捕集技术")
    assert [e["number"] for e in catalogue.content_of(v2)["entries"] if e["status"] == "listed"] == [other.number]
    old = await client.get("/catalogue/versions/1")
    assert "工业余热梯级利用技术" in old.text and "校验通过" in old.text and v1.sha256 in old.text
    new = await client.get("/catalogue/versions/2")
    assert "已撤销的条目" in new.text
    listing = await client.get("/catalogue", params={"q": "余热"})
    assert "工业余热梯级利用技术" not in listing.text
    history = await client.get(f"/catalogue/entries/{entry.number}")
    assert "技术已被更先进工艺替代" in history.text
    # A tampered document no longer verifies, and the page says so.
    await CatalogueVersion.filter(number=1).update(document=v1.document.replace("余热", "废热"))
    assert "校验失败" in (await client.get("/catalogue/versions/1")).text


async def test_an_update_and_an_adoption_case(client, settings):
    made, _v1 = await published_catalogue(settings)
    entry = await CatalogueEntry.first()
    await client.login(made.organiser.email, PASSWORD)
    url = f"/catalogue/manage/entries/{entry.number}"
    updated = await client.submit(url, {"action": "update", "name": entry.name, "scope": "钢铁、水泥、化工行业",
                                        "core_process": entry.core_process, "benefits": entry.benefits,
                                        "param-0-name": "捕集率", "param-0-value": "96", "param-0-unit": "%",
                                        "reason": "补充化工行业应用"})
    assert updated.status_code == 303 and (await CatalogueEntry.get(id=entry.id)).scope == "钢铁、水泥、化工行业"
    case = await client.submit(url, {"action": "case", "organisation": "某钢铁公司", "place": "河北唐山",
                                     "adopted_on": "2026-06-01", "scale": "年捕集 10 万吨", "effect": "运行稳定"})
    assert case.status_code == 303
    page = await client.get(f"/catalogue/entries/{entry.number}")
    assert "某钢铁公司" in page.text and "补充化工行业应用" in page.text


async def test_the_evaluation_panel_works_in_the_review_pages(client, settings):
    made = await evaluating_round(settings, names=("钢渣矿化固碳技术",))
    candidate = await Candidate.get(id=made.candidates[0].id)
    await client.login(made.organiser.email, PASSWORD)
    panel_page = await client.get(f"/review/manage/panels/{candidate.panel_id}")
    assert panel_page.status_code == 200 and "技术评价专家组" in panel_page.text
    task = await Assignment.get(panel_id=candidate.panel_id).select_related("expert")
    await client.login(task.expert.email, PASSWORD)
    page = await client.get(f"/review/assignments/{task.id}")
    assert page.status_code == 200 and "钢渣矿化固碳技术" in page.text and "捕集率" in page.text


async def test_the_catalogue_notice_is_listed_on_the_results_page(client, settings):
    made = await evaluating_round(settings, names=("钢渣矿化固碳技术",))
    assert made.round.title not in (await client.get("/results")).text
    await rounds.publish_notice(round_=made.round, actor=made.organiser, recommended_ids=[made.candidates[0].id],
                                working_days=5, starts_on=results.default_start(now_utc()))
    page = await client.get("/results")
    assert page.status_code == 200 and made.round.title in page.text
    assert f'href="/catalogue/rounds/{made.round.id}#notice"' in page.text
