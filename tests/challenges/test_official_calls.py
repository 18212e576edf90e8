"""Challenge pages as official calls are published: the public number, the consultation contact,
the organiser's documents, and the list's table view."""

import asyncio
import re
from datetime import timedelta
from decimal import Decimal

from challenge.accounts.models import Role
from challenge.audit.models import AuditEntry
from challenge.challenges import services
from challenge.challenges.models import Challenge, ChallengeNumberCounter
from challenge.files.models import Attachment
from challenge.web.timefmt import now_utc, to_beijing
from factories import make_organiser, make_user
from factories.challenges import form_fields, make_accepted_need, make_draft, make_published
from factories.documents import pdf_bytes, named_docx

GUIDE = pdf_bytes("申报指南正文")


# -- the public number --------------------------------------------------------------------------

async def test_publishing_numbers_each_challenge_once_by_year(db):
    organiser = await make_organiser()
    year = to_beijing(now_utc()).year
    draft = await make_draft(actor=organiser)
    assert draft.public_number is None
    first = await make_published(actor=organiser)
    second = await make_published(actor=organiser)
    assert (first.public_number, second.public_number) == (f"LC-{year}-0001", f"LC-{year}-0002")
    assert (await Challenge.get(id=first.id)).public_number == first.public_number
    assert (await ChallengeNumberCounter.get(year=year)).last_number == 2
    entry = await AuditEntry.filter(action="challenge.published", object_id=str(second.id)).get()
    assert entry.after["public_number"] == second.public_number
    # A refused publish takes no number.
    broken = await make_draft(actor=organiser, targets=[])
    try:
        await services.set_challenge_status(challenge=broken, status="published", actor=organiser)
    except services.DomainError:
        pass
    assert (await Challenge.get(id=broken.id)).public_number is None
    assert (await ChallengeNumberCounter.get(year=year)).last_number == 2


async def test_challenges_published_at_once_get_different_numbers(db):
    """Run on PostgreSQL too (CHALLENGE_TEST_DATABASE_URL): the first publish of a year creates the
    counter row while the others wait on its unique index, then raise it one by one."""
    organiser = await make_organiser()
    drafts = [await make_draft(actor=organiser, title=f"并发发布的榜单 {i}") for i in range(4)]
    published = await asyncio.gather(*(services.set_challenge_status(challenge=d, status="published", actor=organiser)
                                       for d in drafts))
    year = to_beijing(now_utc()).year
    assert sorted(c.public_number for c in published) == [f"LC-{year}-{n:04d}" for n in range(1, 5)]
    assert (await ChallengeNumberCounter.get(year=year)).last_number == 4


async def test_the_number_is_on_the_page_the_card_and_the_table(client):
    challenge = await make_published(title="高温热泵余热回收")
    page = await client.get(f"/challenges/{challenge.id}")
    assert challenge.public_number in page.text
    cards = await client.get("/challenges")
    assert challenge.public_number in cards.text
    table = await client.get("/challenges?view=table")
    assert 'class="table table--stack challenge-table"' in table.text and challenge.public_number in table.text


# -- the consultation contact -------------------------------------------------------------------

async def test_the_contact_telephone_is_checked_and_shown(client):
    organiser = await make_organiser()
    need = await make_accepted_need()
    await client.login(organiser.email)
    fields = form_fields([need.id], action="publish", contact_name="王工", contact_phone="12345")
    refused = await client.submit("/challenges/new", fields)
    assert refused.status_code == 400
    assert "请填写有效的电话号码" in refused.text
    assert 'value="12345"' in refused.text and 'value="王工"' in refused.text  # what was typed stays
    assert not await Challenge.exists()
    refused = await client.submit("/challenges/new", form_fields([need.id], action="save", contact_phone="010-12345678"))
    assert refused.status_code == 400 and "请填写咨询联系人姓名" in refused.text
    fields = form_fields([need.id], action="publish", contact_name="王工", contact_phone="0512-6868 6868-801")
    response = await client.submit("/challenges/new", fields)
    assert response.status_code == 303
    challenge = await Challenge.get()
    assert (challenge.contact_name, challenge.contact_phone) == ("王工", "0512-6868 6868-801")
    page = await client.get(f"/challenges/{challenge.id}")
    assert "咨询联系人" in page.text and 'href="tel:0512-68686868-801"' in page.text


async def test_an_amendment_changes_the_contact_publicly(client):
    organiser = await make_organiser()
    challenge = await make_published(actor=organiser, contact_name="王工", contact_phone="13812345678")
    amendment = await services.amend_challenge(
        challenge=challenge, actor=organiser, explanation="咨询联系人变更",
        data=services.ChallengeData(**{**vars(await services.load_data(challenge)), "contact_name": "李工"}))
    assert [c["field"] for c in amendment.changes] == ["contact_name"]
    assert (await Challenge.get(id=challenge.id)).contact_name == "李工"
    page = await client.get(f"/challenges/{challenge.id}")
    assert "咨询联系人" in page.text and "李工" in page.text


# -- documents ----------------------------------------------------------------------------------

async def upload(client, challenge, *, kind="guide", name="申报指南.pdf", content=GUIDE, token=None):
    fields = {"kind": kind}
    if token:
        fields["form_token"] = token
    return await client.submit(f"/challenges/{challenge.id}/documents", fields,
                               files={"files": (name, content, "application/octet-stream")})


