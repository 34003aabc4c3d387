"""Tests for customers.pyramid: every expected number below is computed by hand."""

import math
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from customers.pyramid import (
    ALL_LEVELS,
    LEVELS_ACTIVE,
    MIGRATION_FROM,
    PyramidScheme,
    assign_levels,
    ceil_share,
    concentration,
    customer_period_facts,
    level_summary,
    migration_matrix,
    pareto_curve,
    rank_cutoffs,
    retention,
    whale_curve,
)

# --- helpers --------------------------------------------------------------------------


def customers_frame(rows: list[tuple]) -> pd.DataFrame:
    """(customer_id, external_id, status, revenue_cents, bought_before) rows."""
    frame = pd.DataFrame(
        rows,
        columns=[
            "customer_id",
            "external_id",
            "status",
            "revenue_cents",
            "bought_before",
        ],
    )
    return frame.astype({"customer_id": "int64", "revenue_cents": "int64", "bought_before": bool})


def with_levels(frame: pd.DataFrame, levels: list[str], ranks: list) -> pd.DataFrame:
    return frame.assign(level=pd.array(levels, dtype="str"), rank=pd.array(ranks, dtype="Int64"))


# --- facts ----------------------------------------------------------------------------


def test_customer_period_facts_sums_lines_per_customer():
    lines = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2, 3, 3],
            "order_id": ["A1", "A1", "A2", "B1", "C1", "C2"],
            # customer 3: a purchase and its full return (credit note) net to zero
            "amount_cents": [10_000, 2_500, -1_000, 700, 4_000, -4_000],
            "cost_cents": [6_000, 1_000, -600, 800, 3_000, -3_000],
        }
    ).astype({"customer_id": "int64", "amount_cents": "int64", "cost_cents": "int64"})

    expected = pd.DataFrame(
        {
            "customer_id": [1, 2, 3],
            "revenue_cents": [11_500, 700, 0],
            "gross_margin_cents": [11_500 - 6_400, -100, 0],
            "orders": [2, 1, 2],
            "order_lines": [3, 1, 2],
        }
    ).astype("int64")
    pd.testing.assert_frame_equal(customer_period_facts(lines), expected)


def test_customer_period_facts_counts_integer_order_ids_and_empty_input():
    lines = pd.DataFrame(
        {
            "customer_id": [5, 5],
            "order_id": [7, 7],
            "amount_cents": [1, 2],
            "cost_cents": [0, 0],
        }
    )
    facts = customer_period_facts(lines)
    assert facts.to_dict("records") == [
        {
            "customer_id": 5,
            "revenue_cents": 3,
            "gross_margin_cents": 3,
            "orders": 1,
            "order_lines": 2,
        }
    ]
    empty = customer_period_facts(lines.iloc[:0])
    assert list(empty.columns) == [
        "customer_id",
        "revenue_cents",
        "gross_margin_cents",
        "orders",
        "order_lines",
    ]
    assert len(empty) == 0


def test_customer_period_facts_names_missing_columns():
    with pytest.raises(ValueError, match="cost_cents"):
        customer_period_facts(pd.DataFrame({"customer_id": [1], "order_id": [1], "amount_cents": [1]}))


# --- scheme ---------------------------------------------------------------------------


def test_default_scheme_is_valid_with_cumulative_cutoffs():
    scheme = PyramidScheme()
    scheme.validate()
    assert [round(share, 9) for share in scheme.cumulative_shares()] == [
        0.01,
        0.05,
        0.2,
    ]


@pytest.mark.parametrize(
    ("scheme", "message"),
    [
        (PyramidScheme(kind="deciles"), "Unknown pyramid scheme"),
        (PyramidScheme(top_share=-0.01), "top share must be between 0 and 1"),
        (PyramidScheme(big_share=1.5), "big share must be between 0 and 1"),
        (PyramidScheme(medium_share=float("nan")), "medium share"),
        (
            PyramidScheme(top_share=0.5, big_share=0.3, medium_share=0.3),
            "must not exceed 100 %",
        ),
        (
            PyramidScheme(kind="thresholds", top_threshold=100),
            "threshold for big, medium",
        ),
        (
            PyramidScheme(
                kind="thresholds",
                top_threshold=100,
                big_threshold=200,
                medium_threshold=50,
            ),
            "must descend",
        ),
        (
            PyramidScheme(
                kind="thresholds",
                top_threshold=100,
                big_threshold=50,
                medium_threshold=-1,
            ),
            "medium threshold must not be negative",
        ),
        (
            PyramidScheme(
                kind="thresholds",
                top_threshold="lots",
                big_threshold=5,
                medium_threshold=1,
            ),
            "top threshold must be an amount",
        ),
    ],
)
def test_scheme_validate_rejects_with_a_readable_message(scheme, message):
    with pytest.raises(ValueError, match=message):
        scheme.validate()


