"""Organisers export challenges (drafts included) as XLSX and CSV."""

import csv
import io

from openpyxl import load_workbook

from challenge.accounts.models import Role
from challenge.challenges.services import EXPORT_HEADER
from factories import make_organiser, make_user
from factories.challenges import make_draft, make_issuer, make_published


async def test_xlsx_and_csv_exports(client):
    organiser = await make_organiser()
    issuer = await make_issuer(name="苏州市生态环境局")
    published = await make_published(actor=organiser, issuers=[issuer])
    draft = await make_draft(actor=organiser, title="=HYPERLINK(\"http://evil\")")
    await client.login(organiser.email)

    response = await client.get("/challenges/manage/export?format=xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == EXPORT_HEADER
    by_id = {row[0]: row for row in rows[1:]}
    assert set(by_id) == {published.id, draft.id}
    row = by_id[published.id]
    assert row[1] == published.public_number and row[1].startswith("LC-")
    assert row[2] == "揭榜挂帅" and row[3] == published.title and row[5] == "揭榜中"
    assert row[6] == "苏州市生态环境局" and float(row[8]) == 3000
    assert by_id[draft.id][5] == "草稿" and by_id[draft.id][1] is None  # a draft has no number yet
    assert by_id[draft.id][3].startswith("'=")  # formula injection neutralised

    response = await client.get("/challenges/manage/export?format=csv&status=published")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == EXPORT_HEADER
    assert [r[3] for r in rows[1:]] == [published.title]
    assert "attachment" in response.headers["content-disposition"]


async def test_export_denied_to_others(client):
    await make_published()
    bidder = await make_user(Role.BIDDER)
    await client.login(bidder.email)
    assert (await client.get("/challenges/manage/export?format=xlsx")).status_code == 403
