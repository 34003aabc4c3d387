"""Accounting services and selectors end to end on the small data set; figures computed by hand.

2025: active C1 (revenue 2000, margin 1000, 1 order), C4 (300, 200, 1 order), C5 (300, 200,
2 orders); C2 only returned goods (inactive), C3 is a prospect. Pools: Sales 900 per customer
(300 each), Handling 300 by orders (75 per order of 4). Interest 6 %: C1's invoice of 2000 paid
30 days late costs 2000 × 30 × 0.06 / 365 = 9.86.
"""

import io
import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import transaction

from accounting import selectors, services
from accounting.models import CostPool, PoolResult, ProfitSnapshot
from accounting.views import why_text
from config.eventbus import drain
from config.intake import run_import
from customers.models import Customer, CustomerProfit
from tests.dataset import write


def customer(external_id: str) -> Customer:
    return Customer.objects.get(external_id=external_id)


def profit_of(period, external_id: str) -> Decimal:
    return CustomerProfit.objects.get(period=period, customer__external_id=external_id).profit


def import_text(tmp_path, kind: str, text: str) -> None:
    with transaction.atomic():
        run_import(kind, write(tmp_path, f"extra-{kind}.csv", text))
    drain()


# --- the stored figures ---------------------------------------------------------------------------


def test_profit_2025_by_hand(small_dataset):
    p25 = small_dataset[2025]
    assert profit_of(p25, "C1") == Decimal("615.14")  # 1000 - 300 - 75 - 9.86
    assert profit_of(p25, "C5") == Decimal("-250.00")  # 200 - 300 - 2 × 75
    c5 = CustomerProfit.objects.get(period=p25, customer__external_id="C5")
    assert (c5.allocated, c5.financing, c5.orders) == (Decimal("450.00"), Decimal("0.00"), 2)
    results = {r.pool.name: r for r in selectors.pool_results(period=p25)}
    assert results["Sales"].allocated == Decimal("900.00")
    assert (results["Sales"].driver_total, results["Sales"].rate) == (3.0, 300.0)
    assert (results["Handling"].driver_total, results["Handling"].rate) == (4.0, 75.0)
    assert not CustomerProfit.objects.filter(period=p25, customer__external_id__in=["C2", "C3"]).exists()


def test_pool_overview_reconciles_to_the_cent(small_dataset):
    overview = selectors.pool_overview(period=small_dataset[2025])
    totals = overview["totals"]
    assert overview["computed"] and overview["reconciles"]
    assert totals["amount"] == Decimal("1200.00") == totals["allocated"] + totals["unused"] + totals["unallocated"]


def test_pool_overview_shows_unused_capacity_and_warning(small_dataset, finance_user):
    p25 = small_dataset[2025]
    services.cost_pool_create(
        period=p25,
        acting_user=finance_user,
        name="Warehouse",
        amount=Decimal("1000"),
        key="time_driven",
        capacity_minutes=Decimal("100"),
        minutes_per_order=Decimal("10"),
    )
    drain()
    row = next(r for r in selectors.pool_overview(period=p25)["rows"] if r["pool"].name == "Warehouse")
    # 4 orders × 10 min = 40 of 100 minutes at € 10 a minute: 400 charged, 600 unused.
    assert (row["result"].allocated, row["result"].unused) == (Decimal("400.00"), Decimal("600.00"))
    services.cost_pool_update(pool=row["pool"], acting_user=finance_user, capacity_minutes=Decimal("20"))
    drain()
    row = next(r for r in selectors.pool_overview(period=p25)["rows"] if r["pool"].name == "Warehouse")
    assert row["result"].unused == 0 and "exceeds practical capacity" in row["result"].warning
    assert selectors.pool_overview(period=p25)["reconciles"]


# --- the waterfall ----------------------------------------------------------------------------


def test_waterfall_of_c1_by_hand(small_dataset):
    w = selectors.customer_waterfall(customer=customer("C1"), period=small_dataset[2025])
    assert (w["revenue"], w["gross_margin"], w["financing"], w["profit"]) == (200000, 100000, 986, 61514)
    pools = {p["name"]: p for p in w["pools"]}
    assert pools["Sales"]["amount_cents"] == 30000 and pools["Handling"]["amount_cents"] == 7500
    assert why_text(pools["Sales"], w["drivers"]) == "1 of 3 active customers × €300.00 per customer"
    assert why_text(pools["Handling"], w["drivers"]) == "1 order of 4 × €75.00 per order"
    [invoice] = w["invoices"]
    assert (invoice["invoice_id"], invoice["days_late"], invoice["cost"]) == ("I1", 30, 9.86)
    assert [s["end_cents"] for s in w["steps"]] == [200000, 100000, 100000, 70000, 62500, 61514, 61514]


