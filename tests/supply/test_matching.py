"""Matching (供需匹配): the parts, and a labelled set of needs and offers loaded through the services.

The labelled set lives in tests/supply/data/: 20 needs, each naming its right offer, among 40
offers (every need has at least one distractor from the same domain and a related field).
"""

import json
from pathlib import Path

from challenge.accounts.models import Role
from challenge.needs import services as need_services
from challenge.supply import matching
from challenge.supply import services as offer_services
from challenge.supply.models import OfferParameter, OfferStatus
from factories import domains, make_campaign, make_org, make_organiser, make_user

DATA = Path(__file__).parent / "data"


def test_tokens_are_chinese_bigrams_and_ascii_words():
    assert matching.tokens("低温SCR脱硝") == ["低温", "脱硝", "scr"]
    assert matching.tokens("氢") == ["氢"]


def test_indicators_are_read_with_their_direction_value_and_unit():
    found = matching.parse_indicator("出口NOx浓度 ≤ 50 mg/m³")
    assert (found.name, found.direction, found.value, found.unit) == ("出口NOx浓度", "max", 50.0, "mg/m³")
    found = matching.parse_indicator("脱硝效率不低于 85%")
    assert (found.name, found.direction, found.value, found.unit) == ("脱硝效率", "min", 85.0, "%")
    assert matching.parse_indicator("脱硝效率要高") is None  # no number: nothing to compare


def test_an_indicator_is_met_only_in_its_direction_and_unit():
    [at_most] = [matching.parse_indicator("出口NOx浓度 ≤ 50 mg/m³")]
    good = OfferParameter(name="出口NOx浓度", value="30", number=30.0, unit="mg/m³")
    high = OfferParameter(name="出口NOx浓度", value="80", number=80.0, unit="mg/m³")
    other_unit = OfferParameter(name="出口NOx浓度", value="30", number=30.0, unit="ppm")
    assert matching.indicators_met([at_most], [good]) == [(at_most, good)]
    assert matching.indicators_met([at_most], [high]) == []
    assert matching.indicators_met([at_most], [other_unit]) == []


async def _load_set():
    """The labelled offers and needs, created and published through the services."""
    all_domains = await domains()
    organiser = await make_organiser()
    owner = await make_user(Role.BIDDER, organisation=await make_org())
    offers = {}
    for row in json.loads((DATA / "matching_offers.json").read_text(encoding="utf-8")):
        content = offer_services.OfferContent(
            name=row["name"], domain_id=all_domains[row["domain"]].id, trl=7, summary=row["summary"],
            core_process=row["core_process"], scope=row["scope"], benefits_text=row["benefits"],
            transfer_modes=["licence"], contact_name="联系人", contact_phone="010-12345678",
            parameters=[offer_services.ParameterRow(name=n, value=v, unit=u) for n, v, u in row["params"]])
        offer = await offer_services.save_offer(actor=owner, offer=None, content=content)
        await offer_services.set_offer_status(offer=offer, status=OfferStatus.SUBMITTED, actor=owner)
        await offer_services.set_offer_status(offer=offer, status=OfferStatus.PUBLISHED, actor=organiser)
        offers[row["key"]] = offer
    campaign = await make_campaign()
    submitter = await make_user(Role.SUBMITTER)
    needs = []
    for row in json.loads((DATA / "matching_needs.json").read_text(encoding="utf-8")):
        content = need_services.NeedContent(
            title=row["title"], domain_id=all_domains[row["domain"]].id, bottleneck=row["bottleneck"],
            target_indicators=row["target_indicators"], application_scenario=row["application_scenario"],
            expected_results=row["expected_results"])
        need = await need_services.save_need(actor=submitter, need=None, campaign=campaign, content=content)
        needs.append((need, offers[row["answer"]]))
    return offers, needs


async def test_the_right_offer_is_in_the_top_three_for_most_needs_and_says_why(db):
    offers, needs = await _load_set()
    assert len(offers) >= 40 and len(needs) >= 20
    index = await matching.OfferIndex.load()
    hits = []
    for need, right in needs:
        ranked = index.rank(matching.need_subject(need), limit=3)
        hits.append(right.id in [m.offer.id for m in ranked])
    assert sum(hits) / len(hits) >= 0.8, [n.title for (n, _r), hit in zip(needs, hits) if not hit]

    need, right = needs[0]  # the sinter-plant NOx need and its low-temperature SCR offer
    [best, *_rest] = await matching.offers_for_need(need)
    assert best.offer.id == right.id
    assert best.same_domain
    assert any("脱硝" in term for term in best.terms)
    assert {indicator.name for indicator, _parameter in best.met} >= {"出口NOx浓度", "脱硝效率"}



def test_a_numbered_indicator_line_is_read_without_its_number():
    found = matching.parse_indicator("2. 有机朗肯循环发电效率不低于 12%")
    assert (found.name, found.direction, found.value, found.unit) == ("有机朗肯循环发电效率", "min", 12.0, "%")
    assert matching.parse_indicator("（3）吨水处理成本不高于 25 元").value == 25.0


def test_the_unit_stops_before_a_trailing_direction_word():
    found = matching.parse_indicator("示范区植被覆盖度提高 15 个百分点以上")
    assert (found.direction, found.value, found.unit) == ("min", 15.0, "个百分点")
    assert matching.parse_indicator("土壤有机碳储量年均增加不少于 0.3 吨碳/公顷").unit == "吨碳/公顷"
