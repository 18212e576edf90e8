"""Owners publish technology offers through the forms; the office screens them; the public finds them."""

import pytest

from challenge.accounts.models import Role
from challenge.audit.models import AuditEntry
from challenge.mail.models import Notification
from challenge.supply.models import Offer, OfferParameter, OfferStatus
from factories import domains, make_organiser, make_user
from factories.supply import make_offer


async def offer_form(action: str = "save", **overrides) -> list[tuple[str, str]]:
    """The offer form's fields as a browser sends them (a multi-choice field repeats its name)."""
    domain = (await domains())[0]
    data = {
        "name": "工业余热有机朗肯循环发电技术", "domain_id": str(domain.id), "trl": "8",
        "summary": "利用 80–200℃ 工业低温余热发电的有机朗肯循环成套装置。",
        "core_process": "有机工质在蒸发器中吸收余热汽化，推动螺杆膨胀机发电，冷凝后循环使用。",
        "scope": "钢铁、水泥、化工等行业 80℃ 以上的低温烟气和热水余热。",
        "benefits_text": "单套年发电约 400 万千瓦时，投资回收期约四年。",
        "energy_saved_tce": "1200", "co2_reduced_t": "3200", "cost_wan": "850",
        "ip_status": "granted", "patent_numbers": "ZL202010000001.1",
        "transfer_modes": ["licence", "transfer"],
        "contact_name": "李工", "contact_phone": "0512-66668888", "contact_email": "li@example.cn",
        "param_rows": "3",
        "param-0-name": "发电效率", "param-0-value": "12.5", "param-0-unit": "%",
        "param-1-name": "余热温度下限", "param-1-value": "80", "param-1-unit": "℃",
        "action": action,
    }
    data.update(overrides)
    return [(key, item) for key, value in data.items() for item in (value if isinstance(value, list) else [value])]


@pytest.fixture
async def owner(client):
    user = await make_user(Role.BIDDER)
    await client.login(user.email)
    return user


async def test_owner_submits_the_office_publishes_the_public_finds_it(client, make_client, owner):
    response = await client.submit("/supply/new", await offer_form("submit"))
    assert response.status_code == 303
    offer = await Offer.get(organisation_id=owner.organisation_id)
    assert offer.status == OfferStatus.SUBMITTED and offer.transfer_modes == ["licence", "transfer"]
    rows = await OfferParameter.filter(offer=offer).order_by("position")
    assert [(r.name, r.number, r.unit) for r in rows] == [("发电效率", 12.5, "%"), ("余热温度下限", 80.0, "℃")]
    public = make_client()
    assert (await public.get(f"/supply/{offer.id}")).status_code == 404  # not public before screening
    organiser = await make_organiser()
    office = make_client()
    await office.login(organiser.email)
    assert offer.name in (await office.get("/supply/manage")).text
    response = await office.submit(f"/supply/{offer.id}/screen", {"decision": "publish", "note": ""})
    assert response.status_code == 303
    assert (await Offer.get(id=offer.id)).status == OfferStatus.PUBLISHED
    assert await Notification.filter(user=owner, subject__contains="已发布").exists()
    assert await AuditEntry.filter(action="offer.publish", object_id=str(offer.id)).exists()
    listing = await public.get("/supply/", params={"q": "朗肯"})
    assert offer.name in listing.text
    page = await public.get(f"/supply/{offer.id}")
    assert "发电效率" in page.text and "12.5" in page.text and "许可" in page.text
    assert "li@example.cn" not in page.text and "0512-66668888" not in page.text  # contact only through 对接


async def test_return_needs_a_reason_the_owner_reads_it(client, make_client, owner):
    offer = await make_offer(organisation=await owner.organisation, status=OfferStatus.SUBMITTED)
    office = make_client()
    await office.login((await make_organiser()).email)
    response = await office.submit(f"/supply/{offer.id}/screen", {"decision": "return", "note": " "})
    assert response.status_code == 400 and 'id="error-note"' in response.text
    assert (await Offer.get(id=offer.id)).status == OfferStatus.SUBMITTED
    await office.submit(f"/supply/{offer.id}/screen", {"decision": "return", "note": "请补充第三方检测报告"})
    page = await client.get(f"/supply/{offer.id}")
    assert "请补充第三方检测报告" in page.text and f'href="/supply/{offer.id}/edit"' in page.text


async def test_bad_input_keeps_what_was_typed_and_saves_nothing(client, owner):
    data = await offer_form("submit", trl="12", summary="", **{"param-1-value": ""})
    response = await client.submit("/supply/new", data)
    assert response.status_code == 400
    assert 'id="error-trl"' in response.text and 'id="error-summary"' in response.text
    assert 'id="error-param-1-value"' in response.text
    assert "工业余热有机朗肯循环发电技术" in response.text and "ZL202010000001.1" in response.text
    assert await Offer.all().count() == 0


async def test_a_replayed_create_post_makes_one_offer(client, owner):
    form = await offer_form("save", form_token="t" * 32)
    first = await client.submit("/supply/new", form)
    second = await client.submit("/supply/new", form)
    assert first.status_code == second.status_code == 303
    assert await Offer.all().count() == 1


async def test_others_cannot_edit_and_drafts_stay_private(client, make_client, owner):
    draft = await make_offer(status=OfferStatus.DRAFT)
    assert (await client.get(f"/supply/{draft.id}")).status_code == 404
    assert (await client.submit(f"/supply/{draft.id}/edit", await offer_form())).status_code == 404
    office = make_client()
    await office.login((await make_organiser()).email)
    assert (await office.get(f"/supply/{draft.id}")).status_code == 404  # never sent: the owner's own work
    assert (await make_client().get("/supply/new")).status_code in {302, 303}


async def test_owner_withdraws_a_published_offer(client, owner):
    offer = await make_offer(organisation=await owner.organisation)
    response = await client.submit(f"/supply/{offer.id}/withdraw", {})
    assert response.status_code == 303
    assert (await Offer.get(id=offer.id)).status == OfferStatus.WITHDRAWN
    assert offer.name not in (await client.get("/supply/")).text
