"""A demo bidder forms a consortium and bids on an open challenge with an attachment, revises,
withdraws and bids again; the organiser fails the formal check, the bidder sees why, fixes
it, and the organiser passes it."""

import asyncio
import re

import pytest

from challenge.accounts.credit_code import complete
from challenge.demo.bids import tiny_pdf
from e2e.conftest import sign_in

pytestmark = pytest.mark.e2e
CHALLENGE = "高效低成本二氧化碳捕集技术"


async def _submit(page, label: str = "提交申报"):
    await page.locator("button[name=intent][value=submit]", has_text=label).click()
    await page.wait_for_selector("text=揭榜申报回执")


async def test_bid_consortium_submit_revise_withdraw_again_and_formal_check(live_server, page, browser, tmp_path):
    base = live_server
    page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    proposal = tmp_path / "揭榜申报书.pdf"
    proposal.write_bytes(tiny_pdf("Proposal of Tsinghua for the CO2 capture challenge"))

    # 1. The bidder finds the open challenge on their page and starts a bid.
    await sign_in(page, base, "bidder@demo.cn")
    await page.goto(f"{base}/bids/")
    await page.locator("tr", has_text=CHALLENGE).locator("a", has_text="我要揭榜").click()
    await page.wait_for_selector("#field-title")
    await page.fill("#field-title", "清华大学牵头：低能耗相变吸收剂碳捕集技术")
    await page.fill("#field-approach", "相变吸收剂 + 高效规整填料 + 机械蒸汽再压缩热集成。")
    await page.fill("#field-foundation", "千吨级中试平台，连续运行 3000 小时。")
    for field in await page.locator("input[name^=target-][name$=-value]").all():
        await field.fill("优于榜单要求")

    # 2. The consortium: a registered partner, then one more row (no JavaScript needed) for an
    #    unregistered partner entered with its credit code.
    await page.select_option("#field-partner-0-organisation_id", label="华能清洁能源集团有限公司")
    await page.locator("button[value='add:partner']").click()
    await page.wait_for_selector("#field-partner-1-name")
    assert await page.locator("#field-title").input_value() == "清华大学牵头：低能耗相变吸收剂碳捕集技术"
    await page.fill("#field-partner-1-name", "北京绿碳工程设计有限公司")
    await page.select_option("#field-partner-1-org_type", "enterprise")
    await page.fill("#field-partner-1-credit_code", complete("91110108MA01XX77K"))
    await page.select_option("#field-partner-1-region_code", "110000")
    # Team members: the lead (linked to the account by e-mail) and one more.
    await page.fill("#field-member-0-name", "陈教授")
    await page.fill("#field-member-0-title", "教授")
    await page.fill("#field-member-0-role", "项目负责人")
    await page.fill("#field-member-0-organisation_name", "清华大学")
    await page.fill("#field-member-0-email", "bidder@demo.cn")
    await page.fill("#field-member-1-name", "赵高工")
    await page.fill("#field-member-1-title", "正高级工程师")
    await page.fill("#field-member-1-organisation_name", "华能清洁能源集团有限公司")
    await page.fill("#field-milestone-0-title", "完成中试")
    await page.fill("#field-milestone-0-due_date", "2027-12-31")
    await page.fill("#field-budget-0-item", "设备购置")
    await page.fill("#field-budget-0-own", "300")
    await page.fill("#field-budget-0-requested", "1200")
    await page.set_input_files("#field-file-proposal", str(proposal))
    await page.check("#field-commitment_accepted")

    # 3. Submit: the file goes up with a progress bar, the receipt comes back.
    await _submit(page)
    assert re.search(r"/bids/\d+/receipt/1$", page.url)
    bid_url = page.url.rsplit("/receipt/", 1)[0]
    receipt = await page.locator("main").inner_text()
    assert "第 1 版" in receipt and "揭榜申报书.pdf" in receipt and "北京绿碳工程设计有限公司" in receipt
    assert re.search(r"\b[0-9a-f]{64}\b", receipt)

    # 4. Revise: a new title, submitted again as version 2.
    await page.goto(f"{bid_url}/edit")
    await page.fill("#field-title", "清华大学牵头：低能耗相变吸收剂碳捕集技术（修订）")
    await _submit(page)
    assert page.url.endswith("/receipt/2")

    # 5. Withdraw, then bid again with the same bid.
    await page.goto(bid_url)
    await page.fill("#field-reason", "补充合作单位盖章页")
    await page.locator("button", has_text="撤回申报").click()
    await page.wait_for_selector("text=本申报已撤回")
    await page.locator("button", has_text="重新提交申报").click()
    await page.wait_for_selector("text=揭榜申报回执")
    assert page.url.endswith("/receipt/3")

    # 6. The organiser fails the formal check with a reason.
    office = await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    organiser = await office.new_page()
    await sign_in(organiser, base, "admin@demo.cn")
    await organiser.goto(f"{base}/bids/manage")
    await organiser.locator("tr", has_text=CHALLENGE).locator("a").first.click()
    await organiser.locator("tr", has_text="低能耗相变吸收剂").locator("a").first.click()
    await organiser.fill("#field-reason", "缺少联合单位华能清洁能源集团有限公司的承诺函")
    await organiser.locator("button[value=fail]").click()
    await organiser.wait_for_selector("text=形式审查结果已记录")

    # 7. The bidder sees the reason on their page, fixes it and submits again.
    await page.goto(f"{base}/bids/")
    await page.wait_for_selector("text=缺少联合单位华能清洁能源集团有限公司的承诺函")
    await page.goto(bid_url)
    assert "形式审查未通过" in await page.locator("main").inner_text()
    await page.locator("button", has_text="重新提交申报").click()
    await page.wait_for_selector("text=揭榜申报回执")
    assert page.url.endswith("/receipt/4")

    # 8. The organiser passes it; the bidder sees it is under review and can no longer edit it.
    await organiser.goto(bid_url)
    await organiser.locator("button[value=pass]").click()
    await organiser.wait_for_selector("text=形式审查结果已记录")
    await page.goto(bid_url)
    await page.wait_for_selector("text=形式审查已通过")
    assert await page.locator("a", has_text="修改申报").count() == 0
    await office.close()
