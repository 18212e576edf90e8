"""An organiser builds a 揭榜挂帅 and a 赛马 challenge from demo needs, publishes them, amends one,
answers a bidder's question, and the public finds them by filter and by a Chinese search word."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from e2e.conftest import sign_in

pytestmark = pytest.mark.e2e
BEIJING = ZoneInfo("Asia/Shanghai")


def local(days: int, hour: int = 17) -> str:
    moment = datetime.now(BEIJING) + timedelta(days=days)
    return moment.strftime(f"%Y-%m-%dT{hour:02d}:00")


def day(days: int) -> str:
    return (datetime.now(BEIJING) + timedelta(days=days)).strftime("%Y-%m-%d")


async def fill_common(page, *, title: str, summary: str, domain: str, funding: str) -> None:
    await page.fill("#field-title", title)
    await page.select_option("#field-domain_id", label=domain)
    await page.fill("#field-summary", summary)
    await page.fill("#field-funding_wan", funding)
    await page.fill("#field-delivery_months", "36")
    await page.fill("#field-opens_at", local(-1, 9))
    await page.fill("#field-closes_at", local(40))


async def fill_rubric(page, rows) -> None:
    for i, (name, weight) in enumerate(rows):
        await page.fill(f"#field-criterion-{i}-name", name)
        await page.fill(f"#field-criterion-{i}-weight", str(weight))


async def test_build_publish_amend_answer_and_find(live_server, page, browser):
    base = live_server
    await sign_in(page, base, "admin@demo.cn")

    # 1. A 揭榜挂帅 challenge from an accepted demo need, saved and published in one step.
    await page.goto(f"{base}/challenges/manage")
    await page.click("text=编制新榜单")
    await page.check("label:has-text('燃煤电厂烟气低能耗二氧化碳捕集技术')")
    await page.check("#field-mechanism-1")  # 揭榜挂帅
    await fill_common(page, title="高炉煤气二氧化碳矿化利用技术", domain="负碳及温室气体减排",
                      summary="利用钢渣、粉煤灰等固废矿化固定高炉煤气中的二氧化碳，制备低碳建材。", funding="2000")
    await page.fill("#field-target-0-name", "二氧化碳矿化固定率")
    await page.fill("#field-target-0-value", "≥85")
    await page.fill("#field-target-0-unit", "%")
    await page.fill("#field-target-0-verification", "第三方检测")
    await fill_rubric(page, [("技术先进性", 40), ("团队基础", 30), ("经费合理性", 30)])
    await page.click("button[value=publish]")
    await page.wait_for_selector("text=榜单已发布：高炉煤气二氧化碳矿化利用技术")
    open_call_url = page.url.split("#")[0]
    assert "揭榜中" in await page.locator(".challenge-head").inner_text()

    # 2. A 赛马 track: refused without stages (the form names the problem), then stages added.
    await page.goto(f"{base}/challenges/new")
    await page.check("label:has-text('氢基竖炉直接还原炼铁关键技术')")
    await page.check("#field-mechanism-2")  # 赛马
    await fill_common(page, title="氢基竖炉工艺与装备赛马", domain="低碳与零碳工业流程再造",
                      summary="多支团队并行攻关氢基竖炉直接还原工艺与装备，分三阶段择优晋级。", funding="6000")
    await page.fill("#field-target-0-name", "直接还原铁金属化率")
    await page.fill("#field-target-0-value", "≥92")
    await fill_rubric(page, [("阶段目标完成度", 50), ("技术路线", 30), ("团队保障", 20)])
    await page.click("button[value=publish]")
    await page.wait_for_selector(".error-summary")
    assert "赛马榜单至少需要一个阶段" in await page.locator(".error-summary").inner_text()
    # Nothing was saved: the typed values are still in the form.
    assert await page.input_value("#field-title") == "氢基竖炉工艺与装备赛马"
    stages = [("小试验证", "小试报告", 120, 3), ("中试放大", "中试运行报告", 300, 2), ("工程示范", "示范工程验收报告", 600, 1),
              ("推广应用", "推广方案", 700, 1)]
    await page.click("button[value=add_stage]")  # one more row than the three shown
    for i, (name, deliverable, days, advance) in enumerate(stages):
        await page.fill(f"#field-stage-{i}-name", name)
        await page.fill(f"#field-stage-{i}-deliverable", deliverable)
        await page.fill(f"#field-stage-{i}-due", day(days))
        await page.fill(f"#field-stage-{i}-advance", str(advance))
    await page.check("input[name='stage-3-remove']")  # and remove it again
    await page.click(".actions button[value=save]")
    await page.wait_for_selector("text=草稿已保存")
    await page.click("button:has-text('发布榜单')")
    await page.wait_for_selector("text=榜单状态已变更为“揭榜中”")
    horse_url = page.url.split("#")[0]
    timeline = await page.locator(".stage-timeline").inner_text()
    assert "第 1 阶段：小试验证" in timeline and "第 3 阶段：工程示范" in timeline and "推广应用" not in timeline

    # 3. A direct edit of the published track is refused and points to the amendment form.
    await page.goto(f"{horse_url}/edit")
    await page.wait_for_selector("text=不能直接修改")
    assert page.url.endswith("/amend")

    # 4. An amendment of the 揭榜挂帅 challenge.
    await page.goto(f"{open_call_url}/amend")
    await page.fill("#field-funding_wan", "2500")
    await page.fill("#field-explanation", "发榜单位追加配套经费，榜单金额调整为 2500 万元。")
    await page.click("button.button:has-text('发布补充通知')")
    await page.wait_for_selector("#amendment-2")
    amendment = await page.locator("#amendment-2").inner_text()
    assert "2,000 万元" in amendment and "2,500 万元" in amendment

    # 5. bidder@demo.cn asks a question; the organiser answers it; the public sees the answer only.
    bidder_context = await browser.new_context(locale="zh-CN")
    bidder = await bidder_context.new_page()
    await sign_in(bidder, base, "bidder@demo.cn")
    await bidder.goto(open_call_url)
    assert await bidder.locator("a:has-text('我要揭榜')").get_attribute("href") == \
        f"/bids/new?challenge_id={open_call_url.rsplit('/', 1)[1]}"
    await bidder.fill("#field-body", "矿化产品是否须达到建材国家标准？")
    await bidder.click("button:has-text('提交问题')")
    await bidder.wait_for_selector("text=问题已提交")
    await page.goto(open_call_url)
    question = page.locator(".question", has_text="矿化产品是否须达到建材国家标准？")
    await question.locator("textarea").fill("须达到 GB/T 25176 等现行建材标准，由第三方检测。")
    await question.locator("button").click()
    await page.wait_for_selector("text=答复已公开发布")
    await bidder_context.close()

    public_context = await browser.new_context(locale="zh-CN")
    public = await public_context.new_page()
    await public.goto(open_call_url)
    qa = await public.locator("#questions").inner_text()
    assert "须达到 GB/T 25176" in qa and "陈教授" not in qa and "清华大学" not in qa

    # 6. The public finds both on the list, by filter and by a Chinese word.
    await public.goto(f"{base}/challenges")
    await public.select_option("#f-mechanism", label="赛马")
    await public.select_option("#f-domain", label="低碳与零碳工业流程再造")
    await public.click("form.filters button[type=submit]")
    await public.wait_for_selector("text=氢基竖炉工艺与装备赛马")
    await public.goto(f"{base}/challenges")
    await public.fill("#f-q", "矿化")
    await public.press("#f-q", "Enter")
    await public.wait_for_selector(".challenge-card")
    assert await public.locator(".challenge-card__title").all_inner_texts() == ["高炉煤气二氧化碳矿化利用技术"]
    await public.fill("#f-q", "二氧化碳矿化")
    await public.press("#f-q", "Enter")
    await public.wait_for_selector("text=高炉煤气二氧化碳矿化利用技术")
    await public_context.close()
