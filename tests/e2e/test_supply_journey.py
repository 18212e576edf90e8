"""A technology is published (its owner submits, the office screens it), appears among the matches
of a demo need with its reasons, and the 对接 it leads to goes to "signed"."""

import re

import pytest

from e2e.conftest import sign_in

pytestmark = pytest.mark.e2e

NEED = "荒漠草原生态系统固碳增汇关键技术与监测评估"  # the demo's accepted need of 鄂尔多斯市生态环境局
OFFER = "荒漠草原植被恢复与碳汇遥感监测集成技术"


async def _person(browser, base: str, email: str):
    context = await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(10_000)
    page.on("dialog", lambda dialog: dialog.accept())
    await sign_in(page, base, email)
    return page


async def test_offer_published_matched_and_signed(live_server, page, browser):
    base = live_server
    page.on("dialog", lambda dialog: dialog.accept())

    # 1. A university team fills in its technology and submits it for screening.
    await sign_in(page, base, "bidder@demo.cn")
    await page.goto(f"{base}/supply/")
    await page.click("text=发布技术成果")
    await page.fill("#field-name", OFFER)
    await page.select_option("#field-domain_id", label="生态系统固碳增汇")
    await page.select_option("#field-trl", "7")
    await page.fill("#field-summary", "面向荒漠草原的植被恢复、固碳增汇措施与碳汇遥感监测评估集成技术。")
    await page.fill("#field-core_process", "乡土草种补播与免耕改良提高植被覆盖度，结合无人机多光谱和涡度相关通量观测建立草原碳汇计量监测方法。")
    await page.fill("#field-scope", "干旱半干旱区退化草原、荒漠草原的生态修复和碳汇项目开发。")
    await page.fill("#field-benefits_text", "示范区土壤有机碳储量持续增加，碳汇监测成本降低一半以上。")
    await page.fill("#field-param-0-name", "土壤有机碳储量年均增加")
    await page.fill("#field-param-0-value", "0.5")
    await page.fill("#field-param-0-unit", "吨碳/公顷")
    await page.fill("#field-param-1-name", "植被覆盖度提高")
    await page.fill("#field-param-1-value", "18")
    await page.fill("#field-param-1-unit", "个百分点")
    await page.check("text=合作开发")
    await page.fill("#field-contact_phone", "010-62781234")
    await page.click("button:has-text('保存并提交审核')")
    await page.wait_for_selector("text=技术成果已提交")
    offer_url = page.url

    # 2. The programme office screens it and publishes it.
    office = await _person(browser, base, "admin@demo.cn")
    await office.goto(f"{base}/supply/manage")
    await office.click(f"text={OFFER}")
    await office.check("text=通过并发布")
    await office.click("button:has-text('确认审核结论')")
    await office.wait_for_selector("text=已发布该技术成果")

    # 3. The need's submitter sees it among the matches, with its reasons, and asks for contact.
    requester = await _person(browser, base, "ordos@demo.cn")
    await requester.goto(f"{base}/needs/")
    await requester.click(f"text={NEED}")
    matches = requester.locator("#matches")
    item = matches.locator("li", has_text=OFFER).first
    await item.wait_for()
    reasons = await item.inner_text()
    assert "同一领域" in reasons and "共同关键词" in reasons and "指标满足" in reasons and "土壤有机碳" in reasons
    await item.locator(f"a:has-text('{OFFER}')").click()
    await requester.fill("#field-message", "鄂托克旗万亩荒漠草原示范区希望引进植被恢复和碳汇监测技术。")
    await requester.click("button:has-text('发送对接请求')")
    await requester.wait_for_selector("text=对接请求已发送")
    contact_url = requester.url
    assert re.search(r"/supply/contacts/\d+$", contact_url)
    assert "0477-8581234" not in await requester.content()

    # 4. The owner accepts; both now see each other's contact details.
    await page.goto(f"{base}/supply/contacts")
    await page.click(f"text={OFFER}")
    await page.check("text=接受，向对方提供联系方式")
    await page.click("button:has-text('提交回复')")
    await page.wait_for_selector("text=已通知对方")
    assert "0477-8581234" in await page.content()  # the need's contact phone

    # 5. The requester records the contract: the 对接 is signed.
    await requester.goto(contact_url)
    await requester.check("text=已签约")
    await requester.fill("#field-note", "已签订技术合作开发合同。")
    await requester.click("button:has-text('记录结果')")
    await requester.wait_for_selector(".tag--signed")
    assert "已签约" in await requester.locator("main").inner_text()
    assert offer_url.startswith(f"{base}/supply/")
