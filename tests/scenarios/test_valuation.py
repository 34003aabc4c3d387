import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scenarios.valuation import (
    ACTIVE,
    SEGMENT_STRATEGY,
    SEGMENTS,
    STATES,
    customer_value,
    product_value,
    round_cents,
    segment_customers,
    segment_summary,
    survival,
    transition_counts,
    transition_matrix,
)


def matrix_from_rows(rows: dict[str, dict[str, float]]) -> pd.DataFrame:
    """A 5 x 5 matrix; levels not given stay in place with probability 1."""
    values = np.eye(len(STATES))
    for level, row in rows.items():
        i = STATES.index(level)
        values[i] = [row.get(state, 0.0) for state in STATES]
    return pd.DataFrame(
        values,
        index=pd.Index(STATES, name="from_level"),
        columns=pd.Index(STATES, name="to_level"),
    )


# top stays with 0.8, goes inactive with 0.2 (the two-level chain of the brief)
TWO_LEVEL = matrix_from_rows({"top": {"top": 0.8, "inactive": 0.2}})


def pairs_frame(rows: list[tuple[int, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["customer_id", "from_level", "to_level"])


# ----------------------------------------------------------------------------- rounding


def test_round_cents_is_half_up_and_symmetric_around_zero():
    values = np.array([2.5, 2.4999999999, 2.49, -2.5, -2.4999999999, -2.51, 0.0, 7.5])
    assert round_cents(values).tolist() == [3, 3, 2, -3, -3, -3, 0, 8]
    assert round_cents(values).dtype == np.int64


def test_round_cents_refuses_nan():
    with pytest.raises(ValueError, match="NaN"):
        round_cents(np.array([1.0, np.nan]))


# -------------------------------------------------------------------------- transitions


def test_transition_counts_and_matrix_pool_period_pairs():
    pairs = pairs_frame(
        [
            # period pair 2022 -> 2023
            (1, "top", "top"),
            (2, "top", "big"),
            (3, "big", "big"),
            (4, "small", "inactive"),
            (5, "prospect", "small"),  # not in the chain: enters through acquisition
            (6, "suspect", "suspect"),
            # period pair 2023 -> 2024 (stacked, pooled)
            (1, "top", "top"),
            (2, "big", "top"),
            (3, "big", "inactive"),
            (4, "inactive", "small"),
            (5, "small", "small"),
            (7, "inactive", "inactive"),
        ]
    )
    counts = transition_counts(pairs)
    expected_counts = pd.DataFrame(
        [
            [2, 1, 0, 0, 0],
            [1, 1, 0, 0, 1],
            [0, 0, 0, 0, 0],
            [0, 0, 0, 1, 1],
            [0, 0, 0, 1, 1],
        ],
        index=pd.Index(STATES, name="from_level"),
        columns=pd.Index(STATES, name="to_level"),
        dtype="int64",
    )
    pd.testing.assert_frame_equal(counts, expected_counts)

    matrix = transition_matrix(pairs)
    expected = pd.DataFrame(
        [
            [2 / 3, 1 / 3, 0, 0, 0],
            [1 / 3, 1 / 3, 0, 0, 1 / 3],
            [0, 0, 1, 0, 0],  # medium: no observations -> identity
            [0, 0, 0, 1 / 2, 1 / 2],
            [0, 0, 0, 1 / 2, 1 / 2],
        ],
        index=pd.Index(STATES, name="from_level"),
        columns=pd.Index(STATES, name="to_level"),
        dtype="float64",
    )
    pd.testing.assert_frame_equal(matrix, expected)


def test_transition_matrix_without_observations_is_identity():
    matrix = transition_matrix(pairs_frame([(1, "prospect", "top")]))
    np.testing.assert_array_equal(matrix.to_numpy(), np.eye(5))
    assert matrix.loc["inactive", "inactive"] == 1.0


def test_transition_counts_refuses_unknown_destination_for_chain_customers():
    with pytest.raises(ValueError, match="to_level"):
        transition_counts(pairs_frame([(1, "top", "prospect")]))


@given(
    st.lists(
        st.tuples(st.sampled_from(STATES), st.sampled_from(STATES)),
        max_size=60,
    )
)
def test_transition_matrix_is_row_stochastic(rows):
    pairs = pairs_frame([(i, a, b) for i, (a, b) in enumerate(rows)])
    matrix = transition_matrix(pairs)
    np.testing.assert_allclose(matrix.sum(axis=1).to_numpy(), 1.0)
    assert ((matrix >= 0) & (matrix <= 1)).all().all()
    assert int(transition_counts(pairs).to_numpy().sum()) == len(rows)


# --------------------------------------------------------------------- survival and CLV


def test_survival_on_two_level_chain():
    result = survival(TWO_LEVEL, 3)
    assert list(result.index) == list(ACTIVE)
    assert list(result.columns) == [1, 2, 3]
    assert result.loc["top", 1] == pytest.approx(0.8)
    assert result.loc["top", 2] == pytest.approx(0.64)
    assert result.loc["top", 3] == pytest.approx(0.512)
    # untouched levels (identity rows) never leave
    assert result.loc["small"].tolist() == [1.0, 1.0, 1.0]


def test_survival_counts_migration_to_other_active_levels_as_active():
    matrix = matrix_from_rows({"small": {"small": 0.5, "medium": 0.25, "inactive": 0.25}})
    result = survival(matrix, 2)
    # year 1: 0.5 + 0.25; year 2: small 0.25 + medium (0.125 + 0.25, medium keeps all)
    assert result.loc["small", 1] == pytest.approx(0.75)
    assert result.loc["small", 2] == pytest.approx(0.25 + 0.125 + 0.25)


def test_customer_value_two_level_chain_to_the_cent():
    customers = pd.DataFrame(
        {
            "customer_id": [10, 11, 12, 13],
            "level": ["top", "top", "inactive", "prospect"],
            "profit_cents": [1_000_000, -1_000_000, 500_000, 0],
        }
    )
    result = customer_value(customers, matrix=TWO_LEVEL, horizon=2, discount_rate=0.08)
    # 1_000_000 * 0.8 / 1.08 + 1_000_000 * 0.64 / 1.08**2
    #   = 740_740.7407... + 548_696.8449... = 1_289_437.5857... -> 1_289_438
    expected = pd.DataFrame(
        {
            "customer_id": [10, 11, 12, 13],
            "clv_cents": np.array([1_289_438, -1_289_438, 0, 0], dtype="int64"),
            "method": "markov",
        }
    )
    pd.testing.assert_frame_equal(result, expected)


def test_customer_value_default_horizon_five_years():
    customers = pd.DataFrame({"customer_id": [1], "level": ["top"], "profit_cents": [10_000]})
    result = customer_value(customers, matrix=TWO_LEVEL)
    # 10_000 * (0.8 / 1.08 + 0.64 / 1.08**2 + 0.512 / 1.08**3 + 0.4096 / 1.08**4
    #           + 0.32768 / 1.08**5)
    #   ~ 7_407.41 + 5_486.97 + 4_064.42 + 3_010.68 + 2_230.14
    #   = 22_199.614... -> 22_200
    assert result["clv_cents"].tolist() == [22_200]


def test_customer_value_fallback_uses_retention_power():
    customers = pd.DataFrame(
        {
            "customer_id": [1, 2, 3],
            "level": ["small", "big", "inactive"],
            "profit_cents": [100_00, 200_00, 100_00],
        }
    )
    result = customer_value(customers, matrix=None, horizon=2, discount_rate=0.0, fallback_retention=0.5)
    expected = pd.DataFrame(
        {
            "customer_id": [1, 2, 3],
            # 10_000 * (0.5 + 0.25); 20_000 * (0.5 + 0.25); inactive 0
            "clv_cents": np.array([7_500, 15_000, 0], dtype="int64"),
            "method": "fallback",
        }
    )
    pd.testing.assert_frame_equal(result, expected)


def test_customer_value_missing_profit_counts_as_zero():
    customers = pd.DataFrame({"customer_id": [1], "level": ["top"], "profit_cents": [np.nan]})
    result = customer_value(customers, matrix=TWO_LEVEL)
    assert result["clv_cents"].tolist() == [0]


@given(st.integers(min_value=-(10**10), max_value=10**10))
def test_customer_value_is_symmetric_for_losses(profit):
    customers = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "level": ["top", "top"],
            "profit_cents": [profit, -profit],
        }
    )
    clv = customer_value(customers, matrix=TWO_LEVEL)["clv_cents"].tolist()
    assert clv[0] == -clv[1]


