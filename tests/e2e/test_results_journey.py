"""Browser journey of a result: from the ranking of the demo challenge in review, the chair
concludes, the organiser decides and publishes the notice (公示), a bidder objects with evidence,
the organiser answers, and after the period the result is announced and found on /results and in
the feed.

Five working days cannot pass in a test: after the objection is answered, the notice's end is
moved into the past in the server's database, as the calendar would have done.
"""

import re
import sqlite3
from datetime import datetime, timedelta, timezone

import feedparser
import pytest

from e2e.conftest import sign_in

pytestmark = pytest.mark.e2e

CHALLENGE = "工业园区VOCs与高盐废水深度治理技术"  # the demo's challenge in review, its panel scored
from factories.uploads import PDF  # a real PDF: every upload is parsed


async def _as(page, base, email):
    await page.context.clear_cookies()
    await sign_in(page, base, email)


async def test_ranking_decision_notice_objection_answer_and_announcement(live_server, page, tmp_path):
    base = live_server
    page.on("dialog", lambda dialog: dialog.accept())

    # The chair concludes the panel, recommending the first of the ranking.
    await sign_in(page, base, "expert1@demo.cn")
    await page.goto(f"{base}/review/")
    await page.get_by_role("link", name=re.compile(CHALLENGE)).first.click()
    panel_id = re.search(r"/review/panels/(\d+)", page.url).group(1)
    await page.fill("#field-text", "专家组认为排名第一的申报技术路线成熟、指标论证充分，推荐揭榜。")
    await page.locator("input[name=recommended]").first.check()
    await page.get_by_role("button", name="记录专家组意见").click()
    await page.wait_for_selector("text=专家组意见已记录")

    # The organiser goes from the ranking to the decision, keeps the recommendation, publishes.
    await _as(page, base, "admin@demo.cn")
    await page.goto(f"{base}/review/manage/panels/{panel_id}/ranking")
    await page.get_by_role("link", name="作出评审结果").click()
    await page.wait_for_selector("h1:text('评审结果')")
    first_row = page.locator("table.results-decision tbody tr").first
    winner = (await first_row.locator("td").nth(1).locator("strong").inner_text()).strip()
    assert await first_row.get_by_label("拟揭榜").is_checked()
    await page.get_by_role("button", name="保存评审结果").click()
    await page.wait_for_selector("text=评审结果已保存")
    assert await page.locator("#field-working_days").input_value() == "5"
    await page.get_by_role("button", name="发布公示").click()
    await page.wait_for_selector("text=公示已发布")
    notice_url = page.url
    assert re.search(r"/results/notices/\d+$", notice_url)
    proposed = await page.locator("section", has=page.locator("#h-proposed")).inner_text()
    assert winner in proposed
    assert "17:00 北京时间" in await page.locator("section", has=page.locator("#h-period")).inner_text()

    # A bidder who was not chosen objects, with evidence.
    await _as(page, base, "bidder2@demo.cn")
    await page.goto(notice_url)
    await page.get_by_role("link", name="提出异议").click()
    await page.fill("#field-real_name", "周研究员")
    await page.fill("#field-contact", "13800000000")
    await page.fill("#field-reasons", "拟揭榜单位申报书中的中试规模与其公开报道不一致，请核查。")
    evidence = tmp_path / "核查说明.pdf"
    evidence.write_bytes(PDF)
    await page.set_input_files("#field-file", str(evidence))
    await page.get_by_role("button", name="提交异议").click()
    await page.wait_for_selector("text=异议已提交")
    await page.wait_for_selector("text=核查说明.pdf")

    # The organiser answers it; the public sees only the count and the outcome.
    await _as(page, base, "admin@demo.cn")
    await page.goto(f"{base}/results/manage")
    await page.locator("tr", has_text=CHALLENGE).get_by_role("link", name="异议与公告").click()
    await page.get_by_role("link", name="处理").click()
    await page.get_by_label("异议不成立").check()
    await page.fill("#field-answer", "经核查，中试规模以第三方检测报告为准，与申报书一致。异议不成立。")
    await page.get_by_role("button", name="保存处理意见并通知异议人").click()
    await page.wait_for_selector("text=处理意见已保存")
    assert await page.get_by_text("期满后方可发布结果公告").count() == 1

    # The period ends (moved into the past in the server's database), then the announcement.
    notice_id = int(notice_url.rsplit("/", 1)[1])
    ended = (datetime.now(timezone.utc) - timedelta(minutes=1)).isoformat(sep=" ")
    with sqlite3.connect(tmp_path / "data" / "challenge.sqlite3") as database:
        database.execute("UPDATE result_notice SET ends_at = ? WHERE id = ?", (ended, notice_id))
    await page.reload()
    await page.fill("#field-announcement", "请揭榜单位于一个月内签订任务书。")
    await page.get_by_role("button", name="发布结果公告").click()
    await page.wait_for_selector("text=结果已公告")
    announcement = await page.locator("#announcement").inner_text()
    assert winner in announcement and "请揭榜单位于一个月内签订任务书。" in announcement

    # Anyone finds the winner on /results and in the feed.
    await page.context.clear_cookies()
    await page.goto(f"{base}/results")
    announced = await page.locator("section", has=page.locator("#h-announced")).inner_text()
    assert CHALLENGE in announced and winner in announced
    await page.goto(notice_url)
    assert "异议不成立 1 件" in await page.locator("#objections").inner_text()
    response = await page.request.get(f"{base}/feed.atom")
    feed = feedparser.parse(await response.body())
    entry = next(e for e in feed.entries if e.title == f"结果公告：{CHALLENGE}")
    assert winner in entry.summary
