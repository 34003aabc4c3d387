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

    page.locator("button[data-undo]", has_text="Undo").click()  # the message after the remove offers Undo
    page.wait_for_load_state("networkidle")
    assert TeamTarget.objects.count() == before
    assert page.locator(".msg", has_text="Team target restored.").count() == 1
    problems.check()


def test_dropping_an_action_asks_first_and_can_be_undone(chromium, demo_world):
    from salesforce_tasks.models import Action

    page, problems = new_page(chromium)
    login(page, demo_world, "manager", "demo-manager")
    page.goto(f"{demo_world}/sales/actions/")
    drop = page.locator("button[data-confirm]", has_text="Drop").first
    row = drop.locator("xpath=ancestor::tr[1]")
    action_id = int(row.get_attribute("id").removeprefix("action-"))
    state = Action.objects.get(pk=action_id).state

    page.once("dialog", lambda d: d.dismiss())
    drop.click()
    page.wait_for_timeout(500)
    assert Action.objects.get(pk=action_id).state == state  # cancelled: nothing sent

    page.once("dialog", lambda d: d.accept())
    drop.click()
    undo = page.locator(f"#action-{action_id} button[data-undo]")
    undo.wait_for()
    assert Action.objects.get(pk=action_id).state == "dropped"
    undo.click()
    page.locator(f"#action-{action_id} button[data-undo]").wait_for(state="detached")
    page.wait_for_load_state("networkidle")
    assert Action.objects.get(pk=action_id).state == state
    problems.check()
