"""A bidder fills the bid form: rows are added without reloading the page, the budget total follows
the typing, and a file chosen before the form came back with an error is kept, attached once."""

import pytest

from e2e.conftest import sign_in

pytestmark = pytest.mark.e2e
PDF = (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
       b"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n"
       b"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>\nendobj\n"
       b"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000058 00000 n \n0000000115 00000 n \n"
       b"trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n186\n%%EOF\n")


async def test_rows_without_reload_live_totals_and_kept_files(live_server, page, tmp_path):
    base = live_server
    await sign_in(page, base, "bidder@demo.cn")
    await page.goto(f"{base}/bids/new?challenge_id=1")
    await page.evaluate("window.notReloaded = true")

    partners = page.locator("[data-rows=partner] > [data-row]")
    before = await partners.count()
    await page.click("button[value='add:partner']")
    assert await partners.count() == before + 1
    assert await page.evaluate("window.notReloaded === true")  # no round trip to the server
    new_row = partners.nth(before)
    assert await new_row.locator("legend").inner_text() == f"联合单位 {before + 1}"
    assert await page.evaluate("document.activeElement.name") == f"partner-{before}-organisation_id"

    budget = page.locator("[data-rows=budget] > [data-row]")
    rows = await budget.count()
    await page.click("button[value='add:budget']")
    assert await budget.count() == rows + 1 and await page.evaluate("window.notReloaded === true")
    await page.fill("#field-budget-0-item", "设备购置费")
    await page.fill("#field-budget-0-own", "1200.5")
    await page.fill(f"#field-budget-{rows}-item", "材料费")
    await page.fill(f"#field-budget-{rows}-requested", "300")
    assert await page.locator("[data-total=own]").inner_text() == "1,200.5 万元"
    assert await page.locator("[data-total=total]").inner_text() == "1,500.5 万元"

    counter = page.locator("[data-count-for='field-approach']")
    await page.fill("#field-approach", "化学吸收法")
    assert await counter.inner_text() == "已输入 5 / 20000 字"

    # A file chosen, and a mistake in the form: the page comes back with the file kept.
    await page.fill("#field-title", "燃煤烟气低能耗碳捕集申报")
    await page.fill("#field-budget-0-requested", "-5")
    proposal = tmp_path / "技术方案.pdf"
    proposal.write_bytes(PDF)
    await page.set_input_files("#field-file-other", str(proposal))
    await page.click("button[value=save]")
    await page.wait_for_selector(".error-summary")
    kept = page.locator("#field-kept_file")
    assert "技术方案.pdf" in await kept.inner_text()
    assert await kept.locator("input[type=checkbox]").is_checked()
    # The partner row added in the browser came back from the server too (blank: dropped).
    await page.fill("#field-budget-0-requested", "0")
    await page.click("button[value=save]")
    await page.wait_for_selector("text=草稿已保存")
    files = page.locator(".file-list li")
    assert await files.count() == 1 and "技术方案.pdf" in await files.first.inner_text()
