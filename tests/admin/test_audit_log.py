"""The readable audit log: events in words, changes as before → after, filters by object and by
person, pages, and a CSV export of the selection that a spreadsheet cannot run as formulas."""

import csv
import io

from challenge.audit import services as audit
from factories import make_organiser, make_user


def events(html: str) -> str:
    """The table's rows (the filter's list of events names every event)."""
    return html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""


async def _entries():
    alice = await make_user(name="王审核", email="wang@example.cn")
    bob = await make_user(name="李申报", email="li@example.cn")
    await audit.record(actor=alice, action="need.accept", object_type="need", object_id=7,
                       before={"status": "submitted"}, after={"status": "accepted"}, note="指标清晰")
    await audit.record(actor=bob, action="need.submit", object_type="need", object_id=8,
                       before={"status": "draft"}, after={"status": "submitted"})
    await audit.record(actor=bob, action="bid.create", object_type="bid", object_id=7,
                       after={"title": "=HYPERLINK(\"http://evil\")"}, note="@SUM(A1)")
    return alice, bob


async def test_events_in_words_with_before_and_after(client):
    await _entries()
    await client.login((await make_organiser()).email)
    page = await client.get("/admin/audit")
    assert page.status_code == 200
    html = events(page.text)
    assert "采纳技术需求" in html and "提交技术需求" in html and "创建申报" in html
    assert "<del>submitted</del> → <ins>accepted</ins>" in html
    assert "技术需求 #7" in html and "指标清晰" in html


async def test_filters_by_object_and_person(client):
    alice, bob = await _entries()
    await client.login((await make_organiser()).email)
    html = events((await client.get("/admin/audit?object_type=need&object_id=7")).text)
    assert "采纳技术需求" in html and "提交技术需求" not in html and "创建申报" not in html
    html = events((await client.get("/admin/audit?person=李申报")).text)
    assert "提交技术需求" in html and "创建申报" in html and "采纳技术需求" not in html
    html = events((await client.get(f"/admin/audit?person=%23{alice.id}")).text)
    assert "采纳技术需求" in html and "提交技术需求" not in html
    html = events((await client.get("/admin/audit?action=bid.create")).text)
    assert "创建申报" in html and "采纳技术需求" not in html
    html = (await client.get("/admin/audit?object_id=x&person=%23999999999999")).text
    assert "没有符合条件的事件" in html


async def test_pages(client):
    for n in range(60):
        await audit.record(actor=None, action="need.update", object_type="need", object_id=n)
    await client.login((await make_organiser()).email)
    first = (await client.get("/admin/audit?object_type=need")).text
    assert "共 60 条" in first and "#59<" in first and "#9<" not in first
    second = (await client.get("/admin/audit?object_type=need&page=2")).text
    assert "#9<" in second and "#59<" not in second


async def test_csv_export_is_filtered_and_formula_safe(client):
    await _entries()
    await client.login((await make_organiser()).email)
    response = await client.get("/admin/audit.csv?person=李申报")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["序号", "时间", "操作人", "事件"]
    assert [row[4] for row in rows[1:]] == ["need.submit", "bid.create"]
    created = rows[2]
    assert created[3] == "创建申报" and created[9] == "'@SUM(A1)"
    assert created[8].startswith("{")  # JSON, not a formula
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


async def test_only_organisers_read_the_log(client):
    await client.login((await make_user()).email)
    assert (await client.get("/admin/audit")).status_code == 403
    assert (await client.get("/admin/audit.csv")).status_code == 403
