from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from salesforce_tasks.bonus import (
    METRIC_LABELS,
    METRICS,
    KpiInput,
    KpiSpec,
    attainment,
    bonus,
    compare_revenue_vs_profit_bonus,
    kpi_actuals,
)

D = Decimal


def kpi(metric="portfolio_profit", *, weight, actual, threshold="0", target="100", cap="1.5"):
    return KpiInput(
        metric=metric,
        weight=D(weight),
        threshold=D(threshold),
        target=D(target),
        cap=D(cap),
        actual=None if actual is None else D(actual),
    )


def test_every_metric_has_a_label():
    assert set(METRIC_LABELS) == set(METRICS)


@pytest.mark.parametrize(
    ("actual", "expected"),
    [
        ("80", "0.0000"),  # below threshold
        ("90", "0.0000"),  # at threshold
        ("100", "0.5000"),  # halfway
        ("97", "0.3500"),  # 7 / 20
        ("110", "1.0000"),  # at target
        ("115", "1.2500"),  # above target, under the cap
        ("150", "1.5000"),  # 3.0 capped at 1.5
    ],
)
def test_attainment_clamps_between_zero_and_cap(actual, expected):
    result = attainment(actual=D(actual), threshold=D("90"), target=D("110"), cap=D("1.5"))
    assert result == D(expected)
    assert str(result) == expected


def test_attainment_quantizes_to_four_decimals_half_up():
    # 1/20000 = 0.00005 exactly: half up gives 0.0001 (half even would give 0.0000)
    assert attainment(actual=D(1), threshold=D(0), target=D(20000), cap=D(2)) == D("0.0001")
    assert attainment(actual=D(2), threshold=D(0), target=D(3), cap=D(2)) == D("0.6667")


@pytest.mark.parametrize(
    ("actual", "cap", "expected"),
    [
        ("0.90", "1.5", "1.0000"),
        ("0.95", "1.5", "1.0000"),
        ("0.89", "1.5", "0.0000"),
        ("0.95", "0.5", "0.5000"),
    ],
)
def test_attainment_with_target_equal_to_threshold_is_all_or_nothing(actual, cap, expected):
    result = attainment(actual=D(actual), threshold=D("0.90"), target=D("0.90"), cap=D(cap))
    assert result == D(expected)


def test_attainment_lower_is_better_when_target_below_threshold():
    assert attainment(actual=D(7), threshold=D(10), target=D(5), cap=D(1)) == D("0.6000")


def test_attainment_rejects_a_negative_cap():
    with pytest.raises(ValueError, match="cap"):
        attainment(actual=D(1), threshold=D(0), target=D(1), cap=D(-1))


def test_bonus_with_weights_summing_to_one():
    result = bonus(
        base_amount=D("2000.00"),
        kpis=[
            kpi("portfolio_profit", weight="0.5", actual="120"),  # 1.2
            kpi(
                "customer_retention",
                weight="0.3",
                actual="0.85",
                threshold="0.80",
                target="0.90",
            ),  # 0.5
            kpi("revenue", weight="0.2", actual="-5"),  # 0
        ],
    )
    assert [line.attainment for line in result.lines] == [D("1.2"), D("0.5"), D("0")]
    assert [line.weighted for line in result.lines] == [D("0.6"), D("0.15"), D("0")]
    assert [line.amount for line in result.lines] == [
        D("1200.00"),
        D("300.00"),
        D("0.00"),
    ]
    assert result.total == D("1500.00")


def test_bonus_rounding_remainder_goes_to_the_largest_line():
    # exact 3.333 + 3.333 + 3.334 = 10.00; rounded lines 3.33 × 3 = 9.99: the cent goes to the 3.334 line
    result = bonus(
        base_amount=D("10.00"),
        kpis=[
            kpi("portfolio_profit", weight="0.3333", actual="100"),
            kpi("revenue", weight="0.3333", actual="100"),
            kpi("gross_margin", weight="0.3334", actual="100"),
        ],
    )
    assert result.total == D("10.00")
    assert [line.amount for line in result.lines] == [D("3.33"), D("3.33"), D("3.34")]


