"""Tests for accounting.allocation: every expected number below is computed by hand."""

import datetime
import math
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounting.allocation import (
    DRIVER_COLUMNS,
    KEYS,
    LEVELS,
    NATURES,
    AllocationResult,
    allocate_pools,
    customer_profit,
    financing_cost,
    financing_cost_detail,
    profit_change_causes,
    validate_pools,
    what_if,
)

# --- helpers --------------------------------------------------------------------------

DRIVER_DEFAULTS = {
    "active": True,
    "level": "small",
    "revenue_cents": 100_00,
    "gross_margin_cents": 0,
    "orders": 0,
    "order_lines": 0,
    "visits": 0,
    "visit_minutes": 0,
}
INT_DRIVERS = [c for c in DRIVER_COLUMNS if c not in ("external_id", "active", "level")]


def drivers_frame(*rows: dict) -> pd.DataFrame:
    """Drivers from dicts with customer_id (and external_id, default 'E<id>') plus overrides."""
    full = [{"external_id": f"E{row['customer_id']}", **DRIVER_DEFAULTS, **row} for row in rows]
    frame = pd.DataFrame(full, columns=["customer_id", "external_id", *DRIVER_DEFAULTS.keys()])
    return frame.astype({**dict.fromkeys(INT_DRIVERS, "int64"), "active": bool})


def pools_frame(*rows: dict) -> pd.DataFrame:
    """Pools from dicts with pool_id, amount_cents, key (nature fixed unless given)."""
    full = [{"name": f"Pool {row['pool_id']}", "nature": "fixed", **row} for row in rows]
    frame = pd.DataFrame(full)
    frame = frame.astype({"pool_id": "int64", "amount_cents": "int64"})
    if "customer_id" in frame.columns:
        frame["customer_id"] = frame["customer_id"].astype("Int64")
    return frame


def allocations_frame(*rows: tuple) -> pd.DataFrame:
    """(customer_id, pool_id, amount_cents, driver_quantity) rows."""
    return pd.DataFrame(rows, columns=["customer_id", "pool_id", "amount_cents", "driver_quantity"]).astype(
        {
            "customer_id": "int64",
            "pool_id": "int64",
            "amount_cents": "int64",
            "driver_quantity": float,
        }
    )


def pool_row(result: AllocationResult, pool_id: int) -> dict:
    return result.pools.set_index("pool_id").loc[pool_id].to_dict()


def assert_pool(result: AllocationResult, pool_id: int, **expected) -> None:
    row = pool_row(result, pool_id)
    for column, value in expected.items():
        if isinstance(value, float) and not math.isnan(value):
            assert row[column] == pytest.approx(value), column
        elif isinstance(value, float):
            assert math.isnan(row[column]), column
        else:
            assert row[column] == value, column


# --- per key, by hand -----------------------------------------------------------------


def test_per_customer_remainder_cent_goes_to_lowest_external_id():
    # 100.00 over three active customers: 33.33 each and one cent left; the three remainders
    # are equal, so the cent goes to external_id "A" (customer 2). Customer 4 is inactive.
    drivers = drivers_frame(
        {"customer_id": 1, "external_id": "C"},
        {"customer_id": 2, "external_id": "A"},
        {"customer_id": 3, "external_id": "B"},
        {"customer_id": 4, "external_id": "0", "active": False, "level": "inactive"},
    )
    pools = pools_frame({"pool_id": 10, "amount_cents": 100_00, "key": "per_customer"})

    result = allocate_pools(drivers, pools)

    pd.testing.assert_frame_equal(
        result.allocations,
        allocations_frame((1, 10, 33_33, 1.0), (2, 10, 33_34, 1.0), (3, 10, 33_33, 1.0)),
    )
    assert_pool(
        result,
        10,
        amount_cents=100_00,
        allocated_cents=100_00,
        unused_cents=0,
        unallocated_cents=0,
        driver_total=3.0,
        rate=100 / 3,
        warning="",
    )
    pd.testing.assert_frame_equal(
        result.per_customer(),
        pd.DataFrame({"customer_id": [1, 2, 3, 4], "allocated_cents": [33_33, 33_34, 33_33, 0]}).astype("int64"),
    )


def test_allocation_does_not_depend_on_row_order():
    drivers = drivers_frame(
        {"customer_id": 1, "external_id": "C"},
        {"customer_id": 2, "external_id": "A"},
        {"customer_id": 3, "external_id": "B"},
    )
    pools = pools_frame({"pool_id": 10, "amount_cents": 100_00, "key": "per_customer"})
    shuffled = drivers.iloc[[2, 0, 1]].reset_index(drop=True)

    pd.testing.assert_frame_equal(
        allocate_pools(shuffled, pools).allocations,
        allocate_pools(drivers, pools).allocations,
    )


