"""Rep portfolios: crediting customer results to reps, pairs and teams; monthly targets;
visit planning and service flags (DOMAIN.md sections 9 and 10).

Pure computation: pandas/numpy in, pandas out, no Django import. Money is integer cents.
"""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd

MONEY_COLUMNS: tuple[str, ...] = (
    "revenue_cents",
    "gross_margin_cents",
    "allocated_cents",
    "profit_cents",
)
COUNT_COLUMNS: tuple[str, ...] = ("customers", "loss_making_customers")

DEFAULT_VISIT_NORM_DAYS: dict[str, int | None] = {
    "top": 30,
    "big": 91,
    "medium": 182,
    "small": 365,
    "inactive": None,
    "prospect": None,
    "suspect": None,
}
DUE_SOON_DAYS = 14
VISIT_STATUSES: tuple[str, ...] = ("overdue", "due_soon", "ok", "no_norm")

_FRACTION_TOLERANCE = 1e-9


def credit_rollup(results: pd.DataFrame, credits: pd.DataFrame, reps: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Credit each customer's results to the reps, pairs and teams that own it.

    ``results``: customer_id, revenue_cents, gross_margin_cents, allocated_cents, profit_cents
    (integers, one row per customer, one period).
    ``credits``: customer_id, pair_id, rep_id, share, weight_in_period. ``share`` is the rep's
    share of the customer within its pair (the shares of a pair's reps sum to 1; NaN means an
    equal split over the pair's reps, i.e. the default 0.5/0.5 outside/inside).
    ``weight_in_period`` is the fraction of the period the pair owned the customer: a
    customer reassigned during the period has one weight per pair, and these sum to 1. All
    rows of one (customer, pair) carry the same weight.
    ``reps``: rep_id, pair_id, team_id (a rep is in one pair, a pair in one team).

    Every customer in ``results`` must be credited (ValueError otherwise); a credited
    customer missing from ``results`` counts with zero amounts.

    Each money amount is split in integer cents over the customer's (pair, rep) rows in
    proportion to weight_in_period × share, by largest remainder: every row gets the floor
    of its exact piece (the exact piece first rounded to a millionth of a cent to drop float
    noise), and the cents left over go one each to the rows with the largest fractional part,
    ties by rep_id ascending. So the pieces of every customer sum exactly to its amount, and
    rep totals sum to pair totals, pairs to teams, teams to the company, and the company
    equals the sum over customers, to the cent (asserted).

    Returns {"rep", "pair", "team", "company"} frames: the ids (rep: rep_id, pair_id, team_id;
    pair: pair_id, team_id; team: team_id; company: none), the money columns in int64 cents,
    ``customers`` (distinct customers with weight_in_period > 0) and
    ``loss_making_customers`` (of those, the ones whose profit_cents < 0). A rep counts every
    customer of its pair's portfolio, even at share 0. Counts are distinct customers, so a
    customer reassigned between two pairs counts in both pairs, once in the team and once
    in the company: unlike money, counts do not add up. Every rep, pair and team in ``reps``
    has a row, with zeros when nothing is credited to it.
    """
    _require(results, ("customer_id", *MONEY_COLUMNS), "results")
    _require(
        credits,
        ("customer_id", "pair_id", "rep_id", "share", "weight_in_period"),
        "credits",
    )
    _require(reps, ("rep_id", "pair_id", "team_id"), "reps")
    _check_reps(reps)
    if results["customer_id"].duplicated().any():
        raise ValueError("results must have one row per customer.")

    table = _credit_table(credits, reps)
    uncredited = sorted(set(results["customer_id"]) - set(table["customer_id"]))
    if uncredited:
        raise ValueError(f"These customers are in no portfolio: {', '.join(map(str, uncredited))}.")

    amounts = (
        table[["customer_id"]]
        .merge(results, on="customer_id", how="left", validate="many_to_one")[list(MONEY_COLUMNS)]
        .fillna(0)
        .astype("int64")
    )
    fraction = table["weight_in_period"] * table["share"]
    fraction = fraction / fraction.groupby(table["customer_id"]).transform("sum")
    pieces = table.assign(
        **{
            column: _split_cents(amounts[column], fraction, table["customer_id"], table["rep_id"])
            for column in MONEY_COLUMNS
        },
        loss_making=amounts["profit_cents"].to_numpy() < 0,
    )

    rep = _rollup(pieces, reps, ["rep_id", "pair_id", "team_id"])
    pair = _rollup(pieces, reps, ["pair_id", "team_id"])
    team = _rollup(pieces, reps, ["team_id"])
    company = _rollup(pieces.assign(company=0), pd.DataFrame({"company": [0]}), ["company"]).drop(columns="company")

    expected = results[list(MONEY_COLUMNS)].sum()
    for column in MONEY_COLUMNS:
        total = int(expected[column])
        assert int(rep[column].sum()) == int(pair[column].sum()) == int(team[column].sum()) == total
        assert int(company[column].iloc[0]) == total
    return {"rep": rep, "pair": pair, "team": team, "company": company}


def monthly_targets(annual_cents: int, seasonality: list[float] | None = None) -> list[int]:
    """Split an annual target into 12 monthly targets, in integer cents.

    ``seasonality``: 12 percentages (>= 0) that sum to 100 (within 1e-6; ValueError
    otherwise); None means an even split. Each month gets the floor of its exact share and
    the cents left over go one each to the months with the largest fractional part, the
    earlier month first on ties, so the months sum exactly to ``annual_cents`` (which may be
    negative, e.g. a loss target).
    """
    if seasonality is None:
        seasonality = [1.0] * 12
    else:
        if len(seasonality) != 12:
            raise ValueError(f"Seasonality needs 12 monthly percentages, not {len(seasonality)}.")
        if any(p < 0 for p in seasonality):
            raise ValueError("Seasonality percentages must be zero or more.")
        if abs(sum(seasonality) - 100) > 1e-6:
            raise ValueError(f"Seasonality percentages must sum to 100, not {sum(seasonality):g}.")
    weights = pd.Series(seasonality, dtype="float64")
    months = _split_cents(
        pd.Series([int(annual_cents)] * 12, dtype="int64"),
        weights / weights.sum(),
        pd.Series([0] * 12),
        pd.Series(range(12)),
    )
    result = [int(m) for m in months]
    assert sum(result) == annual_cents
    return result


def visit_plan(
    customers: pd.DataFrame,
    *,
    today: datetime.date,
    norms: dict[str, int | None] | None = None,
    due_soon_days: int = DUE_SOON_DAYS,
) -> pd.DataFrame:
    """When each customer of a portfolio should be visited next.

    ``customers``: customer_id, level, last_visit (date or NaT), profit_cents, visit_minutes.
    ``norms``: days between visits per pyramid level, laid over
    :data:`DEFAULT_VISIT_NORM_DAYS` (top 30, big 91, medium 182, small 365; None for
    inactive, prospect and suspect, and for any level named nowhere).

    Adds
    - next_due: last_visit + norm (a ``datetime.date``); today for a customer never visited;
      NaT without a norm;
    - days_overdue: max(0, today - next_due) in days, int; 0 without a norm;
    - status: "overdue" (next_due before today, or never visited), "due_soon" (due today or
      within ``due_soon_days``), "ok", or "no_norm".

    Sorted as a to-do list, by what matters: by status in that order; within a status by the
    level's norm (the shorter the norm, the more the customer matters: top before big before
    medium before small), then days_overdue descending, next_due, profit_cents descending and
    customer_id; the index is reset. (:data:`VISIT_PLAN_ORDER` says it on the page.)
    """
    _require(
        customers,
        ("customer_id", "level", "last_visit", "profit_cents", "visit_minutes"),
        "customers",
    )
    all_norms = {**DEFAULT_VISIT_NORM_DAYS, **(norms or {})}
    bad = {level: days for level, days in all_norms.items() if days is not None and days <= 0}
    if bad:
        raise ValueError(f"Visit norms must be a positive number of days: {bad}.")

    now = pd.Timestamp(today)
    last = pd.to_datetime(customers["last_visit"])
    norm_days = customers["level"].map(all_norms).astype("float64")
    has_norm = norm_days.notna()
    never = last.isna() & has_norm
    next_due = (last + pd.to_timedelta(norm_days, unit="D")).mask(never, now)
    days_overdue = (now - next_due).dt.days.clip(lower=0).fillna(0).astype("int64")
    status = np.select(
        [
            ~has_norm,
            never | (next_due < now),
            next_due <= now + pd.Timedelta(days=due_soon_days),
        ],
        ["no_norm", "overdue", "due_soon"],
        default="ok",
    )
    status_rank = pd.Series(status, index=customers.index).map({s: i for i, s in enumerate(VISIT_STATUSES)})
    return (
        customers.assign(
            next_due=next_due.dt.date,
            days_overdue=days_overdue,
            status=status,
            _rank=status_rank,
            _norm=norm_days.fillna(np.inf),
            _due=next_due,
        )
        .sort_values(
            ["_rank", "_norm", "days_overdue", "_due", "profit_cents", "customer_id"],
            ascending=[True, True, False, True, False, True],
            kind="stable",
        )
        .drop(columns=["_rank", "_norm", "_due"])
        .reset_index(drop=True)
    )


def service_flags(
    df: pd.DataFrame,
    *,
    today: datetime.date,
    visit_minutes_factor: float = 2.0,
    low_profit_cents: int = 0,
    under_served_days: int = 90,
    under_served_levels: tuple[str, ...] = ("top", "big"),
    high_clv_cents: int | None = None,
) -> pd.DataFrame:
    """Flag over-served and under-served customers of a portfolio.

    ``df``: customer_id, level, visit_minutes, profit_cents, last_visit (date or NaT), and
    optionally clv_cents.

    - over_served: visit_minutes > ``visit_minutes_factor`` (default 2) × the median
      visit_minutes of the customers of the same level in ``df`` (of its visited customers
      when that median is 0), and profit_cents <= ``low_profit_cents`` (default 0:
      loss-making or break-even).
    - under_served: the customer matters (its level is in ``under_served_levels``, default
      top and big, or its clv_cents >= ``high_clv_cents``, default the median clv_cents of
      ``df`` as in DOMAIN.md section 7) and it had no visit in the last
      ``under_served_days`` days: never visited, or last visited more than that many days
      before ``today``.

    Returns customer_id, over_served, under_served, reason (one English sentence per flag,
    "" when none; for reports and logs), and the figures a page needs to say the reason in its
    own language: median_minutes (of the level, float), days_since (last visit, float, NaN
    when never) and under_limit_days; in the order of ``df``, index reset.

    The medians are those of ``df``: pass every customer of the company (not one viewer's
    scope) so the norm is the same whoever looks, then keep the rows a viewer may see.
    """
    _require(
        df,
        ("customer_id", "level", "visit_minutes", "profit_cents", "last_visit"),
        "df",
    )
    minutes = df["visit_minutes"].astype("float64")
    profit = df["profit_cents"].astype("int64")
    level = df["level"].astype("string")

    median = minutes.groupby(level).transform("median")
    # Where most customers of a level had no visit, its median is 0 and "more than 2x 0" would flag
    # every visited customer: the norm is then the median of the level's visited customers.
    visited_median = minutes.where(minutes > 0).groupby(level).transform("median")
    median = median.where(median > 0, visited_median)
    over = (minutes > visit_minutes_factor * median) & (profit <= low_profit_cents)

    in_levels = level.isin(under_served_levels).fillna(False).astype(bool)
    if "clv_cents" in df.columns:
        clv = df["clv_cents"].astype("float64")
        threshold = clv.median() if high_clv_cents is None else high_clv_cents
        high_value = (clv >= threshold).fillna(False).astype(bool)
    else:
        high_value = pd.Series(False, index=df.index)
    days_since = (pd.Timestamp(today) - pd.to_datetime(df["last_visit"])).dt.days
    never = days_since.isna()
    under = (in_levels | high_value) & (never | (days_since > under_served_days))

    over_reason = (
        "Over-served: "
        + minutes.round().astype("int64").astype(str)
        + " visit minutes, more than "
        + f"{visit_minutes_factor:g}× the median of "
        + median.round().fillna(0).astype("int64").astype(str)
        + " for "
        + level.fillna("unknown").astype(str)
        + " customers, while profit is "
        + _euros(profit)
        + "."
    )
    who = pd.Series(np.where(in_levels, level.fillna("").astype(str) + " customer", "high-value customer"))
    when = pd.Series(
        np.where(
            never,
            "never visited",
            "not visited for "
            + days_since.fillna(0).astype("int64").astype(str)
            + f" days (limit {under_served_days})",
        )
    )
    under_reason = "Under-served: " + who + " " + when + "."
    reason = (
        pd.Series(np.where(over, over_reason, ""))
        + pd.Series(np.where(over & under, " ", ""))
        + pd.Series(np.where(under, under_reason.to_numpy(), ""))
    )
    return pd.DataFrame(
        {
            "customer_id": df["customer_id"].to_numpy(),
            "over_served": over.to_numpy(dtype=bool),
            "under_served": under.to_numpy(dtype=bool),
            "reason": reason.to_numpy(),
            "median_minutes": median.to_numpy(dtype="float64"),
            "days_since": days_since.to_numpy(dtype="float64"),
            "under_limit_days": under_served_days,
        }
    )


def _split_cents(amount: pd.Series, fraction: pd.Series, group: pd.Series, tie: pd.Series) -> np.ndarray:
    """Split integer amounts into integer pieces by largest remainder.

    Row i gets about amount[i] × fraction[i]; the rows of one group repeat the group's amount
    and their fractions sum to 1. Pieces of a group sum exactly to its amount; leftover cents
    go to the largest fractional parts, ties by ``tie`` ascending.
    """
    exact = np.round(amount.to_numpy(dtype="float64") * fraction.to_numpy(dtype="float64"), 6)
    floor = np.floor(exact)
    order = pd.DataFrame(
        {
            "group": group.to_numpy(),
            "part": exact - floor,
            "tie": tie.to_numpy(),
            "floor": floor.astype("int64"),
            "amount": amount.to_numpy(dtype="int64"),
        }
    )
    short = order["amount"] - order.groupby("group")["floor"].transform("sum")
    position = (
        order.sort_values(["group", "part", "tie"], ascending=[True, False, True], kind="stable")
        .groupby("group")
        .cumcount()
        .reindex(order.index)
    )
    assert ((short >= 0) & (short <= order.groupby("group")["floor"].transform("size"))).all()
    pieces = order["floor"] + (position < short).astype("int64")
    return pieces.to_numpy(dtype="int64")


def _credit_table(credits: pd.DataFrame, reps: pd.DataFrame) -> pd.DataFrame:
    """Validated credits joined to the reps' teams, with NaN shares filled by an equal split."""
    if credits.duplicated(["customer_id", "rep_id"]).any():
        raise ValueError("A rep can be credited only once per customer.")
    table = credits.merge(
        reps.rename(columns={"pair_id": "rep_pair_id"}),
        on="rep_id",
        how="left",
        validate="many_to_one",
    )
    if table["team_id"].isna().any():
        unknown = sorted(set(table.loc[table["team_id"].isna(), "rep_id"]))
        raise ValueError(f"Unknown reps in credits: {', '.join(map(str, unknown))}.")
    if (table["pair_id"] != table["rep_pair_id"]).any():
        raise ValueError("A credit names a pair its rep does not belong to.")

    by_pair = table.groupby(["customer_id", "pair_id"])
    share = table["share"].astype("float64")
    share = share.fillna(1 / by_pair["rep_id"].transform("size"))
    weight = table["weight_in_period"].astype("float64")
    if ((share < 0) | (share > 1)).any() or ((weight < 0) | (weight > 1)).any() or weight.isna().any():
        raise ValueError("share and weight_in_period must lie between 0 and 1.")
    if (by_pair["weight_in_period"].transform("nunique") > 1).any():
        raise ValueError("All reps of a pair must carry the same weight_in_period for a customer.")
    share_sum = share.groupby([table["customer_id"], table["pair_id"]]).transform("sum")
    if (share_sum - 1).abs().gt(_FRACTION_TOLERANCE).any():
        raise ValueError("The shares of a pair's reps must sum to 1 for every customer.")
    pair_weight = table.drop_duplicates(["customer_id", "pair_id"]).groupby("customer_id")["weight_in_period"].sum()
    if (pair_weight - 1).abs().gt(_FRACTION_TOLERANCE).any():
        raise ValueError("The weights in period of a customer's pairs must sum to 1.")
    return table.drop(columns="rep_pair_id").assign(share=share, weight_in_period=weight)


def _check_reps(reps: pd.DataFrame) -> None:
    if reps["rep_id"].duplicated().any():
        raise ValueError("reps must have one row per rep.")
    if (reps.groupby("pair_id")["team_id"].nunique() > 1).any():
        raise ValueError("A pair must belong to one team.")


def _rollup(pieces: pd.DataFrame, reps: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Money sums and distinct-customer counts per ``keys[0]``, one row per id in ``reps``."""
    key = keys[0]
    money = pieces.groupby(key)[list(MONEY_COLUMNS)].sum()
    live = pieces[pieces["weight_in_period"] > 0].drop_duplicates([key, "customer_id"])
    counts = live.groupby(key).agg(customers=("customer_id", "size"), loss_making_customers=("loss_making", "sum"))
    frame = (
        reps[keys]
        .drop_duplicates(key)
        .sort_values(key)
        .join(money, on=key)
        .join(counts, on=key)
        .fillna({column: 0 for column in (*MONEY_COLUMNS, *COUNT_COLUMNS)})
        .astype({column: "int64" for column in (*MONEY_COLUMNS, *COUNT_COLUMNS)})
    )
    return frame.reset_index(drop=True)


def _euros(cents: pd.Series) -> pd.Series:
    """Integer cents as text, e.g. -123456 -> "-€1234.56"."""
    magnitude = cents.abs()
    return (
        pd.Series(np.where(cents < 0, "-€", "€"), index=cents.index)
        + (magnitude // 100).astype(str)
        + "."
        + (magnitude % 100).astype(str).str.zfill(2)
    )


def _require(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"The {name} frame lacks the columns {', '.join(missing)}.")
