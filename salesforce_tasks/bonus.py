"""Bonus KPIs for sales reps and rep pairs (DOMAIN.md section 9).

Pure computation: no Django import. Money is ``Decimal`` at the edges (euros, 2 decimals);
portfolio frames carry integer cents.

A bonus KPI has a metric, a weight, a threshold, a target and a cap:

    attainment = clamp((actual - threshold) / (target - threshold), 0, cap)
    bonus      = base amount × Σ weight × attainment

The point of the articles: pay on customer profit, not on revenue.
:func:`compare_revenue_vs_profit_bonus` puts the two side by side for a manager.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

METRICS: tuple[str, ...] = (
    "portfolio_profit",
    "profit_growth",
    "customer_retention",
    "customers_moved_up",
    "revenue",
    "gross_margin",
)

METRIC_LABELS: dict[str, str] = {
    "portfolio_profit": "Portfolio customer profit",
    "profit_growth": "Customer profit growth",
    "customer_retention": "Customer retention",
    "customers_moved_up": "Customers moved up the pyramid",
    "revenue": "Portfolio revenue",
    "gross_margin": "Portfolio gross margin",
}

ATTAINMENT_QUANTUM = Decimal("0.0001")
FRACTION_QUANTUM = Decimal("0.0001")
CENT = Decimal("0.01")
PERCENT_QUANTUM = Decimal("0.01")
WEIGHTS_TOTAL = Decimal(1)


def weight_percent(weight: Decimal) -> Decimal:
    """A stored weight (a fraction, 0.2) as people type and read it: percent (20), to 2 decimals."""
    return (Decimal(weight) * 100).quantize(PERCENT_QUANTUM)


def weight_fraction(percent: Decimal) -> Decimal:
    """A weight typed in percent (20) as stored and computed with: a fraction (0.2), 4 decimals."""
    return (Decimal(percent) / 100).quantize(FRACTION_QUANTUM)


def weights_add_up(weights: list[Decimal]) -> bool:
    """Whether a rep's or pair's KPI weights in a period add up to exactly 100 %."""
    return sum((Decimal(w) for w in weights), Decimal(0)) == WEIGHTS_TOTAL


PORTFOLIO_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "credit_share",
    "revenue_cents",
    "gross_margin_cents",
    "profit_cents",
    "profit_prev_cents",
    "active_prev",
    "active",
    "level_rank",
    "level_rank_prev",
)


@dataclass(frozen=True)
class KpiSpec:
    """A bonus KPI as set by a manager, before its actual is known."""

    metric: str
    weight: Decimal
    threshold: Decimal
    target: Decimal
    cap: Decimal

    def with_actual(self, actual: Decimal | None) -> KpiInput:
        return KpiInput(
            metric=self.metric,
            weight=self.weight,
            threshold=self.threshold,
            target=self.target,
            cap=self.cap,
            actual=actual,
        )


@dataclass(frozen=True)
class KpiInput:
    """One KPI with its actual. ``actual`` None means "not measurable" (attainment 0)."""

    metric: str
    weight: Decimal
    threshold: Decimal
    target: Decimal
    cap: Decimal
    actual: Decimal | None


@dataclass(frozen=True)
class BonusLine:
    metric: str
    weight: Decimal
    actual: Decimal | None
    attainment: Decimal
    weighted: Decimal  # weight × attainment, exact
    amount: Decimal  # euros, 2 decimals; the lines' amounts sum to the total


@dataclass(frozen=True)
class BonusResult:
    base_amount: Decimal
    lines: tuple[BonusLine, ...]
    total: Decimal  # euros, 2 decimals


@dataclass(frozen=True)
class BonusComparison:
    """A rep's bonus under a revenue-based and a profit-based KPI set, side by side."""

    actuals: dict[str, Decimal | None]
    revenue_based: BonusResult
    profit_based: BonusResult

    @property
    def difference(self) -> Decimal:
        """Profit-based total minus revenue-based total."""
        return self.profit_based.total - self.revenue_based.total