def test_per_level_weights_levels_and_rounds_per_customer():
    # Weights top 4, big 2, medium 1, small 1 over 1 top, 1 big, 2 medium, 2 small: 10 units.
    # 100.01 / 10 = 10.001 per unit: top 40.004, big 20.002, each other 10.001.
    # Floors 4000 + 2000 + 4 × 1000 = 10000; the cent left goes to the largest remainder
    # (top: 0.4 cent), so top 40.01. Per level: top 40.01, big 20.00, medium 20.00, small 20.00.
    drivers = drivers_frame(
        {"customer_id": 1, "level": "top"},
        {"customer_id": 2, "level": "big"},
        {"customer_id": 3, "level": "medium"},
        {"customer_id": 4, "level": "medium"},
        {"customer_id": 5, "level": "small"},
        {"customer_id": 6, "level": "small"},
        {"customer_id": 7, "level": "inactive", "active": False},
    )
    pools = pools_frame(
        {
            "pool_id": 1,
            "amount_cents": 100_01,
            "key": "per_level",
            "weight_top": 4.0,
            "weight_big": 2.0,
            "weight_medium": 1.0,
            "weight_small": 1.0,
        }
    )

    result = allocate_pools(drivers, pools)

    pd.testing.assert_frame_equal(
        result.allocations,
        allocations_frame(
            (1, 1, 40_01, 4.0),
            (2, 1, 20_00, 2.0),
            (3, 1, 10_00, 1.0),
            (4, 1, 10_00, 1.0),
            (5, 1, 10_00, 1.0),
            (6, 1, 10_00, 1.0),
        ),
    )
    assert_pool(result, 1, allocated_cents=100_01, driver_total=10.0, rate=10.001, warning="")


def test_per_level_takes_decimal_weights_exactly():
    # 0.1 + 0.2 would be 0.30000000000000004 in floats; as decimals the split of 3.00 over
    # weights 0.1 / 0.2 is exactly 1.00 / 2.00.
    drivers = drivers_frame({"customer_id": 1, "level": "top"}, {"customer_id": 2, "level": "big"})
    pools = pools_frame(
        {
            "pool_id": 1,
            "amount_cents": 3_00,
            "key": "per_level",
            "weight_top": 0.1,
            "weight_big": 0.2,
        }
    )

    result = allocate_pools(drivers, pools)

    assert result.allocations["amount_cents"].tolist() == [1_00, 2_00]


def test_per_level_warns_about_active_customers_without_a_level():
    drivers = drivers_frame({"customer_id": 1, "level": "top"}, {"customer_id": 2, "level": "inactive"})
    pools = pools_frame({"pool_id": 1, "amount_cents": 7_00, "key": "per_level"})

    result = allocate_pools(drivers, pools)

    pd.testing.assert_frame_equal(result.allocations, allocations_frame((1, 1, 7_00, 1.0)))
    assert pool_row(result, 1)["warning"] == (
        "1 active customer(s) have no pyramid level and carry none of this pool; recompute the pyramid."
    )


def test_revenue_key_is_proportional_and_rounds_by_largest_remainder():
    # Revenue 100, 200, 400 euros (700); pool 100.00: exact 14.2857, 28.5714, 57.1428 euros.
    # Floors 1428 + 2857 + 5714 = 9999 cents; the cent goes to the largest remainder
    # (customer 1: .57 of a cent), although its external id sorts last.
    drivers = drivers_frame(
        {"customer_id": 1, "external_id": "Z", "revenue_cents": 100_00},
        {"customer_id": 2, "external_id": "A", "revenue_cents": 200_00},
        {"customer_id": 3, "external_id": "B", "revenue_cents": 400_00},
        {"customer_id": 4, "revenue_cents": -50_00, "active": False, "level": "inactive"},
    )
    pools = pools_frame({"pool_id": 5, "amount_cents": 100_00, "key": "revenue"})

    result = allocate_pools(drivers, pools)

    pd.testing.assert_frame_equal(
        result.allocations,
        allocations_frame((1, 5, 14_29, 100.0), (2, 5, 28_57, 200.0), (3, 5, 57_14, 400.0)),
    )
    assert_pool(result, 5, allocated_cents=100_00, driver_total=700.0, rate=100 / 700)