async def test_organiser_attaches_documents_the_public_downloads_them(client, make_client):
    organiser = await make_organiser()
    challenge = await make_published(actor=organiser)
    await client.login(organiser.email)
    token = "t" * 30
    response = await upload(client, challenge, token=token)
    assert response.status_code == 303 and response.headers["location"] == f"/challenges/{challenge.id}/documents"
    replay = await upload(client, challenge, token=token)  # a double click: one document
    assert replay.status_code == 303
    document = await Attachment.get(owner_type="challenge", owner_id=challenge.id)
    assert document.category == "guide"
    assert await AuditEntry.filter(action="challenge.document_add", object_id=str(challenge.id)).count() == 1

    public = make_client()
    page = await public.get(f"/challenges/{challenge.id}")
    assert "申报指南.pdf" in page.text and f"/challenges/{challenge.id}/documents/{document.id}" in page.text
    download = await public.get(f"/challenges/{challenge.id}/documents/{document.id}")
    assert download.status_code == 200 and download.content == GUIDE
    assert download.headers["content-type"] == "application/pdf"
    assert "attachment;" in download.headers["content-disposition"]
    # Only organisers manage them.
    assert (await public.get(f"/challenges/{challenge.id}/documents")).status_code in {302, 303}
    bidder = make_client()
    await bidder.login((await make_user(Role.BIDDER)).email)
    assert (await upload(bidder, challenge)).status_code == 403
    refused = await bidder.submit(f"/challenges/{challenge.id}/documents/{document.id}/delete")
    assert refused.status_code == 403 and await Attachment.exists(id=document.id)

    removed = await client.submit(f"/challenges/{challenge.id}/documents/{document.id}/delete")
    assert removed.status_code == 303
    assert not await Attachment.exists(id=document.id)
    assert (await public.get(f"/challenges/{challenge.id}/documents/{document.id}")).status_code == 404
    assert await AuditEntry.filter(action="challenge.document_remove", object_id=str(challenge.id)).exists()


async def test_the_notice_must_be_a_pdf_and_a_kind_is_required(client):
    organiser = await make_organiser()
    challenge = await make_published(actor=organiser)
    await client.login(organiser.email)
    refused = await upload(client, challenge, kind="notice", name="通知.docx", content=named_docx())
    assert refused.status_code == 400 and "正式通知须为 PDF 文件" in refused.text
    refused = await upload(client, challenge, kind="")
    assert refused.status_code == 400
    assert not await Attachment.filter(owner_type="challenge").exists()
    template = await upload(client, challenge, kind="template", name="申报书模板.docx", content=named_docx())
    assert template.status_code == 303
    notice = await upload(client, challenge, kind="notice", name="正式通知.pdf")
    assert notice.status_code == 303
    assert sorted(await Attachment.filter(owner_type="challenge").values_list("category", flat=True)) == [
        "notice", "template"]


async def test_a_drafts_documents_are_not_public(client, make_client):
    organiser = await make_organiser()
    draft = await make_draft(actor=organiser)
    await client.login(organiser.email)
    assert (await upload(client, draft)).status_code == 303
    document = await Attachment.get(owner_type="challenge", owner_id=draft.id)
    assert (await client.get(f"/challenges/{draft.id}/documents/{document.id}")).status_code == 200
    assert (await make_client().get(f"/challenges/{draft.id}/documents/{document.id}")).status_code == 404


# -- the table view -----------------------------------------------------------------------------

def row_titles(html: str) -> list[str]:
    return re.findall(r'class="challenge-row__title" href="/challenges/\d+">([^<]+)</a>', html)


async def test_the_table_sorts_by_a_whitelisted_column_in_the_database(client):
    organiser = await make_organiser()
    small = await make_published(actor=organiser, title="甲 小额榜单", funding_wan=Decimal("100"))
    large = await make_published(actor=organiser, title="乙 大额榜单", funding_wan=Decimal("9000"))
    middle = await make_published(actor=organiser, title="丙 中额榜单", funding_wan=Decimal("500"))
    await Challenge.filter(id=middle.id).update(closes_at=now_utc() + timedelta(days=3))

    async def order(query: str) -> list[str]:
        response = await client.get("/challenges?view=table&" + query)
        assert response.status_code == 200
        return row_titles(response.text)

    assert await order("sort=amount") == [small.title, middle.title, large.title]
    assert await order("sort=-amount") == [large.title, middle.title, small.title]
    assert (await order("sort=closes"))[0] == middle.title
    assert await order("sort=title") == sorted([small.title, large.title, middle.title])
    await Challenge.filter(id=large.id).update(status="cancelled")
    assert (await order("sort=status"))[-1] == large.title
    # Not a column: ignored (newest first), and the page says so.
    response = await client.get("/challenges?view=table&sort=search_text")
    assert response.status_code == 200 and row_titles(response.text)[0] == middle.title
    # The header links keep the view and the filters, and say how the column is sorted.
    response = await client.get("/challenges?view=table&mechanism=open_call&sort=amount")
    assert 'aria-sort="ascending"' in response.text
    assert "?view=table&amp;mechanism=open_call&amp;sort=-amount" in response.text


async def test_the_filters_fold_on_a_phone(client):
    await make_published()
    response = await client.get("/challenges")
    assert '<details class="filters-fold" open data-fold-below="640">' in response.text