def test_scheme_validate_accepts_shares_summing_to_one_and_equal_thresholds():
    PyramidScheme(top_share=0.2, big_share=0.3, medium_share=0.5).validate()
    PyramidScheme(top_share=0.7, big_share=0.2, medium_share=0.1).validate()  # 0.99999...
    PyramidScheme(
        kind="thresholds",
        top_threshold=Decimal(1000),
        big_threshold=Decimal(1000),
        medium_threshold=Decimal(0),
    ).validate()


def test_assign_levels_validates_the_scheme():
    frame = customers_frame([(1, "A", "customer", 100, False)])
    with pytest.raises(ValueError, match="threshold"):
        assign_levels(frame, scheme=PyramidScheme(kind="thresholds"))


def test_threshold_cents_rounds_fractions_of_a_cent_up():
    scheme = PyramidScheme(
        kind="thresholds",
        top_threshold=Decimal("1000.00"),
        big_threshold=500,
        medium_threshold=100.005,
    )
    assert scheme.threshold_cents() == (100_000, 50_000, 10_001)


# --- rank cutoffs ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "cutoffs"),
    [
        (0, (0, 0, 0)),
        (1, (1, 1, 1)),
        (7, (1, 1, 2)),  # ceil(0.07)=1, ceil(0.35)=1, ceil(1.4)=2
        (20, (1, 1, 4)),  # ceil(0.2)=1, ceil(1.0)=1 not 2, ceil(4.0)=4
        (21, (1, 2, 5)),  # ceil(0.21), ceil(1.05), ceil(4.2)
        (100, (1, 5, 20)),  # 0.05*100 and 0.2*100 must not become 6 and 21
        (700, (7, 35, 140)),
    ],
)
def test_rank_cutoffs_use_ceil_of_cumulative_shares(n, cutoffs):
    assert rank_cutoffs(n, PyramidScheme()) == cutoffs


def test_rank_cutoffs_are_exact_for_shares_float_gets_wrong():
    # 0.07 * 100 = 7.000000000000001 and 0.07 + 0.28 = 0.35000000000000003 in float.
    scheme = PyramidScheme(top_share=0.07, big_share=0.28, medium_share=0.0)
    assert rank_cutoffs(100, scheme) == (7, 35, 35)


def test_ceil_share_is_exact_where_float_is_not():
    assert 0.07 * 100 > 7  # the float trap
    assert ceil_share(0.07, 100) == 7
    assert ceil_share(0.2, 5) == 1
    assert ceil_share(0.2, 6) == 2


# --- assign_levels --------------------------------------------------------------------


def test_assign_levels_rank_share_n7_with_ties_and_non_active_customers():
    customers = customers_frame(
        [
            # seven active customers
            (1, "C-07", "customer", 50_000, True),
            (2, "C-03", "customer", 20_000, True),
            (3, "C-02", "customer", 20_000, False),  # tie with C-03: C-02 ranks first
            (4, "C-10", "customer", 5_000, True),
            (5, "C-9", "customer", 5_000, True),  # string order: "C-10" < "C-9"
            (
                6,
                "C-05",
                "prospect",
                1,
                False,
            ),  # first purchase: active whatever the status
            (7, "C-06", "suspect", 900, False),
            # not active
            (8, "R-01", "customer", -3_000, True),  # only returns, bought before
            (9, "R-02", "customer", -3_000, False),  # only returns, never bought
            (10, "R-03", "suspect", -500, False),
            (11, "Z-01", "customer", 0, True),  # purchases and returns net to zero
            (12, "Z-02", "prospect", 0, False),
            (13, "Z-03", "suspect", 0, False),
            (14, "Z-04", "suspect", 0, True),  # bought before wins over the status
        ]
    )
    # N = 7, cutoffs (1, 1, 2): rank 1 top, nobody big, rank 2 medium, ranks 3-7 small.
    expected = with_levels(
        customers,
        levels=[
            "top",
            "small",
            "medium",
            "small",
            "small",
            "small",
            "small",
            "inactive",
            "prospect",
            "suspect",
            "inactive",
            "prospect",
            "suspect",
            "inactive",
        ],
        ranks=[1, 3, 2, 4, 5, 7, 6] + [pd.NA] * 7,
    )
    result = assign_levels(customers, scheme=PyramidScheme())
    pd.testing.assert_frame_equal(result, expected)