@pytest.mark.parametrize(
    ("key", "column", "quantities", "amount_cents", "expected_cents"),
    [
        # orders 1 and 2 of 3: 30.00 -> 10.00 / 20.00; customer 3 has none (no row).
        ("orders", "orders", [1, 2, 0], 30_00, [10_00, 20_00, None]),
        # lines 3 and 7 of 10: 10.00 -> 3.00 / 7.00.
        ("order_lines", "order_lines", [3, 7, 0], 10_00, [3_00, 7_00, None]),
        # visits 2, 1, 1 of 4: 10.00 -> 5.00 / 2.50 / 2.50.
        ("visits", "visits", [2, 1, 1], 10_00, [5_00, 2_50, 2_50]),
        # minutes 30 and 90 of 120: 20.00 -> 5.00 / 15.00.
        ("visit_minutes", "visit_minutes", [30, 90, 0], 20_00, [5_00, 15_00, None]),
    ],
)
def test_count_keys_are_proportional_over_active_customers(key, column, quantities, amount_cents, expected_cents):
    # Customer 4 is inactive: its (credit-note) orders, lines and visits do not count.
    drivers = drivers_frame(
        *({"customer_id": i + 1, column: q} for i, q in enumerate(quantities)),
        {"customer_id": 4, column: 5, "active": False, "level": "inactive"},
    )
    pools = pools_frame({"pool_id": 7, "amount_cents": amount_cents, "key": key})

    result = allocate_pools(drivers, pools)

    expected = [
        (i + 1, 7, cents, float(q))
        for i, (q, cents) in enumerate(zip(quantities, expected_cents, strict=True))
        if cents is not None
    ]
    pd.testing.assert_frame_equal(result.allocations, allocations_frame(*expected))
    assert_pool(
        result,
        7,
        allocated_cents=amount_cents,
        unallocated_cents=0,
        driver_total=float(sum(quantities)),
    )


TIME_DRIVEN_CUSTOMERS = (
    # 5 min per order, 1.5 per line: customer 1 = 50 + 30 + 100 = 180 min,
    # customer 2 = 20 + 4.5 + 0 = 24.5 min; demand 204.5 min. Customer 3 is a visited
    # prospect: its minutes are no customer's demand.
    {"customer_id": 1, "orders": 10, "order_lines": 20, "visit_minutes": 100},
    {"customer_id": 2, "orders": 4, "order_lines": 3},
    {"customer_id": 3, "visit_minutes": 60, "active": False, "level": "prospect"},
)


def time_driven_pool(amount_cents: int, capacity: float) -> pd.DataFrame:
    return pools_frame(
        {
            "pool_id": 3,
            "amount_cents": amount_cents,
            "key": "time_driven",
            "capacity_minutes": capacity,
            "minutes_per_order": 5.0,
            "minutes_per_line": 1.5,
        }
    )


def test_time_driven_charges_the_rate_and_reports_unused_capacity():
    # 100.00 for 3,000 min: 1/30 euro a minute. Customer 1: 180 / 30 = 6.00 exactly;
    # customer 2: 24.5 / 30 = 0.8166 euro. Charged in total 6.8166 -> 6.82 (682 cents),
    # floors 600 + 81 and the cent left goes to customer 2. Unused 100.00 - 6.82 = 93.18.
    drivers = drivers_frame(*TIME_DRIVEN_CUSTOMERS)

    result = allocate_pools(drivers, time_driven_pool(100_00, 3000.0))

    pd.testing.assert_frame_equal(result.allocations, allocations_frame((1, 3, 6_00, 180.0), (2, 3, 82, 24.5)))
    assert_pool(
        result,
        3,
        amount_cents=100_00,
        allocated_cents=6_82,
        unused_cents=93_18,
        unallocated_cents=0,
        driver_total=204.5,
        rate=1 / 30,
        demand_minutes=204.5,
        capacity_minutes=3000.0,
        warning="",
    )


def test_time_driven_over_capacity_charges_the_whole_pool_with_a_warning():
    # 50.00 for a capacity of 100 min but a demand of 204.5 min: the whole pool goes out in
    # proportion to minutes, at 50 / 204.5 = 0.2445 euro a minute. Customer 1:
    # 5000 × 180 / 204.5 = 4400.98 cents, customer 2: 599.02; the cent left goes to 1.
    drivers = drivers_frame(*TIME_DRIVEN_CUSTOMERS)

    result = allocate_pools(drivers, time_driven_pool(50_00, 100.0))

    pd.testing.assert_frame_equal(result.allocations, allocations_frame((1, 3, 44_01, 180.0), (2, 3, 5_99, 24.5)))
    assert_pool(
        result,
        3,
        allocated_cents=50_00,
        unused_cents=0,
        unallocated_cents=0,
        rate=50 / 204.5,
        demand_minutes=204.5,
        capacity_minutes=100.0,
        warning=(
            "Demand 204.5 min exceeds practical capacity 100 min; the whole pool was "
            "charged at an effective rate of €0.2445/min. Raise the capacity or check "
            "the minutes per order/line."
        ),
    )


def test_time_driven_without_demand_is_all_unused_capacity():
    drivers = drivers_frame({"customer_id": 1})

    result = allocate_pools(drivers, time_driven_pool(10_00, 500.0))

    assert result.allocations.empty
    assert_pool(result, 3, allocated_cents=0, unused_cents=10_00, unallocated_cents=0)
    assert "unused capacity" in pool_row(result, 3)["warning"]


