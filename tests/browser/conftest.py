"""Real-browser tests: Playwright driving Debian's chromium against a live server.

When chromium is missing the tests are reported as skipped with the reason (and .ci/run fails
on that); they never pass silently. Every page load fails the test on a console error or a
failed network request, except a refusal the test announces (``problems.expect_refusal``).
Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop


def _serve_one_request_at_a_time_on_in_memory_sqlite() -> None:
    """On SQLite the live server's threads share the test's one in-memory connection (Django's
    LiveServerThread), so two requests at once (an htmx preview while the progress widget polls)
    interleave their savepoints on it: "no such savepoint", a 500 no deployment can have (each
    process and thread has its own connection there). Serve one request at a time on that test
    database only; PostgreSQL keeps serving them concurrently."""
    import threading

    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler

    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        return
    serial = threading.RLock()
    handle = WSGIHandler.__call__

    def one_at_a_time(self, environ, start_response):
        with serial:
            return handle(self, environ, start_response)

    WSGIHandler.__call__ = one_at_a_time


_serve_one_request_at_a_time_on_in_memory_sqlite()


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (apt-get install chromium); browser tests cannot run")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


#: Chrome's console line for a response with an error status (its location is the resource's URL).
FAILED_RESOURCE = re.compile(r"^Failed to load resource: the server responded with a status of (\d{3})\b")


class PageProblems:
    """What went wrong on a page since the last check: console errors, page errors, failed requests
    and responses with an error status. A test may announce one refusal it provokes on purpose
    (:meth:`expect_refusal`); nothing else is let through."""

    def __init__(self):
        self.items: list[str] = []
        self.expected: list[dict] = []

    def expect_refusal(self, *, method: str, path: str, status: int) -> None:
        """The next check lets through exactly this response (and Chrome's console line about it),
        e.g. a form POST the page answers with 400 while it shows the errors; the check fails if
        it did not happen. One check consumes it, so a later submission must succeed again."""
        self.expected.append({"method": method.upper(), "path": path, "status": status, "seen": False})

    def _expected(self, *, method: str | None, url: str, status: int) -> dict | None:
        path = urlsplit(url).path
        for e in self.expected:
            if e["path"] == path and e["status"] == status and method in (None, e["method"]):
                return e
        return None

    def on_console(self, message) -> None:
        if message.type != "error":
            return
        failed = FAILED_RESOURCE.match(message.text)
        if failed and self._expected(method=None, url=message.location.get("url", ""), status=int(failed[1])):
            return
        self.items.append(f"console {message.type}: {message.text} ({message.location.get('url', '')})")

    def on_response(self, response) -> None:
        if response.status < 400:
            return
        expected = self._expected(method=response.request.method, url=response.url, status=response.status)
        if expected:
            expected["seen"] = True
            return
        self.items.append(f"HTTP {response.status}: {response.request.method} {response.url}")

    def check(self) -> None:
        missing = [
            f"expected HTTP {e['status']} for {e['method']} {e['path']} did not happen"
            for e in self.expected
            if not e["seen"]
        ]
        problems, self.items, self.expected = self.items + missing, [], []
        assert not problems, "browser problems:\n" + "\n".join(problems)


#: Browser contexts the running test opened; closed when its demo world ends (see demo_world).
OPEN_CONTEXTS: list = []


def new_page(chromium, *, phone: bool = False):
    viewport = {"width": 390, "height": 844} if phone else {"width": 1366, "height": 900}
    context = chromium.new_context(viewport=viewport, is_mobile=phone, has_touch=phone, locale="en-US")
    OPEN_CONTEXTS.append(context)
    page = context.new_page()
    problems = PageProblems()
    page.on("console", problems.on_console)
    page.on("pageerror", lambda e: problems.items.append(f"page error: {e}"))
    # ERR_ABORTED is a request the page itself cancelled (a navigation, an htmx hx-sync replace).
    page.on(
        "requestfailed",
        lambda r: (
            problems.items.append(f"request failed: {r.url} {r.failure}")
            if "ERR_ABORTED" not in (r.failure or "")
            else None
        ),
    )
    page.on("response", problems.on_response)
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
    yield live_server.url
    # Close the test's pages before its database is flushed and, at the end, the server stops: left
    # open, they kept polling (the progress widget) into the next test's data, and their keep-alive
    # connections were closed by the server's threads after the server stopped sharing the
    # in-memory SQLite connection with them (DatabaseError in process_request_thread).
    while OPEN_CONTEXTS:
        OPEN_CONTEXTS.pop().close()