def test_assign_levels_keeps_the_input_index_and_row_order():
    customers = customers_frame([(1, "B", "customer", 100, False), (2, "A", "customer", 100, False)]).set_axis([10, 20])
    scheme = PyramidScheme(top_share=0.5, big_share=0.0, medium_share=0.0)
    result = assign_levels(customers, scheme=scheme)
    expected = with_levels(customers, ["small", "top"], [2, 1])
    pd.testing.assert_frame_equal(result, expected)


def test_assign_levels_thresholds_compare_in_cents_inclusive():
    scheme = PyramidScheme(
        kind="thresholds",
        top_threshold=Decimal("1000.00"),
        big_threshold=Decimal(500),
        medium_threshold=Decimal("100.005"),  # 10 000.5 cents: 10 000 is small
    )
    customers = customers_frame(
        [
            (1, "A", "customer", 100_000, True),  # exactly top threshold
            (2, "B", "customer", 99_999, True),
            (3, "C", "customer", 50_000, False),  # exactly big
            (4, "D", "customer", 10_001, True),
            (5, "E", "customer", 10_000, True),
            (6, "F", "customer", 1, False),
            (7, "G", "customer", -100, True),
            (8, "H", "prospect", 0, False),
        ]
    )
    expected = with_levels(
        customers,
        ["top", "big", "big", "medium", "small", "small", "inactive", "prospect"],
        [1, 2, 3, 4, 5, 6, pd.NA, pd.NA],
    )
    pd.testing.assert_frame_equal(assign_levels(customers, scheme=scheme), expected)


def test_assign_levels_thresholds_accept_floats():
    scheme = PyramidScheme(kind="thresholds", top_threshold=10.0, big_threshold=5.5, medium_threshold=0.1)
    customers = customers_frame(
        [
            (1, "A", "customer", 1_000, True),
            (2, "B", "customer", 550, True),
            (3, "C", "customer", 10, True),
            (4, "D", "customer", 9, True),
        ]
    )
    result = assign_levels(customers, scheme=scheme)
    assert result["level"].tolist() == ["top", "big", "medium", "small"]


def test_assign_levels_without_active_customers_and_empty_input():
    customers = customers_frame([(1, "A", "suspect", 0, False)])
    result = assign_levels(customers, scheme=PyramidScheme())
    pd.testing.assert_frame_equal(result, with_levels(customers, ["suspect"], [pd.NA]))
    empty = assign_levels(customers.iloc[:0], scheme=PyramidScheme())
    assert list(empty.columns) == [*customers.columns, "level", "rank"]
    assert len(empty) == 0


def test_assign_levels_rejects_unknown_status_and_duplicates():
    with pytest.raises(ValueError, match="unknown status"):
        assign_levels(customers_frame([(1, "A", "lost", 0, False)]), scheme=PyramidScheme())
    duplicated = customers_frame([(1, "A", "customer", 5, False), (1, "A", "customer", 6, False)])
    with pytest.raises(ValueError, match="more than one row"):
        assign_levels(duplicated, scheme=PyramidScheme())


# --- migration ------------------------------------------------------------------------


def grid(cells: dict[tuple[str, str], tuple[int, int]]) -> pd.DataFrame:
    """The full migration grid with zeros except the given (customers, revenue) cells."""
    rows = [
        (source, target, *cells.get((source, target), (0, 0))) for source in MIGRATION_FROM for target in ALL_LEVELS
    ]
    frame = pd.DataFrame(rows, columns=["from_level", "to_level", "customers", "revenue_cents"])
    return frame.astype({"customers": "int64", "revenue_cents": "int64"})


def test_migration_matrix_counts_moves_including_new_and_reactivated():
    prev = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5, 6, 7, 8],
            "level": [
                "top",
                "big",
                "small",
                "small",
                "inactive",
                "prospect",
                "suspect",
                "medium",
            ],
        }
    )
    cur = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5, 6, 7, 9, 10],
            "level": [
                "top",
                "top",
                "inactive",
                "small",
                "small",
                "medium",
                "suspect",
                "big",
                "prospect",
            ],
            "revenue_cents": [90_000, 80_000, -500, 1_000, 2_000, 30_000, 0, 40_000, 0],
        }
    )
    # customer 8 left the data in P: not counted. 9 and 10 are new.
    expected = grid(
        {
            ("top", "top"): (1, 90_000),
            ("big", "top"): (1, 80_000),
            ("small", "inactive"): (1, -500),
            ("small", "small"): (1, 1_000),
            ("inactive", "small"): (1, 2_000),  # reactivated
            ("prospect", "medium"): (1, 30_000),
            ("suspect", "suspect"): (1, 0),
            ("new", "big"): (1, 40_000),
            ("new", "prospect"): (1, 0),
        }
    )
    result = migration_matrix(prev, cur)
    pd.testing.assert_frame_equal(result, expected)
    assert len(result) == 8 * 7