def test_time_driven_without_capacity_is_refused():
    drivers = drivers_frame({"customer_id": 1})

    with pytest.raises(ValueError, match="practical capacity"):
        allocate_pools(drivers, time_driven_pool(10_00, float("nan")))


def test_direct_pool_goes_to_its_customer_even_when_inactive():
    # Pool 1 (25.00) is booked to customer 4, inactive this period; pool 2 names a customer
    # who is not in the drivers: it stays unallocated, with a warning.
    drivers = drivers_frame(
        {"customer_id": 1},
        {"customer_id": 4, "active": False, "level": "inactive", "revenue_cents": 0},
    )
    pools = pools_frame(
        {"pool_id": 1, "amount_cents": 25_00, "key": "direct", "customer_id": 4},
        {"pool_id": 2, "amount_cents": 12_50, "key": "direct", "customer_id": 99},
    )

    result = allocate_pools(drivers, pools)

    pd.testing.assert_frame_equal(result.allocations, allocations_frame((4, 1, 25_00, 1.0)))
    assert_pool(result, 1, allocated_cents=25_00, unallocated_cents=0, driver_total=1.0, rate=25.0)
    assert_pool(
        result,
        2,
        allocated_cents=0,
        unallocated_cents=12_50,
        warning="Customer 99 is not among this period's customers: the pool could not be allocated.",
    )


def test_pool_without_drivers_is_reported_unallocated():
    drivers = drivers_frame({"customer_id": 1, "orders": 3}, {"customer_id": 2})
    pools = pools_frame(
        {"pool_id": 1, "amount_cents": 80_00, "key": "visits"},
        {"pool_id": 2, "amount_cents": 10_00, "key": "orders"},
    )

    result = allocate_pools(drivers, pools)

    pd.testing.assert_frame_equal(result.allocations, allocations_frame((1, 2, 10_00, 3.0)))
    assert_pool(
        result,
        1,
        allocated_cents=0,
        unused_cents=0,
        unallocated_cents=80_00,
        driver_total=0.0,
        rate=float("nan"),
        warning="No visits logged in this period: the pool could not be allocated.",
    )


def test_pool_without_active_customers_is_reported_unallocated():
    drivers = drivers_frame({"customer_id": 1, "active": False, "level": "prospect", "revenue_cents": 0})
    pools = pools_frame({"pool_id": 1, "amount_cents": 5_00, "key": "per_customer"})

    result = allocate_pools(drivers, pools)

    assert result.allocations.empty
    assert_pool(
        result,
        1,
        unallocated_cents=5_00,
        warning="No active customers in this period: the pool could not be allocated.",
    )
    assert result.per_customer()["allocated_cents"].tolist() == [0]


def test_pools_result_has_one_row_per_pool_in_pool_id_order():
    drivers = drivers_frame({"customer_id": 1})
    pools = pools_frame(
        {"pool_id": 9, "amount_cents": 1_00, "key": "per_customer"},
        {"pool_id": 2, "amount_cents": 3_00, "key": "revenue", "nature": "variable"},
    )

    result = allocate_pools(drivers, pools)

    assert result.pools[["pool_id", "nature", "key", "amount_cents"]].to_dict("records") == [
        {"pool_id": 2, "nature": "variable", "key": "revenue", "amount_cents": 3_00},
        {"pool_id": 9, "nature": "fixed", "key": "per_customer", "amount_cents": 1_00},
    ]


# --- exactness against a reference with fractions ---------------------------------------


def reference_shares(amount: int, weights: dict, external: dict) -> dict:
    """Largest remainder with Python fractions, ties by external_id then customer_id."""
    total = sum(weights.values())
    exact = {c: Fraction(amount) * w / total for c, w in weights.items()}
    shares = {c: math.floor(x) for c, x in exact.items()}
    leftover = amount - sum(shares.values())
    ranked = sorted(exact, key=lambda c: (-(exact[c] - shares[c]), external[c], c))
    for c in ranked[:leftover]:
        shares[c] += 1
    return shares


@pytest.mark.parametrize(
    "amount_cents",
    # int64 products; products beyond int64 (float estimate corrected exactly); amounts
    # beyond 2**50 (Python integers).
    [12_345, 987_654_321_012, 3 * 2**51 + 7],
)
def test_revenue_shares_are_exact_beyond_int64_products(amount_cents):
    revenue = [9_999_999_967, 12_345_678_901, 3, 7_777_777_777, 1]
    drivers = drivers_frame(
        *({"customer_id": i + 1, "external_id": f"X{5 - i}", "revenue_cents": r} for i, r in enumerate(revenue))
    )
    pools = pools_frame({"pool_id": 1, "amount_cents": amount_cents, "key": "revenue"})

    result = allocate_pools(drivers, pools)

    expected = reference_shares(
        amount_cents,
        {i + 1: r for i, r in enumerate(revenue)},
        {i + 1: f"X{5 - i}" for i in range(len(revenue))},
    )
    got = result.allocations.set_index("customer_id")["amount_cents"].to_dict()
    assert got == expected