def attainment(*, actual: Decimal, threshold: Decimal, target: Decimal, cap: Decimal) -> Decimal:
    """Attainment of one KPI: clamp((actual - threshold) / (target - threshold), 0, cap).

    Quantized to 4 decimals, ROUND_HALF_UP (after clamping). A target below the threshold
    works unchanged for "lower is better" metrics. When target == threshold the ratio is
    undefined; the KPI is then all-or-nothing: 1 if actual >= target, else 0 (and min(1, cap)).
    ``cap`` must be >= 0.
    """
    if cap < 0:
        raise ValueError(f"The KPI cap must be zero or more, not {cap}.")
    if target == threshold:
        raw = Decimal(1) if actual >= target else Decimal(0)
    else:
        raw = (actual - threshold) / (target - threshold)
    clamped = min(max(raw, Decimal(0)), cap)
    return clamped.quantize(ATTAINMENT_QUANTUM, rounding=ROUND_HALF_UP)


def bonus(*, base_amount: Decimal, kpis: list[KpiInput]) -> BonusResult:
    """Bonus = base amount × Σ weight × attainment, with one line per KPI.

    total = (base × Σ weight × attainment) rounded to cents, ROUND_HALF_UP. Each line's
    amount is base × weight × attainment rounded the same way; the rounding remainder
    (total minus the sum of the rounded lines, a few cents at most) is added to the line
    with the largest unrounded amount, the earliest KPI on ties, so the lines sum exactly
    to the total. Weights are not required to sum to 1 (the service validates the set);
    they and the base amount must be >= 0. A KPI whose actual is None scores 0.
    """
    if base_amount < 0:
        raise ValueError(f"The bonus base amount must be zero or more, not {base_amount}.")
    for kpi in kpis:
        if kpi.metric not in METRICS:
            raise ValueError(f"Unknown bonus metric {kpi.metric!r}; choose one of {', '.join(METRICS)}.")
        if kpi.weight < 0:
            raise ValueError(f"The weight of KPI {kpi.metric!r} must be zero or more, not {kpi.weight}.")

    scores = [
        Decimal(0)
        if kpi.actual is None
        else attainment(actual=kpi.actual, threshold=kpi.threshold, target=kpi.target, cap=kpi.cap)
        for kpi in kpis
    ]
    weighted = [kpi.weight * score for kpi, score in zip(kpis, scores, strict=True)]
    exact = [base_amount * w for w in weighted]
    amounts = [_to_cents(x) for x in exact]
    total = _to_cents(base_amount * sum(weighted, Decimal(0)))

    remainder = total - sum(amounts, Decimal(0))
    if remainder and amounts:
        largest = max(range(len(exact)), key=lambda i: (exact[i], -i))
        amounts[largest] += remainder

    lines = tuple(
        BonusLine(
            metric=kpi.metric,
            weight=kpi.weight,
            actual=kpi.actual,
            attainment=score,
            weighted=w,
            amount=amount,
        )
        for kpi, score, w, amount in zip(kpis, scores, weighted, amounts, strict=True)
    )
    assert sum((line.amount for line in lines), Decimal(0)) == total
    return BonusResult(base_amount=base_amount, lines=lines, total=total)


