"""Organisers screen needs over HTTP; submitters follow the status and its reasons."""

import pytest

from challenge.accounts.models import Role
from challenge.audit.models import AuditEntry
from challenge.challenges.models import ChallengeStatus
from challenge.mail.models import Notification
from challenge.needs.models import Need, NeedStatus
from factories import make_challenge, make_organiser, make_user
from factories.needs import make_campaign, make_complete_need, make_submitter


@pytest.fixture
async def organiser(client):
    user = await make_organiser()
    await client.login(user.email)
    return user


async def test_organiser_accepts_and_the_submitter_sees_it(client, make_client, organiser):
    submitter = await make_submitter()
    need = await make_complete_need(organisation=submitter.organisation, status=NeedStatus.SUBMITTED)
    page = await client.get(f"/needs/{need.id}")
    assert page.status_code == 200 and f'action="/needs/{need.id}/screen"' in page.text
    response = await client.submit(f"/needs/{need.id}/screen", {"decision": "accept", "reason": ""})
    assert response.status_code == 303 and response.headers["location"] == f"/needs/{need.id}"
    assert "已采纳该需求" in (await client.get(f"/needs/{need.id}")).text
    assert (await Need.get(id=need.id)).status == NeedStatus.ACCEPTED
    assert await Notification.filter(user=submitter, subject__contains="已采纳").exists()
    other = make_client()
    await other.login(submitter.email)
    page = await other.get(f"/needs/{need.id}")
    assert "已采纳" in page.text and "采纳需求" in page.text and organiser.name in page.text
    assert f'action="/needs/{need.id}/screen"' not in page.text


@pytest.mark.parametrize("decision,status", [("return", NeedStatus.RETURNED), ("reject", NeedStatus.REJECTED)])
async def test_return_and_reject_need_a_reason(client, organiser, decision, status):
    need = await make_complete_need(status=NeedStatus.SUBMITTED)
    response = await client.submit(f"/needs/{need.id}/screen", {"decision": decision, "reason": "  "})
    assert response.status_code == 400
    assert 'id="error-reason"' in response.text and "须填写理由" in response.text
    assert (await Need.get(id=need.id)).status == NeedStatus.SUBMITTED
    response = await client.submit(f"/needs/{need.id}/screen", {"decision": decision, "reason": "指标不够量化"})
    assert response.status_code == 303
    fresh = await Need.get(id=need.id)
    assert fresh.status == status and fresh.status_reason == "指标不够量化"


async def test_the_submitter_reads_the_reason_and_the_history_in_words(client, make_client, organiser):
    submitter = await make_submitter()
    need = await make_complete_need(organisation=submitter.organisation, status=NeedStatus.SUBMITTED)
    await client.submit(f"/needs/{need.id}/screen", {"decision": "return", "reason": "请补充示范规模"})
    other = make_client()
    await other.login(submitter.email)
    page = await other.get(f"/needs/{need.id}")
    assert "退回修改意见" in page.text and "请补充示范规模" in page.text
    assert "已提交 → 退回修改" in page.text and f"操作人：{organiser.name}" in page.text
    assert "need.return" not in page.text  # words, not action codes
    listing = await other.get("/needs/")
    assert need.title in listing.text and "退回修改" in listing.text


async def test_merge_into_another_need_of_the_campaign(client, make_client, organiser):
    submitter = await make_submitter()
    campaign = await make_campaign()
    need = await make_complete_need(organisation=submitter.organisation, campaign=campaign,
                                    status=NeedStatus.SUBMITTED, title="烧结余热回收")
    target = await make_complete_need(campaign=campaign, status=NeedStatus.ACCEPTED, title="中低温余热综合利用")
    page = await client.get(f"/needs/{need.id}")
    assert f'<option value="{target.id}"' in page.text
    response = await client.submit(f"/needs/{need.id}/screen", {"decision": "merge", "merge_into": str(target.id),
                                                                "reason": "范围重合"})
    assert response.status_code == 303
    fresh = await Need.get(id=need.id)
    assert fresh.status == NeedStatus.MERGED and fresh.merged_into_id == target.id
    page = await client.get(f"/needs/{need.id}")
    assert "本需求已并入" in page.text and f'href="/needs/{target.id}"' in page.text
    page = await client.get(f"/needs/{target.id}")
    assert "并入本需求的需求" in page.text and f'href="/needs/{need.id}"' in page.text
    assert "其他需求并入本需求" in page.text
    # The merged need's submitter sees where it went (the other organisation's need is not linked).
    other = make_client()
    await other.login(submitter.email)
    page = await other.get(f"/needs/{need.id}")
    assert "中低温余热综合利用" in page.text and f'href="/needs/{target.id}"' not in page.text