# --- property: every pool reconciles ----------------------------------------------------

ACTIVE_LEVELS = st.sampled_from(LEVELS)
OTHER_LEVELS = st.sampled_from(["inactive", "prospect", "suspect"])
COUNTS = st.one_of(st.just(0), st.integers(0, 40), st.integers(0, 10**6))


@st.composite
def driver_rows(draw):
    n = draw(st.integers(0, 8))
    rows = []
    for customer_id in range(1, n + 1):
        active = draw(st.booleans())
        rows.append(
            {
                "customer_id": customer_id,
                "external_id": draw(st.sampled_from(["A", "B", "C", "D"])),
                "active": active,
                "level": draw(ACTIVE_LEVELS if active else OTHER_LEVELS),
                "revenue_cents": draw(st.integers(1, 10**11) if active else st.integers(-(10**6), 0)),
                "orders": draw(COUNTS),
                "order_lines": draw(COUNTS),
                "visits": draw(COUNTS),
                "visit_minutes": draw(COUNTS),
            }
        )
    return drivers_frame(*rows)


WEIGHTS = st.sampled_from([0.0, 0.5, 1.0, 1.5, 4.0, 0.125])
MINUTES = st.sampled_from([0.0, 0.25, 1.0, 2.5, 7.3])


@st.composite
def pool_rows(draw, customer_ids):
    rows = []
    for pool_id in range(1, draw(st.integers(1, 6)) + 1):
        key = draw(st.sampled_from(KEYS))
        weights = [draw(WEIGHTS) for _ in LEVELS]
        if not any(weights):
            weights[0] = 1.0
        rows.append(
            {
                "pool_id": pool_id,
                "amount_cents": draw(st.one_of(st.integers(0, 10**4), st.integers(0, 10**16))),
                "nature": draw(st.sampled_from(NATURES)),
                "key": key,
                **{f"weight_{lv}": w for lv, w in zip(LEVELS, weights, strict=True)},
                "capacity_minutes": draw(st.floats(0.01, 1e8, allow_nan=False, allow_infinity=False)),
                "minutes_per_order": draw(MINUTES),
                "minutes_per_line": draw(MINUTES),
                "customer_id": draw(st.sampled_from([*customer_ids, 999])),
            }
        )
    return pools_frame(*rows)


def exact_driver(pool, row) -> Fraction:
    if not row.active:
        return Fraction(0)
    if pool.key == "per_customer":
        return Fraction(1)
    if pool.key == "per_level":
        return Fraction(repr(getattr(pool, f"weight_{row.level}")))
    if pool.key == "time_driven":
        return (
            Fraction(repr(pool.minutes_per_order)) * row.orders
            + Fraction(repr(pool.minutes_per_line)) * row.order_lines
            + row.visit_minutes
        )
    column = "revenue_cents" if pool.key == "revenue" else pool.key
    return Fraction(int(getattr(row, column)))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_pool_reconciles_to_the_cent(data):
    drivers = data.draw(driver_rows())
    pools = data.draw(pool_rows(drivers["customer_id"].tolist()))

    result = allocate_pools(drivers, pools)

    allocations = result.allocations
    assert (allocations["amount_cents"] >= 0).all()
    per_pool = allocations.groupby("pool_id")["amount_cents"].sum()
    for pool in pools.itertuples(index=False):
        row = pool_row(result, pool.pool_id)
        parts = [row["allocated_cents"], row["unused_cents"], row["unallocated_cents"]]
        assert sum(parts) == pool.amount_cents
        assert min(parts) >= 0
        assert per_pool.get(pool.pool_id, 0) == row["allocated_cents"]
        if pool.key == "direct":
            continue
        # Every customer gets its exact share rounded down or up.
        drivers_of = {r.customer_id: exact_driver(pool, r) for r in drivers.itertuples()}
        total = sum(drivers_of.values())
        if total == 0:
            continue
        divisor = total
        if pool.key == "time_driven":
            divisor = max(total, Fraction(repr(pool.capacity_minutes)))
        own = allocations[allocations["pool_id"] == pool.pool_id].set_index("customer_id")
        for customer_id, driver in drivers_of.items():
            exact = pool.amount_cents * driver / divisor
            got = own["amount_cents"].get(customer_id, 0)
            assert math.floor(exact) <= got <= math.ceil(exact)
    assert result.per_customer()["allocated_cents"].sum() == allocations["amount_cents"].sum()


# --- validation -----------------------------------------------------------------------


