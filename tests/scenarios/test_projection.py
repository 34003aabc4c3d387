import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scenarios.projection import (
    BUILT_IN,
    Baseline,
    Levers,
    adjusted_matrix,
    baseline_from_frames,
    project,
)
from scenarios.valuation import ACTIVE, STATES

PROJECTION_COLUMNS = [
    "year",
    "customers_top",
    "customers_big",
    "customers_medium",
    "customers_small",
    "customers_inactive",
    "customers_active",
    "revenue_cents",
    "gross_margin_cents",
    "cost_to_serve_cents",
    "profit_cents",
    "discounted_profit_cents",
    "npv_cents",
]


def matrix_from_rows(rows: dict[str, dict[str, float]]) -> pd.DataFrame:
    """A 5 x 5 matrix; levels not given stay in place with probability 1."""
    values = np.eye(len(STATES))
    for level, row in rows.items():
        values[STATES.index(level)] = [row.get(state, 0.0) for state in STATES]
    return pd.DataFrame(
        values,
        index=pd.Index(STATES, name="from_level"),
        columns=pd.Index(STATES, name="to_level"),
    )


def half_up(x: float) -> int:
    return int(np.floor(x + 0.5))


# ------------------------------------------------------------------------------- levers


def test_built_in_scenarios_are_the_domain_defaults():
    assert BUILT_IN["do_nothing"] == Levers()
    assert BUILT_IN["do_nothing"].retention_change_points == dict.fromkeys(ACTIVE, 0.0)
    conservative = BUILT_IN["conservative"]
    assert conservative.retention_change_points == dict.fromkeys(ACTIVE, 2.0)
    assert (
        conservative.spend_growth,
        conservative.acquisition_growth,
        conservative.cost_to_serve_change,
        conservative.upward_migration_points,
    ) == (0.03, 0.10, -0.02, 1.0)
    ambitious = BUILT_IN["ambitious"]
    assert ambitious.retention_change_points == dict.fromkeys(ACTIVE, 5.0)
    assert (
        ambitious.spend_growth,
        ambitious.acquisition_growth,
        ambitious.cost_to_serve_change,
        ambitious.upward_migration_points,
    ) == (0.08, 0.25, -0.05, 3.0)
    for levers in BUILT_IN.values():
        assert (levers.discount_rate, levers.horizon) == (0.08, 5)


def test_levers_refuse_unknown_levels_and_impossible_rates():
    with pytest.raises(ValueError, match="unknown levels"):
        Levers(retention_change_points={"prospect": 2.0})
    with pytest.raises(ValueError, match="discount_rate"):
        Levers(discount_rate=-1.0)
    with pytest.raises(ValueError, match="horizon"):
        Levers(horizon=-1)


def test_adjusted_matrix_moves_retention_then_upward_migration():
    matrix = matrix_from_rows(
        {
            "top": {"top": 0.8, "big": 0.1, "inactive": 0.1},
            "big": {"top": 0.1, "big": 0.6, "medium": 0.1, "inactive": 0.2},
            "medium": {"medium": 0.99, "inactive": 0.01},  # retention capped at 0.01
            "small": {"medium": 0.05, "small": 0.7, "inactive": 0.25},
            "inactive": {"small": 0.1, "inactive": 0.9},
        }
    )
    levers = Levers(
        retention_change_points={"top": 5, "big": 2, "medium": 2, "small": -10},
        upward_migration_points=3,
    )
    result = adjusted_matrix(matrix, levers)
    expected = matrix_from_rows(
        {
            # retention +0.05; top has no level above: stays
            "top": {"top": 0.85, "big": 0.1, "inactive": 0.05},
            # retention +0.02 -> big 0.62, inactive 0.18;
            # upward 0.03 -> top 0.13, big 0.59
            "big": {"top": 0.13, "big": 0.59, "medium": 0.1, "inactive": 0.18},
            # retention capped: inactive 0.01 -> 0, medium 1.0; upward -> big 0.03
            "medium": {"big": 0.03, "medium": 0.97},
            # retention -0.10 -> small 0.6, inactive 0.35;
            # upward 0.03 -> medium 0.08, small 0.57
            "small": {"medium": 0.08, "small": 0.57, "inactive": 0.35},
            "inactive": {"small": 0.1, "inactive": 0.9},
        }
    )
    pd.testing.assert_frame_equal(result, expected, atol=1e-12, rtol=0)
    np.testing.assert_allclose(result.sum(axis=1).to_numpy(), 1.0)


def test_do_nothing_leaves_the_matrix_unchanged():
    matrix = matrix_from_rows({"small": {"small": 0.6, "inactive": 0.4}})
    pd.testing.assert_frame_equal(adjusted_matrix(matrix, Levers()), matrix)


