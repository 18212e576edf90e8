"""Screening several needs at once: each goes through the single-need rules (audit entry and mail
per need), a need the rules refuse is named while the others are screened, bad input comes back
with its message and the ticks kept, and a replayed post screens nothing again."""

import re

from challenge.audit.models import AuditEntry
from challenge.mail.models import Notification
from challenge.needs.models import Need, NeedStatus
from factories import make_organiser
from factories.needs import make_complete_need, make_submitter

TOKEN = re.compile(r'id="bulk-screen".*?name="form_token" value="([^"]+)"', re.S)


async def _token(client) -> str:
    return TOKEN.search((await client.get("/needs/?status=submitted")).text).group(1)


async def test_accept_several_and_report_the_one_refused(client):
    organiser = await make_organiser()
    submitter = await make_submitter()
    needs = [await make_complete_need(organisation=submitter.organisation, status=NeedStatus.SUBMITTED)
             for _ in range(3)]
    screened = await make_complete_need(organisation=submitter.organisation, status=NeedStatus.ACCEPTED)
    await client.login(organiser.email)
    page = await client.get("/needs/?status=submitted")
    assert page.status_code == 200 and 'action="/needs/screen"' in page.text
    assert all(f'name="need_ids" value="{n.id}"' in page.text for n in needs)
    token = await _token(client)
    fields = [("form_token", token), ("list_query", "status=submitted"), ("decision", "accept"), ("reason", ""),
              *[("need_ids", str(n.id)) for n in [*needs, screened]]]
    response = await client.submit("/needs/screen", fields)
    assert response.status_code == 303 and response.headers["location"] == "/needs/?status=submitted"
    assert {n.status for n in await Need.filter(id__in=[n.id for n in needs])} == {NeedStatus.ACCEPTED}
    assert await AuditEntry.filter(action="need.accept").count() == 3
    assert await Notification.filter(user=submitter, subject__contains="已采纳").count() == 3
    text = (await client.get("/needs/")).text
    assert "已采纳 3 项需求" in text and f"《{screened.title}》" in text and "以下需求未处理" in text

    # The same post again (a double click, Back and resubmit): nothing is screened twice.
    await Need.filter(id=needs[0].id).update(status=NeedStatus.SUBMITTED)
    response = await client.submit("/needs/screen", fields)
    assert response.status_code == 303
    assert (await Need.get(id=needs[0].id)).status == NeedStatus.SUBMITTED
    assert await AuditEntry.filter(action="need.accept").count() == 3


async def test_return_needs_one_reason_and_keeps_the_ticks(client):
    organiser = await make_organiser()
    needs = [await make_complete_need(status=NeedStatus.SUBMITTED) for _ in range(2)]
    await client.login(organiser.email)
    token = await _token(client)
    fields = [("form_token", token), ("decision", "return"), ("reason", " "),
              *[("need_ids", str(n.id)) for n in needs]]
    response = await client.submit("/needs/screen", fields)
    assert response.status_code == 400
    assert "退回时须填写理由" in response.text
    assert all(re.search(rf'value="{n.id}"\s+id="pick-{n.id}" checked', response.text) for n in needs)
    assert {n.status for n in await Need.filter(id__in=[n.id for n in needs])} == {NeedStatus.SUBMITTED}

    response = await client.submit("/needs/screen", [("form_token", token), ("decision", "return")])
    assert response.status_code == 400 and "请至少勾选一项需求" in response.text

    fields[2] = ("reason", "请补充示范规模")
    response = await client.submit("/needs/screen", fields)
    assert response.status_code == 303
    rows = await Need.filter(id__in=[n.id for n in needs])
    assert {(n.status, n.status_reason) for n in rows} == {(NeedStatus.RETURNED, "请补充示范规模")}
    assert await AuditEntry.filter(action="need.return", note="请补充示范规模").count() == 2


async def test_only_organisers_screen(client):
    submitter = await make_submitter()
    need = await make_complete_need(organisation=submitter.organisation, status=NeedStatus.SUBMITTED)
    await client.login(submitter.email)
    page = await client.get("/needs/")
    assert 'action="/needs/screen"' not in page.text
    response = await client.submit("/needs/screen", {"decision": "accept", "need_ids": str(need.id)})
    assert response.status_code == 403
    assert (await Need.get(id=need.id)).status == NeedStatus.SUBMITTED
