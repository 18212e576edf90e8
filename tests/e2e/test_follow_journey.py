"""The public reads a challenge as an official call: its number, contact and documents (downloaded),
its own Atom feed, and follows it by e-mail (double opt-in); the list as a table and, on a phone,
with its filters folded away."""

import pytest

from e2e.conftest import mailed_link

pytestmark = pytest.mark.e2e
TITLE = "高效低成本二氧化碳捕集技术"


async def test_documents_feed_and_subscription(live_server, page, tmp_path):
    base = live_server
    await page.goto(f"{base}/challenges?view=table&sort=-amount")
    table = page.locator("table.challenge-table")
    await table.wait_for()
    assert await table.locator("th[aria-sort=descending]").inner_text() == "金额 ▼"
    await table.locator(f"a:text-is('{TITLE}')").click()
    head = await page.locator(".challenge-head").inner_text()
    assert "榜单编号 LC-" in head
    assert "咨询电话" in await page.locator("#h-facts + dl").inner_text()

    # The application guide, downloaded as a person would.
    async with page.expect_download() as info:
        await page.click(f"#documents a:has-text('{TITLE}申报指南.pdf')")
    download = await info.value
    assert download.suggested_filename == f"{TITLE}申报指南.pdf"
    assert (await download.path()).read_bytes()[:5] == b"%PDF-"

    # The challenge's own feed, from its link on the page.
    href = await page.locator("#follow a[type='application/atom+xml']").get_attribute("href")
    feed = await page.request.get(base + href)
    assert feed.ok and feed.headers["content-type"].startswith("application/atom+xml")
    assert f"补充通知（第 2 版）：{TITLE}" in await feed.text()

    # Following it by e-mail: nothing but the confirmation mail until the button is pressed.
    await page.fill("#follow #field-email", "reader@example.cn")
    await page.click("#follow button:has-text('邮件订阅')")
    await page.wait_for_selector("text=确认邮件已发送至 reader@example.cn")
    link = await mailed_link(tmp_path / "data" / "outbox", "reader@example.cn", "/follow/confirm/")
    await page.goto(link)
    await page.click("main button:has-text('确认订阅')")
    await page.wait_for_selector("text=订阅已确认")
    assert page.url.rstrip("/").endswith(href.removesuffix("/feed.atom"))


async def test_filters_fold_away_on_a_phone(live_server, browser):
    context = await browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = await context.new_page()
    try:
        await page.goto(f"{live_server}/challenges")
        fold = page.locator("details.filters-fold")
        assert await fold.get_attribute("open") is None
        assert not await page.locator("#f-q").is_visible()
        assert await page.locator(".challenge-card").first.is_visible()
        await page.click("details.filters-fold > summary")
        assert await page.locator("#f-q").is_visible()
    finally:
        await context.close()
    context = await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    try:
        await page.goto(f"{live_server}/challenges")
        assert await page.locator("#f-q").is_visible()  # open on a desktop, with no summary to click
        assert not await page.locator("details.filters-fold > summary").is_visible()
    finally:
        await context.close()
