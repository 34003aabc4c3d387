"""Destructive clicks ask first: cancelling the confirmation sends nothing (real chromium)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import login, new_page

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]


def test_removing_a_team_target_asks_first(chromium, demo_world):
    from salesforce_tasks.models import TeamTarget

    before = TeamTarget.objects.count()
    assert before > 0
    page, problems = new_page(chromium)
    login(page, demo_world, "manager", "demo-manager")
    page.goto(f"{demo_world}/sales/targets/")
    remove = page.locator("button[data-confirm]", has_text="Remove").first
    messages = []

    page.once("dialog", lambda d: (messages.append(d.message), d.dismiss()))
    remove.click()
    page.wait_for_timeout(500)
    assert messages == ["Remove this team target?"]
    assert TeamTarget.objects.count() == before  # cancelled: nothing sent

    page.once("dialog", lambda d: d.accept())
    remove.click()
    page.wait_for_load_state("networkidle")
    assert TeamTarget.objects.count() == before - 1
    problems.check()
