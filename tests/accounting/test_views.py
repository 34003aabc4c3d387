"""Accounting pages: roles, the finance pool flow with live validation and preview, profit, waterfall."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from accounting.models import CostPool, PeriodFinance
from config.eventbus import drain
from customers.models import Customer, CustomerProfit

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def finance(client, finance_user):
    client.force_login(finance_user)
    return client


@pytest.fixture
def manager(client, manager_user):
    client.force_login(manager_user)
    return client


@pytest.fixture
def rep(client, rep_user):
    client.force_login(rep_user)
    return client


def pk_of(external_id: str) -> int:
    return Customer.objects.get(external_id=external_id).pk


def pool_post(period=2025, **values) -> dict:
    data = {
        "period": period,
        "name": "Marketing",
        "amount": "300",
        "nature": "fixed",
        "key": "per_customer",
        "weight_top": "1",
        "weight_big": "1",
        "weight_medium": "1",
        "weight_small": "1",
        "minutes_per_order": "0",
        "minutes_per_line": "0",
        "capacity_minutes": "",
        "customer": "",
    }
    data.update(values)
    return data


def csv_rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


# --- roles ------------------------------------------------------------------------------------


def test_rep_cannot_see_or_edit_pools(small_dataset, rep):
    pool = CostPool.objects.get(period=small_dataset[2025], name="Sales")
    for url in (
        reverse("accounting:pools"),
        reverse("accounting:pool_create") + "?period=2025",
        reverse("accounting:pool_history", args=[pool.pk]),
        reverse("accounting:profit"),
        reverse("accounting:profit_lossmaking"),
    ):
        assert rep.get(url).status_code == 403, url
    posts = [
        (reverse("accounting:pool_create"), pool_post()),
        (reverse("accounting:pool_update", args=[pool.pk]), pool_post(name="Sales", amount="1")),
        (reverse("accounting:pool_validate"), pool_post()),
        (reverse("accounting:pool_preview"), pool_post()),
        (reverse("accounting:pool_delete", args=[pool.pk]), {}),
        (reverse("accounting:pool_revert", args=[pool.pk, pool.history.first().history_id]), {}),
        (reverse("accounting:interest_rate_update"), {"period": 2025, "interest_rate": "1"}),
    ]
    for url, data in posts:
        assert rep.post(url, data).status_code == 403, url
    pool.refresh_from_db()
    assert pool.amount == Decimal("900.00") and CostPool.objects.count() == 3


def test_manager_reads_but_cannot_write(small_dataset, manager):
    pool = CostPool.objects.get(period=small_dataset[2025], name="Sales")
    page = manager.get(reverse("accounting:pools") + "?period=2025")
    assert page.status_code == 200
    assert b"Sales" in page.content and b"New pool" not in page.content
    assert reverse("accounting:pool_update", args=[pool.pk]).encode() not in page.content
    # A pool's history is finance's (customers.policy.HISTORY_RULES), as on the history log.
    assert reverse("accounting:pool_history", args=[pool.pk]).encode() not in page.content
    assert manager.get(reverse("accounting:pool_history", args=[pool.pk])).status_code == 403
    assert manager.get(reverse("accounting:pool_update", args=[pool.pk])).status_code == 403
    assert manager.post(reverse("accounting:pool_create"), pool_post()).status_code == 403
    assert manager.post(reverse("accounting:pool_delete", args=[pool.pk])).status_code == 403
    assert not CostPool.objects.filter(name="Marketing").exists()


def test_anonymous_is_sent_to_login(small_dataset, client):
    response = client.get(reverse("accounting:pools"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- the pools page ---------------------------------------------------------------------------


def test_pools_page_shows_pools_and_reconciles(small_dataset, finance, django_assert_max_num_queries):
    with django_assert_max_num_queries(14):
        response = finance.get(reverse("accounting:pools") + "?period=2025")
    html = response.content.decode()
    assert "Handling" in html and "Sales" in html
    assert "Reconciled to the cent: €1,200.00 = €1,200.00 allocated + €0.00 unused capacity" in html
    assert "New pool" in html


def test_pools_page_query_count_does_not_grow_with_pools(
    small_dataset, finance, finance_user, django_assert_max_num_queries
):
    from accounting import services

    for i in range(8):
        services.cost_pool_create(
            period=small_dataset[2025], acting_user=finance_user, name=f"Pool {i}", amount=Decimal("10"), key="orders"
        )
    drain()
    with django_assert_max_num_queries(14):
        assert finance.get(reverse("accounting:pools") + "?period=2025").status_code == 200


def test_pools_page_htmx_gives_the_table_only(small_dataset, finance):
    response = finance.get(reverse("accounting:pools") + "?period=2025", **HX)
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="pools-table"') and "<html" not in html
    assert "HX-Request" in response["Vary"]


def test_pools_page_warns_about_unused_capacity(small_dataset, finance, finance_user):
    from accounting import services

    services.cost_pool_create(
        period=small_dataset[2025],
        acting_user=finance_user,
        name="Warehouse",
        amount=Decimal("1000"),
        key="time_driven",
        capacity_minutes=Decimal("10"),
        minutes_per_order=Decimal("10"),
    )
    drain()
    html = finance.get(reverse("accounting:pools") + "?period=2025").content.decode()
    assert "exceeds practical capacity" in html and "badge warn" in html


def test_pools_export_matches_page(small_dataset, finance):
    rows = csv_rows(finance.get(reverse("accounting:pools") + "?period=2025&format=csv"))
    assert [(r["Pool"], r["Amount"], r["Allocated"]) for r in rows] == [
        ("Handling", "300.00", "300.00"),
        ("Sales", "900.00", "900.00"),
    ]
    assert finance.get(reverse("accounting:pools") + "?period=2025&format=pdf").status_code == 400


def test_unknown_period_is_404(small_dataset, finance):
    assert finance.get(reverse("accounting:pools") + "?period=1999").status_code == 404
    assert finance.get(reverse("accounting:profit") + "?period=abc").status_code == 404


# --- creating and editing a pool --------------------------------------------------------------


def test_finance_creates_a_pool_after_fixing_an_error(small_dataset, finance, finance_user):
    url = reverse("accounting:pool_create")
    assert finance.get(url + "?period=2025").status_code == 200
    bad = finance.post(url, pool_post(name="Warehouse", key="time_driven", minutes_per_order="5"))
    assert bad.status_code == 200
    assert "A time-driven pool needs its practical capacity in minutes" in bad.content.decode()
    assert not CostPool.objects.filter(name="Warehouse").exists()
    good = finance.post(
        url, pool_post(name="Warehouse", key="time_driven", minutes_per_order="5", capacity_minutes="100")
    )
    assert good.status_code == 302 and good["Location"].endswith("?period=2025")
    pool = CostPool.objects.get(name="Warehouse", period=small_dataset[2025])
    assert (pool.capacity_minutes, pool.minutes_per_order) == (Decimal("100.00"), Decimal("5.00"))
    assert pool.history.get().history_user == finance_user


def test_live_validation_shows_errors_and_the_fields_of_the_key(small_dataset, finance):
    url = reverse("accounting:pool_validate")
    response = finance.post(url, pool_post(key="time_driven", amount="-3"), **HX)
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="pool-fields">') and "<html" not in html
    assert "A time-driven pool needs its practical capacity" in html
    assert "Ensure this value is greater than or equal to 0" in html
    assert 'name="capacity_minutes"' in html and 'type="hidden" name="weight_top"' in html
    levels = finance.post(url, pool_post(key="per_level"), **HX).content.decode()
    assert 'type="number" name="weight_top"' in levels and "Weight per pyramid level" in levels
    direct = finance.post(url, pool_post(key="direct", customer_q="alpha"), **HX).content.decode()
    assert "A direct pool is booked to one customer" in direct
    assert 'name="customer_q"' in direct and f'value="{pk_of("C1")}"' in direct and "Beta BV" not in direct
    duplicate = finance.post(url, pool_post(name="Sales"), **HX).content.decode()
    assert "There is already a pool named" in duplicate
    assert not CostPool.objects.filter(name="Marketing").exists()


def test_customer_search_for_a_direct_pool(small_dataset, finance):
    url = reverse("accounting:pool_customer_options")
    html = finance.get(url + "?customer_q=c5").content.decode()
    assert "Epsilon BV (C5)" in html and "Alpha BV" not in html


def test_preview_shows_the_effect_without_saving(small_dataset, finance):
    profits = list(CustomerProfit.objects.values_list("id", "profit"))
    response = finance.post(reverse("accounting:pool_preview"), pool_post(amount="300"), **HX)
    html = response.content.decode()
    assert "not saved" in html and "<html" not in html
    assert "-€100<" in html and "-€200<" in html  # top: one customer, small: two
    assert not CostPool.objects.filter(name="Marketing").exists()
    assert list(CustomerProfit.objects.values_list("id", "profit")) == profits
    invalid = finance.post(reverse("accounting:pool_preview"), pool_post(key="direct"), **HX).content.decode()
    assert "Fix the fields marked in red" in invalid


def test_preview_shows_unused_capacity(small_dataset, finance):
    data = pool_post(key="time_driven", amount="1000", capacity_minutes="100", minutes_per_order="10")
    html = finance.post(reverse("accounting:pool_preview"), data, **HX).content.decode()
    assert "Unused capacity" in html and "€600.00" in html


def test_edit_then_history_then_undo(small_dataset, finance, finance_user):
    pool = CostPool.objects.get(period=small_dataset[2025], name="Handling")
    first = pool.history.first().history_id
    response = finance.post(
        reverse("accounting:pool_update", args=[pool.pk]), pool_post(name="Handling", amount="400", key="orders")
    )
    assert response.status_code == 302
    pool.refresh_from_db()
    assert pool.amount == Decimal("400.00")
    html = finance.get(reverse("accounting:pool_history", args=[pool.pk])).content.decode()
    assert "Changed" in html and "300.00" in html and "400.00" in html and "finance1" in html
    assert "Undo to this version" in html
    response = finance.post(reverse("accounting:pool_revert", args=[pool.pk, first]))
    assert response.status_code == 302
    pool.refresh_from_db()
    assert pool.amount == Decimal("300.00")
    assert pool.history.count() == 3 and pool.history.first().history_user == finance_user


def test_delete_asks_first(small_dataset, finance):
    pool = CostPool.objects.get(period=small_dataset[2025], name="Handling")
    url = reverse("accounting:pool_delete", args=[pool.pk])
    assert "Delete the pool" in finance.get(url).content.decode()
    assert CostPool.objects.filter(pk=pool.pk).exists()
    assert finance.post(url).status_code == 302
    assert not CostPool.objects.filter(pk=pool.pk).exists()


def test_interest_rate(small_dataset, finance):
    url = reverse("accounting:interest_rate_update")
    bad = finance.post(url, {"period": 2025, "interest_rate": "-1"})
    assert bad.status_code == 400 and "greater than or equal to 0" in bad.content.decode()
    assert finance.post(url, {"period": 2025, "interest_rate": "4.5"}).status_code == 302
    assert PeriodFinance.objects.get(period=small_dataset[2025]).interest_rate == Decimal("4.5")


# --- profit -----------------------------------------------------------------------------------


def test_profit_page(small_dataset, manager, django_assert_max_num_queries):
    with django_assert_max_num_queries(16):
        response = manager.get(reverse("accounting:profit") + "?period=2025")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Profit per pyramid level" in html and "€615" in html
    assert "Whale curve" in html and "The most profitable" in html
    assert "data-chart=" in html


def test_profit_page_shows_lossmaking_customers_in_scope(small_dataset, finance, django_assert_max_num_queries):
    with django_assert_max_num_queries(16):
        html = finance.get(reverse("accounting:profit") + "?period=2025").content.decode()
    assert html.index("Epsilon BV") < html.index("Delta BV")  # the largest loss first: -250 before -206.07
    assert "-€250.00" in html
    page = finance.get(reverse("accounting:profit_lossmaking") + "?period=2025&page=1", **HX).content.decode()
    assert page.lstrip().startswith('<section class="card" id="lossmaking">') and "Epsilon BV" in page


def test_manager_sees_only_own_customers_in_lists(small_dataset, manager):
    html = manager.get(reverse("accounting:profit") + "?period=2025").content.decode()
    assert "Epsilon BV" not in html  # the manager has no team: no customers in scope
    rows = csv_rows(manager.get(reverse("accounting:profit") + "?period=2025&format=csv"))
    assert rows == []


def test_profit_exports_match_the_page(small_dataset, finance):
    rows = csv_rows(finance.get(reverse("accounting:profit") + "?period=2025&format=csv&table=customers"))
    c1 = next(r for r in rows if r["Customer id"] == "C1")
    assert c1 == {
        "Customer id": "C1",
        "Name": "Alpha BV",
        "Level": "Top",
        "Revenue": "2000.00",
        "Gross margin": "1000.00",
        "Allocated cost": "375.00",
        "Financing cost": "9.86",
        "Profit": "615.14",
        "Handling": "75.00",
        "Sales": "300.00",
    }
    assert [r["Customer id"] for r in rows] == ["C1", "C4", "C5"]
    for r in rows:
        assert Decimal(r["Handling"]) + Decimal(r["Sales"]) == Decimal(r["Allocated cost"])
    levels = csv_rows(finance.get(reverse("accounting:profit") + "?period=2025&format=csv&table=levels"))
    top = next(r for r in levels if r["Level"] == "Top")
    total = next(r for r in levels if r["Level"] == "Total")
    assert (top["Customers"], top["Profit"]) == ("1", "615.14")
    assert Decimal(total["Profit"]) == sum(
        CustomerProfit.objects.filter(period=small_dataset[2025]).values_list("profit", flat=True)
    ) + Decimal("-20.00")
    html = finance.get(reverse("accounting:profit") + "?period=2025").content.decode()
    assert "€615" in html and "-€456" in html  # top and small profit as in the export
    xlsx = finance.get(reverse("accounting:profit") + "?period=2025&format=xlsx&table=levels")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert [c.value for c in sheet[1]][:2] == ["Level", "Customers"]
    assert sheet.cell(row=2, column=7).value == 615.14


# --- the customer waterfall -------------------------------------------------------------------


def test_waterfall_page_and_partial(small_dataset, finance):
    url = reverse("accounting:customer_waterfall", args=[pk_of("C1")])
    # A plain GET (old link) lands on the profit tab of the one customer page.
    response = finance.get(url + "?period=2025")
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:detail", args=[pk_of("C1")]) + "?tab=profit&period=2025"
    partial = finance.get(url + "?period=2025", **HX).content.decode()
    assert partial.lstrip().startswith('<section id="waterfall"') and "<html" not in partial
    assert "1 of 3 active customers × €300.00 per customer" in partial
    assert "1 order of 4 × €75.00 per order" in partial
    assert "€615.14" in partial and "I1" in partial
    assert "computed once so far, so it is compared with the previous period" in partial
    assert "From period 2024 to 2025" in partial
    previous = finance.get(url + "?period=2025&compare=previous_period", **HX).content.decode()
    assert "From period 2024 to 2025" in previous and "+€215.14" in previous
    assert finance.get(url + "?period=2025&compare=yesterday").status_code == 400


def test_waterfall_is_scoped(small_dataset, rep, rep_user):
    from salesforce_tasks.models import RepPair, SalesRep, Team

    url = reverse("accounting:customer_waterfall", args=[pk_of("C1")])
    assert rep.get(url + "?period=2025").status_code == 404
    team = Team.objects.create(name="Noord")
    outside = SalesRep.objects.create(code="R1", name="Rep One", kind="outside", team=team, user=rep_user)
    inside = SalesRep.objects.create(code="R2", name="Rep Two", kind="inside", team=team)
    pair = RepPair.objects.create(code="P1", team=team, outside_rep=outside, inside_rep=inside)
    Customer.objects.filter(external_id="C1").update(pair=pair)
    assert rep.get(url + "?period=2025", **HX).status_code == 200
    assert rep.get(url + "?period=2025").status_code == 302  # to the customer page
    assert rep.get(reverse("accounting:customer_waterfall", args=[pk_of("C4")]) + "?period=2025").status_code == 404


def test_why_it_changed_after_an_order(small_dataset, finance, tmp_path):
    from django.db import transaction

    from config.intake import run_import
    from tests.dataset import write

    with transaction.atomic():
        run_import(
            "orders", write(tmp_path, "more.csv", "order_id,customer_id,date,amount,cost\nO9,C4,2025-05-01,100,50\n")
        )
    drain()
    url = reverse("accounting:customer_waterfall", args=[pk_of("C1")])
    html = finance.get(url + "?period=2025", **HX).content.decode()
    assert "Other customers&#x27; drivers" in html and "+€15.00" in html
    assert "€630.14" in html  # 615.14 + 15
