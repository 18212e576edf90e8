"""The programme office screens several demo needs at once in the browser: "select all" ticks the
needs waiting for screening, one reason returns them all, and each is returned (its own audit
entry), the page saying how many."""

import sqlite3

import pytest

from e2e.conftest import sign_in

pytestmark = pytest.mark.e2e


def _rows(tmp_path, sql: str, *args) -> list[tuple]:
    with sqlite3.connect(tmp_path / "data" / "challenge.sqlite3") as database:
        return database.execute(sql, args).fetchall()


async def test_return_all_submitted_needs_with_one_reason(live_server, page, tmp_path):
    waiting = [row[0] for row in _rows(tmp_path, "SELECT id FROM need WHERE status = 'submitted' ORDER BY id")]
    assert len(waiting) >= 2, waiting  # the demo has needs waiting for screening
    await sign_in(page, live_server, "admin@demo.cn")
    await page.goto(f"{live_server}/needs/?status=submitted")

    # Without a decision nothing is sent to the services: the form comes back with its message.
    await page.locator("#select-all").check()
    for need_id in waiting:
        assert await page.locator(f"#pick-{need_id}").is_checked()
    await page.get_by_role("button", name="对所勾选的需求提交筛选结论").click()
    await page.wait_for_selector(".error-summary")
    assert await page.locator(f"#pick-{waiting[0]}").is_checked()  # the ticks are kept

    await page.get_by_label("退回修改").check()
    await page.fill("#field-reason", "请补充应用场景的规模与投资估算")
    await page.get_by_role("button", name="对所勾选的需求提交筛选结论").click()
    await page.wait_for_selector(f"text=已退回 {len(waiting)} 项需求修改")

    statuses = _rows(tmp_path, f"SELECT status, status_reason FROM need WHERE id IN ({','.join('?' * len(waiting))})",
                     *waiting)
    assert set(statuses) == {("returned", "请补充应用场景的规模与投资估算")}
    audited = _rows(tmp_path, "SELECT object_id FROM audit_entry WHERE action = 'need.return' AND note = ?",
                    "请补充应用场景的规模与投资估算")
    assert sorted(int(row[0]) for row in audited) == waiting  # one entry per need
    assert await page.locator("#bulk-screen").count() == 0  # nothing waits any more on this filter
