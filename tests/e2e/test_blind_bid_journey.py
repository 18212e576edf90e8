"""On the demo's blind horse-race challenge a bidder reads what the blind review hides and what he
must remove, has a legacy .doc refused next to its field, and after saving text that names his
university and himself is shown each place before he submits."""

import pytest

from challenge.demo.bids import tiny_pdf
from e2e.conftest import sign_in
from factories.uploads import ole_doc_bytes

pytestmark = pytest.mark.e2e
CHALLENGE = "钢铁行业氢冶金关键技术"


async def test_a_blind_bid_is_told_what_to_remove(live_server, page, tmp_path):
    base = live_server
    legacy = tmp_path / "技术方案.doc"
    legacy.write_bytes(ole_doc_bytes())
    proposal = tmp_path / "申报书.pdf"
    proposal.write_bytes(tiny_pdf("Proposal"))

    await sign_in(page, base, "bidder@demo.cn")
    await page.goto(f"{base}/bids/")
    # The demo bidder has a draft on this challenge already: he goes on with it.
    card = page.locator("article.bid-card", has_text=CHALLENGE)
    await card.locator("a", has_text="修改申报").click()
    await page.wait_for_selector("#field-title")
    notice = await page.locator("#blind-h").locator("xpath=..").inner_text()
    assert "本榜单采用匿名评审" in notice and "DOC、XLS、PPT" in notice

    await page.fill("#field-title", "氢基竖炉还原工艺")
    await page.fill("#field-approach", "由清华 THU / Chen 团队牵头开展研究。")
    await page.set_input_files("#field-file-proposal", str(legacy))
    await page.locator("button[name=intent][value=save]").first.click()
    await page.wait_for_selector("#error-file-proposal")
    error = await page.locator("#error-file-proposal").inner_text()
    assert "不接受 .doc 文件" in error and "技术方案.doc" in error
    assert await page.locator("#field-title").input_value() == "氢基竖炉还原工艺"

    # The page refused above already warns of the saved draft's title; saving replaces it.
    await page.set_input_files("#field-file-proposal", str(proposal))
    await page.locator("button[name=intent][value=save]").first.click()
    await page.wait_for_selector("text=草稿已保存")
    warnings = await page.locator("#blind-warnings").inner_text()
    assert "技术路线" in warnings and "“清华”" in warnings and "申报名称" not in warnings
