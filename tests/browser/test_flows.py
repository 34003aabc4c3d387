"""One flow per role, end to end, in real chromium on the demo data (see conftest.py)."""

from __future__ import annotations

import time

import pytest

from tests.browser.conftest import login, new_page, shot

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]


def test_rep_logs_a_visit_on_a_phone(chromium, demo_world):
    from customers.models import Customer
    from salesforce_tasks.models import Visit

    customer = Customer.objects.filter(pair__code="P1").order_by("name").first()
    visits_before = Visit.objects.filter(customer=customer).count()
    page, problems = new_page(chromium, phone=True)
    login(page, demo_world, "rep1", "demo-rep")
    shot(page, "rep-1-home-phone")
    problems.check()

    started = time.monotonic()
    page.goto(f"{demo_world}/sales/visits/new/")
    page.fill("#customer-q", customer.name[:6])
    page.locator(f"#customer-results input[value='{customer.pk}']").check()
    page.fill("input[name=minutes]", "45")
    page.locator("input[name=kind][value=visit]").check()
    page.fill("[name=outcome]", "Order voor volgend kwartaal besproken")
    page.click("#visit-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    elapsed = time.monotonic() - started
    shot(page, f"rep-2-visit-logged-phone-{elapsed:.1f}s")
    problems.check()
    assert Visit.objects.filter(customer=customer).count() == visits_before + 1

    page.goto(f"{demo_world}/sales/")
    assert customer.name in page.content()
    shot(page, "rep-3-home-after-visit-phone")
    problems.check()


def test_finance_fixes_a_bad_cost_file(chromium, demo_world, tmp_path):
    from accounting.models import CostPool

    bad = tmp_path / "kosten.csv"
    bad.write_text(
        "period;pool;amount;key;nature\n2025;Beurzen;12.500,00;revenue;fixed\n2025;Showroom;veel;per_customer;fixed\n",
        encoding="utf-8",
    )
    pools_before = CostPool.objects.count()
    page, problems = new_page(chromium)
    login(page, demo_world, "finance", "demo-finance")
    page.goto(f"{demo_world}/customers/import/")
    page.select_option("select[name=kind]", "costs")
    page.set_input_files("input[name=file]", str(bad))
    problems.check()
    # A refused file is a bad request (issue 13): the page answers 400 and shows every bad row.
    problems.expect_refusal(method="POST", path="/customers/import/", status=400)
    page.click("form.import-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    errors = page.locator("#import-errors")
    assert errors.is_visible()
    assert "3" in errors.inner_text() and "amount" in errors.inner_text()
    shot(page, "finance-1-import-error")
    assert CostPool.objects.count() == pools_before
    problems.check()

    good = tmp_path / "kosten-goed.csv"
    good.write_text(bad.read_text(encoding="utf-8").replace("veel", "3.000,00"), encoding="utf-8")
    page.select_option("select[name=kind]", "costs")
    page.set_input_files("input[name=file]", str(good))
    page.click("form.import-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    shot(page, "finance-2-import-ok")
    problems.check()
    assert CostPool.objects.count() == pools_before + 2


def test_manager_sets_targets_approves_an_action_and_compares_scenarios(chromium, demo_world):
    from customers.models import Customer
    from salesforce_tasks.models import Action, BonusKpi, CustomerTarget

    customer = Customer.objects.filter(pair__code="P2").order_by("name").first()
    page, problems = new_page(chromium)
    login(page, demo_world, "manager", "demo-manager")
    shot(page, "manager-1-dashboard")
    problems.check()

    page.goto(f"{demo_world}/sales/targets/customers/{customer.pk}/?period=2025")
    page.fill("input[name=target_revenue]", "25000")
    page.fill("input[name=target_profit]", "2500")
    page.click("#target-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    shot(page, "manager-2-target-saved")
    problems.check()
    target = CustomerTarget.objects.get(customer=customer, period__name=2025)
    assert target.target_revenue == 25000

    kpis_before = BonusKpi.objects.count()
    page.goto(f"{demo_world}/sales/bonus/kpis/new/?period=2025")
    page.select_option("select[name=subject]", index=1)
    page.select_option("select[name=metric]", "revenue")  # the demo's pairs have a portfolio-profit KPI already
    page.fill("input[name=weight]", "50")  # percent, like the KPI table
    page.fill("input[name=threshold]", "0")
    page.fill("input[name=target]", "10000")
    page.fill("input[name=cap]", "1.5")
    page.fill("input[name=base_amount]", "4000")
    page.locator("form.card button[type=submit]").first.click()
    page.wait_for_load_state("networkidle")
    shot(page, "manager-3-kpi-saved")
    problems.check()
    assert BonusKpi.objects.count() == kpis_before + 1

    proposed = Action.objects.filter(state="proposed").order_by("id").first()
    page.goto(f"{demo_world}/sales/actions/?period=2025")
    page.locator(f"#action-{proposed.pk} button[value=agreed]").click()
    page.wait_for_function(
        f"document.querySelector('#action-{proposed.pk}') && "
        f"!document.querySelector('#action-{proposed.pk} button[value=agreed]')"
    )
    shot(page, "manager-4-action-agreed")
    problems.check()
    proposed.refresh_from_db()
    assert proposed.state == "agreed"

    page.goto(f"{demo_world}/scenarios/")
    page.wait_for_load_state("networkidle")
    text = page.content()
    assert "Conservative" in text and "Ambitious" in text
    shot(page, "manager-5-scenarios")
    problems.check()


def test_finance_changes_a_key_and_the_customer_profit_updates_without_reload(chromium, demo_world):
    from accounting.models import CostPool
    from customers.models import CustomerProfit

    pool = CostPool.objects.get(period__name=2025, name="Klantenservice")
    row = CustomerProfit.objects.filter(period=pool.period, revenue__gt=0).order_by("-revenue").first()
    watcher, watcher_problems = new_page(chromium)
    login(watcher, demo_world, "finance", "demo-finance")
    watcher.goto(f"{demo_world}/customers/{row.customer_id}/")
    watcher.click("nav.tabs a[data-tab=profit]")  # the one customer page's profit tab, loaded in place
    watcher.wait_for_selector("#customer-profit #waterfall table")
    assert "tab=profit" in watcher.url
    before = watcher.inner_text("#customer-profit")
    shot(watcher, "finance-3-customer-before")

    editor, editor_problems = new_page(chromium)
    login(editor, demo_world, "finance", "demo-finance")
    editor.goto(f"{demo_world}/accounting/pools/{pool.pk}/edit/")
    editor.select_option("select[name=key]", "revenue")
    editor.wait_for_load_state("networkidle")
    editor.locator("#pool-form button[type=submit]").first.click()
    editor.wait_for_load_state("networkidle")
    shot(editor, "finance-4-pool-saved")
    editor_problems.check()
    pool.refresh_from_db()
    assert pool.key == "revenue"

    # No reload: the page polls the recompute status and refreshes the waterfall by itself.
    watcher.wait_for_function(
        "before => document.querySelector('#customer-profit') && "
        "document.querySelector('#customer-profit').innerText !== before",
        arg=before,
        timeout=30_000,
    )
    shot(watcher, "finance-5-customer-after-no-reload")
    watcher_problems.check()