def kpi_actuals(portfolio: pd.DataFrame) -> dict[str, Decimal | None]:
    """The actual of every metric in :data:`METRICS` for one rep's (or pair's) portfolio.

    ``portfolio``: one row per customer, columns
    customer_id, credit_share (0..1, this rep's share), revenue_cents, gross_margin_cents,
    profit_cents, profit_prev_cents (NaN when the customer had no previous period),
    active_prev (bool), active (bool), level_rank (top=1 .. small=4, inactive/prospect/
    suspect=9), level_rank_prev (NaN for a customer unknown in the previous period).

    Returns, all ``Decimal`` (or None where undefined):
    - portfolio_profit, revenue, gross_margin: Σ credit_share × amount, in euros rounded to
      cents ROUND_HALF_UP;
    - profit_growth: (Σ share × profit - Σ share × profit_prev) / |Σ share × profit_prev|
      over the customers whose profit_prev is known, 4 decimals; None when that denominator
      is 0 (or no customer has a previous profit);
    - customer_retention: active_prev customers still active / active_prev customers,
      unweighted, 4 decimals; None without active_prev customers;
    - customers_moved_up: number of active customers with level_rank < level_rank_prev.
    """
    missing = [c for c in PORTFOLIO_COLUMNS if c not in portfolio.columns]
    if missing:
        raise ValueError(f"The portfolio frame lacks the columns {', '.join(missing)}.")
    share = portfolio["credit_share"].to_numpy(dtype="float64")
    if ((share < 0) | (share > 1)).any():
        raise ValueError("credit_share must lie between 0 and 1.")

    def credited(column: str) -> np.ndarray:
        return share * portfolio[column].to_numpy(dtype="float64")

    profit = credited("profit_cents")
    profit_prev = credited("profit_prev_cents")
    known = ~np.isnan(profit_prev)
    prev_total = float(profit_prev[known].sum())
    growth = None if prev_total == 0 else _fraction(float(profit[known].sum()) - prev_total, abs(prev_total))

    active = portfolio["active"].to_numpy(dtype=bool)
    active_prev = portfolio["active_prev"].to_numpy(dtype=bool)
    retained = int((active & active_prev).sum())
    before = int(active_prev.sum())
    retention = None if before == 0 else _fraction(retained, before)

    rank = portfolio["level_rank"].to_numpy(dtype="float64")
    rank_prev = portfolio["level_rank_prev"].to_numpy(dtype="float64")
    moved_up = int((active & (rank < rank_prev)).sum())  # NaN compares False

    return {
        "portfolio_profit": _cents_to_euros(float(profit.sum())),
        "profit_growth": growth,
        "customer_retention": retention,
        "customers_moved_up": Decimal(moved_up),
        "revenue": _cents_to_euros(float(credited("revenue_cents").sum())),
        "gross_margin": _cents_to_euros(float(credited("gross_margin_cents").sum())),
    }


def kpi_inputs(specs: list[KpiSpec], actuals: dict[str, Decimal | None]) -> list[KpiInput]:
    """Attach each spec's actual from ``actuals`` (as returned by :func:`kpi_actuals`)."""
    return [spec.with_actual(actuals[spec.metric]) for spec in specs]


def compare_revenue_vs_profit_bonus(
    portfolio: pd.DataFrame,
    *,
    base_amount: Decimal,
    revenue_kpis: list[KpiSpec],
    profit_kpis: list[KpiSpec],
) -> BonusComparison:
    """The same rep's bonus under a revenue-based and a profit-based KPI set.

    ``portfolio`` as for :func:`kpi_actuals`; both sets are scored on the same actuals.
    """
    actuals = kpi_actuals(portfolio)
    return BonusComparison(
        actuals=actuals,
        revenue_based=bonus(base_amount=base_amount, kpis=kpi_inputs(revenue_kpis, actuals)),
        profit_based=bonus(base_amount=base_amount, kpis=kpi_inputs(profit_kpis, actuals)),
    )


def _to_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _cents_to_euros(cents: float) -> Decimal:
    # Round away float noise first (to a millionth of a cent) so that 50.5 cents rounds half up.
    euros = (Decimal(repr(round(cents, 6))) / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    return euros + 0  # no negative zero


def _fraction(numerator: float, denominator: float) -> Decimal:
    return (Decimal(repr(float(numerator))) / Decimal(repr(float(denominator)))).quantize(
        FRACTION_QUANTUM, rounding=ROUND_HALF_UP
    )
