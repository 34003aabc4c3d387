"""One period total everywhere (issue 14, Numbers): every page and API that shows a period's revenue,
gross margin, cost, profit or customer count shows the figure of ``customers.profit.period_totals``,
or the active-customer base of it and then says so next to the figure.

The class of defect: the dashboard summed every customer's figures (credit notes of customers without
net revenue included), 80/20, the pool preview, segments and the scenarios' actuals only the active
customers, each with its own query, and none said which. The small data set has exactly that case:
in 2025 C2 only has a credit note (-20.00 revenue), so the period's revenue (2,580.00) is not the
active customers' revenue (2,600.00).
"""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounting.selectors import period_totals
from customers.models import CustomerPeriod
from tests.conftest import client_for


@pytest.fixture
def totals(small_dataset):
    return period_totals(period=small_dataset[2025])


def euros(cents) -> float:
    return round(cents / 100, 2)


def test_the_selector_splits_the_period_into_active_and_credit_notes_only(small_dataset, totals):
    stored = {cp.customer.external_id: cp for cp in CustomerPeriod.objects.filter(period=small_dataset[2025])}
    assert stored["C2"].revenue == Decimal("-20.00")  # the case this test is about
    assert totals["computed"] and totals["base_differs"]
    assert totals["revenue_cents"] == sum(int(cp.revenue * 100) for cp in stored.values()) == 258000
    assert totals["active"]["revenue_cents"] == 260000 and totals["active"]["customers"] == 3
    assert totals["customers"] == 3  # "customers counted" are the active ones, on every base
    outside = totals["outside_active"]
    assert outside == {"customers": 1, "revenue_cents": -2000, "gross_margin_cents": -2000, "profit_cents": -2000}
    assert totals["profit_cents"] == totals["active"]["profit_cents"] + outside["profit_cents"]
    assert totals["profit_cents"] == totals["gross_margin_cents"] - totals["cost_to_serve_cents"]
    # The pools: Σ allocated + unused + unallocated = Σ pools, so the result after every pool is known.
    assert totals["pools_cents"] == totals["allocated_cents"] + totals["unused_cents"] + totals["unallocated_cents"]


def _page(client, name, **params):
    response = client.get(reverse(name), params)
    assert response.status_code == 200, name
    return response


def test_every_page_shows_the_same_period_totals_or_says_its_base(small_dataset, totals, manager_user, finance_user):
    period = small_dataset[2025]
    client = client_for(manager_user)
    client.force_login(manager_user)
    total_revenue, total_profit = euros(totals["revenue_cents"]), euros(totals["profit_cents"])
    active = totals["active"]

    # Dashboard: the period's totals, and it says which customers they include.
    dashboard = _page(client, "customers:dashboard", period=2025)
    kpis = dashboard.context["kpis"]
    assert kpis["revenue"] == total_revenue and kpis["profit"] == total_profit
    assert kpis["gross_margin"] == euros(totals["gross_margin_cents"])
    assert kpis["allocated_cost"] == euros(totals["cost_to_serve_cents"])  # margin - cost to serve = profit
    assert kpis["active_customers"] == totals["customers"]
    assert 'data-base="period"' in dashboard.content.decode()

    # Profit page: the same totals; its levels add up to them.
    profit = _page(client, "accounting:profit", period=2025)
    total = profit.context["overview"]["total"]
    assert (total["revenue_cents"], total["profit_cents"]) == (totals["revenue_cents"], totals["profit_cents"])
    assert sum(r["profit_cents"] for r in profit.context["overview"]["levels"]) == totals["profit_cents"]
    assert 'data-base="period"' in profit.content.decode()

    # 80/20: shares over the active customers; total profit is the period's and the page says the base.
    concentration = _page(client, "accounting:concentration", period=2025)
    figures = concentration.context["figures"]
    assert figures["total_profit"] == total_profit and figures["active_profit"] == euros(active["profit_cents"])
    assert figures["active_customers"] == totals["customers"]
    html = concentration.content.decode()
    assert 'data-base="active"' in html and "credit notes" in html

    # Segments: the active customers, and the page names what is left out and the period's totals.
    segments = _page(client, "scenarios:segments", period=2025)
    seg_total = segments.context["total"]
    assert seg_total["customers"] == active["customers"]
    assert seg_total["revenue"] == euros(active["revenue_cents"])
    assert seg_total["profit"] == euros(active["profit_cents"])
    html = segments.content.decode()
    assert 'data-base="active"' in html and "credit notes" in html

    # Scenarios, plan against actual: the active customers, as the plan counts them, and the period totals named.
    from scenarios import services as scenario_services

    plan = scenario_services.scenario_create(
        name="Plan", base_period=small_dataset[2025], levers={}, acting_user=manager_user
    )
    scenario_services.scenario_make_plan(scenario=plan, acting_user=manager_user)
    scenarios = _page(client, "scenarios:scenarios")
    row = next(r for r in scenarios.context["plan_rows"] if r["period"] == 2025)
    assert row["actual_revenue"] == euros(active["revenue_cents"])
    assert row["actual_profit"] == euros(active["profit_cents"])
    assert row["actual_customers"] == active["customers"]
    assert row["total_revenue"] == total_revenue and row["total_profit"] == total_profit
    assert 'data-base="active"' in scenarios.content.decode()

    # Pool preview (finance): "profit now" is the period's total profit, credit-note customers shown as a row.
    finance = client_for(finance_user)
    finance.force_login(finance_user)
    pool = period.cost_pools.get(name="Sales")
    response = finance.post(
        reverse("accounting:pool_preview"),
        {"pool": pool.pk, "period": 2025, "name": "Sales", "amount": "900", "key": "per_customer", "nature": "fixed"},
    )
    assert response.status_code == 200
    preview = response.context["preview"]
    assert preview is not None, response.context["form"].errors
    assert preview["total_before_cents"] == totals["profit_cents"] == preview["total_after_cents"]
    assert 'data-row="outside-active"' in response.content.decode()

    # The API answers the same figures as the pages (finance: every customer is in scope).
    api = client_for(finance_user)
    data = api.get("/api/v1/reports/concentration/", {"period": 2025}).json()
    assert data["total_profit"] == total_profit and data["total_revenue"] == total_revenue
    assert data["active_revenue"] == euros(active["revenue_cents"]) and data["customers_without_revenue"] == 1
    seg = api.get("/api/v1/segments/", {"period": 2025}).json()
    assert seg["active_customers"] == active["customers"]
    assert round(sum(float(s["revenue"]) for s in seg["segments"]), 2) == euros(active["revenue_cents"])


def test_rep_rollup_company_line_is_the_period_total(small_dataset, totals, finance_user):
    from salesforce_tasks.selectors import rep_results

    data = rep_results(period=small_dataset[2025], user=finance_user)
    company, unassigned = data["company"], data["unassigned"]
    credited = company["profit"] if company else Decimal(0)
    # The company line covers the credited customers; the ones in no portfolio are listed beside it.
    assert credited + (unassigned["profit"] if unassigned else 0) == Decimal(totals["profit_cents"]).scaleb(-2)
    assert (company["revenue"] if company else 0) + (unassigned["revenue"] if unassigned else 0) == Decimal(
        totals["revenue_cents"]
    ).scaleb(-2)