def test_migration_matrix_sums_a_cell_and_handles_no_previous_period():
    cur = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "level": ["small", "small"],
            "revenue_cents": [300, 200],
        }
    )
    prev = pd.DataFrame(
        {
            "customer_id": pd.Series([], dtype="int64"),
            "level": pd.Series([], dtype="str"),
        }
    )
    pd.testing.assert_frame_equal(migration_matrix(prev, cur), grid({("new", "small"): (2, 500)}))


def test_migration_matrix_rejects_unknown_levels():
    prev = pd.DataFrame({"customer_id": [1], "level": ["gold"]})
    cur = pd.DataFrame({"customer_id": [1], "level": ["top"], "revenue_cents": [1]})
    with pytest.raises(ValueError, match="unknown level"):
        migration_matrix(prev, cur)


# --- retention ------------------------------------------------------------------------


def retention_example() -> tuple[pd.DataFrame, pd.DataFrame]:
    prev = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5, 6, 7],
            "level": ["top", "big", "medium", "small", "small", "inactive", "prospect"],
            "revenue_cents": [10_000, 5_000, 3_000, 1_000, 500, 0, 0],
        }
    )
    cur = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5, 6, 7, 8],
            "revenue_cents": [12_000, 0, 2_000, -100, 800, 700, 0, 1_500],
            # 6 is reactivated (existing), 8 is new, 7 still never bought
            "existing": [True, True, True, True, True, True, False, False],
        }
    )
    return prev, cur


def test_retention_overall_and_per_level():
    prev, cur = retention_example()
    result = retention(prev, cur)
    # A(P-1) = {1..5}; retained (revenue > 0 in P) = {1, 3, 5}.
    # Revenue of A(P-1): 19 500 in P-1; in P 12 000 + 0 + 2 000 - 100 + 800 = 14 700.
    # Existing revenue in P: 14 700 + 700 (reactivated) = 15 400; total 15 400 + 1 500.
    assert result == {
        "customer_retention": 3 / 5,
        "revenue_retention": 14_700 / 19_500,
        "existing_revenue_share": 15_400 / 16_900,
        "customers_prev": 5,
        "customers_retained": 3,
        "revenue_prev_cents": 19_500,
        "revenue_cur_cents": 14_700,
        "existing_revenue_cents": 15_400,
        "total_revenue_cents": 16_900,
        "by_level": [
            {
                "level": "top",
                "customers_prev": 1,
                "customers_retained": 1,
                "customer_retention": 1.0,
                "revenue_prev_cents": 10_000,
                "revenue_cur_cents": 12_000,
                "revenue_retention": 1.2,
            },
            {
                "level": "big",
                "customers_prev": 1,
                "customers_retained": 0,
                "customer_retention": 0.0,
                "revenue_prev_cents": 5_000,
                "revenue_cur_cents": 0,
                "revenue_retention": 0.0,
            },
            {
                "level": "medium",
                "customers_prev": 1,
                "customers_retained": 1,
                "customer_retention": 1.0,
                "revenue_prev_cents": 3_000,
                "revenue_cur_cents": 2_000,
                "revenue_retention": 2_000 / 3_000,
            },
            {
                "level": "small",
                "customers_prev": 2,
                "customers_retained": 1,
                "customer_retention": 0.5,
                "revenue_prev_cents": 1_500,
                "revenue_cur_cents": 700,  # -100 + 800
                "revenue_retention": 700 / 1_500,
            },
        ],
    }


def test_retention_counts_a_customer_missing_from_cur_as_lost():
    prev, cur = retention_example()
    result = retention(prev, cur[cur["customer_id"] != 1])
    assert result["customers_retained"] == 2
    assert result["revenue_cur_cents"] == 2_700
    assert result["by_level"][0]["customer_retention"] == 0.0


def test_retention_is_none_without_denominators():
    prev = pd.DataFrame({"customer_id": [1], "level": ["prospect"], "revenue_cents": [0]})
    cur = pd.DataFrame({"customer_id": [1], "revenue_cents": [-200], "existing": [False]})
    result = retention(prev, cur)
    assert result["customer_retention"] is None
    assert result["revenue_retention"] is None
    assert result["existing_revenue_share"] is None  # total revenue in P is negative
    assert [level["customer_retention"] for level in result["by_level"]] == [None] * 4
    assert [level["revenue_retention"] for level in result["by_level"]] == [None] * 4