# ------------------------------------------------------------------------ product value


def test_product_value_uses_round_of_most_recent_response():
    responses = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 1, 2, 2, 2, 3, 3],
            "round": [
                "2023-spring",
                "2023-spring",
                "2023-autumn",
                "2023-autumn",
                # customer 2: two rounds on the same latest date -> greatest round
                "2024-a",
                "2024-b",
                "2024-b",
                "2022",
                "2022",
            ],
            "date": pd.to_datetime(
                [
                    "2023-04-01",
                    "2023-04-02",
                    # autumn's responses are older than spring's latest: spring wins
                    "2023-03-01",
                    "2023-03-02",
                    "2024-05-01",
                    "2024-05-01",
                    "2024-01-01",
                    "2022-06-01",
                    "2022-06-01",
                ]
            ),
            "score": [7, 8, 2, 3, 9, 6, 7, 7, np.nan],
        }
    )
    result = product_value(responses)
    expected = pd.DataFrame(
        {
            "customer_id": [1, 2, 3],
            "product_value": [7.5, 6.5, 7.0],
            "responses": np.array([2, 2, 1], dtype="int64"),
            "round": ["2023-spring", "2024-b", "2022"],
        }
    )
    pd.testing.assert_frame_equal(result, expected)


def test_product_value_rounds_mean_half_up_to_two_decimals():
    scores = [7, 7, 7, 8, 7, 7, 7, 7]  # mean 7.125
    responses = pd.DataFrame(
        {
            "customer_id": [1] * 8 + [2] * 3,
            "round": ["r1"] * 11,
            "date": pd.Timestamp("2024-01-01"),
            "score": [*scores, 8, 8, 9],  # customer 2: 25 / 3 = 8.333...
        }
    )
    result = product_value(responses)
    assert result["product_value"].tolist() == [7.13, 8.33]
    assert result["responses"].tolist() == [8, 3]


