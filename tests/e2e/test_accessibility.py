"""axe-core on the main pages of every role: no serious or critical accessibility violation.

axe-core comes from npm (tests/e2e/axe/package.json, installed by scripts/test) and is injected
into each page; the context bypasses the Content-Security-Policy only to let it in.
"""

import json
import os
from pathlib import Path

import pytest

from e2e.conftest import sign_in

pytestmark = pytest.mark.e2e
AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = {"serious", "critical"}


async def violations(page, url: str) -> list[str]:
    await page.goto(url)
    assert page.url.rstrip("/") == url.rstrip("/"), f"{url} led to {page.url}"
    await page.add_script_tag(path=str(AXE))
    result = await page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    found = []
    for violation in result["violations"]:
        if violation["impact"] in BLOCKING:
            targets = [" ".join(node["target"]) for node in violation["nodes"][:5]]
            found.append(f"{url}: {violation['impact']} {violation['id']} ({violation['help']}) at {targets}")
    return found


async def first_link(page, url: str, selector: str) -> str:
    await page.goto(url)
    href = await page.locator(selector).first.get_attribute("href")
    assert href, f"no {selector} on {url}"
    return href


@pytest.fixture
async def axe_page(browser, request):
    if not AXE.exists():
        message = f"{AXE} is missing: run scripts/test (npm ci in tests/e2e/axe)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    context = await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = await context.new_page()
    page.set_default_timeout(10_000)
    yield page
    await context.close()


async def test_main_pages_of_every_role_have_no_serious_violation(live_server, axe_page, browser):
    base, page = live_server, axe_page
    challenge = await first_link(page, f"{base}/challenges", "main a[href^='/challenges/']")
    pages = {"public": [f"{base}/", f"{base}/challenges", f"{base}{challenge}", f"{base}/results",
                        f"{base}/login", f"{base}/register"]}
    found = []
    for url in pages["public"]:
        found += await violations(page, url)

    await sign_in(page, base, "submitter@demo.cn")
    need = await first_link(page, f"{base}/needs/", "main a[href^='/needs/']:not([href$='/new'])")
    for url in (f"{base}/needs/", f"{base}/needs/new", f"{base}{need}", f"{base}/account", f"{base}/inbox"):
        found += await violations(page, url)

    await page.context.clear_cookies()
    await sign_in(page, base, "bidder@demo.cn")
    bid_form = await first_link(page, f"{base}/bids/", "main a[href$='/edit'], main a[href^='/bids/new']")
    receipt = await first_link(page, f"{base}/bids/", "main a[href*='/receipt/']")
    for url in (f"{base}/bids/", f"{base}{bid_form}", f"{base}{receipt}"):
        found += await violations(page, url)

    await page.context.clear_cookies()
    await sign_in(page, base, "expert1@demo.cn")
    scoring = await first_link(page, f"{base}/review/", "main a[href^='/review/assignments/']")
    chair = await first_link(page, f"{base}/review/", "main a[href^='/review/panels/']")
    for url in (f"{base}/review/", f"{base}{scoring}", f"{base}{chair}", f"{base}/review/profile",
                f"{base}/review/conflicts"):
        found += await violations(page, url)

    await page.context.clear_cookies()
    await sign_in(page, base, "admin@demo.cn")
    managed = await first_link(page, f"{base}/bids/manage", "main a[href^='/bids/manage?challenge_id=']")
    panel = await first_link(page, f"{base}/review/manage", "main a[href^='/review/manage/panels/']")
    for url in (f"{base}/admin/", f"{base}/admin/users", f"{base}/admin/organisations", f"{base}/admin/audit",
                f"{base}/challenges/manage", f"{base}/challenges/new", f"{base}/needs/", f"{base}/needs/campaigns",
                f"{base}/bids/manage", f"{base}{managed}", f"{base}/review/manage/experts", f"{base}{panel}",
                f"{base}{panel.rstrip('/')}/assign", f"{base}{panel.rstrip('/')}/ranking"):
        found += await violations(page, url)
    assert found == [], json.dumps(found, ensure_ascii=False, indent=1)


async def test_key_pages_at_phone_width_have_no_serious_violation(live_server, axe_page):
    base, page = live_server, axe_page
    await page.set_viewport_size({"width": 390, "height": 844})
    challenge = await first_link(page, f"{base}/challenges", "main a[href^='/challenges/']")
    found = []
    for url in (f"{base}/", f"{base}/challenges", f"{base}{challenge}", f"{base}/login"):
        found += await violations(page, url)
    await sign_in(page, base, "bidder@demo.cn")
    bid_form = await first_link(page, f"{base}/bids/", "main a[href$='/edit'], main a[href^='/bids/new']")
    found += await violations(page, f"{base}{bid_form}")
    await page.context.clear_cookies()
    await sign_in(page, base, "admin@demo.cn")
    panel = await first_link(page, f"{base}/review/manage", "main a[href^='/review/manage/panels/']")
    for url in (f"{base}/admin/audit", f"{base}{panel.rstrip('/')}/ranking", f"{base}/bids/manage"):
        found += await violations(page, url)
    assert found == [], json.dumps(found, ensure_ascii=False, indent=1)


async def test_the_check_reports_what_a_person_would_stumble_on(axe_page):
    """The harness itself: a page with an unlabelled field, an image without text and faint text fails."""
    await axe_page.set_content(
        '<html lang="zh-CN"><head><title>坏页面</title></head><body><main><h1>申报</h1>'
        '<form><input type="text" name="title"></form><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
        '<p style="color:#ccc;background:#fff">截止时间</p></main></body></html>')
    await axe_page.add_script_tag(path=str(AXE))
    result = await axe_page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    serious = {v["id"] for v in result["violations"] if v["impact"] in BLOCKING}
    assert {"label", "image-alt", "color-contrast"} <= serious
