"""Growth scenarios: a five-year projection of the customer pyramid (DOMAIN section 8).

Pure computation: pandas/numpy in, pandas out. No Django import, no ORM.

The model is the level transition matrix of the last period pair (a Markov chain over
``STATES``), plus yearly acquisition of new customers distributed over the active levels
as the new customers of the last period were, and the average revenue, gross margin and
cost to serve per customer per level of the last period. ``Levers`` change that model.

Customer counts are expected numbers (floats, not rounded). Money is float cents inside
and whole cents (``int64``) at the output.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from scenarios.valuation import (
    ACTIVE,
    STATES,
    matrix_array,
    round_cents,
    transition_matrix,
)

_INACTIVE = STATES.index("inactive")


def _no_retention_change() -> dict[str, float]:
    return {level: 0.0 for level in ACTIVE}


@dataclass(frozen=True)
class Levers:
    """What a scenario changes against today's model.

    - ``retention_change_points``: per active level, percentage points of probability
      moved each year from the row's "inactive" cell to its stay-on-level cell
      (negative: the other way); capped so every probability stays in [0, 1]. Missing
      levels count as 0.
    - ``upward_migration_points``: percentage points moved from staying at the level to
      the next level up (small -> medium -> big -> top; top stays), applied after
      retention and capped the same way.
    - ``acquisition_growth``: yearly growth of the number of new customers acquired.
    - ``spend_growth``: yearly growth of revenue and gross margin per customer.
    - ``cost_to_serve_change``: yearly change of cost to serve per customer.
    - ``discount_rate``, ``horizon``: for the discounted profit and its NPV.
    """

    retention_change_points: dict[str, float] = field(default_factory=_no_retention_change)
    upward_migration_points: float = 0.0
    acquisition_growth: float = 0.0
    spend_growth: float = 0.0
    cost_to_serve_change: float = 0.0
    discount_rate: float = 0.08
    horizon: int = 5

    def __post_init__(self) -> None:
        unknown = set(self.retention_change_points) - set(ACTIVE)
        if unknown:
            raise ValueError(f"Levers: retention_change_points has unknown levels {sorted(unknown)}; use {ACTIVE}.")
        for name in (
            "acquisition_growth",
            "spend_growth",
            "cost_to_serve_change",
            "discount_rate",
        ):
            if getattr(self, name) <= -1:
                raise ValueError(f"Levers: {name} must be greater than -1 (-100 %).")
        if int(self.horizon) != self.horizon or self.horizon < 0:
            raise ValueError("Levers: horizon must be a whole number of years >= 0.")


def _retention_points(points: float) -> dict[str, float]:
    return {level: points for level in ACTIVE}


BUILT_IN: dict[str, Levers] = {
    "do_nothing": Levers(),
    "conservative": Levers(
        retention_change_points=_retention_points(2.0),
        upward_migration_points=1.0,
        acquisition_growth=0.10,
        spend_growth=0.03,
        cost_to_serve_change=-0.02,
    ),
    "ambitious": Levers(
        retention_change_points=_retention_points(5.0),
        upward_migration_points=3.0,
        acquisition_growth=0.25,
        spend_growth=0.08,
        cost_to_serve_change=-0.05,
    ),
}


@dataclass(frozen=True)
class Baseline:
    """Today's model, from the last period pair.

    - ``counts``: customers per active level today, plus ``"inactive"`` (missing = 0).
    - ``matrix``: 5 x 5 row-stochastic transition matrix over ``STATES``.
    - ``new_customers``: customers new in the last period.
    - ``new_distribution``: share of those per active level; sums to 1 when
      ``new_customers > 0`` (all zero otherwise).
    - ``revenue_per_customer``, ``margin_per_customer``, ``cost_per_customer``: average
      float cents per customer per active level in the last period (missing = 0).
    """

    counts: dict[str, float]
    matrix: pd.DataFrame
    new_customers: float
    new_distribution: dict[str, float]
    revenue_per_customer: dict[str, float]
    margin_per_customer: dict[str, float]
    cost_per_customer: dict[str, float]


def adjusted_matrix(matrix: pd.DataFrame, levers: Levers) -> pd.DataFrame:
    """Apply the retention and upward-migration levers to a transition matrix.

    Per active level ``l`` (row ``l``), first retention: ``p = points / 100`` is moved
    from ``M[l, inactive]`` to ``M[l, l]`` (negative ``p``: from ``M[l, l]`` to
    inactive), capped by what the giving cell holds. Then upward migration:
    ``u = points / 100`` is moved from ``M[l, l]`` to ``M[l, next level up]`` for big,
    medium and small (top stays), capped the same way. The inactive row is unchanged.
    Rows keep summing to 1, cells stay in [0, 1].
    """
    m = matrix_array(matrix).copy()
    for row, level in enumerate(ACTIVE):
        p = levers.retention_change_points.get(level, 0.0) / 100.0
        moved = float(np.clip(p, -m[row, row], m[row, _INACTIVE]))
        m[row, _INACTIVE] -= moved
        m[row, row] += moved
    u = levers.upward_migration_points / 100.0
    for row in range(1, len(ACTIVE)):
        moved = float(np.clip(u, -m[row, row - 1], m[row, row]))
        m[row, row] -= moved
        m[row, row - 1] += moved
    return pd.DataFrame(
        np.clip(m, 0.0, 1.0),
        index=pd.Index(STATES, name="from_level"),
        columns=pd.Index(STATES, name="to_level"),
    )


def _vector(values: dict[str, float], labels: tuple[str, ...]) -> np.ndarray:
    return np.array([float(values.get(label, 0.0)) for label in labels])


def project(baseline: Baseline, levers: Levers) -> pd.DataFrame:
    """Project customers and money year by year, 0..horizon (year 0 = today).

    ``counts_t = counts_{t-1} @ M' + new_t * new_distribution`` with ``M'`` the
    :func:`adjusted_matrix` and ``new_t = new_customers * (1 + acquisition_growth)^t``.
    Per customer at an active level: revenue and gross margin grow by
    ``(1 + spend_growth)^t``, cost to serve by ``(1 + cost_to_serve_change)^t``.

    Money is computed in float cents and rounded once per cell, so the table reconciles
    exactly: ``revenue_cents``, ``gross_margin_cents`` and ``cost_to_serve_cents`` are
    the rounded totals; ``profit_cents = gross_margin_cents - cost_to_serve_cents``;
    ``discounted_profit_cents`` is ``profit_cents / (1 + d)^t`` rounded; ``npv_cents``
    is the sum of ``discounted_profit_cents`` over years 1..t (0 in year 0).

    Returns ``year, customers_top, customers_big, customers_medium, customers_small,
    customers_inactive, customers_active`` (floats) and the ``int64`` money columns
    above.
    """
    m = matrix_array(adjusted_matrix(baseline.matrix, levers))
    counts = _vector(baseline.counts, STATES)
    distribution = _vector(baseline.new_distribution, ACTIVE)
    if baseline.new_customers < 0 or (counts < 0).any() or (distribution < 0).any():
        raise ValueError("project: customer counts and shares must not be negative.")
    if baseline.new_customers > 0 and not np.isclose(distribution.sum(), 1.0):
        raise ValueError("project: new_distribution must sum to 1.")
    inflow_share = np.append(distribution, 0.0)

    horizon = int(levers.horizon)
    years = np.arange(horizon + 1)
    count_rows = [counts]
    for year in years[1:]:
        new = baseline.new_customers * (1.0 + levers.acquisition_growth) ** year
        counts = counts @ m + new * inflow_share
        count_rows.append(counts)
    by_year = np.vstack(count_rows)  # (horizon + 1) x len(STATES)
    active = by_year[:, : len(ACTIVE)]

    spend = (1.0 + levers.spend_growth) ** years
    cost_change = (1.0 + levers.cost_to_serve_change) ** years
    revenue = round_cents(active @ _vector(baseline.revenue_per_customer, ACTIVE) * spend)
    margin = round_cents(active @ _vector(baseline.margin_per_customer, ACTIVE) * spend)
    cost = round_cents(active @ _vector(baseline.cost_per_customer, ACTIVE) * cost_change)
    profit = margin - cost
    discounted = round_cents(profit / (1.0 + levers.discount_rate) ** years)
    npv = np.cumsum(np.where(years >= 1, discounted, 0)).astype("int64")

    frame = pd.DataFrame({"year": years.astype("int64")})
    for column, state in enumerate(STATES):
        frame[f"customers_{state}"] = by_year[:, column]
    return frame.assign(
        customers_active=active.sum(axis=1),
        revenue_cents=revenue,
        gross_margin_cents=margin,
        cost_to_serve_cents=cost,
        profit_cents=profit,
        discounted_profit_cents=discounted,
        npv_cents=npv,
    )


def baseline_from_frames(
    levels_prev: pd.DataFrame,
    levels_cur: pd.DataFrame,
    cur_figures: pd.DataFrame,
) -> Baseline:
    """Build today's model from the last two pyramids and the last period's figures.

    - ``levels_prev``, ``levels_cur``: ``customer_id, level`` with every pyramid level
      (top, big, medium, small, inactive, prospect, suspect); one row per customer.
    - ``cur_figures``: ``customer_id, level, revenue_cents, gross_margin_cents,
      allocated_cents`` for the last period (missing amounts count as 0).

    The matrix comes from the customers whose previous level is in ``STATES``; one that
    is missing from ``levels_cur`` counts as inactive now. New customers are active now
    and were prospect, suspect or unknown before. Averages per customer are taken per
    active level of ``cur_figures`` (0 for a level without customers); cost to serve =
    ``allocated_cents``.
    """
    for name, frame in (("levels_prev", levels_prev), ("levels_cur", levels_cur)):
        if frame["customer_id"].duplicated().any():
            raise ValueError(f"baseline_from_frames: {name} has duplicate customer_id.")

    pairs = levels_prev.loc[levels_prev["level"].isin(STATES), ["customer_id", "level"]]
    pairs = pairs.rename(columns={"level": "from_level"}).merge(
        levels_cur.loc[:, ["customer_id", "level"]].rename(columns={"level": "to_level"}),
        on="customer_id",
        how="left",
    )
    pairs["to_level"] = pairs["to_level"].fillna("inactive")
    matrix = transition_matrix(pairs)

    cur_level = levels_cur["level"]
    level_counts = cur_level.value_counts()
    counts = {state: float(level_counts.get(state, 0)) for state in STATES}

    active_now = levels_cur.loc[cur_level.isin(ACTIVE), ["customer_id", "level"]]
    was_in_chain = active_now["customer_id"].isin(pairs["customer_id"])
    new_levels = active_now.loc[~was_in_chain, "level"].value_counts()
    new_customers = float(new_levels.sum())
    new_distribution = {
        level: (float(new_levels.get(level, 0)) / new_customers if new_customers else 0.0) for level in ACTIVE
    }

    money = ["revenue_cents", "gross_margin_cents", "allocated_cents"]
    figures = cur_figures.loc[cur_figures["level"].isin(ACTIVE), ["level", *money]]
    averages = (
        figures.assign(**{column: figures[column].fillna(0) for column in money})
        .groupby("level")[money]
        .mean()
        .reindex(list(ACTIVE), fill_value=0.0)
        .astype("float64")
    )
    return Baseline(
        counts=counts,
        matrix=matrix,
        new_customers=new_customers,
        new_distribution=new_distribution,
        revenue_per_customer=averages["revenue_cents"].to_dict(),
        margin_per_customer=averages["gross_margin_cents"].to_dict(),
        cost_per_customer=averages["allocated_cents"].to_dict(),
    )