def test_validate_pools_names_every_problem():
    pools = pools_frame(
        {"pool_id": 1, "name": "Sales", "amount_cents": 1_00, "key": "per_visit"},
        {"pool_id": 2, "name": "Logistics", "amount_cents": -5, "key": "orders"},
        {"pool_id": 3, "name": "Order desk", "amount_cents": 1_00, "key": "time_driven"},
        {"pool_id": 4, "name": "Write-off", "amount_cents": 1_00, "key": "direct"},
        {
            "pool_id": 5,
            "name": "Accounts",
            "amount_cents": 1_00,
            "key": "per_level",
            "weight_top": -1.0,
        },
        {"pool_id": 6, "name": "Rent", "amount_cents": 1_00, "key": "revenue", "nature": "sunk"},
    )

    problems = validate_pools(pools)

    assert problems == [
        "Pool 'Sales' (id 1): unknown allocation key 'per_visit'; use one of " + ", ".join(KEYS) + ".",
        "Pool 'Logistics' (id 2): the amount is negative; a cost pool is 0 or more.",
        "Pool 'Order desk' (id 3): a time-driven pool needs a practical capacity in minutes above 0.",
        "Pool 'Write-off' (id 4): a direct pool needs the customer it is booked to.",
        "Pool 'Accounts' (id 5): level weights must be numbers of 0 or more.",
        "Pool 'Rent' (id 6): unknown nature 'sunk'; use fixed or variable.",
    ]
    with pytest.raises(ValueError, match="unknown allocation key"):
        allocate_pools(drivers_frame({"customer_id": 1}), pools)


def test_validate_pools_accepts_good_pools_and_flags_duplicates():
    good = pools_frame(
        {"pool_id": 1, "amount_cents": 0, "key": "per_customer"},
        {"pool_id": 2, "amount_cents": 5, "key": "time_driven", "capacity_minutes": 60.0},
    )
    assert validate_pools(good) == []
    doubled = pd.concat([good, good], ignore_index=True)
    assert validate_pools(doubled) == ["Pool id(s) 1, 2 occur more than once."]


# --- financing ------------------------------------------------------------------------

AS_OF = datetime.date(2024, 12, 31)


def invoices_frame(*rows: tuple) -> pd.DataFrame:
    """(customer_id, invoice_id, amount_cents, due, paid) rows; paid None while open."""
    frame = pd.DataFrame(rows, columns=["customer_id", "invoice_id", "amount_cents", "due", "paid"])
    return frame.assign(due=pd.to_datetime(frame["due"]), paid=pd.to_datetime(frame["paid"])).astype(
        {"customer_id": "int64", "amount_cents": "int64"}
    )


def test_financing_cost_of_a_late_paid_and_an_open_invoice():
    # 8 % a year. Customer 1: 1,000.00 paid 30 days late and 500.00 still open 30 days after
    # its due date at 31 Dec; a third invoice was paid early. Exact cost
    # (100000 × 30 + 50000 × 30) × 0.08 / 365 = 986.30 cents -> 9.86 (rounded once; per
    # invoice 6.58 + 3.29 would give 9.87). Customer 2 paid on the due date: 0.
    invoices = invoices_frame(
        (1, "F1", 1000_00, datetime.date(2024, 3, 1), datetime.date(2024, 3, 31)),
        (1, "F2", 500_00, datetime.date(2024, 12, 1), None),
        (1, "F3", 700_00, datetime.date(2024, 6, 30), datetime.date(2024, 6, 15)),
        (2, "F4", 200_00, datetime.date(2024, 5, 1), datetime.date(2024, 5, 1)),
    )

    cost = financing_cost(invoices, yearly_rate=Decimal("0.08"), as_of=AS_OF)

    pd.testing.assert_frame_equal(
        cost,
        pd.DataFrame(
            {
                "customer_id": np.array([1, 2], dtype="int64"),
                "financing_cost_cents": np.array([986, 0], dtype="int64"),
                "invoices_late": np.array([2, 0], dtype="int64"),
                "days_late_weighted": [4_500_000 / 2200_00, 0.0],
            }
        ),
    )
    detail = financing_cost_detail(invoices, yearly_rate=Decimal("0.08"), as_of=AS_OF)
    assert detail["days_late"].tolist() == [30, 30, 0, 0]
    assert detail["cost"].tolist() == pytest.approx([1000 * 30 * 0.08 / 365, 500 * 30 * 0.08 / 365, 0.0, 0.0])
    assert detail["invoice_id"].tolist() == ["F1", "F2", "F3", "F4"]


def test_financing_cost_rounds_half_up_once_per_customer():
    # 50 % a year, 365 cents one day late: exactly half a cent -> 1 cent (not banker's 0).
    # Customer 2: two invoices of 0.4 cent each, 0.8 cent together -> 1 cent.
    invoices = invoices_frame(
        (1, "H1", 365, datetime.date(2024, 1, 1), datetime.date(2024, 1, 2)),
        (2, "H2", 292, datetime.date(2024, 1, 1), datetime.date(2024, 1, 2)),
        (2, "H3", 292, datetime.date(2024, 1, 1), datetime.date(2024, 1, 2)),
    )

    cost = financing_cost(invoices, yearly_rate=0.5, as_of=AS_OF)

    assert cost["financing_cost_cents"].tolist() == [1, 1]


