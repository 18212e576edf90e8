"""axe-core on the catalogue's pages (the demo's published catalogue and its round, and the open
round with an offer applied), public, the organiser's and an offer owner's, at desktop and at phone
width: no serious or critical violation."""

import json

import pytest

from e2e.conftest import sign_in
from e2e.test_accessibility import axe_page, violations  # noqa: F401 - the fixture, shared

pytestmark = pytest.mark.e2e


async def test_catalogue_pages_have_no_serious_violation(live_server, axe_page):  # noqa: F811
    base, page = live_server, axe_page
    found = []
    public = ["/catalogue", "/catalogue?q=%E8%86%9C", "/catalogue/entries/1", "/catalogue/entries/2",
              "/catalogue/versions", "/catalogue/versions/1", "/catalogue/versions/2", "/catalogue/rounds/1",
              "/catalogue/rounds/2"]
    for path in public:
        found += await violations(page, f"{base}{path}")
    await page.context.clear_cookies()
    await sign_in(page, base, "admin@demo.cn")
    for path in ("/catalogue/manage", "/catalogue/manage/rounds/new", "/catalogue/manage/rounds/1",
                 "/catalogue/manage/rounds/2", "/catalogue/manage/entries/1"):
        found += await violations(page, f"{base}{path}")
    # An offer's owner: the open round with his offers, an offer's page, the application form.
    await page.context.clear_cookies()
    await sign_in(page, base, "bidder@demo.cn")
    found += await violations(page, f"{base}/catalogue/rounds/2")
    apply = await page.locator("#offers a", has_text="申报推广目录").first.get_attribute("href")
    offer = apply.split("offer_id=")[1]
    for path in (f"/supply/{offer}", apply):
        found += await violations(page, f"{base}{path}")
    await page.context.clear_cookies()
    await sign_in(page, base, "admin@demo.cn")
    await page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/catalogue/manage/rounds/1", "/catalogue/manage/entries/1"):
        found += await violations(page, f"{base}{path}")
    await page.context.clear_cookies()
    for path in ("/catalogue", "/catalogue/entries/1", "/catalogue/versions/1"):
        found += await violations(page, f"{base}{path}")
    assert found == [], json.dumps(found, ensure_ascii=False, indent=1)
