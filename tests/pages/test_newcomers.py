"""What a newcomer meets first: the method inside the repository, a port for make run, progress
while the demo loads, and demo logins that promise only what exists."""

from __future__ import annotations

import re
import subprocess
from io import StringIO
from pathlib import Path

from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]


def test_readme_links_only_to_files_inside_the_repository():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#]+)\)", readme)
    local = [t for t in targets if not t.startswith(("http://", "https://", "mailto:"))]
    assert "docs/method.md" in local
    for target in local:
        path = (ROOT / target).resolve()
        assert path.is_relative_to(ROOT), f"README links outside the repository: {target}"
        assert path.exists(), f"README links to a missing file: {target}"


def test_method_page_has_the_formulas_and_credits_the_articles():
    text = (ROOT / "docs" / "method.md").read_text(encoding="utf-8")
    for needle in ("profit(c)", "CLV(c)", "attainment", "customer retention", "time_driven", "Jeroen Bais"):
        assert needle in text


def test_make_run_takes_a_port():
    dry = subprocess.run(
        ["make", "-n", "run", "PORT=8123"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert "runserver 127.0.0.1:8123" in dry


def test_load_demo_shows_progress(db):
    out = StringIO()
    call_command("load_demo", customers=20, seed=1, stdout=out)
    lines = out.getvalue().splitlines()
    assert [line[:5] for line in lines if line.startswith("[")] == ["[1/3]", "[2/3]", "[3/3]"]


def test_demo_logins_do_not_promise_a_page_that_does_not_exist():
    """The finance login promises period close exactly when the Periods page (with its close button) exists."""
    from django.urls import NoReverseMatch, reverse

    from customers.demo import demo_users

    try:
        reverse("salesforce:organisation:period_state", args=[2024, "close"])
        period_close_exists = True
    except NoReverseMatch:
        period_close_exists = False
    finance = demo_users().set_index("username").loc["finance", "sees"].lower()
    assert ("period close" in finance) == period_close_exists
