"""Real-browser tests: Playwright driving Debian's chromium against a live server.

When chromium is missing the tests are reported as skipped with the reason (and .ci/run fails
on that); they never pass silently. Every page load fails the test on a console error or a
failed network request. Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (apt-get install chromium); browser tests cannot run")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield browser
        browser.close()


class PageProblems:
    def __init__(self):
        self.items: list[str] = []

    def check(self) -> None:
        problems, self.items = self.items, []
        assert not problems, "browser problems:\n" + "\n".join(problems)


def new_page(chromium, *, phone: bool = False):
    viewport = {"width": 390, "height": 844} if phone else {"width": 1366, "height": 900}
    context = chromium.new_context(viewport=viewport, is_mobile=phone, has_touch=phone, locale="en-US")
    page = context.new_page()
    problems = PageProblems()
    page.on("console", lambda m: problems.items.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.items.append(f"page error: {e}"))
    # ERR_ABORTED is a request the page itself cancelled (a navigation, an htmx hx-sync replace).
    page.on("requestfailed", lambda r: problems.items.append(f"request failed: {r.url} {r.failure}")
            if "ERR_ABORTED" not in (r.failure or "") else None)
    page.on("response", lambda r: problems.items.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    page.set_default_timeout(15_000)
    return page, problems


def shot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def login(page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


@pytest.fixture
def demo_world(transactional_db, live_server):
    """The demo data set (small) behind a live server; Celery eager, so changes recompute at once."""
    from django.core.management import call_command

    call_command("load_demo", customers=150, seed=7, verbosity=0)
    return live_server.url