def test_retention_rejects_an_active_customer_without_an_active_level():
    prev = pd.DataFrame({"customer_id": [1], "level": ["inactive"], "revenue_cents": [10]})
    cur = pd.DataFrame({"customer_id": [1], "revenue_cents": [10], "existing": [True]})
    with pytest.raises(ValueError, match="active in P-1"):
        retention(prev, cur)


# --- concentration --------------------------------------------------------------------


def concentration_example() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5, 6, 7],
            "external_id": ["A", "B", "E", "D", "C", "F", "G"],
            "revenue_cents": [5_000, 2_000, 1_000, 1_000, 1_000, 0, -200],
            "allocated_cost_cents": [1_000, 800, 1_100, 900, 1_200, 0, 0],
            "profit_cents": [4_000, 1_500, -1_200, 200, -500, -300, -250],
        }
    )


def test_concentration_figures():
    result = concentration(concentration_example())
    # Active: A 5000, B 2000, and C, D, E 1000 each (F and G are not active). N = 5.
    # Top 20 %: ceil(1) = 1 customer, A: 5000 / 10000.
    # 80 %: cumulative 5000, 7000, 8000 >= 8000 -> k = 3.
    # Bottom 20 %: ascending, ties by external id: C 1000, D 1000 reach 2000 >= 2000;
    #   their cost 1200 + 900 of 5000. (Ties the other way would pick E and D.)
    # Whale: A 4000, B 1500, D 200, C -500, E -1200, total 4000; cumulative 4000,
    #   5500, 5700, 5200, 4000: peak 5700 / 4000 after 3 of 5 customers.
    assert result == {
        "active_customers": 5,
        "total_revenue_cents": 10_000,
        "top20_customers": 1,
        "top20_revenue_share": 0.5,
        "customers_for_80pct_revenue": 3,
        "customers_share_for_80pct_revenue": 0.6,
        "bottom20_customers": 2,
        "bottom20_revenue_cost_share": 2_100 / 5_000,
        "total_profit_cents": 4_000,
        "whale_peak_profit_share": 1.425,
        "whale_peak_customers": 3,
        "whale_peak_customer_share": 0.6,
        "loss_on_lossmaking_cents": -1_700,
        "lossmaking_customers": 2,
    }


def test_concentration_bottom20_prefix_must_reach_twenty_percent():
    cur = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "external_id": ["A", "B", "C", "D"],
            "revenue_cents": [500, 1_000, 1_500, 7_000],  # 20 % = 2000
            "allocated_cost_cents": [1_100, 900, 1_200, 800],
        }
    )
    result = concentration(cur)
    # 500 < 2000, 1500 < 2000, 3000 >= 2000: the prefix is three customers.
    assert result["bottom20_customers"] == 3
    assert result["bottom20_revenue_cost_share"] == 3_200 / 4_000
    # ceil(0.8) = 1 top customer: 7000 / 10000; k: 7000 < 8000, 8500 -> 2
    assert result["top20_revenue_share"] == 0.7
    assert result["customers_for_80pct_revenue"] == 2
    assert result["customers_share_for_80pct_revenue"] == 0.5


def test_concentration_without_accounting_or_with_stale_accounting():
    cur = concentration_example().drop(columns=["allocated_cost_cents", "profit_cents"])
    result = concentration(cur)
    assert result["top20_revenue_share"] == 0.5
    for key in (
        "bottom20_revenue_cost_share",
        "total_profit_cents",
        "whale_peak_profit_share",
        "whale_peak_customers",
        "whale_peak_customer_share",
        "loss_on_lossmaking_cents",
        "lossmaking_customers",
    ):
        assert result[key] is None, key
    # An active customer without a profit row (accounting is stale): no partial figures.
    stale = concentration_example().astype({"profit_cents": "Int64", "allocated_cost_cents": "Int64"})
    stale.loc[1, ["profit_cents", "allocated_cost_cents"]] = pd.NA
    assert concentration(stale)["whale_peak_profit_share"] is None
    assert concentration(stale)["bottom20_revenue_cost_share"] is None
    # ... but a missing value for a customer that is not active does not matter.
    stale_inactive = concentration_example().astype({"profit_cents": "Int64"})
    stale_inactive.loc[5, "profit_cents"] = pd.NA
    assert concentration(stale_inactive)["whale_peak_profit_share"] == 1.425


