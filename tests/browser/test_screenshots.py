"""Screenshots of the pages issue 14 changed, on a phone (390x844) and a desktop (1440x900), in Dutch
and English, into artifacts/screenshots/pages/ (real chromium, demo data).

Named ``<language>-<phone|desktop>-<role>-<page>.png``. Each page load fails the test on a console
error, a failed request or an HTTP error (tests/browser/conftest.py); what the pages look like is
for a person to judge, so nothing about the pictures is asserted beyond that they were taken.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import SHOTS, login, new_page

pytestmark = [pytest.mark.browser, pytest.mark.timeout(1800)]

DEVICES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1440, "height": 900}}
PAGES = {
    "rep": [
        ("home", "/sales/"),
        ("visits", "/sales/visits/"),
        ("targets", "/sales/targets/"),
        ("effectiveness", "/sales/effectiveness/"),
        ("actions", "/sales/actions/"),
    ],
    "manager": [
        ("profit", "/accounting/profit/"),
        ("actions", "/sales/actions/"),
        ("targets", "/sales/targets/"),
        ("organisation", "/sales/organisation/"),
        ("waiting", "/sales/organisation/waiting/"),
    ],
}
CUSTOMER_TABS = ("overview", "profit", "sales", "visits", "actions")
LOGINS = {"rep": ("rep1", "demo-rep"), "manager": ("manager", "demo-manager")}


@pytest.mark.parametrize("device", list(DEVICES))
@pytest.mark.parametrize("language", ["nl", "en"])
def test_screenshots_of_the_changed_pages(chromium, demo_world, language, device):
    folder = SHOTS / "pages"
    folder.mkdir(parents=True, exist_ok=True)
    taken = []
    for role, pages in PAGES.items():
        page, problems = new_page(chromium, phone=device == "phone")
        page.set_viewport_size(DEVICES[device])
        login(page, demo_world, *LOGINS[role])
        page.context.add_cookies([{"name": "django_language", "value": language, "url": demo_world}])
        urls = list(pages)
        if role == "rep":
            page.goto(f"{demo_world}/customers/")
            href = (
                page.locator("a[href^='/customers/']")
                .filter(has_text=re.compile(r"\w"))
                .evaluate_all(
                    "els => els.map(e => e.getAttribute('href')).filter(h => /^\\/customers\\/\\d+\\/$/.test(h))"
                )
            )
            assert href, "no customer link on the rep's customer list"
            urls += [(f"customer-{tab}", f"{href[0]}?tab={tab}") for tab in CUSTOMER_TABS]
        for name, path in urls:
            page.goto(demo_world + path)
            page.wait_for_load_state("networkidle")
            assert page.locator("html").get_attribute("lang") == language, path
            target = folder / f"{language}-{device}-{role}-{name}.png"
            page.screenshot(path=str(target), full_page=True)
            taken.append(target)
        problems.check()
        page.context.close()
    assert all(p.stat().st_size > 0 for p in taken) and len(taken) == 15
