"""In real chromium on the demo data: the KPI form says live what a pair's weights add up to (issue 14),
and a manager rejects a rep's proposed change to an approved target inline on the targets page
(issue 13 finding 9), on a desktop and on a phone."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.browser.conftest import login, new_page, shot

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_kpi_form_flags_weights_live_and_refuses_a_second_metric(chromium, demo_world, phone):
    from salesforce_tasks.models import BonusKpi, RepPair

    pair = RepPair.objects.get(code="P1")  # the demo: 60 % + 20 % + 20 % in 2025
    kpis_before = BonusKpi.objects.count()
    page, problems = new_page(chromium, phone=phone)
    login(page, demo_world, "manager", "demo-manager")
    page.goto(f"{demo_world}/sales/bonus/kpis/new/?period=2025")
    page.select_option("select[name=subject]", f"pair:{pair.pk}")
    page.select_option("select[name=metric]", "revenue")
    page.fill("input[name=weight]", "30")
    warning = page.locator("#kpi-weights .warning-box")
    warning.wait_for()
    assert "add up to 130 % after this save, not 100 %" in warning.inner_text()
    shot(page, f"kpi-weights-live-{'phone' if phone else 'desktop'}")
    page.fill("input[name=weight]", "0")
    page.locator("#kpi-weights .muted").wait_for()
    assert "add up to 100 % after this save." in page.locator("#kpi-weights").inner_text()
    problems.check()

    page.select_option("select[name=metric]", "portfolio_profit")  # P1 has one already
    page.fill("input[name=threshold]", "0")
    page.fill("input[name=target]", "1000")
    page.fill("input[name=base_amount]", "100")
    page.locator("form.card button[type=submit]").first.click()
    page.wait_for_load_state("networkidle")
    assert "P1 already has a KPI on Portfolio customer profit in 2025" in page.content()
    assert BonusKpi.objects.count() == kpis_before
    problems.check()


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_manager_rejects_a_proposed_change_inline(chromium, demo_world, phone):
    from django.contrib.auth.models import User

    from customers.models import Customer, Period
    from salesforce_tasks import services
    from salesforce_tasks.models import CustomerTarget

    customer = Customer.objects.filter(pair__code="P1").order_by("name").first()
    period = Period.objects.get(name=2025)
    services.customer_target_set(
        customer=customer,
        period=period,
        acting_user=User.objects.get(username="manager"),
        target_revenue=Decimal("32100"),
    )
    target = services.customer_target_set(
        customer=customer, period=period, acting_user=User.objects.get(username="rep1"), target_revenue=Decimal("40000")
    )
    assert target.proposal_pending
    page, problems = new_page(chromium, phone=phone)
    login(page, demo_world, "manager", "demo-manager")
    page.goto(f"{demo_world}/sales/targets/?period=2025&show=pending")
    row = page.locator(f"#target-{target.pk}")
    assert "proposed: €40,000" in row.inner_text() and "€32,100" in row.inner_text()
    shot(page, f"targets-proposed-change-{'phone' if phone else 'desktop'}")
    row.locator("button", has_text="Reject").click()
    page.locator(f"#target-{target.pk} [role=status]").wait_for()
    text = page.locator(f"#target-{target.pk}").inner_text()
    assert "rejected; the approved target stays" in text and "proposed:" not in text
    shot(page, f"targets-change-rejected-{'phone' if phone else 'desktop'}")
    problems.check()
    target.refresh_from_db()
    assert not target.proposal_pending and target.target_revenue == Decimal("32100")
    assert CustomerTarget.objects.filter(pk=target.pk).exists()