@st.composite
def stochastic_matrices(draw):
    rows = []
    for _ in STATES:
        weights = draw(st.lists(st.floats(min_value=0, max_value=1), min_size=len(STATES), max_size=5))
        total = sum(weights)
        rows.append([w / total for w in weights] if total > 0 else [0, 0, 0, 0, 1])
    return pd.DataFrame(rows, index=list(STATES), columns=list(STATES))


points = st.floats(min_value=-100, max_value=100)


@given(
    stochastic_matrices(),
    st.fixed_dictionaries({level: points for level in ACTIVE}),
    points,
)
def test_adjusted_matrix_stays_row_stochastic(matrix, retention, upward):
    levers = Levers(retention_change_points=retention, upward_migration_points=upward)
    result = adjusted_matrix(matrix, levers).to_numpy()
    np.testing.assert_allclose(result.sum(axis=1), 1.0, atol=1e-9)
    assert (result >= 0).all() and (result <= 1).all()
    np.testing.assert_array_equal(result[-1], matrix.to_numpy()[-1])


# --------------------------------------------------------------------------- projection


# Each level keeps 88-90 % of its customers, a little moves one level up,
# 10 % go inactive.
STATIONARY_MATRIX = matrix_from_rows(
    {
        "top": {"top": 0.9, "inactive": 0.1},
        "big": {"top": 0.02, "big": 0.88, "inactive": 0.1},
        "medium": {"big": 0.02, "medium": 0.88, "inactive": 0.1},
        "small": {"medium": 0.01, "small": 0.89, "inactive": 0.1},
    }
)


def stationary_baseline() -> Baseline:
    # counts c with c = c @ M + new * distribution on the active levels:
    #   top     10 = 10 * 0.9 + 40 * 0.02 + 0.2
    #   big     40 = 40 * 0.88 + 150 * 0.02 + 1.8
    #   medium 150 = 150 * 0.88 + 800 * 0.01 + 10
    #   small  800 = 800 * 0.89 + 88
    # acquisition 0.2 + 1.8 + 10 + 88 = 100 = outflow 0.1 * (10 + 40 + 150 + 800)
    return Baseline(
        counts={"top": 10, "big": 40, "medium": 150, "small": 800, "inactive": 500},
        matrix=STATIONARY_MATRIX,
        new_customers=100,
        new_distribution={"top": 0.002, "big": 0.018, "medium": 0.1, "small": 0.88},
        revenue_per_customer={
            "top": 5_000_000,
            "big": 1_000_000,
            "medium": 200_000,
            "small": 30_000,
        },
        margin_per_customer={
            "top": 1_500_000,
            "big": 300_000,
            "medium": 60_000,
            "small": 8_000,
        },
        cost_per_customer={
            "top": 400_000,
            "big": 150_000,
            "medium": 45_000,
            "small": 9_000,
        },
    )


def test_do_nothing_on_a_stationary_chain_reproduces_today():
    result = project(stationary_baseline(), BUILT_IN["do_nothing"])
    assert list(result.columns) == PROJECTION_COLUMNS
    assert result["year"].tolist() == [0, 1, 2, 3, 4, 5]
    for level, count in {"top": 10, "big": 40, "medium": 150, "small": 800}.items():
        np.testing.assert_allclose(result[f"customers_{level}"], count)
    np.testing.assert_allclose(result["customers_active"], 1_000)
    # the customers lost each year pile up as inactive
    np.testing.assert_allclose(result["customers_inactive"], [500, 600, 700, 800, 900, 1_000])
    # 10 * 5_000_000 + 40 * 1_000_000 + 150 * 200_000 + 800 * 30_000
    assert set(result["revenue_cents"]) == {144_000_000}
    # 10 * 1_500_000 + 40 * 300_000 + 150 * 60_000 + 800 * 8_000
    assert set(result["gross_margin_cents"]) == {42_400_000}
    # 10 * 400_000 + 40 * 150_000 + 150 * 45_000 + 800 * 9_000
    assert set(result["cost_to_serve_cents"]) == {23_950_000}
    assert set(result["profit_cents"]) == {18_450_000}
    discounted = [half_up(18_450_000 / 1.08**t) for t in range(6)]
    assert result["discounted_profit_cents"].tolist() == discounted
    assert result["npv_cents"].tolist() == [0, *np.cumsum(discounted[1:]).tolist()]


def hand_baseline() -> Baseline:
    return Baseline(
        counts={"top": 10, "small": 100, "inactive": 50},
        matrix=matrix_from_rows(
            {
                "top": {"top": 0.8, "inactive": 0.2},
                "small": {"top": 0.1, "small": 0.6, "inactive": 0.3},
                "inactive": {"small": 0.1, "inactive": 0.9},
            }
        ),
        new_customers=20,
        new_distribution={"top": 0.1, "small": 0.9},
        revenue_per_customer={
            "top": 1_000_000,
            "big": 400_000,
            "medium": 100_000,
            "small": 20_000,
        },
        margin_per_customer={
            "top": 300_000,
            "big": 120_000,
            "medium": 30_000,
            "small": 5_000,
        },
        cost_per_customer={
            "top": 100_000,
            "big": 50_000,
            "medium": 20_000,
            "small": 6_000,
        },
    )