def test_product_value_refuses_scores_outside_zero_to_ten():
    responses = pd.DataFrame(
        {
            "customer_id": [1],
            "round": ["r1"],
            "date": pd.Timestamp("2024-01-01"),
            "score": [11],
        }
    )
    with pytest.raises(ValueError, match="between 0 and 10"):
        product_value(responses)


# ------------------------------------------------------------------------- segmentation


def test_segment_customers_with_threshold_equality_and_unmeasured():
    df = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5, 6, 7],
            "clv_cents": [5_000, 5_000, 4_999, 4_999, 9_000, 100, 5_000],
            "product_value": [7.0, 6.99, 7.0, 6.99, np.nan, np.nan, 10.0],
            "active": True,
        }
    )
    frame, threshold = segment_customers(df, clv_threshold_cents=5_000)
    assert threshold == 5_000
    expected = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5, 6, 7],
            "segment": [
                "partners",  # both exactly at the thresholds: high
                "vulnerable",
                "under_earning",
                "low_low",
                "unmeasured",
                "unmeasured",
                "partners",
            ],
            "high_customer_value": [True, True, False, False, True, False, True],
            "high_product_value": [True, False, True, False, False, False, True],
        }
    )
    pd.testing.assert_frame_equal(frame, expected)


def test_segment_customers_default_threshold_is_median_of_active_rounded_half_up():
    df = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5],
            "clv_cents": [100, 200, 301, 400, 1_000_000],
            "product_value": [8.0, 8.0, 8.0, 8.0, 8.0],
            "active": [True, True, True, True, False],
        }
    )
    frame, threshold = segment_customers(df)
    # median of 100, 200, 301, 400 = 250.5 -> 251; the inactive customer does not count
    assert threshold == 251
    assert frame["segment"].tolist() == [
        "under_earning",
        "under_earning",
        "partners",
        "partners",
        "partners",
    ]


def test_segment_customers_custom_product_value_threshold():
    df = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "clv_cents": [10, 10],
            "product_value": [6.0, 5.9],
            "active": True,
        }
    )
    frame, _ = segment_customers(df, product_value_threshold=6.0)
    assert frame["segment"].tolist() == ["partners", "vulnerable"]


def test_segment_customers_without_active_customers_uses_zero_threshold():
    df = pd.DataFrame(
        {
            "customer_id": [1],
            "clv_cents": [0],
            "product_value": [np.nan],
            "active": False,
        }
    )
    frame, threshold = segment_customers(df)
    assert threshold == 0
    assert frame["segment"].tolist() == ["unmeasured"]


def test_every_segment_has_a_strategy():
    assert set(SEGMENT_STRATEGY) == set(SEGMENTS)
    assert all(SEGMENT_STRATEGY[segment] for segment in SEGMENTS)


def test_segment_summary_in_segment_order_with_zeros():
    df = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "segment": ["low_low", "partners", "partners", "unmeasured"],
            "revenue_cents": [100, 1_000, 2_000, 50],
            "profit_cents": [-40, 300, 500, 10],
            "clv_cents": [-90, 900, 1_200, 0],
        }
    )
    result = segment_summary(df)
    expected = pd.DataFrame(
        {
            "segment": list(SEGMENTS),
            "customers": np.array([2, 0, 0, 1, 1], dtype="int64"),
            "revenue_cents": np.array([3_000, 0, 0, 100, 50], dtype="int64"),
            "profit_cents": np.array([800, 0, 0, -40, 10], dtype="int64"),
            "clv_cents": np.array([2_100, 0, 0, -90, 0], dtype="int64"),
        }
    )
    pd.testing.assert_frame_equal(result, expected)


def test_segment_summary_refuses_unknown_segment():
    df = pd.DataFrame(
        {
            "customer_id": [1],
            "segment": ["whales"],
            "revenue_cents": [1],
            "profit_cents": [1],
            "clv_cents": [1],
        }
    )
    with pytest.raises(ValueError, match="whales"):
        segment_summary(df)