@pytest.mark.parametrize("period_name", [2024, 2025])
def test_every_waterfall_adds_up_to_the_stored_profit(small_dataset, period_name):
    period = small_dataset[period_name]
    for row in CustomerProfit.objects.filter(period=period).select_related("customer"):
        w = selectors.customer_waterfall(customer=row.customer, period=period)
        assert w["gross_margin"] - sum(p["amount_cents"] for p in w["pools"]) - w["financing"] == w["profit"]
        assert Decimal(w["profit"]).scaleb(-2) == row.profit
        assert w["steps"][-1]["end_cents"] == w["steps"][-2]["end_cents"] == w["profit"]


def test_waterfall_of_a_customer_without_costs(small_dataset):
    w = selectors.customer_waterfall(customer=customer("C2"), period=small_dataset[2025])
    assert not w["computed"] and w["pools"] == []
    assert w["profit"] == w["gross_margin"] == -2000


# --- cost pools, history and undo -------------------------------------------------------------


def test_create_update_delete_write_history(small_dataset, finance_user):
    p25 = small_dataset[2025]
    pool = services.cost_pool_create(
        period=p25, acting_user=finance_user, name="Marketing", amount=Decimal("120"), key="revenue"
    )
    services.cost_pool_update(pool=pool, acting_user=finance_user, amount=Decimal("150"), nature="variable")
    entries = selectors.pool_history(pool=pool)
    assert [e["type"] for e in entries] == ["~", "+"]
    assert all(e["user"] == finance_user for e in entries)
    changes = {c["field"]: (c["old"], c["new"]) for c in entries[0]["changes"]}
    assert changes == {"amount": (Decimal("120.00"), Decimal("150")), "nature": ("Fixed", "Variable")}
    pool_id = pool.pk
    services.cost_pool_delete(pool=pool, acting_user=finance_user)
    records = CostPool.history.filter(id=pool_id).order_by("history_date")
    assert [r.history_type for r in records] == ["+", "~", "-"]
    assert records.last().history_user == finance_user
    assert not CostPool.objects.filter(pk=pool_id).exists()


def test_revert_restores_the_chosen_version(small_dataset, finance_user):
    p25 = small_dataset[2025]
    pool = services.cost_pool_create(
        period=p25, acting_user=finance_user, name="Service", amount=Decimal("100"), key="orders"
    )
    first = pool.history.get().history_id
    services.cost_pool_update(
        pool=pool, acting_user=finance_user, amount=Decimal("200"), key="direct", customer=customer("C5")
    )
    services.cost_pool_revert(pool=pool, history_id=first, acting_user=finance_user)
    pool.refresh_from_db()
    assert (pool.amount, pool.key, pool.customer_id) == (Decimal("100.00"), "orders", None)
    assert pool.history.count() == 3
    other = CostPool.objects.get(period=p25, name="Sales").history.first().history_id
    with pytest.raises(ValidationError):
        services.cost_pool_revert(pool=pool, history_id=other, acting_user=finance_user)


def test_pool_rules_name_the_field(small_dataset, finance_user):
    p25 = small_dataset[2025]
    cases = [
        ({"name": "Sales", "amount": Decimal("1"), "key": "orders"}, "name"),
        ({"name": "X", "amount": Decimal("1"), "key": "time_driven"}, "capacity_minutes"),
        ({"name": "X", "amount": Decimal("1"), "key": "direct"}, "customer"),
        ({"name": "X", "amount": Decimal("-1"), "key": "orders"}, "amount"),
        (
            {
                "name": "X",
                "amount": Decimal("1"),
                "key": "per_level",
                **dict.fromkeys(["weight_top", "weight_big", "weight_medium", "weight_small"], Decimal("0")),
            },
            "weight_top",
        ),
    ]
    for values, field in cases:
        with pytest.raises(ValidationError) as exc:
            services.cost_pool_create(period=p25, acting_user=finance_user, **values)
        assert field in exc.value.message_dict, values
    assert CostPool.objects.filter(period=p25).count() == 2


def test_preview_does_not_save(small_dataset, finance_user):
    p25 = small_dataset[2025]
    profits = list(CustomerProfit.objects.filter(period=p25).values_list("customer_id", "profit", "by_pool"))
    pools = CostPool.objects.count()
    preview = services.profit_preview(
        period=p25, pool_values={"name": "New", "amount": Decimal("300"), "key": "per_customer"}
    )
    levels = {r["level"]: r for r in preview["levels"]}
    # 100 more cost for each of the three active customers: top C1, small C4 and C5.
    assert levels["top"]["change_cents"] == -10000 and levels["small"]["change_cents"] == -20000
    assert preview["total_after_cents"] - preview["total_before_cents"] == -30000
    assert preview["pool"][0]["allocated_cents"] == 30000
    assert CostPool.objects.count() == pools
    assert list(CustomerProfit.objects.filter(period=p25).values_list("customer_id", "profit", "by_pool")) == profits