HAND_LEVERS = Levers(
    retention_change_points={"top": 5, "small": 10},
    upward_migration_points=10,
    acquisition_growth=0.10,
    spend_growth=0.03,
    cost_to_serve_change=-0.02,
    discount_rate=0.08,
    horizon=2,
)


def test_two_year_projection_computed_by_hand():
    # Matrix after the levers (retention first, then 10 points upward):
    #   top    : top 0.85, inactive 0.15
    #   big    : top 0.1, big 0.9            (identity row, upward only)
    #   medium : big 0.1, medium 0.9         (identity row, upward only)
    #   small  : top 0.1, medium 0.1, small 0.6, inactive 0.2
    #   inactive: small 0.1, inactive 0.9    (unchanged)
    # Year 1: new = 20 * 1.1 = 22 -> top 2.2, small 19.8
    top1 = 10 * 0.85 + 100 * 0.1 + 2.2  # 20.7
    big1 = 0.0
    medium1 = 100 * 0.1  # 10
    small1 = 100 * 0.6 + 50 * 0.1 + 19.8  # 84.8
    inactive1 = 10 * 0.15 + 100 * 0.2 + 50 * 0.9  # 66.5
    # Year 2: new = 20 * 1.1**2 = 24.2 -> top 2.42, small 21.78
    top2 = 20.7 * 0.85 + 0 * 0.1 + 84.8 * 0.1 + 2.42  # 28.495
    big2 = 0 * 0.9 + 10 * 0.1  # 1
    medium2 = 10 * 0.9 + 84.8 * 0.1  # 17.48
    small2 = 84.8 * 0.6 + 66.5 * 0.1 + 21.78  # 79.31
    inactive2 = 20.7 * 0.15 + 84.8 * 0.2 + 66.5 * 0.9  # 79.915

    # Money, year 0: 10 top and 100 small customers
    revenue0 = 10 * 1_000_000 + 100 * 20_000  # 12_000_000
    margin0 = 10 * 300_000 + 100 * 5_000  # 3_500_000
    cost0 = 10 * 100_000 + 100 * 6_000  # 1_600_000
    # Year 1: (20.7 * 1_000_000 + 10 * 100_000 + 84.8 * 20_000) * 1.03
    revenue1 = 24_097_880  # 23_396_000 * 1.03
    margin1 = 7_142_020  # (6_210_000 + 300_000 + 424_000) * 1.03
    cost1 = 2_723_224  # (2_070_000 + 200_000 + 508_800) * 0.98
    # Year 2: spend * 1.03**2 = 1.0609, cost * 0.98**2 = 0.9604
    revenue2 = 34_191_958  # (28_495_000 + 400_000 + 1_748_000 + 1_586_200) * 1.0609
    margin2 = 10_173_448  # (8_548_500 + 120_000 + 524_400 + 396_550) * 1.0609 = ...7.505
    cost2 = 3_577_452  # (2_849_500 + 50_000 + 349_600 + 475_860) * 0.9604 = ...1.584
    profit = [margin0 - cost0, margin1 - cost1, margin2 - cost2]
    assert profit == [1_900_000, 4_418_796, 6_595_996]
    discounted = [
        1_900_000,
        4_091_478,  # 4_418_796 / 1.08 = 4_091_477.78
        5_655_003,  # 6_595_996 / 1.1664 = 5_655_003.43
    ]

    expected = pd.DataFrame(
        {
            "year": np.array([0, 1, 2], dtype="int64"),
            "customers_top": [10.0, top1, top2],
            "customers_big": [0.0, big1, big2],
            "customers_medium": [0.0, medium1, medium2],
            "customers_small": [100.0, small1, small2],
            "customers_inactive": [50.0, inactive1, inactive2],
            "customers_active": [
                110.0,
                top1 + big1 + medium1 + small1,
                top2 + big2 + medium2 + small2,
            ],
            "revenue_cents": np.array([revenue0, revenue1, revenue2], dtype="int64"),
            "gross_margin_cents": np.array([margin0, margin1, margin2], dtype="int64"),
            "cost_to_serve_cents": np.array([cost0, cost1, cost2], dtype="int64"),
            "profit_cents": np.array(profit, dtype="int64"),
            "discounted_profit_cents": np.array(discounted, dtype="int64"),
            "npv_cents": np.array([0, 4_091_478, 4_091_478 + 5_655_003], dtype="int64"),
        }
    )
    result = project(hand_baseline(), HAND_LEVERS)
    pd.testing.assert_frame_equal(result, expected, check_exact=False, rtol=1e-12)
    # the money is exact to the cent
    money = [column for column in PROJECTION_COLUMNS if column.endswith("_cents")]
    pd.testing.assert_frame_equal(result[money], expected[money], check_exact=True)
    # total customers only grow by acquisition: 160 + 22 + 24.2
    np.testing.assert_allclose(
        result[[f"customers_{state}" for state in STATES]].sum(axis=1),
        [160, 182, 206.2],
    )