def test_concentration_whale_peak_is_none_when_total_profit_is_not_positive():
    cur = concentration_example().assign(profit_cents=[1_000, -500, -500, 0, 0, 0, 0])
    result = concentration(cur)
    assert result["total_profit_cents"] == 0
    assert result["whale_peak_profit_share"] is None
    assert result["whale_peak_customer_share"] is None
    assert result["loss_on_lossmaking_cents"] == -1_000
    assert whale_curve(cur).empty


def test_concentration_whale_peak_takes_the_first_customer_reaching_it():
    cur = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "external_id": ["A", "B", "C", "D"],
            "revenue_cents": [100, 100, 100, 100],
            "profit_cents": [300, 0, 0, -100],
        }
    )
    result = concentration(cur)
    assert result["whale_peak_customers"] == 1
    assert result["whale_peak_customer_share"] == 0.25
    assert result["whale_peak_profit_share"] == 1.5


def test_concentration_without_active_customers():
    cur = pd.DataFrame(
        {
            "customer_id": [1],
            "external_id": ["A"],
            "revenue_cents": [0],
            "profit_cents": [-10],
        }
    )
    result = concentration(cur)
    assert result["active_customers"] == 0
    assert result["top20_revenue_share"] is None
    assert result["customers_for_80pct_revenue"] is None
    assert result["bottom20_customers"] is None
    assert result["whale_peak_profit_share"] is None
    assert result["loss_on_lossmaking_cents"] == 0


# --- curves ---------------------------------------------------------------------------


def test_whale_curve_small_example_has_every_point():
    expected = pd.DataFrame(
        {
            "customer_share": [0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
            "profit_share": [0.0, 1.0, 1.375, 1.425, 1.3, 1.0],
        }
    )
    pd.testing.assert_frame_equal(whale_curve(concentration_example()), expected)


def test_pareto_curve_small_example():
    expected = pd.DataFrame(
        {
            "customer_share": [0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
            "revenue_share": [0.0, 0.5, 0.7, 0.8, 0.9, 1.0],
        }
    )
    pd.testing.assert_frame_equal(pareto_curve(concentration_example()), expected)


def test_whale_curve_downsamples_but_keeps_start_peak_and_end():
    n = 1_000
    profit = np.full(n, -1, dtype=np.int64)
    profit[:333] = 10  # peak after 333 customers: 3330 of total 3330 - 667 = 2663
    cur = pd.DataFrame(
        {
            "customer_id": np.arange(n),
            "external_id": [f"C{i:04d}" for i in range(n)],
            "revenue_cents": np.full(n, 100),
            "profit_cents": profit,
        }
    )
    curve = whale_curve(cur, points=11)
    assert len(curve) == 12  # 11 evenly spaced + the peak
    assert curve.iloc[0].tolist() == [0.0, 0.0]
    assert curve.iloc[-1].tolist() == [1.0, 1.0]
    assert curve["profit_share"].max() == 3_330 / 2_663
    assert curve.loc[curve["profit_share"].idxmax(), "customer_share"] == 0.333
    assert len(pareto_curve(cur, points=11)) == 11


def test_curves_are_empty_without_data():
    cur = pd.DataFrame({"customer_id": [1], "external_id": ["A"], "revenue_cents": [0]})
    assert pareto_curve(cur).empty
    assert list(pareto_curve(cur).columns) == ["customer_share", "revenue_share"]
    assert whale_curve(cur).empty  # no profit column
    assert list(whale_curve(cur).columns) == ["customer_share", "profit_share"]


# --- level summary --------------------------------------------------------------------


def test_level_summary_with_accounting():
    cur = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5, 6, 7],
            "level": ["top", "big", "big", "small", "small", "inactive", "prospect"],
            "revenue_cents": [60_000, 15_001, 15_000, 6_000, 4_199, -200, 0],
            "gross_margin_cents": [20_000, 5_000, 4_000, 2_000, 1_000, -50, 0],
            "allocated_cost_cents": [5_000, 3_000, 2_000, 2_500, 1_500, 0, 0],
            "profit_cents": [15_000, 2_000, 2_001, -500, -500, -50, 0],
        }
    )
    # Total revenue 100 000 (the inactive customer's return counts).
    expected = pd.DataFrame(
        {
            "level": pd.array(ALL_LEVELS, dtype="str"),
            "customers": [1, 2, 0, 2, 1, 1, 0],
            "revenue_cents": [60_000, 30_001, 0, 10_199, -200, 0, 0],
            "revenue_share": [0.6, 0.30001, 0.0, 0.10199, -0.002, 0.0, 0.0],
            "gross_margin_cents": [20_000, 9_000, 0, 3_000, -50, 0, 0],
            "allocated_cost_cents": pd.array([5_000, 5_000, 0, 4_000, 0, 0, 0], dtype="Int64"),
            "profit_cents": pd.array([15_000, 4_001, 0, -1_000, -50, 0, 0], dtype="Int64"),
            # 30001/2 = 15000.5 -> 15001; 10199/2 = 5099.5 -> 5100
            "avg_revenue_cents": pd.array([60_000, 15_001, pd.NA, 5_100, -200, 0, pd.NA], dtype="Int64"),
            # 4001/2 = 2000.5 -> 2001; -1000/2 = -500
            "avg_profit_cents": pd.array([15_000, 2_001, pd.NA, -500, -50, 0, pd.NA], dtype="Int64"),
        }
    ).astype({"customers": "int64", "revenue_cents": "int64", "gross_margin_cents": "int64"})
    pd.testing.assert_frame_equal(level_summary(cur), expected)


