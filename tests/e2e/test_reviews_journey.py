"""Browser journey of a review: the organiser builds a panel and accepts the proposed assignments,
the experts score, the chair reopens one score and records the panel's opinion, and the ranking
appears. Runs on the demo data: the challenge whose bid window has passed and that has no panel."""

import re

import pytest

from e2e.conftest import sign_in

pytestmark = pytest.mark.e2e

CHALLENGE = "废旧动力电池高值化回收利用技术"  # the demo's challenge with its window just over
PANEL_EXPERTS = [("expert1@demo.cn", "赵院士"), ("expert2@demo.cn", "钱教授"), ("expert3@demo.cn", "孙研究员")]


async def _as(page, base, email):
    await page.context.clear_cookies()
    await sign_in(page, base, email)


async def _score_first_open_task(page, base, values, opinion):
    await page.goto(f"{base}/review/")
    await page.locator("section", has_text=CHALLENGE).get_by_role("link", name="查看并评分").first.click()
    await page.wait_for_selector("text=申报内容")
    inputs = page.locator("input[name^=score_]")
    for index in range(await inputs.count()):
        await inputs.nth(index).fill(str(values[index % len(values)]))
    await page.fill("#field-opinion", opinion)
    await page.get_by_role("button", name="提交评分").click()
    await page.wait_for_selector("text=评分已提交并锁定")


async def test_panel_assignment_scoring_reopen_opinion_and_ranking(live_server, page):
    base = live_server
    # The organiser builds the panel: three experts, expert1 chairs.
    await sign_in(page, base, "admin@demo.cn")
    await page.goto(f"{base}/review/manage")
    section = page.locator("section", has_text=CHALLENGE)
    await section.get_by_role("link", name="组建评审专家组").click()
    await page.wait_for_selector("h1:text('组建评审专家组')")
    for _email, name in PANEL_EXPERTS:
        await page.get_by_label(name, exact=True).check()
    await page.get_by_label("赵院士 任组长").check()
    await page.get_by_role("button", name="组建专家组").click()
    await page.wait_for_selector("text=评审专家组已组建")
    panel_id = re.search(r"/review/manage/panels/(\d+)", page.url).group(1)

    # The system proposes; the organiser reviews the proposal and confirms it.
    await page.get_by_role("button", name="生成分配建议").click()
    await page.wait_for_selector("text=分配建议")
    assert "/assign" in page.url
    assert await page.locator("text=待确认").count() >= 3
    await page.get_by_role("button", name=re.compile("确认分配并通知专家")).click()
    await page.wait_for_selector("text=并通知了专家")

    # Each expert scores (the chair first, so he can reopen later).
    for (email, _name), values in zip(PANEL_EXPERTS, [(88, 80, 85), (60, 65, 70), (75, 78, 80)]):
        await _as(page, base, email)
        await _score_first_open_task(page, base, values, "方案总体可行，建议加强中试验证。")

    # The chair reopens expert2's score with a reason.
    await _as(page, base, "expert1@demo.cn")
    await page.goto(f"{base}/review/panels/{panel_id}")
    row = page.locator("tr", has_text="钱教授")
    await row.locator("input[name=reason]").fill("第一项评分与评语不一致，请复核")
    await row.get_by_role("button", name="退回修改").click()
    await page.wait_for_selector("text=评分已退回给专家修改")

    # expert2 sees the reason, corrects and submits again.
    await _as(page, base, "expert2@demo.cn")
    await page.goto(f"{base}/review/")
    await page.wait_for_selector("text=第一项评分与评语不一致")
    await _score_first_open_task(page, base, (72, 65, 70), "已复核，调整第一项评分。")

    # The chair records the panel's opinion and the recommended winner.
    await _as(page, base, "expert1@demo.cn")
    await page.goto(f"{base}/review/panels/{panel_id}")
    await page.fill("#field-text", "专家组一致认为申报 A 技术路线可行，推荐揭榜。")
    await page.locator("input[name=recommended]").first.check()
    await page.get_by_role("button", name="记录专家组意见").click()
    await page.wait_for_selector("text=专家组意见已记录")

    # The ranking appears for the organiser, with the opinion.
    await _as(page, base, "admin@demo.cn")
    await page.goto(f"{base}/review/manage/panels/{panel_id}/ranking")
    table = page.locator("table.reviews-ranking")
    await table.wait_for()
    first = table.locator("tbody tr").first
    assert (await first.locator("td").first.inner_text()).strip() == "1"
    assert "推荐" in await first.inner_text()
    assert re.search(r"\d+\.\d\d", await first.inner_text())
    await page.wait_for_selector("text=专家组一致认为申报 A 技术路线可行")
