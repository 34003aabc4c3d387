import datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from salesforce_tasks.portfolio import (
    MONEY_COLUMNS,
    credit_rollup,
    monthly_targets,
    service_flags,
    visit_plan,
)

date = datetime.date

COLUMNS = [*MONEY_COLUMNS, "customers", "loss_making_customers"]


def money_frame(ids: dict, rows: list[list[int]]) -> pd.DataFrame:
    return pd.DataFrame({**ids, **{c: [row[i] for row in rows] for i, c in enumerate(COLUMNS)}}).astype(
        {c: "int64" for c in COLUMNS}
    )


# --- credit_rollup ---------------------------------------------------------------------------


def two_customer_case():
    results = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "revenue_cents": [10001, 500],
            "gross_margin_cents": [3333, 100],
            "allocated_cents": [1000, 300],
            "profit_cents": [2333, -200],
        }
    )
    # customer 1 moves from pair A (60/40) to pair B (default 50/50) after a quarter of the period
    credits = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 1, 2, 2],
            "pair_id": ["A", "A", "B", "B", "A", "A"],
            "rep_id": ["a1", "a2", "b1", "b2", "a1", "a2"],
            "share": [0.6, 0.4, np.nan, np.nan, 0.6, 0.4],
            "weight_in_period": [0.25, 0.25, 0.75, 0.75, 1.0, 1.0],
        }
    )
    reps = pd.DataFrame(
        {
            "rep_id": ["a1", "a2", "b1", "b2", "c1"],
            "pair_id": ["A", "A", "B", "B", "C"],
            "team_id": ["T1", "T1", "T1", "T1", "T2"],
        }
    )
    return results, credits, reps


def test_credit_rollup_with_a_reassignment_and_60_40_shares():
    rollup = credit_rollup(*two_customer_case())
    # Customer 1 fractions a1 .15, a2 .10, b1 .375, b2 .375:
    #   revenue 10001 -> 1500.15, 1000.1, 3750.375, 3750.375; 1 cent left: b1 (tie with b2, rep_id first)
    #   margin 3333   -> 499.95, 333.3, 1249.875, 1249.875; 3 cents left: a1, b1, b2
    #   allocated 1000 -> 150, 100, 375, 375
    #   profit 2333   -> 349.95, 233.3, 874.875, 874.875; 3 cents left: a1, b1, b2
    # Customer 2 (pair A only, 60/40): 300/200, 60/40, 180/120, -120/-80.
    expected_rep = money_frame(
        {
            "rep_id": ["a1", "a2", "b1", "b2", "c1"],
            "pair_id": ["A", "A", "B", "B", "C"],
            "team_id": ["T1", "T1", "T1", "T1", "T2"],
        },
        [
            [1500 + 300, 500 + 60, 150 + 180, 350 - 120, 2, 1],
            [1000 + 200, 333 + 40, 100 + 120, 233 - 80, 2, 1],
            [3751, 1250, 375, 875, 1, 0],
            [3750, 1250, 375, 875, 1, 0],
            [0, 0, 0, 0, 0, 0],
        ],
    )
    expected_pair = money_frame(
        {"pair_id": ["A", "B", "C"], "team_id": ["T1", "T1", "T2"]},
        [
            [3000, 933, 550, 383, 2, 1],
            [7501, 2500, 750, 1750, 1, 0],
            [0, 0, 0, 0, 0, 0],
        ],
    )
    expected_team = money_frame({"team_id": ["T1", "T2"]}, [[10501, 3433, 1300, 2133, 2, 1], [0, 0, 0, 0, 0, 0]])
    expected_company = money_frame({}, [[10501, 3433, 1300, 2133, 2, 1]])

    pd.testing.assert_frame_equal(rollup["rep"], expected_rep)
    pd.testing.assert_frame_equal(rollup["pair"], expected_pair)
    pd.testing.assert_frame_equal(rollup["team"], expected_team)
    pd.testing.assert_frame_equal(rollup["company"], expected_company)


def test_credit_rollup_rejects_an_uncredited_customer():
    results, credits, reps = two_customer_case()
    results = pd.concat([results, results.iloc[[0]].assign(customer_id=3)], ignore_index=True)
    with pytest.raises(ValueError, match="in no portfolio: 3"):
        credit_rollup(results, credits, reps)


