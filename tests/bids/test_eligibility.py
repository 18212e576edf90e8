"""Eligibility rules of a challenge (揭榜条件), each failure named, checked on submission."""

from types import SimpleNamespace

import pytest

from challenge.accounts.models import OrgType
from challenge.bids import services
from challenge.bids.forms import PartnerInput
from challenge.bids.models import Bid, BidStatus, BidVersion
from challenge.challenges.models import Challenge
from factories import credit_code, make_challenge
from factories.bids import full_content, make_bidder, make_draft, proposal_upload, storage_of


def rules(**overrides):
    values = {"allowed_org_types": [], "allowed_regions": [], "consortium_required": False, "max_partners": 5}
    values.update(overrides)
    return SimpleNamespace(**values)


def org(org_type="university", region="110000"):
    return SimpleNamespace(org_type=OrgType(org_type), region_code=region, name="牵头单位")


def partner(org_type="enterprise", name="联合单位"):
    return SimpleNamespace(org_type=org_type, name=name)


def test_no_rules_no_errors():
    assert services.eligibility_errors(challenge=rules(), lead=org(), partners=[partner()]) == {}


def test_allowed_types_apply_to_lead_and_every_partner():
    challenge = rules(allowed_org_types=["enterprise", "institute"])
    errors = services.eligibility_errors(challenge=challenge, lead=org("university"),
                                         partners=[partner("enterprise"), partner("finance", "某基金")])
    assert set(errors) == {"lead_org_type", "partner-1"}
    assert "高等院校" in errors["lead_org_type"] and "企业、科研院所" in errors["lead_org_type"]
    assert "某基金" in errors["partner-1"] and "金融/中介机构" in errors["partner-1"]


@pytest.mark.parametrize("allowed, region, ok", [
    (["320000"], "320500", True),   # a province code covers its cities
    (["320000"], "320000", True),
    (["320500"], "320500", True),   # a city code covers that city only
    (["320500"], "320200", False),
    (["320500"], "320000", False),
    (["110000", "320000"], "110000", True),
    (["320000"], "330100", False),
    ([], "650100", True),
])
def test_allowed_regions_by_province_prefix(allowed, region, ok):
    errors = services.eligibility_errors(challenge=rules(allowed_regions=allowed), lead=org(region=region), partners=[])
    assert ("lead_org_region" not in errors) == ok
    assert services.region_allowed(region, allowed) == ok


def test_consortium_required():
    errors = services.eligibility_errors(challenge=rules(consortium_required=True), lead=org(), partners=[])
    assert set(errors) == {"consortium_required"} and "联合体" in errors["consortium_required"]
    assert services.eligibility_errors(challenge=rules(consortium_required=True), lead=org(), partners=[partner()]) == {}


def test_max_partners():
    errors = services.eligibility_errors(challenge=rules(max_partners=2), lead=org(), partners=[partner()] * 3)
    assert set(errors) == {"max_partners"} and "2" in errors["max_partners"] and "3" in errors["max_partners"]
    assert services.eligibility_errors(challenge=rules(max_partners=2), lead=org(), partners=[partner()] * 2) == {}


async def test_submission_names_every_failed_rule(db, settings):
    challenge = await make_challenge(allowed_org_types=["enterprise"], allowed_regions=["320000"],
                                     consortium_required=True, max_partners=1)
    bidder = await make_bidder()  # a university in Beijing (110000)
    bid, _ = await make_draft(challenge=challenge, bidder=bidder)
    storage = storage_of(settings)
    content = await full_content(challenge, partners=[])
    with pytest.raises(services.SubmissionIncomplete) as refusal:
        await services.submit_bid(bid=bid, actor=bidder, content=content, uploads=[await proposal_upload(storage)],
                                  storage=storage)
    assert set(refusal.value.errors) == {"lead_org_type", "lead_org_region", "consortium_required"}
    content.partners = [PartnerInput(name=f"单位{i}", org_type="institute", credit_code=credit_code()) for i in range(2)]
    with pytest.raises(services.SubmissionIncomplete) as refusal:
        await services.submit_bid(bid=bid, actor=bidder, content=content, storage=storage)
    assert set(refusal.value.errors) == {"lead_org_type", "lead_org_region", "max_partners", "partner-0", "partner-1"}
    assert (await Bid.get(id=bid.id)).status == BidStatus.DRAFT
    assert await BidVersion.filter(bid_id=bid.id).count() == 0


async def test_eligible_consortium_submits(db, settings):
    challenge = await make_challenge(allowed_org_types=["enterprise", "university"], allowed_regions=["110000"],
                                     consortium_required=True, max_partners=1)
    bidder = await make_bidder()
    bid, _ = await make_draft(challenge=challenge, bidder=bidder)
    storage = storage_of(settings)
    version = await services.submit_bid(bid=bid, actor=bidder, content=await full_content(challenge),
                                        uploads=[await proposal_upload(storage)], storage=storage)
    assert version.version == 1
    assert (await Challenge.get(id=challenge.id)).id == (await Bid.get(id=bid.id)).challenge_id
