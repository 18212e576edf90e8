"""axe-core on the supply pages (offers, matches, 对接, funnel), at desktop and at phone width."""

import json

import pytest

from e2e.conftest import sign_in
from e2e.test_accessibility import axe_page, first_link, violations  # noqa: F401 (axe_page is a fixture)

pytestmark = pytest.mark.e2e


async def test_supply_pages_have_no_serious_violation(live_server, axe_page):  # noqa: F811
    base, page = live_server, axe_page
    found = []
    for width in (1280, 390):
        await page.set_viewport_size({"width": width, "height": 900})
        await page.context.clear_cookies()
        offer = await first_link(page, f"{base}/supply/", "main a[href^='/supply/']:not([href='/supply/'])")
        for url in (f"{base}/supply/", f"{base}{offer}"):
            found += await violations(page, url)

        await sign_in(page, base, "association@demo.cn")  # a need with matches and a signed 对接
        need = await first_link(page, f"{base}/needs/", "main a:has-text('钢铁行业中低温余热高效回收利用技术')")
        contact = await first_link(page, f"{base}/supply/contacts", "main a[href^='/supply/contacts/']")
        for url in (f"{base}{need}", f"{base}/supply/contacts", f"{base}{contact}"):
            found += await violations(page, url)

        await page.context.clear_cookies()
        await sign_in(page, base, "bidder@demo.cn")
        for url in (f"{base}/supply/new", f"{base}/supply/mine"):
            found += await violations(page, url)

        await page.context.clear_cookies()
        await sign_in(page, base, "admin@demo.cn")
        for url in (f"{base}/supply/manage", f"{base}/supply/funnel"):
            found += await violations(page, url)
    assert found == [], json.dumps(found, ensure_ascii=False, indent=1)