async def test_merge_refuses_bad_targets(client, organiser):
    campaign = await make_campaign()
    need = await make_complete_need(campaign=campaign, status=NeedStatus.SUBMITTED)
    merged = await make_complete_need(campaign=campaign, status=NeedStatus.MERGED)
    rejected = await make_complete_need(campaign=campaign, status=NeedStatus.REJECTED)
    draft = await make_complete_need(campaign=campaign, status=NeedStatus.DRAFT)
    elsewhere = await make_complete_need(status=NeedStatus.SUBMITTED)
    page = await client.get(f"/needs/{need.id}")
    for hidden in (need, merged, rejected, draft, elsewhere):
        assert f'<option value="{hidden.id}"' not in page.text
    for target in ("", "abc", str(need.id), str(merged.id), str(rejected.id), str(draft.id), str(elsewhere.id),
                   "99999999999"):
        response = await client.submit(f"/needs/{need.id}/screen", {"decision": "merge", "merge_into": target})
        assert response.status_code == 400, target
        assert 'id="error-merge_into"' in response.text
    fresh = await Need.get(id=need.id)
    assert fresh.status == NeedStatus.SUBMITTED and fresh.merged_into_id is None
    assert not await AuditEntry.filter(action="need.merge").exists()


@pytest.mark.parametrize("decision", ["", "approve", "draft"])
async def test_unknown_decision(client, organiser, decision):
    need = await make_complete_need(status=NeedStatus.SUBMITTED)
    response = await client.submit(f"/needs/{need.id}/screen", {"decision": decision, "reason": "x"})
    assert response.status_code == 400 and 'id="error-decision"' in response.text
    assert (await Need.get(id=need.id)).status == NeedStatus.SUBMITTED


async def test_screening_a_need_already_decided_is_refused(client, organiser):
    need = await make_complete_need(status=NeedStatus.ACCEPTED)
    page = await client.get(f"/needs/{need.id}")
    assert f'action="/needs/{need.id}/screen"' not in page.text
    response = await client.submit(f"/needs/{need.id}/screen", {"decision": "reject", "reason": "改主意了"})
    assert response.status_code == 303
    assert "不能改为" in (await client.get(response.headers["location"])).text
    assert (await Need.get(id=need.id)).status == NeedStatus.ACCEPTED


async def test_drafts_of_others_are_invisible_to_organisers(client, organiser):
    draft = await make_complete_need(status=NeedStatus.DRAFT)
    assert (await client.get(f"/needs/{draft.id}")).status_code == 404
    response = await client.submit(f"/needs/{draft.id}/screen", {"decision": "accept"})
    assert response.status_code == 404
    assert (await Need.get(id=draft.id)).status == NeedStatus.DRAFT


@pytest.mark.parametrize("need_id", ["424242", "0"])
async def test_forged_need_ids(client, organiser, need_id):
    assert (await client.get(f"/needs/{need_id}")).status_code == 404
    assert (await client.submit(f"/needs/{need_id}/screen", {"decision": "accept"})).status_code == 404


async def test_huge_need_id_is_not_found(client, organiser):
    assert (await client.get("/needs/99999999999")).status_code == 404


async def test_submitters_cannot_screen_even_their_own_need(client):
    submitter = await make_submitter()
    need = await make_complete_need(organisation=submitter.organisation, status=NeedStatus.SUBMITTED)
    await client.login(submitter.email)
    response = await client.submit(f"/needs/{need.id}/screen", {"decision": "accept"})
    assert response.status_code == 403
    assert (await Need.get(id=need.id)).status == NeedStatus.SUBMITTED


async def test_anonymous_screening_goes_to_sign_in(client):
    need = await make_complete_need(status=NeedStatus.SUBMITTED)
    response = await client.submit(f"/needs/{need.id}/screen", {"decision": "accept"})
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert (await Need.get(id=need.id)).status == NeedStatus.SUBMITTED


async def test_detail_lists_the_challenges_made_from_the_need(client, make_client, organiser):
    submitter = await make_submitter()
    need = await make_complete_need(organisation=submitter.organisation, status=NeedStatus.ACCEPTED)
    published = await make_challenge(title="氢冶金揭榜挂帅榜单")
    draft = await make_challenge(title="尚在编制的榜单", status=ChallengeStatus.DRAFT)
    await published.needs.add(need)
    await draft.needs.add(need)
    page = await client.get(f"/needs/{need.id}")
    assert f'href="/challenges/{published.id}"' in page.text and "尚在编制的榜单" in page.text
    assert f'href="/challenges/{draft.id}"' in page.text  # organisers open drafts too
    other = make_client()
    await other.login(submitter.email)
    page = await other.get(f"/needs/{need.id}")
    assert f'href="/challenges/{published.id}"' in page.text and "尚在编制的榜单" not in page.text
    assert f'href="/challenges/{draft.id}"' not in page.text


async def test_bidder_of_the_same_organisation_has_no_need_pages(client):
    submitter = await make_submitter()
    bidder = await make_user(Role.BIDDER,
                             organisation=submitter.organisation)
    need = await make_complete_need(organisation=submitter.organisation, status=NeedStatus.SUBMITTED)
    await client.login(bidder.email)
    assert (await client.get("/needs/")).status_code == 403
    assert (await client.get(f"/needs/{need.id}")).status_code == 403
