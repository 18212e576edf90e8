import pytest

from e2e.conftest import sign_in

pytestmark = pytest.mark.e2e


async def test_demo_organiser_signs_in_and_sees_pending_organisation(live_server, page):
    await sign_in(page, live_server, "admin@demo.cn")
    await page.goto(f"{live_server}/admin/organisations")
    await page.wait_for_selector("text=西安绿源环保科技有限公司")
    row = page.locator("tr", has_text="西安绿源环保科技有限公司")
    await row.locator("button[value=approve]").click()
    await page.wait_for_selector("text=已审核")
    assert await page.locator("tbody tr", has_text="西安绿源环保科技有限公司").count() == 0


async def test_language_switch_to_english(live_server, page):
    await page.goto(f"{live_server}/login")
    async with page.expect_navigation():
        await page.select_option("#locale-select", "en")
    assert await page.locator("html").get_attribute("lang") == "en"