def test_financing_rate_is_a_fraction_not_a_percentage():
    invoices = invoices_frame((1, "F1", 100, datetime.date(2024, 1, 1), None))
    with pytest.raises(ValueError, match="fraction"):
        financing_cost(invoices, yearly_rate=Decimal("6"), as_of=AS_OF)


# --- profit ---------------------------------------------------------------------------


def test_customer_profit_is_margin_less_allocation_and_financing():
    # Pool 60.00 per active customer (30.00 each); 5.00 direct to inactive customer 3.
    # Customer 4 is inactive with nothing: left out. Customer 2 pays 1.20 financing.
    drivers = drivers_frame(
        {"customer_id": 1, "revenue_cents": 500_00, "gross_margin_cents": 100_00},
        {"customer_id": 2, "revenue_cents": 200_00, "gross_margin_cents": 40_00},
        {"customer_id": 3, "active": False, "level": "inactive", "revenue_cents": -10_00, "gross_margin_cents": -3_00},
        {"customer_id": 4, "active": False, "level": "inactive", "revenue_cents": 0},
    )
    pools = pools_frame(
        {"pool_id": 1, "amount_cents": 60_00, "key": "per_customer"},
        {"pool_id": 2, "amount_cents": 5_00, "key": "direct", "customer_id": 3},
    )
    financing = pd.DataFrame({"customer_id": [2], "financing_cost_cents": [1_20]})

    profit = customer_profit(drivers, allocate_pools(drivers, pools), financing)

    pd.testing.assert_frame_equal(
        profit,
        pd.DataFrame(
            {
                "customer_id": [1, 2, 3],
                "revenue_cents": [500_00, 200_00, -10_00],
                "gross_margin_cents": [100_00, 40_00, -3_00],
                "allocated_cents": [30_00, 30_00, 5_00],
                "financing_cost_cents": [0, 1_20, 0],
                "profit_cents": [70_00, 8_80, -8_00],
            }
        ).astype("int64"),
    )


def test_profit_change_causes_add_up_and_show_other_customers_orders():
    # Before: X, Y, Z one order each. Pool 1 (orders, 90.00): 30.00 each; pool 2 (per
    # customer, 30.00): 10.00 each. X: margin 100.00, financing 2.00 -> profit 58.00.
    # After: X margin 120.00 with 2 orders, Z 5 orders; pool 1 is 120.00, pool 2 is gone,
    # pool 3 books 5.00 directly to X; financing 1.00. Sequential substitution for X:
    #   A before/before            P1 30.00 + P2 10.00            = 40.00
    #   B X's own 2 orders (2/4)   P1 45.00 + P2 10.00            = 55.00 -> own drivers -15.00
    #   C after pools (2/4)        P1 60.00 + P3 5.00             = 65.00 -> pools -10.00
    #   D after/after (2/8)        P1 30.00 + P3 5.00             = 35.00 -> others +30.00
    # own margin +20.00, financing +1.00; profit 58.00 -> 120 - 35 - 1 = 84.00 (+26.00).
    def drivers(x_orders, x_margin, z_orders):
        return drivers_frame(
            {"customer_id": 1, "orders": x_orders, "gross_margin_cents": x_margin},
            {"customer_id": 2, "orders": 1, "gross_margin_cents": 50_00},
            {"customer_id": 3, "orders": z_orders, "gross_margin_cents": 80_00},
        )

    causes = profit_change_causes(
        customer_id=1,
        drivers_before=drivers(1, 100_00, 1),
        pools_before=pools_frame(
            {"pool_id": 1, "amount_cents": 90_00, "key": "orders"},
            {"pool_id": 2, "amount_cents": 30_00, "key": "per_customer"},
        ),
        financing_before_cents=2_00,
        drivers_after=drivers(2, 120_00, 5),
        pools_after=pools_frame(
            {"pool_id": 1, "amount_cents": 120_00, "key": "orders"},
            {"pool_id": 3, "amount_cents": 5_00, "key": "direct", "customer_id": 1},
        ),
        financing_after_cents=1_00,
    )

    by_pool = causes.pop("by_pool")
    assert causes == {
        "profit_before_cents": 58_00,
        "profit_after_cents": 84_00,
        "total_change_cents": 26_00,
        "own_margin_cents": 20_00,
        "own_drivers_cents": -15_00,
        "pools_cents": -10_00,
        "other_customers_cents": 30_00,
        "financing_cents": 1_00,
    }
    assert by_pool == [
        {
            "pool_id": 1,
            "name": "Pool 1",
            "allocated_before_cents": 30_00,
            "allocated_after_cents": 30_00,
            "own_drivers_cents": -15_00,
            "pools_cents": -15_00,
            "other_customers_cents": 30_00,
        },
        {
            "pool_id": 2,
            "name": "Pool 2",
            "allocated_before_cents": 10_00,
            "allocated_after_cents": 0,
            "own_drivers_cents": 0,
            "pools_cents": 10_00,
            "other_customers_cents": 0,
        },
        {
            "pool_id": 3,
            "name": "Pool 3",
            "allocated_before_cents": 0,
            "allocated_after_cents": 5_00,
            "own_drivers_cents": 0,
            "pools_cents": -5_00,
            "other_customers_cents": 0,
        },
    ]