@pytest.mark.parametrize(
    ("column", "values", "message"),
    [
        ("share", [0.6, 0.3, np.nan, np.nan, 0.6, 0.4], "shares"),
        ("weight_in_period", [0.25, 0.25, 0.5, 0.5, 1.0, 1.0], "weights in period"),
        (
            "weight_in_period",
            [0.25, 0.2, 0.75, 0.75, 1.0, 1.0],
            "same weight_in_period",
        ),
        ("pair_id", ["A", "B", "B", "B", "A", "A"], "pair its rep"),
    ],
)
def test_credit_rollup_rejects_inconsistent_credits(column, values, message):
    results, credits, reps = two_customer_case()
    with pytest.raises(ValueError, match=message):
        credit_rollup(results, credits.assign(**{column: values}), reps)


@st.composite
def portfolios(draw):
    n_pairs = draw(st.integers(1, 4))
    reps = pd.DataFrame(
        [
            {"rep_id": f"r{p}{k}", "pair_id": f"p{p}", "team_id": f"t{p % 2}"}
            for p in range(n_pairs)
            for k in range(draw(st.integers(1, 2)))
        ]
    )
    amount = st.integers(-10_000_000, 10_000_000)
    results, credits = [], []
    for customer in range(draw(st.integers(1, 8))):
        results.append({"customer_id": customer, **{c: draw(amount) for c in MONEY_COLUMNS}})
        pairs = draw(st.lists(st.integers(0, n_pairs - 1), min_size=1, max_size=3, unique=True))
        periods = draw(st.lists(st.integers(1, 365), min_size=len(pairs), max_size=len(pairs)))
        for pair, days in zip(pairs, periods, strict=True):
            members = reps[reps["pair_id"] == f"p{pair}"]
            parts = draw(st.lists(st.integers(0, 10), min_size=len(members), max_size=len(members)))
            if sum(parts) == 0:
                parts = [1] * len(parts)
            for rep_id, part in zip(members["rep_id"], parts, strict=True):
                credits.append(
                    {
                        "customer_id": customer,
                        "pair_id": f"p{pair}",
                        "rep_id": rep_id,
                        "share": part / sum(parts),
                        "weight_in_period": days / sum(periods),
                    }
                )
    return pd.DataFrame(results), pd.DataFrame(credits), reps


@settings(max_examples=200, deadline=None)
@given(portfolios())
def test_credit_rollup_reconciles_to_the_cent(case):
    results, credits, reps = case
    rollup = credit_rollup(results, credits, reps)
    rep, pair, team, company = (
        rollup["rep"],
        rollup["pair"],
        rollup["team"],
        rollup["company"],
    )
    money = list(MONEY_COLUMNS)

    by_pair = rep.groupby("pair_id")[money].sum()
    pd.testing.assert_frame_equal(by_pair, pair.set_index("pair_id")[money])
    by_team = pair.groupby("team_id")[money].sum()
    pd.testing.assert_frame_equal(by_team, team.set_index("team_id")[money])
    assert team[money].sum().tolist() == company[money].iloc[0].tolist() == results[money].sum().tolist()
    assert company["customers"].iloc[0] == len(results)

    # each rep is within one cent per customer of its exact (unrounded) credit
    exact = credits.merge(results, on="customer_id").assign(fraction=lambda f: f["share"] * f["weight_in_period"])
    for column in money:
        owed = (exact[column] * exact["fraction"]).groupby(exact["rep_id"]).sum()
        credited = rep.set_index("rep_id")[column].reindex(owed.index)
        assert ((credited - owed).abs() <= results.shape[0]).all()


# --- monthly_targets -------------------------------------------------------------------------


def test_monthly_targets_even_split_gives_the_remainder_to_the_earliest_months():
    # 100001 / 12 = 8333.42: 5 cents left over, all months tie
    assert monthly_targets(100001, None) == [8334] * 5 + [8333] * 7


def test_monthly_targets_with_seasonality_and_remainder():
    seasonality = [10, 10, 5, 5, 5, 5, 5, 5, 10, 10, 15, 15]
    # 999 cents: 99.9 ×4 (.9), 49.95 ×6 (.95), 149.85 ×2 (.85); floors sum to 988, 11 cents left:
    # the six .95 months, the four .9 months, then November before December
    assert monthly_targets(999, seasonality) == [
        100,
        100,
        50,
        50,
        50,
        50,
        50,
        50,
        100,
        100,
        150,
        149,
    ]


