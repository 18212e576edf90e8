"""Browser journey of the promotion catalogue, on the demo data: the organiser opens a round,
proposes the demo's accepted project (纺织印染废水, its achieved values carried over), screens it
and starts the technical evaluation; an evaluation panel is formed, the experts score and the
chair concludes; the notice is published and, its period over, the catalogue is published, where
the public finds the technology by a Chinese word and sees it in the new version.

A notice's working days cannot pass in a test: its end is moved into the past in the server's
database, as the calendar would have done. Everything else is done in the browser.
"""

import asyncio
import re
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from e2e.conftest import sign_in

pytestmark = pytest.mark.e2e

ROUND = "2027年度绿色技术推广目录遴选（第一批）"
TECHNOLOGY = "印染废水膜法近零排放成套技术"
EXPERTS = ["expert1@demo.cn", "expert2@demo.cn", "expert3@demo.cn", "expert4@demo.cn", "expert5@demo.cn",
           "expert6@demo.cn"]


async def _as(page, base, email):
    await page.context.clear_cookies()
    await sign_in(page, base, email)


async def test_an_accepted_project_goes_through_a_round_into_the_catalogue(live_server, page, tmp_path):
    base = live_server
    page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await _as(page, base, "admin@demo.cn")
    # The round, opened.
    await page.goto(f"{base}/catalogue/manage")
    await page.get_by_role("link", name="新建遴选批次").click()
    await page.fill("#field-year", "2027")
    await page.fill("#field-title", ROUND)
    await page.fill("#field-conditions", "通过验收的攻关成果，示范工程连续运行 6 个月以上。")
    deadline = (datetime.now(timezone.utc) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")
    await page.fill("#field-deadline", deadline)
    boxes = page.locator("input[name=domains]")
    for index in range(await boxes.count()):
        await boxes.nth(index).check()
    await page.get_by_role("button", name="创建遴选批次").click()
    await page.get_by_role("button", name="发布征集").click()
    await page.wait_for_selector("text=征集已发布")
    round_url = page.url
    # The accepted project proposed, its achieved values carried into the parameters.
    await page.get_by_role("link", name="推荐通过验收的项目").click()
    # The demo's only accepted project is the first (and only) choice.
    await page.get_by_role("button", name="带入项目信息").click()
    assert await page.locator("#param-0-value").input_value() != ""
    await page.fill("#field-name", TECHNOLOGY)
    await page.fill("#field-scope", "印染园区高盐废水深度处理与回用")
    await page.fill("#field-core_process", "抗污染纳滤膜与两级反渗透，浓水分盐结晶")
    await page.fill("#field-benefits", "回用率 70% 以上，吨水成本低于 6 元")
    await page.get_by_role("button", name="提交候选技术").click()
    await page.wait_for_selector("text=候选技术已提交")
    row = page.locator("tr", has_text=TECHNOLOGY)
    await row.get_by_label("通过初审").check()
    await row.get_by_role("button", name="保存初审结论").click()
    await page.wait_for_selector("text=初审结论已保存")
    await page.get_by_role("button", name="结束征集，开始技术评价").click()
    await page.wait_for_selector("text=进入技术评价")
    # The evaluation panel, as any panel: conflicts, proposal, confirmation.
    await page.locator("#evaluation tr", has_text=TECHNOLOGY).get_by_role("link", name="组建评价专家组").click()
    members = page.locator("input[name=members]")
    for index in range(await members.count()):
        await members.nth(index).check()
    await page.get_by_label("赵院士 任组长").check()
    await page.get_by_role("button", name="组建专家组").click()
    panel_id = int(re.search(r"/panels/(\d+)", page.url).group(1))
    await page.get_by_role("button", name="生成分配建议").click()
    await page.get_by_role("button", name=re.compile("确认分配并通知专家")).click()
    for email in EXPERTS:
        await _as(page, base, email)
        await page.goto(f"{base}/review/")
        links = page.locator("section", has_text=f"{TECHNOLOGY}技术评价专家组").get_by_role("link", name="查看并评分")
        if not await links.count():
            continue
        await links.first.click()
        assert TECHNOLOGY in await page.locator("main").inner_text()
        inputs = page.locator("input[name^=score_]")
        for index in range(await inputs.count()):
            highest = await inputs.nth(index).get_attribute("max")
            await inputs.nth(index).fill(str(int(float(highest) * 0.85)) if highest else "8")
        await page.fill("#field-opinion", "技术成熟，参数有第三方检测支撑。")
        await page.get_by_role("button", name="提交评分").click()
        await page.wait_for_selector("text=评分已提交并锁定")
    await _as(page, base, "expert1@demo.cn")
    await page.goto(f"{base}/review/panels/{panel_id}")
    await page.fill("#field-text", "同意推荐列入推广目录。")
    await page.get_by_role("button", name="记录专家组意见").click()
    await page.wait_for_selector("text=专家组意见已记录")
    # The notice, its period over, and the catalogue published.
    await _as(page, base, "admin@demo.cn")
    await page.goto(round_url)
    await page.get_by_label(re.compile(TECHNOLOGY)).check()
    await page.fill("#field-working_days", "1")
    await page.get_by_role("button", name="发布公示").click()
    await page.wait_for_selector("text=推广目录公示已发布")
    ended = (datetime.now(timezone.utc) - timedelta(minutes=1)).isoformat(sep=" ")
    with sqlite3.connect(tmp_path / "data" / "challenge.sqlite3") as database:
        database.execute("UPDATE result_notice SET ends_at = ? WHERE id = "
                         "(SELECT notice_id FROM catalogue_round WHERE title = ?)", (ended, ROUND))
    await page.goto(round_url)
    await page.get_by_role("button", name="发布推广目录").click()
    await page.wait_for_selector("text=推广目录已发布新版本")
    assert TECHNOLOGY in await page.locator("main").inner_text() and "校验通过" in await page.locator("main").inner_text()
    # The public finds it by a Chinese word.
    await page.context.clear_cookies()
    await page.goto(f"{base}/catalogue")
    await page.fill("#f-q", "近零排放")
    await page.get_by_role("button", name="检索").click()
    await page.get_by_role("link", name=TECHNOLOGY).click()
    text = await page.locator("main").inner_text()
    assert "抗污染纳滤膜与两级反渗透" in text and "主要技术参数" in text and ROUND in text
