"""Every page of every role fits a phone: at 390 px no page scrolls sideways (real chromium).

The pages are found from the URLconf (routes without parameters whose GET answers a whole HTML
page for that role) plus one customer page with each of its tabs, so a new page is checked
without anyone adding it here."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests import role_pages
from tests.browser.conftest import login, new_page
from tests.role_pages import ROLES

pytestmark = [pytest.mark.browser, pytest.mark.timeout(1800)]

#: The phone is 390 px wide. In mobile emulation window.innerWidth grows with a page that is too
#: wide (the browser zooms out), so the width is the device's, not the window's.
PHONE_WIDTH = 390
OVERFLOW = f"document.documentElement.scrollWidth > {PHONE_WIDTH} + 1 || window.innerWidth > {PHONE_WIDTH} + 1"
WIDEST = """() => {
  const w = 390; const out = [];
  const inScroller = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const s = getComputedStyle(p).overflowX;
      if (['auto', 'scroll', 'hidden'].includes(s) && p.getBoundingClientRect().right <= w + 1) return true;
    }
    return false;
  };
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.right > w + 1 && r.width > 0 && !inScroller(el)) {
      const name = typeof el.className === 'string' ? el.className.trim() : '';
      const cls = name ? '.' + name.split(/\\s+/).join('.') : '';
      out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + cls + ' right=' + Math.round(r.right));
    }
  }
  return out.slice(0, 5);
}"""


def pages_of(username: str) -> list[str]:
    """The routes that answer this user's GET with a whole HTML page (tests/role_pages.py)."""
    from django.contrib.auth.models import User

    client = Client()
    client.force_login(User.objects.get(username=username), backend="django.contrib.auth.backends.ModelBackend")
    return role_pages.pages_of(client)


def test_the_url_list_finds_the_pages_of_each_role(demo_world):
    assert {"/sales/", "/sales/visits/", "/sales/targets/", "/sales/effectiveness/"} <= set(pages_of("rep1"))
    assert {"/customers/pyramid/", "/accounting/profit/", "/sales/actions/"} <= set(pages_of("manager"))
    assert {"/accounting/pools/", "/customers/dashboard/"} <= set(pages_of("finance"))


@pytest.mark.parametrize("role", list(ROLES))
def test_no_page_scrolls_sideways_on_a_phone(chromium, demo_world, role):
    username, password = ROLES[role]
    pages = pages_of(username)
    assert len(pages) >= 5 and any(re.match(r"/customers/\d+/", p) for p in pages)
    page, problems = new_page(chromium, phone=True)
    login(page, demo_world, username, password)
    wide = []
    for path in pages:
        page.goto(demo_world + path)
        page.wait_for_load_state("networkidle")
        if page.evaluate(OVERFLOW):
            width = page.evaluate("Math.max(document.documentElement.scrollWidth, window.innerWidth)")
            wide.append(f"{path}: {width}px wide; {page.evaluate(WIDEST)}")
    problems.check()
    assert not wide, f"pages wider than a 390 px phone for {role}:\n" + "\n".join(wide)