def test_monthly_targets_of_a_negative_target_sum_exactly():
    months = monthly_targets(-100001)
    assert sum(months) == -100001
    assert months == [-8333] * 7 + [-8334] * 5


@pytest.mark.parametrize(
    "seasonality",
    [[8] * 12, [10] * 10, [-10, 30] + [10] * 8 + [0, 0]],
)
def test_monthly_targets_reject_bad_seasonality(seasonality):
    with pytest.raises(ValueError, match="Seasonality"):
        monthly_targets(1200, seasonality)


# --- visit_plan ------------------------------------------------------------------------------


def test_visit_plan_overdue_and_due_soon():
    customers = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5, 6, 7],
            "level": ["top", "big", "medium", "prospect", "top", "small", "small"],
            "last_visit": [
                date(2024, 1, 1),  # + 30 = Jan 31: 30 days overdue
                date(2023, 12, 10),  # + 91 = Mar 10: due within 14 days
                date(2024, 1, 1),  # + 182 = Jul 1: ok
                pd.NaT,  # no norm for prospects
                pd.NaT,  # a top customer never visited: overdue, due today
                date(2023, 3, 1),  # + 365 = Feb 29 2024: 1 day overdue
                date(2023, 3, 16),  # + 365 = Mar 15 2024: exactly 14 days, due soon
            ],
            "profit_cents": [100, 200, 300, 0, 500, -600, 700],
            "visit_minutes": [60, 30, 0, 0, 0, 120, 0],
        }
    )
    plan = visit_plan(customers, norms={}, today=date(2024, 3, 1))
    expected = (
        # overdue: the two top customers before the small one 1 day overdue (level norm first)
        customers.iloc[[0, 4, 5, 1, 6, 2, 3]]
        .reset_index(drop=True)
        .assign(
            next_due=[
                date(2024, 1, 31),
                date(2024, 3, 1),
                date(2024, 2, 29),
                date(2024, 3, 10),
                date(2024, 3, 15),
                date(2024, 7, 1),
                pd.NaT,
            ],
            days_overdue=np.array([30, 0, 1, 0, 0, 0, 0], dtype="int64"),
            status=[
                "overdue",
                "overdue",
                "overdue",
                "due_soon",
                "due_soon",
                "ok",
                "no_norm",
            ],
        )
    )
    pd.testing.assert_frame_equal(plan, expected)


def test_visit_plan_puts_top_customers_before_long_overdue_small_ones():
    customers = pd.DataFrame(
        {
            "customer_id": [1, 2, 3],
            "level": ["small", "top", "medium"],
            "last_visit": [date(2021, 1, 1), date(2024, 1, 20), date(2023, 1, 1)],
            "profit_cents": [0, 0, 0],
            "visit_minutes": [0, 0, 0],
        }
    )
    plan = visit_plan(customers, norms={}, today=date(2024, 3, 1))
    assert plan["status"].tolist() == ["overdue", "overdue", "overdue"]
    assert plan["customer_id"].tolist() == [2, 3, 1]  # top, medium, small: not the 1,000+ days first


def test_visit_plan_norms_override_the_defaults():
    customers = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "level": ["top", "prospect"],
            "last_visit": [date(2024, 2, 1), date(2024, 1, 1)],
            "profit_cents": [0, 0],
            "visit_minutes": [0, 0],
        }
    )
    plan = visit_plan(customers, norms={"top": 14, "prospect": 60}, today=date(2024, 3, 1))
    assert plan["customer_id"].tolist() == [1, 2]
    assert plan["next_due"].tolist() == [
        date(2024, 2, 15),
        date(2024, 3, 1),
    ]  # 2024 is a leap year
    assert plan["days_overdue"].tolist() == [15, 0]
    assert plan["status"].tolist() == ["overdue", "due_soon"]


# --- service_flags ---------------------------------------------------------------------------


