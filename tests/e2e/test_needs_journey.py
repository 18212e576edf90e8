"""A new organisation registers, is approved, submits a need with an attachment, and sees it accepted."""

import random

import pytest

from challenge.accounts.credit_code import complete
from challenge.demo.needs import tiny_pdf
from e2e.conftest import mailed_link, sign_in

pytestmark = pytest.mark.e2e


async def test_register_submit_a_need_and_see_it_accepted(live_server, page, browser, tmp_path):
    base = live_server
    run = random.randrange(10**6)
    org_name = f"常州绿能环保科技有限公司{run}"
    title = f"污泥低温干化耦合余热利用技术需求（{run}）"
    attachment = tmp_path / "需求论证材料.pdf"
    attachment.write_bytes(tiny_pdf("need brief for the browser test"))

    # 1. A new user registers with a new organisation (its manager, pending approval) and
    #    confirms the e-mail address through the mailed link.
    await page.goto(f"{base}/register")
    await page.check("#field-role-1")
    await page.fill("#field-name", "周工")
    await page.fill("#field-email", f"zhou{run}@changzhou-green.cn")
    await page.fill("#field-phone", "13912345678")
    await page.fill("#field-password", "green-need-2026")
    await page.fill("#field-password_confirm", "green-need-2026")
    await page.check("#field-org_mode-2")
    await page.fill("#field-org_name", org_name)
    await page.select_option("#field-org_type", "enterprise")
    await page.select_option("#field-org_region", "320400")
    await page.fill("#field-org_credit_code", complete(f"9132040000{random.randrange(10**7):07d}"))
    await page.check("#field-agree")
    await page.locator("main form button[type=submit]").click()
    await page.wait_for_selector("h1:has-text('请查收确认邮件')")
    await page.goto(await mailed_link(tmp_path / "data" / "outbox", f"zhou{run}@changzhou-green.cn",
                                      "/register/confirm/"))
    await page.click("text=确认邮箱并登录")
    await page.wait_for_url(f"{base}/account")
    await page.goto(f"{base}/needs/")
    await page.wait_for_selector("text=尚未通过审核")

    # 2. The organiser approves the organisation.
    office = await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    organiser = await office.new_page()
    await sign_in(organiser, base, "admin@demo.cn")
    await organiser.goto(f"{base}/admin/organisations")
    await organiser.locator("tr", has_text=org_name).locator("button[value=approve]").click()
    await organiser.wait_for_selector("text=已审核")

    # 3. The user fills the need on the open demo campaign, attaches a PDF and submits.
    await page.goto(f"{base}/needs/")
    await page.locator("a.button", has_text="填报技术需求").first.click()
    await page.wait_for_selector("#field-title")
    await page.fill("#field-title", title)
    await page.select_option("#field-domain_id", label="污染治理")
    await page.fill("#field-bottleneck", "市政污泥含水率高，干化能耗大，现有热干化工艺吨污泥耗能超过 800 千瓦时。")
    await page.fill("#field-state_of_art", "国外低温带式干化已有应用，国内余热耦合干化工程案例少，系统能效偏低。")
    await page.fill("#field-target_indicators", "1. 出泥含水率不高于 30%；\n2. 吨污泥干化能耗降低 40% 以上。")
    await page.fill("#field-application_scenario", "常州市某污水处理厂，污泥处理规模 300 吨/日。")
    await page.fill("#field-expected_results", "建成示范工程一套，形成污泥低温干化技术规程。")
    await page.fill("#field-cofunding_wan", "350")
    await page.check("#field-hosts_scenario-1")
    await page.fill("#field-contact_phone", "0519-86601234")
    await page.set_input_files("#field-attachments", str(attachment))
    await page.locator("button[name=intent][value=submit]").click()
    await page.wait_for_selector("text=需求已提交")
    need_url = page.url
    assert "/needs/" in need_url and need_url.rstrip("/").split("/")[-1].isdigit()
    assert await page.locator(".needs-attachments", has_text="需求论证材料.pdf").count() == 1
    assert await page.locator(".needs-status-line .tag--submitted").count() == 1

    # 4. The organiser finds it in the list and accepts it.
    await organiser.goto(f"{base}/needs/?status=submitted")
    await organiser.locator("a", has_text=title).click()
    await organiser.wait_for_selector("#screening")
    await organiser.check("#field-decision-1")
    await organiser.locator("#screening button[type=submit]").click()
    await organiser.wait_for_selector("text=已采纳该需求")
    await office.close()

    # 5. The user sees the accepted status and the history in words.
    await page.goto(need_url)
    await page.wait_for_selector(".needs-status-line .tag--accepted")
    history = await page.locator(".needs-history").inner_text()
    assert "提交需求" in history and "采纳需求" in history and "王主任" in history
    inbox = await page.goto(f"{base}/inbox")
    assert inbox.ok
    await page.wait_for_selector(f"text=技术需求已采纳：{title}")
