"""The programme office opens its desk on the demo data: the work queue and the funnel show what
the server's database holds (counted here with plain SQL, not the app's queries), the charts are
images with a text alternative, a queue link leads to its list, and the page fits a phone."""

import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from e2e.conftest import sign_in

pytestmark = pytest.mark.e2e

QUEUE_SQL = {
    "needs": "SELECT count(*) FROM need WHERE status = 'submitted'",
    "organisations": "SELECT count(*) FROM organisation WHERE status = 'pending'",
    "memberships": "SELECT count(*) FROM membership WHERE status = 'pending'",
    "formal_checks": "SELECT count(*) FROM bid WHERE status = 'submitted'",
    "reviews_due": "SELECT count(*) FROM review_assignment WHERE status IN ('assigned', 'in_progress')",
    "reviews_overdue": "SELECT count(*) FROM review_assignment a JOIN review_panel p ON p.id = a.panel_id "
                       "WHERE a.status IN ('assigned', 'in_progress') AND p.due_at < :now",
    "questions": "SELECT count(*) FROM challenge_question q JOIN challenge c ON c.id = q.challenge_id "
                 "WHERE q.answered_at IS NULL AND c.status <> 'draft'",
    "objections": "SELECT count(*) FROM result_objection WHERE status = 'open'",
    "milestones_overdue": "SELECT count(*) FROM delivery_milestone m JOIN delivery_project p ON p.id = m.project_id "
                          "LEFT JOIN delivery_progress_report r ON r.milestone_id = m.id "
                          "WHERE m.due_date < :today AND p.status IN ('active', 'rectifying') "
                          "AND (r.id IS NULL OR r.status <> 'accepted')",
}
FUNNEL_SQL = [
    "SELECT count(*) FROM need WHERE status <> 'draft'",
    "SELECT count(*) FROM challenge WHERE status <> 'draft'",
    "SELECT count(*) FROM bid WHERE status NOT IN ('draft', 'withdrawn')",
    "SELECT count(*) FROM bid b WHERE b.status = 'winner' OR b.id IN ("
    " SELECT e.bid_id FROM result_decision_entry e JOIN result_notice n ON n.decision_id = e.decision_id"
    " JOIN challenge c ON c.id = n.challenge_id WHERE e.selected AND n.kind = 'result'"
    " AND n.status IN ('open', 'announced') AND c.mechanism = 'open_call')",
    "SELECT count(*) FROM delivery_project WHERE status = 'accepted'",
]


def expected(tmp_path) -> tuple[dict[str, int], list[int]]:
    now = datetime.now(timezone.utc)
    beijing_today = (now + timedelta(hours=8)).date().isoformat()
    with sqlite3.connect(tmp_path / "data" / "challenge.sqlite3") as database:
        params = {"now": now.isoformat(sep=" "), "today": beijing_today}
        queue = {key: database.execute(sql, params).fetchone()[0] for key, sql in QUEUE_SQL.items()}
        funnel = [database.execute(sql).fetchone()[0] for sql in FUNNEL_SQL]
    return queue, funnel


async def test_desk_shows_the_demo_data(live_server, page, tmp_path):
    await sign_in(page, live_server, "admin@demo.cn")
    await page.goto(f"{live_server}/admin/")
    await page.get_by_role("heading", name="管理工作台").wait_for()
    queue, funnel = expected(tmp_path)
    assert sum(queue.values()) > 0 and funnel[0] > 0 and funnel[2] > 0, (queue, funnel)  # the demo has work
    shown = {}
    for key in queue:
        shown[key] = int(await page.locator(f'[data-queue="{key}"] .stat').inner_text())
    assert shown == queue
    shown_funnel = [int(await page.locator(f'#funnel-table td[data-stage="{i}"]').inner_text()) for i in range(5)]
    assert shown_funnel == funnel

    charts = page.get_by_role("img")
    assert await charts.count() >= 4
    assert await page.locator("svg.chart > title").first.text_content() == "从需求到验收"

    await page.locator('[data-queue="needs"]').click()
    await page.wait_for_url(lambda url: "/needs/" in url and "status=submitted" in url)

    await page.set_viewport_size({"width": 390, "height": 844})
    await page.goto(f"{live_server}/admin/")
    overflow = await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
