"""A person joins an organisation as people do: registers, confirms the e-mail, waits, and the
organisation's manager approves on the organisation page (issue #8)."""

import asyncio

import pytest

from e2e.conftest import mailed_link, sign_in

pytestmark = pytest.mark.e2e


async def test_register_confirm_and_be_approved_by_the_manager(live_server, page, browser, tmp_path):
    await page.goto(f"{live_server}/register")
    await page.check("#field-role-2")  # 揭榜方
    await page.fill("#field-name", "林博士")
    await page.fill("#field-email", "lin@example.cn")
    await page.fill("#field-password", "a-good-passw0rd")
    await page.fill("#field-password_confirm", "a-good-passw0rd")
    await page.check("#field-org_mode-1")
    await page.select_option("#field-organisation_id", label="清华大学")
    await page.check("#field-agree")
    await page.click("main form button[type=submit]")
    await page.wait_for_selector("h1:has-text('请查收确认邮件')")

    link = await mailed_link(tmp_path / "data" / "outbox", "lin@example.cn", "/register/confirm/")
    await page.goto(link)
    await page.click("text=确认邮箱并登录")
    await page.wait_for_selector("text=正在等待该单位管理人审核")
    await page.goto(f"{live_server}/bids/")
    assert "清华大学" not in await page.locator("main").inner_text()

    # The manager of 清华大学 (the first demo account there) approves on the organisation page.
    context = await browser.new_context(locale="zh-CN")
    manager = await context.new_page()
    await sign_in(manager, live_server, "bidder@demo.cn")
    await manager.goto(f"{live_server}/organisation")
    row = manager.locator("#requests tr", has_text="lin@example.cn")

    # The button waits while the form is being sent: sent into a frame here, so that this page
    # stays to be looked at (the request itself goes through as usual).
    await manager.evaluate("""() => {
        const sink = document.createElement('iframe'); sink.name = 'sink'; document.body.append(sink);
        document.querySelector('#requests form').target = 'sink';
    }""")
    await row.locator("button", has_text="通过申请").click()
    await manager.wait_for_function(
        "() => document.querySelector('#requests form[aria-busy] button').disabled === true")
    await manager.wait_for_timeout(1000)
    await manager.goto(f"{live_server}/organisation")
    await manager.wait_for_selector("#members >> text=lin@example.cn")
    await context.close()

    await page.goto(f"{live_server}/account")
    assert "清华大学" in await page.locator("main").inner_text()
    await page.goto(f"{live_server}/inbox")
    await page.wait_for_selector("text=您已加入“清华大学”")