def test_bonus_negative_remainder_is_taken_from_the_first_of_equal_lines():
    # exact 0.005 × 3: lines round up to 0.01 each (0.03) but the total 0.015 rounds to 0.02
    result = bonus(
        base_amount=D("1.00"),
        kpis=[kpi(m, weight="0.005", actual="100") for m in ("portfolio_profit", "revenue", "gross_margin")],
    )
    assert result.total == D("0.02")
    assert [line.amount for line in result.lines] == [D("0.00"), D("0.01"), D("0.01")]


def test_bonus_scores_an_unmeasurable_kpi_zero():
    result = bonus(base_amount=D("1000"), kpis=[kpi("profit_growth", weight="1", actual=None)])
    assert result.lines[0].attainment == D(0)
    assert result.total == D("0.00")


def test_bonus_rejects_an_unknown_metric():
    with pytest.raises(ValueError, match="Unknown bonus metric"):
        bonus(base_amount=D("1000"), kpis=[kpi("visits", weight="1", actual="1")])


def four_customer_portfolio() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "credit_share": [0.5, 1.0, 0.6, 0.5],
            "revenue_cents": [100000, 50000, 0, 30001],
            "gross_margin_cents": [40000, 10000, 0, 9001],
            "profit_cents": [20000, -5000, -1000, 3001],
            "profit_prev_cents": [10000, 5000, 2000, np.nan],  # customer 4 is new
            "active_prev": [True, True, True, False],
            "active": [True, True, False, True],  # customer 3 was lost
            "level_rank": [2, 4, 9, 3],
            "level_rank_prev": [3, 4, 4, 9],  # 1 big <- medium, 4 medium <- prospect
        }
    )


def test_kpi_actuals_on_a_four_customer_portfolio():
    actuals = kpi_actuals(four_customer_portfolio())
    assert actuals == {
        # 0.5×20000 - 5000 - 0.6×1000 + 0.5×3001 = 5900.5 cents
        "portfolio_profit": D("59.01"),
        # profit 10000 - 5000 - 600 = 4400 against prev 5000 + 5000 + 1200 = 11200: -6800/11200
        "profit_growth": D("-0.6071"),
        # customers 1 and 2 of 1, 2, 3
        "customer_retention": D("0.6667"),
        "customers_moved_up": D(2),
        # 50000 + 50000 + 0 + 15000.5 = 115000.5 cents
        "revenue": D("1150.01"),
        # 20000 + 10000 + 0 + 4500.5 = 34500.5 cents
        "gross_margin": D("345.01"),
    }
    assert set(actuals) == set(METRICS)


def test_kpi_actuals_growth_divides_by_the_absolute_previous_profit():
    portfolio = four_customer_portfolio().assign(
        profit_cents=[500, 0, 0, 0], profit_prev_cents=[-2000, np.nan, np.nan, np.nan]
    )
    # 0.5×500 - 0.5×(-2000) = 1250 over |−1000|
    assert kpi_actuals(portfolio)["profit_growth"] == D("1.2500")


def test_kpi_actuals_undefined_ratios_are_none():
    portfolio = four_customer_portfolio().assign(profit_prev_cents=np.nan, active_prev=False)
    actuals = kpi_actuals(portfolio)
    assert actuals["profit_growth"] is None
    assert actuals["customer_retention"] is None


def test_compare_revenue_vs_profit_bonus():
    comparison = compare_revenue_vs_profit_bonus(
        four_customer_portfolio(),
        base_amount=D("1000.00"),
        revenue_kpis=[KpiSpec("revenue", D(1), D(1000), D(1100), D("1.5"))],
        profit_kpis=[KpiSpec("portfolio_profit", D(1), D(0), D(100), D("1.5"))],
    )
    # revenue (1150.01 - 1000) / 100 = 1.5001 -> capped 1.5; profit 59.01 / 100 = 0.5901
    assert comparison.revenue_based.total == D("1500.00")
    assert comparison.profit_based.total == D("590.10")
    assert comparison.difference == D("-909.90")
    assert comparison.actuals["revenue"] == D("1150.01")