def test_level_summary_without_accounting_rounds_half_away_from_zero():
    cur = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "level": ["top", "top", "inactive", "inactive"],
            "revenue_cents": [3, 4, -3, -2],  # averages 3.5 -> 4 and -2.5 -> -3
            "gross_margin_cents": [1, 1, 0, 0],
        }
    )
    result = level_summary(cur)
    assert result["avg_revenue_cents"].tolist() == [
        4,
        pd.NA,
        pd.NA,
        pd.NA,
        -3,
        pd.NA,
        pd.NA,
    ]
    assert result["allocated_cost_cents"].isna().all()
    assert result["profit_cents"].isna().all()
    assert result["avg_profit_cents"].isna().all()
    # total revenue 7 - 5 = 2
    assert result["revenue_share"].tolist() == [3.5, 0.0, 0.0, 0.0, -2.5, 0.0, 0.0]


def test_level_summary_profit_is_na_for_a_level_with_a_missing_value():
    cur = pd.DataFrame(
        {
            "customer_id": [1, 2, 3],
            "level": ["top", "small", "inactive"],
            "revenue_cents": [10, 5, 0],
            "gross_margin_cents": [4, 2, 0],
            "profit_cents": pd.array([3, 1, pd.NA], dtype="Int64"),
        }
    )
    result = level_summary(cur).set_index("level")
    assert result.loc["top", "profit_cents"] == 3
    assert result.loc["small", "avg_profit_cents"] == 1
    assert result.loc["inactive", "profit_cents"] is pd.NA
    assert result.loc["inactive", "avg_profit_cents"] is pd.NA


def test_level_summary_share_is_nan_when_total_revenue_is_not_positive():
    cur = pd.DataFrame(
        {
            "customer_id": [1],
            "level": ["inactive"],
            "revenue_cents": [-10],
            "gross_margin_cents": [0],
        }
    )
    assert level_summary(cur)["revenue_share"].isna().all()


# --- properties -----------------------------------------------------------------------

revenues = st.lists(st.integers(min_value=-5_000, max_value=5_000), min_size=0, max_size=300)


def random_customers(values: list[int], data: st.DataObject) -> pd.DataFrame:
    n = len(values)
    external_ids = data.draw(st.lists(st.text("ABC0", min_size=1, max_size=3), min_size=n, max_size=n, unique=True))
    statuses = data.draw(st.lists(st.sampled_from(["suspect", "prospect", "customer"]), min_size=n, max_size=n))
    bought_before = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
    return pd.DataFrame(
        {
            "customer_id": np.arange(n, dtype=np.int64),
            "external_id": pd.array(external_ids, dtype="str"),
            "status": pd.array(statuses, dtype="str"),
            "revenue_cents": np.asarray(values, dtype=np.int64),
            "bought_before": np.asarray(bought_before, dtype=bool),
        }
    )


permille = st.integers(min_value=0, max_value=1_000)