def test_over_served_norm_is_the_visited_median_where_most_of_a_level_had_no_visit():
    """Four of five small customers were never visited: the level's median is 0, so the norm is the
    median of the visited ones (100 min), not "more than 2x the median of 0"."""
    df = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5, 6, 7],
            "level": ["small"] * 5 + ["big"] * 2,
            "visit_minutes": [100, 0, 0, 0, 0, 0, 0],
            "profit_cents": [-500] * 7,
            "last_visit": [pd.NaT] * 7,
        }
    )
    flags = service_flags(df, today=date(2024, 6, 1))
    assert not flags["over_served"].any()
    assert flags["median_minutes"].tolist()[:5] == [100.0] * 5
    # Seven small customers, three visited (100, 300, 100 min): the level's median is 0, the visited
    # median 100, so 300 min is more than twice the norm.
    df["level"] = ["small"] * 7
    df["visit_minutes"] = [100, 300, 100, 0, 0, 0, 0]
    flags = service_flags(df, today=date(2024, 6, 1))
    assert flags["over_served"].tolist() == [False, True, False, False, False, False, False]
    assert "more than 2× the median of 100 for small customers" in flags["reason"][1]
    df["level"] = ["small"] * 5 + ["big"] * 2
    df["visit_minutes"] = [100, 300, 100, 0, 0, 0, 0]
    flags = service_flags(df, today=date(2024, 6, 1))
    # A level nobody visited flags nobody.
    assert not flags.loc[flags["customer_id"].isin([6, 7]), "over_served"].any()


def test_service_flags():
    df = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
            "level": [
                "medium",
                "medium",
                "medium",
                "top",
                "big",
                "big",
                "small",
                "small",
                "small",
                "top",
                "top",
            ],
            "visit_minutes": [300, 60, 100, 0, 500, 100, 400, 50, 0, 1000, 100],
            "profit_cents": [
                -5000,
                100000,
                0,
                50000,
                -1,
                10,
                -250,
                1000,
                -100,
                -10000,
                1,
            ],
            "last_visit": [
                date(2024, 5, 20),
                date(2024, 5, 20),
                date(2024, 5, 20),
                date(2024, 1, 1),  # 152 days ago
                pd.NaT,
                date(2024, 3, 3),  # exactly 90 days ago: not under-served
                date(2024, 5, 1),
                date(2024, 1, 2),  # 151 days ago
                pd.NaT,
                date(2024, 2, 1),  # 121 days ago
                date(2024, 5, 30),
            ],
            "clv_cents": [0, 0, 0, 0, 0, 0, 900_000, 900_000, 100, 0, 0],
        }
    )
    # level medians of visit minutes: medium 100, top 100 (0, 100, 1000), big 300, small 50
    flags = service_flags(df, today=date(2024, 6, 1), high_clv_cents=500_000)
    expected = pd.DataFrame(
        {
            "customer_id": df["customer_id"],
            "over_served": [
                True,
                False,
                False,
                False,
                False,
                False,
                True,
                False,
                False,
                True,
                False,
            ],
            "under_served": [
                False,
                False,
                False,
                True,
                True,
                False,
                False,
                True,
                False,
                True,
                False,
            ],
            "reason": [
                (
                    "Over-served: 300 visit minutes, more than 2× the median of 100 for medium customers,"
                    " while profit is -€50.00."
                ),
                "",
                "",
                "Under-served: top customer not visited for 152 days (limit 90).",
                "Under-served: big customer never visited.",
                "",
                (
                    "Over-served: 400 visit minutes, more than 2× the median of 50 for small customers,"
                    " while profit is -€2.50."
                ),
                "Under-served: high-value customer not visited for 151 days (limit 90).",
                "",
                (
                    "Over-served: 1000 visit minutes, more than 2× the median of 100 for top customers,"
                    " while profit is -€100.00. Under-served: top customer not visited for 121 days (limit 90)."
                ),
                "",
            ],
        }
    )
    pd.testing.assert_frame_equal(flags[expected.columns], expected)
    # the figures a page needs to say the reason in its own language
    assert list(flags.columns[4:]) == ["median_minutes", "days_since", "under_limit_days"]
    assert (flags["under_limit_days"] == 90).all()


def test_service_flags_default_clv_threshold_is_the_median():
    df = pd.DataFrame(
        {
            "customer_id": [1, 2, 3],
            "level": ["small", "small", "small"],
            "visit_minutes": [0, 0, 0],
            "profit_cents": [100, 100, 100],
            "last_visit": [pd.NaT, pd.NaT, pd.NaT],
            "clv_cents": [100, 200, 300],
        }
    )
    flags = service_flags(df, today=date(2024, 6, 1))
    assert flags["under_served"].tolist() == [False, True, True]
    assert flags["reason"].iloc[1] == "Under-served: high-value customer never visited."
    assert not service_flags(df.drop(columns="clv_cents"), today=date(2024, 6, 1))["under_served"].any()
