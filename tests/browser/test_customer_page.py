"""The one customer page in a real browser: tabs load their sections in place, breadcrumbs lead
back, pyramid tiers open their customers, and long texts wrap instead of being clipped."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import login, new_page

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]


def test_tabs_load_in_place_and_crumbs_lead_back(chromium, demo_world):
    page, problems = new_page(chromium)
    login(page, demo_world, "rep1", "demo-rep")
    page.goto(f"{demo_world}/sales/")
    href = page.evaluate(
        "[...document.querySelectorAll('main a')].map(a => a.getAttribute('href'))"
        ".find(h => /^\\/customers\\/\\d+\\//.test(h))"
    )
    page.locator(f"main a[href='{href}']").first.click()
    page.wait_for_load_state("networkidle")
    assert re.search(r"/customers/\d+/", page.url)
    name = page.locator("h1").inner_text()
    page.click("nav.tabs a[data-tab=profit]")
    page.wait_for_selector("#waterfall")
    assert "tab=profit" in page.url and page.locator("h1").inner_text() == name
    page.click("nav.tabs a[data-tab=sales]")
    page.wait_for_selector("#sales-section")
    page.click("nav.tabs a[data-tab=visits]")
    page.wait_for_selector("#visit-table table")
    page.click("nav.tabs a[data-tab=actions]")
    page.wait_for_selector("section#action-list")
    page.go_back()
    page.wait_for_load_state("networkidle")
    assert "tab=visits" in page.url
    page.locator("nav.crumbs a", has_text="Customers").click()
    page.wait_for_load_state("networkidle")
    assert page.url.startswith(f"{demo_world}/customers/") and "customer-table" in page.content()
    problems.check()


def test_a_pyramid_tier_opens_its_customers(chromium, demo_world):
    page, problems = new_page(chromium)
    login(page, demo_world, "manager", "demo-manager")
    page.goto(f"{demo_world}/customers/pyramid/")
    page.click("a.tier.top")
    page.wait_for_load_state("networkidle")
    assert "level=top" in page.url
    assert page.locator("select[name=level]").input_value() == "top"
    problems.check()


def test_long_reasons_and_next_steps_wrap_on_a_desktop(chromium, demo_world):
    page, problems = new_page(chromium)
    login(page, demo_world, "manager", "demo-manager")
    page.goto(f"{demo_world}/sales/effectiveness/?flag=all")
    cell = page.locator("td.reason").first
    assert cell.evaluate("el => getComputedStyle(el).whiteSpace") == "normal"
    assert cell.evaluate("el => el.scrollWidth <= el.clientWidth + 1")
    page.goto(f"{demo_world}/sales/visits/")
    cell = page.locator("td.next-step").first
    assert cell.evaluate("el => getComputedStyle(el).whiteSpace") == "normal"
    problems.check()
