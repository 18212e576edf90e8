"""对接: a need's submitter asks an offer's owner for contact; the owner answers; either side records the outcome."""

from challenge.accounts.models import Role
from challenge.audit.models import AuditEntry
from challenge.mail.models import Notification
from challenge.needs.models import NeedStatus
from challenge.supply import contacts
from challenge.supply.models import ContactRequest, ContactStatus, MatchShown
from factories import domains, make_challenge, make_organiser, make_user
from factories.needs import make_complete_need
from factories.supply import make_contact, make_offer

NOX_NEED = {
    "title": "烧结机头烟气氮氧化物超低排放改造技术需求",
    "bottleneck": "烧结烟气温度低，现有中温脱硝需升温，燃气消耗大。",
    "target_indicators": "出口NOx浓度 ≤ 50 mg/m³\n脱硝效率 ≥ 85%",
}
SCR_PARAMETERS = (("脱硝效率", "92", "%"), ("出口NOx浓度", "30", "mg/m³"))


async def _world():
    submitter = await make_user(Role.SUBMITTER)
    need = await make_complete_need(organisation=await submitter.organisation, status=NeedStatus.ACCEPTED,
                                    domain=(await domains())[1], **NOX_NEED)
    owner = await make_user(Role.BIDDER)
    offer = await make_offer(organisation=await owner.organisation, parameters=SCR_PARAMETERS)
    await make_offer(name="餐饮油烟高压静电净化设备", summary="厨房油烟净化。", core_process="高压静电场捕集油烟颗粒物。",
                     scope="餐馆食堂。", parameters=(("油烟去除率", "95", "%"),))
    return submitter, need, owner, offer


async def test_from_match_to_signed(make_client):
    submitter, need, owner, offer = await _world()
    requester = make_client()
    await requester.login(submitter.email)
    page = await requester.get(f"/needs/{need.id}")
    assert "匹配的技术成果" in page.text and offer.name in page.text
    assert "同一领域" in page.text and "指标满足：出口NOx浓度 ≤ 50 mg/m³" in page.text and "共同关键词" in page.text
    assert await MatchShown.filter(offer=offer, subject_type="need", subject_id=need.id).count() == 1
    await requester.get(f"/needs/{need.id}")
    assert await MatchShown.filter(offer=offer, subject_type="need", subject_id=need.id).count() == 1  # once per pair

    page = await requester.get(f"/supply/{offer.id}?for=need-{need.id}")
    assert f'value="need-{need.id}" selected' in page.text
    response = await requester.submit(f"/supply/{offer.id}/contact",
                                      {"subject": f"need-{need.id}", "message": "希望了解改造投资和工期。",
                                       "form_token": "c" * 32})
    assert response.status_code == 303
    again = await requester.submit(f"/supply/{offer.id}/contact",
                                   {"subject": f"need-{need.id}", "message": "希望了解改造投资和工期。",
                                    "form_token": "c" * 32})
    assert again.headers["location"] == response.headers["location"]
    contact = await ContactRequest.get(offer=offer)
    assert await ContactRequest.all().count() == 1
    assert await Notification.filter(user=owner, subject__contains="新的对接请求").exists()
    assert "025-83331234" not in (await requester.get(f"/supply/contacts/{contact.id}")).text

    answering = make_client()
    await answering.login(owner.email)
    assert "希望了解改造投资和工期" in (await answering.get(f"/supply/contacts/{contact.id}")).text
    response = await answering.submit(f"/supply/contacts/{contact.id}/respond", {"decision": "accept", "note": "欢迎来厂考察"})
    assert response.status_code == 303
    assert await Notification.filter(user=submitter, subject__contains="已接受对接").exists()
    page = await requester.get(f"/supply/contacts/{contact.id}")
    assert "025-83331234" in page.text and "欢迎来厂考察" in page.text  # the owner's contact, now shared

    response = await requester.submit(f"/supply/contacts/{contact.id}/outcome", {"decision": "signed", "note": "已签订技术许可合同"})
    assert response.status_code == 303
    assert (await ContactRequest.get(id=contact.id)).status == ContactStatus.SIGNED
    actions = await AuditEntry.filter(object_type="contactrequest", object_id=str(contact.id)).order_by("seq").values_list(
        "action", flat=True)
    assert actions == ["contact.request", "contact.accept", "contact.sign"]

    office = make_client()
    await office.login((await make_organiser()).email)
    funnel = await contacts.funnel()
    assert (funnel.shown, funnel.requested, funnel.accepted, funnel.signed) == (1, 1, 1, 1)
    assert "匹配展示" in (await office.get("/supply/funnel")).text


async def test_only_the_owner_answers_and_not_pursued_needs_a_reason(make_client):
    submitter, need, owner, offer = await _world()
    contact = await make_contact(offer=offer, need=need)
    requester = make_client()
    await requester.login(submitter.email)
    response = await requester.submit(f"/supply/contacts/{contact.id}/respond", {"decision": "accept"})
    assert response.status_code == 403
    stranger = make_client()
    await stranger.login((await make_user(Role.SUBMITTER)).email)
    assert (await stranger.get(f"/supply/contacts/{contact.id}")).status_code == 404
    answering = make_client()
    await answering.login(owner.email)
    await answering.submit(f"/supply/contacts/{contact.id}/respond", {"decision": "accept"})
    response = await requester.submit(f"/supply/contacts/{contact.id}/outcome", {"decision": "not_pursued", "note": ""})
    assert response.status_code == 400 and 'id="error-note"' in response.text
    assert (await ContactRequest.get(id=contact.id)).status == ContactStatus.ACCEPTED
    await requester.submit(f"/supply/contacts/{contact.id}/outcome", {"decision": "not_pursued", "note": "投资超出预算"})
    assert (await ContactRequest.get(id=contact.id)).status == ContactStatus.NOT_PURSUED


async def test_a_declined_request_shares_no_contact_details(make_client):
    submitter, need, owner, offer = await _world()
    contact = await make_contact(offer=offer, need=need)
    answering = make_client()
    await answering.login(owner.email)
    await answering.submit(f"/supply/contacts/{contact.id}/respond", {"decision": "decline", "note": "产能已排满"})
    requester = make_client()
    await requester.login(submitter.email)
    page = await requester.get(f"/supply/contacts/{contact.id}")
    assert "已婉拒" in page.text and "产能已排满" in page.text and "025-83331234" not in page.text
    response = await requester.submit(f"/supply/contacts/{contact.id}/outcome", {"decision": "signed"})
    assert response.status_code == 303 and (await ContactRequest.get(id=contact.id)).status == ContactStatus.DECLINED


async def test_the_office_sees_matches_on_a_challenge_and_asks_for_contact(make_client):
    _submitter, _need, _owner, offer = await _world()
    challenge = await make_challenge(title="烧结烟气低温脱硝技术攻关", summary="钢铁烧结烟气脱硝效率提升",
                                     domain=(await domains())[1])
    office = make_client()
    await office.login((await make_organiser()).email)
    page = await office.get(f"/challenges/{challenge.id}")
    assert "匹配的技术成果" in page.text and offer.name in page.text
    response = await office.submit(f"/supply/{offer.id}/contact",
                                   {"subject": f"challenge-{challenge.id}", "message": "邀请参与揭榜。"})
    assert response.status_code == 303
    assert (await ContactRequest.get(offer=offer)).challenge_id == challenge.id
    public = make_client()
    assert "匹配的技术成果" not in (await public.get(f"/challenges/{challenge.id}")).text