def test_profit_change_causes_for_a_new_customer():
    # Customer 2 is new: before it counts as an inactive row with zero drivers (no share of
    # the per-customer pool). After it is active and takes half of 10.00.
    pools = pools_frame({"pool_id": 1, "amount_cents": 10_00, "key": "per_customer"})
    causes = profit_change_causes(
        customer_id=2,
        drivers_before=drivers_frame({"customer_id": 1}),
        pools_before=pools,
        financing_before_cents=0,
        drivers_after=drivers_frame({"customer_id": 1}, {"customer_id": 2, "gross_margin_cents": 8_00}),
        pools_after=pools,
        financing_after_cents=0,
    )

    assert causes["profit_before_cents"] == 0
    assert causes["profit_after_cents"] == 3_00
    assert causes["own_margin_cents"] == 8_00
    assert causes["own_drivers_cents"] == -5_00
    assert causes["pools_cents"] == 0
    assert causes["other_customers_cents"] == 0


# --- what if --------------------------------------------------------------------------


def what_if_case():
    # X: margin 100.00, 1 order; Y: margin 400.00, 4 orders. Fixed 300.00 per customer
    # (150.00 each), variable 50.00 by orders (X 10.00, Y 40.00). X's profit is
    # 100 - 150 - 10 = -60.00; company profit 500 - 350 = 150.00.
    drivers = drivers_frame(
        {"customer_id": 1, "orders": 1, "gross_margin_cents": 100_00},
        {"customer_id": 2, "orders": 4, "gross_margin_cents": 400_00},
    )
    pools = pools_frame(
        {"pool_id": 1, "amount_cents": 300_00, "key": "per_customer"},
        {"pool_id": 2, "amount_cents": 50_00, "key": "orders", "nature": "variable"},
    )
    return drivers, pools


def test_what_if_removing_a_loss_making_customer_lowers_company_profit():
    # Without X: margin 400.00; the fixed 300.00 falls on Y, the variable pool shrinks by
    # X's 10.00 to 40.00. Company profit 400 - 340 = 60.00: 90.00 less although X lost 60.
    drivers, pools = what_if_case()

    outcome = what_if(drivers, pools, remove_customer_id=1)

    assert outcome["customer_profit_before_cents"] == -60_00
    assert outcome["customer_profit_after_cents"] is None
    assert outcome["company_profit_before_cents"] == 150_00
    assert outcome["company_profit_after_cents"] == 60_00
    assert outcome["pools_after"]["amount_cents"].tolist() == [300_00, 40_00]
    pd.testing.assert_frame_equal(
        outcome["result"].per_customer(),
        pd.DataFrame({"customer_id": [2], "allocated_cents": [340_00]}).astype("int64"),
    )


def test_what_if_removal_keeping_variable_pools_whole():
    drivers, pools = what_if_case()

    outcome = what_if(drivers, pools, remove_customer_id=1, remove_variable=False)

    assert outcome["company_profit_after_cents"] == 400_00 - 350_00


def test_what_if_changed_orders_move_the_others_share():
    # Y orders 9 instead of 4: X's variable share becomes 50 × 1/10 = 5.00, Y's 45.00.
    # Y's profit 400 - 150 - 40 = 210.00 -> 400 - 150 - 45 = 205.00; company unchanged.
    drivers, pools = what_if_case()
    changes = pd.DataFrame({"customer_id": [2], "orders": [9]})

    outcome = what_if(drivers, pools, changes=changes)

    assert outcome["customer_ids"] == [2]
    assert outcome["customer_profit_before_cents"] == 210_00
    assert outcome["customer_profit_after_cents"] == 205_00
    assert outcome["company_profit_before_cents"] == 150_00
    assert outcome["company_profit_after_cents"] == 150_00
    assert outcome["result"].per_customer()["allocated_cents"].tolist() == [155_00, 195_00]


def test_what_if_revenue_change_can_make_a_customer_inactive():
    drivers, pools = what_if_case()
    changes = pd.DataFrame({"customer_id": [1], "revenue_cents": [0]})

    outcome = what_if(drivers, pools, changes=changes)

    # X no longer active: it carries no share of either pool; Y carries both.
    assert outcome["result"].per_customer()["allocated_cents"].tolist() == [0, 350_00]