def test_projection_refuses_distribution_not_summing_to_one():
    baseline = dataclasses.replace(hand_baseline(), new_distribution={"top": 0.5, "small": 0.2})
    with pytest.raises(ValueError, match="sum to 1"):
        project(baseline, Levers())


def test_projection_horizon_zero_is_today_only():
    result = project(hand_baseline(), Levers(horizon=0))
    assert result["year"].tolist() == [0]
    assert result["npv_cents"].tolist() == [0]


# ----------------------------------------------------------------------------- baseline


def test_baseline_from_frames():
    levels_prev = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5, 6, 7],
            "level": [
                "top",
                "top",
                "small",
                "small",
                "inactive",
                "prospect",
                "suspect",
            ],
        }
    )
    levels_cur = pd.DataFrame(
        {
            # 4 is missing now: counts as inactive; 6 (prospect) and 8 (unknown) are new
            "customer_id": [1, 2, 3, 5, 6, 7, 8],
            "level": ["top", "small", "inactive", "small", "top", "suspect", "small"],
        }
    )
    cur_figures = pd.DataFrame(
        {
            "customer_id": [1, 6, 2, 5, 8],
            "level": ["top", "top", "small", "small", "small"],
            "revenue_cents": [1_000_000, 600_000, 30_000, 20_000, 10_000],
            "gross_margin_cents": [300_000, 100_000, 9_000, 6_000, 3_000],
            "allocated_cents": [100_000, 50_000, 4_000, np.nan, 2_000],
        }
    )
    baseline = baseline_from_frames(levels_prev, levels_cur, cur_figures)

    assert baseline.counts == {
        "top": 2.0,
        "big": 0.0,
        "medium": 0.0,
        "small": 3.0,
        "inactive": 1.0,
    }
    expected_matrix = matrix_from_rows(
        {
            "top": {"top": 0.5, "small": 0.5},
            "small": {"inactive": 1.0},
            "inactive": {"small": 1.0},
        }
    )
    pd.testing.assert_frame_equal(baseline.matrix, expected_matrix)
    assert baseline.new_customers == 2.0
    assert baseline.new_distribution == {
        "top": 0.5,
        "big": 0.0,
        "medium": 0.0,
        "small": 0.5,
    }
    assert baseline.revenue_per_customer == {
        "top": 800_000.0,
        "big": 0.0,
        "medium": 0.0,
        "small": 20_000.0,
    }
    assert baseline.margin_per_customer == {
        "top": 200_000.0,
        "big": 0.0,
        "medium": 0.0,
        "small": 6_000.0,
    }
    # missing allocated cost counts as 0: (4_000 + 0 + 2_000) / 3
    assert baseline.cost_per_customer == {
        "top": 75_000.0,
        "big": 0.0,
        "medium": 0.0,
        "small": 2_000.0,
    }

    # year 0 of the projection is today's totals
    today = project(baseline, Levers(horizon=0)).iloc[0]
    assert today["revenue_cents"] == 1_660_000
    assert today["gross_margin_cents"] == 418_000
    assert today["cost_to_serve_cents"] == 156_000


def test_baseline_without_new_customers_has_zero_distribution():
    levels = pd.DataFrame({"customer_id": [1], "level": ["top"]})
    figures = pd.DataFrame(
        {
            "customer_id": [1],
            "level": ["top"],
            "revenue_cents": [100],
            "gross_margin_cents": [50],
            "allocated_cents": [10],
        }
    )
    baseline = baseline_from_frames(levels, levels, figures)
    assert baseline.new_customers == 0.0
    assert baseline.new_distribution == dict.fromkeys(ACTIVE, 0.0)
    result = project(baseline, BUILT_IN["conservative"])
    assert result["customers_top"].tolist() == [1.0] * 6


def test_baseline_refuses_duplicate_customers():
    levels = pd.DataFrame({"customer_id": [1, 1], "level": ["top", "big"]})
    figures = pd.DataFrame(
        columns=[
            "customer_id",
            "level",
            "revenue_cents",
            "gross_margin_cents",
            "allocated_cents",
        ]
    )
    with pytest.raises(ValueError, match="duplicate"):
        baseline_from_frames(levels, levels, figures)