@settings(max_examples=150, deadline=None)
@given(values=revenues, top=permille, big=permille, medium=permille, data=st.data())
def test_property_level_counts_follow_the_ceil_rules(values, top, big, medium, data):
    if top + big + medium > 1_000:
        top, big, medium = 10, 40, 150
    scheme = PyramidScheme(top_share=top / 1_000, big_share=big / 1_000, medium_share=medium / 1_000)
    result = assign_levels(random_customers(values, data), scheme=scheme)
    active = result[result["revenue_cents"] > 0]
    n = len(active)
    # Exact cutoffs: ceil of the cumulative share (in rational arithmetic) times N.
    exact = [math.ceil(Fraction(cumulative, 1_000) * n) for cumulative in (top, top + big, top + big + medium)]
    counts = active["level"].value_counts().reindex(list(LEVELS_ACTIVE), fill_value=0).tolist()
    assert counts == [exact[0], exact[1] - exact[0], exact[2] - exact[1], n - exact[2]]
    # Ranks are 1..N, revenue descending, ties by external id ascending.
    by_rank = active.sort_values("rank")
    assert by_rank["rank"].tolist() == list(range(1, n + 1))
    keys = list(zip(-by_rank["revenue_cents"], by_rank["external_id"], strict=True))
    assert keys == sorted(keys)
    # Levels never go down as rank improves.
    order = [LEVELS_ACTIVE.index(level) for level in by_rank["level"]]
    assert order == sorted(order)
    # Not active: never an active level, no rank.
    rest = result[result["revenue_cents"] <= 0]
    assert rest["rank"].isna().all()
    assert set(rest["level"]) <= {"inactive", "prospect", "suspect"}
    assert (rest["level"] == "inactive").tolist() == rest["bought_before"].tolist()


@settings(max_examples=100, deadline=None)
@given(
    prev_values=revenues,
    cur_values=st.lists(st.integers(min_value=-5_000, max_value=5_000), min_size=300, max_size=300),
    data=st.data(),
)
def test_property_retention_and_migration_reconcile(prev_values, cur_values, data):
    prev = assign_levels(random_customers(prev_values, data), scheme=PyramidScheme())
    n_prev = len(prev_values)
    cur_customers = random_customers(cur_values[: n_prev + 5], data).assign(
        bought_before=lambda frame: frame["customer_id"].isin(prev["customer_id"][prev["revenue_cents"] > 0])
    )
    cur = assign_levels(cur_customers, scheme=PyramidScheme())

    result = retention(prev, cur.rename(columns={"bought_before": "existing"}))
    by_level = result["by_level"]
    assert sum(level["customers_prev"] for level in by_level) == int((prev["revenue_cents"] > 0).sum())
    assert sum(level["revenue_cur_cents"] for level in by_level) == result["revenue_cur_cents"]
    for figures in [result, *by_level]:
        if figures["customers_prev"] == 0:
            assert figures["customer_retention"] is None
            assert figures["revenue_retention"] is None
        else:
            assert 0.0 <= figures["customer_retention"] <= 1.0
    if result["existing_revenue_share"] is not None:
        existing = cur.loc[cur["bought_before"], "revenue_cents"]
        if (existing >= 0).all() and (cur["revenue_cents"] >= 0).all():
            assert 0.0 <= result["existing_revenue_share"] <= 1.0

    matrix = migration_matrix(prev, cur)
    assert len(matrix) == len(MIGRATION_FROM) * len(ALL_LEVELS)
    assert matrix["customers"].sum() == len(cur)
    assert matrix["revenue_cents"].sum() == cur["revenue_cents"].sum()
    assert matrix.loc[matrix["from_level"] == "new", "customers"].sum() == 5


@settings(max_examples=150, deadline=None)
@given(values=revenues, data=st.data())
def test_property_concentration_bounds(values, data):
    cur = random_customers(values, data)
    n = len(cur)
    cur = cur.assign(
        allocated_cost_cents=data.draw(st.lists(st.integers(0, 1_000), min_size=n, max_size=n)),
        profit_cents=data.draw(st.lists(st.integers(-2_000, 2_000), min_size=n, max_size=n)),
    )
    result = concentration(cur)
    n_active = int((cur["revenue_cents"] > 0).sum())
    assert result["active_customers"] == n_active
    if n_active == 0:
        return
    assert result["top20_customers"] == ceil_share(0.2, n_active)
    assert result["top20_customers"] / n_active - 1e-12 <= result["top20_revenue_share"] <= 1.0
    assert 0.0 < result["customers_share_for_80pct_revenue"] <= 1.0
    assert 1 <= result["bottom20_customers"] <= n_active
    if result["bottom20_revenue_cost_share"] is not None:
        assert 0.0 <= result["bottom20_revenue_cost_share"] <= 1.0
    if result["whale_peak_profit_share"] is not None:
        assert result["whale_peak_profit_share"] >= 1.0
        assert 0.0 < result["whale_peak_customer_share"] <= 1.0
        curve = whale_curve(cur, points=20)
        assert curve["profit_share"].max() == pytest.approx(result["whale_peak_profit_share"])
        assert curve.iloc[-1].tolist() == [1.0, 1.0]
    pareto = pareto_curve(cur, points=20)
    assert pareto["customer_share"].is_monotonic_increasing
    assert pareto["revenue_share"].is_monotonic_increasing
    assert pareto.iloc[-1].tolist() == [1.0, 1.0]
