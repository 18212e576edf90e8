"""Attachment downloads: the owner's organisation and organisers only; everyone else 404."""

import re

import pytest

from challenge.accounts.models import Role
from challenge.files.models import Attachment
from challenge.needs.models import Need, NeedStatus
from factories import make_organiser, make_user
from factories.needs import make_campaign, make_submitter, need_form, pdf_bytes

CONTENT = pdf_bytes("download me")


async def upload(client, *, action: str, name: str = "论证 报告.pdf"):
    owner = await make_submitter()
    await client.login(owner.email)
    campaign = await make_campaign()
    data = await need_form(campaign=campaign, action=action)
    response = await client.submit("/needs/new", data, files={"attachments": (name, CONTENT, "application/pdf")})
    assert response.status_code == 303
    need = await Need.get(title=data["title"])
    attachment = await Attachment.get(owner_type="need", owner_id=need.id)
    return owner, need, attachment


async def test_the_owner_downloads_with_a_safe_name(client):
    owner, need, attachment = await upload(client, action="save")
    response = await client.get(f"/needs/{need.id}/attachments/{attachment.id}")
    assert response.status_code == 200 and response.content == CONTENT
    assert response.headers["content-type"] == "application/pdf"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''%E8%AE%BA%E8%AF%81%20%E6%8A%A5%E5%91%8A.pdf" in disposition
    assert response.headers["cache-control"] == "private, no-store"


async def test_anyone_of_the_owners_organisation_downloads(client, make_client):
    owner, need, attachment = await upload(client, action="save")
    colleague = await make_user(Role.BIDDER, organisation=owner.organisation)
    other = make_client()
    await other.login(colleague.email)
    assert (await other.get(f"/needs/{need.id}/attachments/{attachment.id}")).status_code == 200


async def test_organisers_download_once_submitted(client, make_client):
    owner, need, attachment = await upload(client, action="save")
    organiser = await make_organiser()
    other = make_client()
    await other.login(organiser.email)
    url = f"/needs/{need.id}/attachments/{attachment.id}"
    assert (await other.get(url)).status_code == 404  # a draft is not theirs to see
    response = await client.submit(f"/needs/{need.id}/submit")
    assert response.status_code == 303
    response = await other.get(url)
    assert response.status_code == 200 and response.content == CONTENT


@pytest.mark.parametrize("role", [Role.SUBMITTER, Role.BIDDER, Role.EXPERT])
async def test_everyone_else_gets_404(client, make_client, role):
    owner, need, attachment = await upload(client, action="submit")
    assert need.status == NeedStatus.SUBMITTED
    stranger = await make_user(role)
    other = make_client()
    await other.login(stranger.email)
    assert (await other.get(f"/needs/{need.id}/attachments/{attachment.id}")).status_code == 404


async def test_anonymous_is_sent_to_sign_in(client, make_client):
    owner, need, attachment = await upload(client, action="submit")
    anonymous = make_client()
    response = await anonymous.get(f"/needs/{need.id}/attachments/{attachment.id}")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


async def test_forged_ids_are_not_found(client):
    owner, need, attachment = await upload(client, action="save")
    _, other_need, other_attachment = await upload(client, action="save")  # signs in as another owner
    assert (await client.get(f"/needs/{need.id}/attachments/{attachment.id}")).status_code == 404
    assert (await client.get(f"/needs/{other_need.id}/attachments/{attachment.id}")).status_code == 404
    assert (await client.get(f"/needs/{other_need.id}/attachments/424242")).status_code == 404
    assert (await client.get(f"/needs/424242/attachments/{other_attachment.id}")).status_code == 404
    assert (await client.get(f"/needs/{other_need.id}/attachments/{other_attachment.id}")).status_code == 200


async def test_files_chosen_before_a_refused_post_are_kept_and_saved_once(client):
    owner = await make_submitter()
    await client.login(owner.email)
    campaign = await make_campaign()
    data = await need_form(campaign=campaign, action="save")
    files = {"attachments": ("论证 报告.pdf", CONTENT, "application/pdf")}
    refused = await client.submit("/needs/new", {**data, "title": ""}, files=files)
    assert refused.status_code == 400
    tokens = re.findall(r'name="kept_file" value="([^"]+)"', refused.text)
    assert len(tokens) == 1 and "论证 报告.pdf" in refused.text
    assert await Need.filter(created_by=owner).count() == 0 and await Attachment.all().count() == 0
    # Corrected, with the kept file still ticked and the same file chosen again: one attachment.
    saved = await client.submit("/needs/new", {**data, "kept_file": tokens[0]}, files=files)
    assert saved.status_code == 303
    need = await Need.get(title=data["title"])
    [attachment] = await Attachment.filter(owner_type="need", owner_id=need.id).prefetch_related("blob")
    assert attachment.filename == "论证 报告.pdf" and attachment.blob.size == len(CONTENT)


async def test_a_forged_kept_file_token_attaches_nothing(client):
    owner = await make_submitter()
    await client.login(owner.email)
    data = await need_form(campaign=await make_campaign(), action="save")
    saved = await client.submit("/needs/new", {**data, "kept_file": "forged.token"},
                                files={"attachments": ("新.pdf", CONTENT, "application/pdf")})
    assert saved.status_code == 303
    assert await Attachment.all().values_list("filename", flat=True) == ["新.pdf"]