def test_interest_rate_moves_financing(small_dataset, finance_user):
    p25 = small_dataset[2025]
    services.period_finance_update(period=p25, interest_rate=Decimal("0"), acting_user=finance_user)
    drain()
    assert profit_of(p25, "C1") == Decimal("625.00")
    with pytest.raises(ValidationError):
        services.period_finance_update(period=p25, interest_rate=Decimal("150"), acting_user=finance_user)


# --- why it changed ---------------------------------------------------------------------------


def test_profit_change_after_another_customers_order(small_dataset, tmp_path):
    p25 = small_dataset[2025]
    assert selectors.profit_change(customer=customer("C1"), period=p25)["reason"] == "one_computation"
    import_text(tmp_path, "orders", "order_id,customer_id,date,amount,cost\nO9,C4,2025-05-01,100,50\n")
    assert ProfitSnapshot.objects.filter(period=p25).count() == 2
    c1 = selectors.profit_change(customer=customer("C1"), period=p25)
    # Handling: 5 orders now, C1 carries 300 / 5 = 60 instead of 75.
    assert c1["total_change_cents"] == 1500 == c1["other_customers_cents"]
    assert c1["profit_after_cents"] == 61514 + 1500
    c4 = selectors.profit_change(customer=customer("C4"), period=p25)
    # C4: margin +50; its second order takes 2/5 of Handling = 120 instead of 75.
    assert (c4["own_margin_cents"], c4["own_drivers_cents"], c4["other_customers_cents"]) == (5000, -4500, 0)
    parts = ("own_margin_cents", "own_drivers_cents", "pools_cents", "other_customers_cents", "financing_cents")
    for external_id, change in (("C1", c1), ("C4", c4)):
        assert sum(change[p] for p in parts) == change["total_change_cents"]
        assert Decimal(change["profit_after_cents"]).scaleb(-2) == profit_of(p25, external_id)


def test_profit_change_against_previous_period(small_dataset):
    change = selectors.profit_change(customer=customer("C1"), period=small_dataset[2025], compare="previous_period")
    assert change["available"] and change["before"] == "2024"
    assert change["profit_before_cents"] == 40000 and change["profit_after_cents"] == 61514
    parts = ("own_margin_cents", "own_drivers_cents", "pools_cents", "other_customers_cents", "financing_cents")
    assert sum(change[p] for p in parts) == change["total_change_cents"] == 21514
    # Margin 600 -> 1000; own drivers move no per-customer cost; the 2025 pools on 2024's drivers
    # (Sales 300 + Handling 300 / 3 orders) cost C1 400 instead of 200; with 2025's other
    # customers (4 orders) Handling is 75, not 100; financing 9.86 is new.
    assert (change["own_margin_cents"], change["own_drivers_cents"], change["pools_cents"]) == (40000, 0, -20000)
    assert (change["other_customers_cents"], change["financing_cents"]) == (2500, -986)
    first = selectors.profit_change(customer=customer("C1"), period=small_dataset[2024], compare="previous_period")
    assert first == {"available": False, "reason": "first_period"}


# --- reports ----------------------------------------------------------------------------------


def test_report_profit_json_and_csv(small_dataset, capsys):
    out = io.StringIO()
    call_command("report", "profit", "--period", "2025", "--format", "json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["period"] == 2025 and data["pools"] == ["Handling", "Sales"]
    c1 = next(c for c in data["customers"] if c["customer_id"] == "C1")
    assert c1 == {
        "customer_id": "C1",
        "level": "top",
        "revenue": 2000.0,
        "gross_margin": 1000.0,
        "allocated_cost": 375.0,
        "financing_cost": 9.86,
        "profit": 615.14,
        "Handling": 75.0,
        "Sales": 300.0,
    }
    capsys.readouterr()
    call_command("report", "profit", "--period", "2025", "--format", "csv")  # the command writes CSV to sys.stdout
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "customer_id,level,revenue,gross_margin,allocated_cost,financing_cost,profit,Handling,Sales"
    assert lines[1] == "C1,top,2000.0,1000.0,375.0,9.86,615.14,75.0,300.0"
    assert lines[2].startswith("C4,small,300.0,200.0,375.0,")  # its open invoice grows every day
    assert lines[3] == "C5,small,300.0,200.0,450.0,0.0,-250.0,150.0,300.0"
    assert len(lines) == 4


def test_report_pools(small_dataset):
    out = io.StringIO()
    call_command("report", "pools", "--period", "2025", "--format", "json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["reconciles"] and data["total"] == {
        "amount": 1200.0,
        "allocated": 1200.0,
        "unused": 0.0,
        "unallocated": 0.0,
    }
    assert [p["pool"] for p in data["pools"]] == ["Handling", "Sales"]


def test_report_unknown_period_is_an_error(small_dataset):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Unknown period"):
        call_command("report", "profit", "--period", "1999", stdout=io.StringIO())


def test_pool_results_are_replaced_not_added(small_dataset):
    assert PoolResult.objects.filter(pool__period=small_dataset[2025]).count() == 2
