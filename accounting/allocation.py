"""Customer based accounting: cost pools to customers, financing cost, profit per customer.

The pure computation behind DOMAIN.md section 5 (pandas/numpy/stdlib only, no Django).

Money is integer cents (int64) throughout. Decimal inputs (level weights, minutes per
order/line, practical capacity, the interest rate) are taken at their decimal value, as exact
fractions: a weight of 0.1 means 1/10, not the nearest binary float.

Rounding of a pool
    Every customer's exact share of a pool is a fraction (amount × driver / driver total,
    computed with integers, never with floats). Each share is floored to the cent; the cents
    that are left go one each to the customers with the largest fractional remainders, ties
    broken by ``external_id`` ascending (then ``customer_id`` ascending). So every customer gets
    its exact share rounded down or up, the result does not depend on the row order of the
    input, and per pool

        Σ allocated + unused + unallocated = amount, to the cent (checked on every run).

    *unused* is the part of a time-driven pool that the practical capacity did not use;
    *unallocated* is a pool that had nothing to be spread over (no active customers, no visits
    logged, a direct pool for a customer who is not in the drivers, ...). Both are reported per
    pool with a warning, never spread silently.

Frames
    drivers: customer_id, external_id, active (revenue > 0 in the period), level (top, big,
        medium, small, inactive, prospect, suspect), revenue_cents, gross_margin_cents, orders,
        order_lines, visits, visit_minutes.
    pools: pool_id, name, amount_cents, nature (fixed/variable), key (see ``KEYS``),
        weight_top, weight_big, weight_medium, weight_small (per_level; default 1),
        capacity_minutes, minutes_per_order, minutes_per_line (time_driven; default 0),
        customer_id (direct).
    invoices: customer_id, invoice_id, amount_cents, due, paid (NaT while open).
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pandas as pd

KEYS = (
    "per_customer",
    "per_level",
    "revenue",
    "orders",
    "order_lines",
    "visits",
    "visit_minutes",
    "time_driven",
    "direct",
)
NATURES = ("fixed", "variable")
LEVELS = ("top", "big", "medium", "small")

DRIVER_COLUMNS = (
    "customer_id",
    "external_id",
    "active",
    "level",
    "revenue_cents",
    "gross_margin_cents",
    "orders",
    "order_lines",
    "visits",
    "visit_minutes",
)
_COUNT_COLUMNS = ("orders", "order_lines", "visits", "visit_minutes")
_POOL_REQUIRED = ("pool_id", "amount_cents", "nature", "key")
_WEIGHT_COLUMNS = tuple(f"weight_{level}" for level in LEVELS)
_POOL_DEFAULTS = {
    "name": "",
    **dict.fromkeys(_WEIGHT_COLUMNS, 1.0),
    "capacity_minutes": np.nan,
    "minutes_per_order": 0.0,
    "minutes_per_line": 0.0,
}
# Proportional keys: the drivers column and the words for "nothing to spread over".
_PROPORTIONAL = {
    "revenue": ("revenue_cents", "No revenue in this period"),
    "orders": ("orders", "No orders in this period"),
    "order_lines": ("order_lines", "No order lines in this period"),
    "visits": ("visits", "No visits logged in this period"),
    "visit_minutes": (
        "visit_minutes",
        "No visit or call minutes logged in this period",
    ),
}
_NOT_ALLOCATED = ": the pool could not be allocated."
_INT64_LIMIT = 2**63

ALLOCATION_COLUMNS = ("customer_id", "pool_id", "amount_cents", "driver_quantity")
POOL_RESULT_COLUMNS = (
    "pool_id",
    "name",
    "nature",
    "key",
    "amount_cents",
    "allocated_cents",
    "unused_cents",
    "unallocated_cents",
    "driver_total",
    "rate",
    "demand_minutes",
    "capacity_minutes",
    "warning",
)


@dataclass(frozen=True, eq=False)
class AllocationResult:
    """The allocation of a period's pools.

    allocations: customer_id, pool_id, amount_cents (int64), driver_quantity (float: 1 for
        per_customer and direct, the level weight for per_level, revenue in euros, orders,
        lines, visits, minutes, time-driven minutes); only rows with a driver or an amount.
    pools: one row per pool: pool_id, name, nature, key, amount_cents, allocated_cents,
        unused_cents, unallocated_cents, driver_total, rate (euros per driver unit; per minute
        for time_driven), demand_minutes, capacity_minutes (time_driven only), warning ("" if
        none).
    customer_ids: every customer of the drivers, allocated or not.
    """

    allocations: pd.DataFrame
    pools: pd.DataFrame
    customer_ids: np.ndarray

    def per_customer(self) -> pd.DataFrame:
        """customer_id, allocated_cents (Σ over pools) for every customer of the drivers."""
        totals = self.allocations.groupby("customer_id")["amount_cents"].sum()
        ids = np.sort(self.customer_ids)
        allocated = totals.reindex(ids, fill_value=0).to_numpy(dtype=np.int64)
        return pd.DataFrame({"customer_id": ids.astype(np.int64), "allocated_cents": allocated})


# --------------------------------------------------------------------------- pools


def validate_pools(pools: pd.DataFrame) -> list[str]:
    """Human-readable problems with the pools; an empty list when they can be allocated."""
    missing = [c for c in _POOL_REQUIRED if c not in pools.columns]
    if missing:
        return [f"The cost pools lack the column(s) {', '.join(missing)}."]
    problems: list[str] = []
    duplicated = pools["pool_id"][pools["pool_id"].duplicated()].unique()
    if len(duplicated):
        problems.append(f"Pool id(s) {', '.join(map(str, duplicated))} occur more than once.")
    p = _with_pool_defaults(pools)
    for pool in p.itertuples(index=False):
        label = _pool_label(pool)
        if pool.key not in KEYS:
            problems.append(f"{label}: unknown allocation key {pool.key!r}; use one of {', '.join(KEYS)}.")
        if pool.nature not in NATURES:
            problems.append(f"{label}: unknown nature {pool.nature!r}; use fixed or variable.")
        amount = pool.amount_cents
        if pd.isna(amount) or amount != int(amount):
            problems.append(f"{label}: the amount must be a whole number of cents.")
        elif amount < 0:
            problems.append(f"{label}: the amount is negative; a cost pool is 0 or more.")
        if pool.key == "per_level":
            weights = [getattr(pool, c) for c in _WEIGHT_COLUMNS]
            if any(not math.isfinite(w) or w < 0 for w in weights):
                problems.append(f"{label}: level weights must be numbers of 0 or more.")
            elif not any(weights):
                problems.append(f"{label}: all level weights are 0; give at least one level a weight.")
        if pool.key == "time_driven":
            capacity = pool.capacity_minutes
            if pd.isna(capacity) or not math.isfinite(capacity) or capacity <= 0:
                problems.append(f"{label}: a time-driven pool needs a practical capacity in minutes above 0.")
            per_order, per_line = pool.minutes_per_order, pool.minutes_per_line
            if not (math.isfinite(per_order) and math.isfinite(per_line)) or per_order < 0 or per_line < 0:
                problems.append(f"{label}: minutes per order and per line must be numbers of 0 or more.")
        if pool.key == "direct" and pd.isna(pool.customer_id):
            problems.append(f"{label}: a direct pool needs the customer it is booked to.")
    return problems


def _with_pool_defaults(pools: pd.DataFrame) -> pd.DataFrame:
    p = pools.copy()
    for column, default in _POOL_DEFAULTS.items():
        if column not in p.columns:
            p[column] = default
        elif column != "name":
            p[column] = pd.to_numeric(p[column], errors="coerce").astype(float)
            if not math.isnan(default):
                p[column] = p[column].fillna(default)
    p["name"] = p["name"].fillna("").astype(str)
    if "customer_id" not in p.columns:
        p["customer_id"] = pd.NA
    p["customer_id"] = pd.to_numeric(p["customer_id"], errors="coerce").astype("Int64")
    return p


def _pool_label(pool) -> str:
    return f"Pool {pool.name!r} (id {pool.pool_id})" if pool.name else f"Pool {pool.pool_id}"


# --------------------------------------------------------------------------- allocation


def allocate_pools(drivers: pd.DataFrame, pools: pd.DataFrame) -> AllocationResult:
    """Allocate every pool over the customers (DOMAIN.md section 5); see the module docstring.

    Shared keys spread over active customers only; a direct pool goes to its customer whether
    active or not. Raises ValueError when the pools are not valid (``validate_pools``) or the
    drivers are malformed.
    """
    problems = validate_pools(pools)
    if problems:
        raise ValueError("The cost pools cannot be allocated:\n" + "\n".join(problems))
    customers = _Customers(drivers)
    p = _with_pool_defaults(pools).sort_values("pool_id", kind="stable")
    ids, pool_ids, amounts, quantities, summaries = [], [], [], [], []
    for pool in p.itertuples(index=False):
        allocated, quantity, summary = _allocate_pool(pool, customers)
        shown = (quantity > 0) | (allocated != 0)
        ids.append(customers.ids[shown])
        pool_ids.append(np.full(int(shown.sum()), pool.pool_id, dtype=np.int64))
        amounts.append(allocated[shown])
        quantities.append(quantity[shown])
        summaries.append(summary)
    allocations = pd.DataFrame(
        {
            "customer_id": np.concatenate(ids or [np.zeros(0, np.int64)]).astype(np.int64),
            "pool_id": np.concatenate(pool_ids or [np.zeros(0, np.int64)]),
            "amount_cents": np.concatenate(amounts or [np.zeros(0, np.int64)]).astype(np.int64),
            "driver_quantity": np.concatenate(quantities or [np.zeros(0)]).astype(float),
        }
    )
    pool_frame = pd.DataFrame(summaries, columns=list(POOL_RESULT_COLUMNS)).astype(
        {
            "pool_id": np.int64,
            "amount_cents": np.int64,
            "allocated_cents": np.int64,
            "unused_cents": np.int64,
            "unallocated_cents": np.int64,
            "driver_total": float,
            "rate": float,
            "demand_minutes": float,
            "capacity_minutes": float,
        }
    )
    return AllocationResult(allocations=allocations, pools=pool_frame, customer_ids=customers.ids.copy())


class _Customers:
    """The drivers as numpy arrays by customer_id, with the rank used to break ties."""

    def __init__(self, drivers: pd.DataFrame) -> None:
        required = [c for c in DRIVER_COLUMNS if c != "gross_margin_cents"]
        missing = [c for c in required if c not in drivers.columns]
        if missing:
            raise ValueError(f"The drivers lack the column(s) {', '.join(missing)}.")
        drivers = drivers.sort_values("customer_id", kind="stable")
        self.ids = drivers["customer_id"].to_numpy(dtype=np.int64)
        if len(np.unique(self.ids)) != len(self.ids):
            raise ValueError("The drivers list a customer more than once.")
        for column in _COUNT_COLUMNS:
            values = drivers[column].to_numpy(dtype=np.int64)
            if (values < 0).any():
                raise ValueError(f"The drivers have a negative {column.replace('_', ' ')} count.")
            setattr(self, column, values)
        self.active = drivers["active"].fillna(False).to_numpy(dtype=bool)
        self.revenue_cents = drivers["revenue_cents"].to_numpy(dtype=np.int64)
        codes = pd.Index(LEVELS).get_indexer(drivers["level"].astype(str))
        self.level_code = np.where(codes < 0, len(LEVELS), codes).astype(np.int64)
        external = np.asarray(drivers["external_id"].astype(str).to_numpy(), dtype=str)
        order = np.lexsort((self.ids, external))
        self.tie_rank = np.empty(len(order), dtype=np.int64)
        self.tie_rank[order] = np.arange(len(order))
        self.position = pd.Index(self.ids)

    def on_active(self, values: np.ndarray) -> np.ndarray:
        return np.where(self.active, values, 0)


def _allocate_pool(pool, customers: _Customers) -> tuple[np.ndarray, np.ndarray, dict]:
    """(allocated cents per customer, driver quantity per customer, the pool's result row)."""
    n = len(customers.ids)
    amount = int(pool.amount_cents)
    allocated = np.zeros(n, dtype=np.int64)
    quantity = np.zeros(n, dtype=float)
    summary = {
        "pool_id": pool.pool_id,
        "name": pool.name,
        "nature": pool.nature,
        "key": pool.key,
        "amount_cents": amount,
        "unused_cents": 0,
        "driver_total": 0.0,
        "rate": np.nan,
        "demand_minutes": np.nan,
        "capacity_minutes": np.nan,
        "warning": "",
    }
    if pool.key == "direct":
        customer_id = int(pool.customer_id)
        if customer_id in customers.position:
            where = customers.position.get_loc(customer_id)
            allocated[where] = amount
            quantity[where] = 1.0
            summary.update(driver_total=1.0, rate=amount / 100)
        else:
            summary["warning"] = f"Customer {customer_id} is not among this period's customers" + _NOT_ALLOCATED
    elif pool.key == "time_driven":
        allocated, quantity = _allocate_time_driven(pool, customers, summary)
    else:
        weights, quantity, empty_message = _proportional_weights(pool, customers)
        total = int(weights.sum())
        if total > 0:
            allocated = _shares(amount, weights, total, amount, customers.tie_rank)
            summary["driver_total"] = float(quantity.sum())
            summary["rate"] = amount / 100 / summary["driver_total"]
            unlevelled = int((customers.active & (customers.level_code == len(LEVELS))).sum())
            if pool.key == "per_level" and unlevelled:
                summary["warning"] = (
                    f"{unlevelled} active customer(s) have no pyramid level and carry none of this pool; "
                    "recompute the pyramid."
                )
        elif not customers.active.any():
            summary["warning"] = "No active customers in this period" + _NOT_ALLOCATED
        else:
            summary["warning"] = empty_message + _NOT_ALLOCATED
    summary["allocated_cents"] = int(allocated.sum())
    summary["unallocated_cents"] = amount - summary["allocated_cents"] - summary["unused_cents"]
    _check_pool_reconciles(summary, allocated)
    return allocated, quantity, summary


def _proportional_weights(pool, customers: _Customers) -> tuple[np.ndarray, np.ndarray, str]:
    """Exact integer weights, the driver quantities shown, and the message when they are all 0."""
    if pool.key == "per_customer":
        weights = customers.active.astype(np.int64)
        return weights, weights.astype(float), "No active customers in this period"
    if pool.key == "per_level":
        fractions = [_fraction(getattr(pool, c)) for c in _WEIGHT_COLUMNS]
        scale = math.lcm(*(f.denominator for f in fractions))
        level_weights = np.array([int(f * scale) for f in fractions] + [0], dtype=np.int64)
        weights = customers.on_active(level_weights[customers.level_code])
        shown = np.array([float(f) for f in fractions] + [0.0])
        message = "The active customers are all on levels weighted 0 or have no pyramid level"
        return weights, customers.on_active(shown[customers.level_code]), message
    column, message = _PROPORTIONAL[pool.key]
    weights = customers.on_active(np.maximum(getattr(customers, column), 0))
    quantity = weights / 100 if column == "revenue_cents" else weights.astype(float)
    return weights, quantity, message


def _allocate_time_driven(pool, customers: _Customers, summary: dict) -> tuple[np.ndarray, np.ndarray]:
    """Time-driven ABC: rate = amount / capacity, charge = rate × minutes, the rest is unused.

    minutes(c) = minutes_per_order × orders + minutes_per_line × order_lines + visit_minutes.
    When the demand exceeds the capacity the whole pool is charged in proportion to minutes
    (effective rate amount / demand) and the pool carries a warning.
    """
    amount = int(pool.amount_cents)
    per_order, per_line = (
        _fraction(pool.minutes_per_order),
        _fraction(pool.minutes_per_line),
    )
    capacity = _fraction(pool.capacity_minutes)
    scale = math.lcm(per_order.denominator, per_line.denominator)
    minutes = _linear_combination(
        [
            (int(per_order * scale), customers.on_active(customers.orders)),
            (int(per_line * scale), customers.on_active(customers.order_lines)),
            (scale, customers.on_active(customers.visit_minutes)),
        ]
    )
    demand_scaled = int(minutes.sum())
    demand = demand_scaled / scale
    quantity = minutes.astype(float) / scale
    summary.update(demand_minutes=demand, capacity_minutes=float(capacity), driver_total=demand)
    if Fraction(demand_scaled, scale) > capacity:
        allocated = _shares(amount, minutes, demand_scaled, amount, customers.tie_rank)
        rate = amount / 100 / demand
        summary["rate"] = rate
        summary["warning"] = (
            f"Demand {_format_minutes(demand)} min exceeds practical capacity "
            f"{_format_minutes(float(capacity))} min; the whole pool was charged at an effective "
            f"rate of {_format_rate(rate)}/min. Raise the capacity or check the minutes per order/line."
        )
        return allocated, quantity
    summary["rate"] = amount / 100 / float(capacity)
    # Exact charge of c: amount × minutes(c) / capacity, with minutes scaled by `scale`.
    numerator, denominator = amount * capacity.denominator, scale * capacity.numerator
    charged = _round_half_up(numerator * demand_scaled, denominator)
    allocated = _shares(numerator, minutes, denominator, charged, customers.tie_rank)
    summary["unused_cents"] = amount - charged
    if demand_scaled == 0:
        summary["warning"] = "No minutes were demanded in this period: the whole pool is unused capacity."
    return allocated, quantity


def _linear_combination(terms: list[tuple[int, np.ndarray]]) -> np.ndarray:
    """Σ coefficient × values, exact: int64 when it cannot overflow, Python ints otherwise."""
    bound = sum(abs(c) * int(v.max(initial=0)) for c, v in terms)
    if bound < _INT64_LIMIT:
        return sum(
            (np.int64(c) * v for c, v in terms),
            np.zeros(len(terms[0][1]), dtype=np.int64),
        )
    return sum(
        (c * v.astype(object) for c, v in terms),
        np.zeros(len(terms[0][1]), dtype=object),
    )


def _shares(
    numerator: int,
    weights: np.ndarray,
    denominator: int,
    total: int,
    tie_rank: np.ndarray,
) -> np.ndarray:
    """Hand out ``total`` cents as the exact shares numerator × weight / denominator.

    Each share is floored; the cents left go one each to the largest remainders, ties by
    ``tie_rank`` (external_id order). ``total`` must lie between Σ floors and Σ floors plus
    the number of shares with a remainder.
    """
    floors, remainders = _exact_divmod(numerator, weights, denominator)
    leftover = total - int(floors.sum())
    candidates = np.flatnonzero(remainders)
    if not 0 <= leftover <= len(candidates):
        raise AssertionError(f"Cannot hand out {leftover} rounding cents over {len(candidates)} remainders.")
    if leftover:
        if remainders.dtype == object:
            ranked = sorted(candidates, key=lambda i: (-remainders[i], tie_rank[i]))
            chosen = np.array(ranked[:leftover], dtype=np.int64)
        else:
            chosen = _largest_remainders(remainders, candidates, tie_rank, leftover)
        floors[chosen] += 1
    return floors


def _largest_remainders(remainders: np.ndarray, candidates: np.ndarray, tie_rank: np.ndarray, count: int) -> np.ndarray:
    """The ``count`` candidates with the largest remainders, ties by the lowest tie_rank.

    A partition, not a sort: only the remainder at the cut and the ties on it are ordered.
    """
    if count >= len(candidates):
        return candidates
    values = remainders[candidates]
    cut = np.partition(values, len(values) - count)[len(values) - count]
    above = candidates[values > cut]
    tied = candidates[values == cut]
    needed = count - len(above)
    if needed < len(tied):
        tied = tied[np.argpartition(tie_rank[tied], needed - 1)[:needed]]
    return np.concatenate([above, tied])


def _exact_divmod(numerator: int, weights: np.ndarray, denominator: int) -> tuple[np.ndarray, np.ndarray]:
    """floor(numerator × w / denominator) and its remainder for every w >= 0, exactly.

    Three ways, fastest first: plain int64 when the products fit; when only the products
    overflow, a float estimate of the quotient corrected with the remainder computed in
    wrapping 64-bit arithmetic (exact, because the true remainder of the estimate is small);
    Python integers for what is left (huge denominators).
    """
    largest = int(weights.max(initial=0))
    if weights.dtype != object and max(numerator, numerator * largest, denominator) < _INT64_LIMIT:
        return np.divmod(weights * np.int64(numerator), np.int64(denominator))
    small_quotients = numerator * largest // max(denominator, 1) < 2**50
    if weights.dtype != object and numerator < 2**63 and denominator < 2**60 and small_quotients:
        # Quotients below 2**50 make the float estimate off by less than 1, so the true
        # remainder of the estimate lies in [-D, 2D) and the low 64 bits of N·w - q·D, read
        # as int64, are exactly it.
        quotient = np.floor(weights.astype(float) * (numerator / denominator)).astype(np.int64)
        with np.errstate(over="ignore"):
            wrapped = weights.astype(np.uint64) * np.uint64(numerator) - quotient.astype(np.uint64) * np.uint64(
                denominator
            )
        remainder = wrapped.view(np.int64)
        for _ in range(2):
            low, high = remainder < 0, remainder >= denominator
            quotient = quotient - low + high
            remainder = remainder + np.int64(denominator) * (low.astype(np.int64) - high)
        if ((remainder < 0) | (remainder >= denominator)).any():
            raise AssertionError("The quotient estimate was off by more than 2.")
        return quotient, remainder
    products = weights.astype(object) * numerator
    floors = (products // denominator).astype(np.int64)
    remainders = products % denominator
    if denominator < _INT64_LIMIT:
        remainders = remainders.astype(np.int64)
    return floors, remainders


def _check_pool_reconciles(summary: dict, allocated: np.ndarray) -> None:
    parts = (
        summary["allocated_cents"],
        summary["unused_cents"],
        summary["unallocated_cents"],
    )
    if sum(parts) != summary["amount_cents"] or min(parts) < 0 or (allocated < 0).any():
        raise AssertionError(
            f"Pool {summary['pool_id']} does not reconcile: {parts} against {summary['amount_cents']}."
        )


def _fraction(value) -> Fraction:
    """The exact decimal value of a number: 0.1 -> 1/10 (not the binary float)."""
    if isinstance(value, (int, Decimal, Fraction, np.integer)):
        return Fraction(value)
    return Fraction(repr(float(value)))


def _round_half_up(numerator, denominator: int):
    """numerator / denominator rounded to the nearest integer, halves away from zero.

    Works on Python ints and on numpy arrays of them (object dtype) alike.
    """
    magnitude = (2 * abs(numerator) + denominator) // (2 * denominator)
    if isinstance(numerator, np.ndarray):
        return np.where(numerator < 0, -magnitude, magnitude)
    return -magnitude if numerator < 0 else magnitude


def _format_minutes(minutes: float) -> str:
    return f"{minutes:,.0f}" if float(minutes).is_integer() else f"{minutes:,.1f}"


def _format_rate(euros: float) -> str:
    return f"€{euros:,.2f}" if euros >= 1 else f"€{euros:,.4f}"


# --------------------------------------------------------------------------- financing


def financing_cost_detail(
    invoices: pd.DataFrame, *, yearly_rate: Decimal | float, as_of: datetime.date
) -> pd.DataFrame:
    """Per invoice, for drill-down: customer_id, invoice_id, amount_cents, days_late, cost (euros, float).

    days_late = max(0, (paid, or as_of while open) - due) in days; cost = amount × days_late ×
    yearly_rate / 365. ``yearly_rate`` is a fraction: 0.06 for 6 %.
    """
    rate = _yearly_rate(yearly_rate)
    detail = _invoice_days_late(invoices, as_of)
    cost = detail["amount_cents"] * detail["days_late"] * float(rate) / 365 / 100
    return detail.assign(cost=cost.astype(float))


def financing_cost(invoices: pd.DataFrame, *, yearly_rate: Decimal | float, as_of: datetime.date) -> pd.DataFrame:
    """Financing cost of late payment per customer (DOMAIN.md section 5).

    Output, one row per customer with invoices, by customer_id: customer_id,
    financing_cost_cents (int64), invoices_late (count with days_late > 0),
    days_late_weighted (amount-weighted average days late over all its invoices; NaN when its
    amounts sum to 0).

    The cost is Σ amount × days_late × yearly_rate / 365, summed exactly (integers and the
    exact decimal rate) and rounded once per customer to the cent, halves away from zero. A
    payment after ``as_of`` counts in full, as the contract says (paid or as_of) - due.
    """
    rate = _yearly_rate(yearly_rate)
    detail = _invoice_days_late(invoices, as_of)
    weighted = detail.assign(
        cent_days=detail["amount_cents"] * detail["days_late"],
        late=(detail["days_late"] > 0).astype(np.int64),
    )
    per_customer = weighted.groupby("customer_id", sort=True).agg(
        cent_days=("cent_days", "sum"),
        amount_cents=("amount_cents", "sum"),
        invoices_late=("late", "sum"),
    )
    cent_days = per_customer["cent_days"].to_numpy(dtype=np.int64).astype(object)
    cost = _round_half_up(cent_days * rate.numerator, rate.denominator * 365)
    amounts = per_customer["amount_cents"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        days_weighted = np.where(
            amounts != 0,
            per_customer["cent_days"].to_numpy(dtype=float) / amounts,
            np.nan,
        )
    return pd.DataFrame(
        {
            "customer_id": per_customer.index.to_numpy(dtype=np.int64),
            "financing_cost_cents": np.asarray(cost, dtype=np.int64),
            "invoices_late": per_customer["invoices_late"].to_numpy(dtype=np.int64),
            "days_late_weighted": days_weighted,
        }
    )


def _yearly_rate(yearly_rate: Decimal | float) -> Fraction:
    rate = _fraction(yearly_rate)
    if rate < 0:
        raise ValueError("The yearly interest rate cannot be negative.")
    if rate > 1:
        raise ValueError(f"The yearly interest rate is a fraction (0.06 for 6 %), not {yearly_rate}.")
    return rate


def _invoice_days_late(invoices: pd.DataFrame, as_of: datetime.date) -> pd.DataFrame:
    missing = [c for c in ("customer_id", "invoice_id", "amount_cents", "due", "paid") if c not in invoices.columns]
    if missing:
        raise ValueError(f"The invoices lack the column(s) {', '.join(missing)}.")
    due = pd.to_datetime(invoices["due"]).dt.normalize()
    end = pd.to_datetime(invoices["paid"]).dt.normalize().fillna(pd.Timestamp(as_of))
    days_late = (end - due).dt.days.clip(lower=0).to_numpy(dtype=np.int64)
    return pd.DataFrame(
        {
            "customer_id": invoices["customer_id"].to_numpy(dtype=np.int64),
            "invoice_id": invoices["invoice_id"].to_numpy(),
            "amount_cents": invoices["amount_cents"].to_numpy(dtype=np.int64),
            "days_late": days_late,
        }
    )


# --------------------------------------------------------------------------- profit


def customer_profit(drivers: pd.DataFrame, result: AllocationResult, financing: pd.DataFrame | None) -> pd.DataFrame:
    """profit(c) = gross margin(c) - Σ allocated(c) - financing cost(c).

    Output by customer_id: customer_id, revenue_cents, gross_margin_cents, allocated_cents,
    financing_cost_cents, profit_cents; for the customers that are active or carry an
    allocation or a financing cost. ``financing`` has customer_id, financing_cost_cents.
    """
    base = drivers[["customer_id", "active", "revenue_cents", "gross_margin_cents"]]
    if financing is None or financing.empty:
        financing = pd.DataFrame(
            {
                "customer_id": np.zeros(0, np.int64),
                "financing_cost_cents": np.zeros(0, np.int64),
            }
        )
    cost = financing.groupby("customer_id", as_index=False)["financing_cost_cents"].sum()
    merged = (
        base.merge(result.per_customer(), on="customer_id", how="outer")
        .merge(cost, on="customer_id", how="outer")
        .fillna(
            {
                "active": False,
                "revenue_cents": 0,
                "gross_margin_cents": 0,
                "allocated_cents": 0,
            }
        )
        .fillna({"financing_cost_cents": 0})
    )
    money = [
        "revenue_cents",
        "gross_margin_cents",
        "allocated_cents",
        "financing_cost_cents",
    ]
    merged = merged.astype({"customer_id": np.int64, "active": bool, **dict.fromkeys(money, np.int64)})
    kept = merged["active"] | (merged["allocated_cents"] != 0) | (merged["financing_cost_cents"] != 0)
    return (
        merged[kept]
        .assign(profit_cents=lambda f: f["gross_margin_cents"] - f["allocated_cents"] - f["financing_cost_cents"])
        .drop(columns="active")
        .sort_values("customer_id", ignore_index=True)
    )


def profit_change_causes(
    *,
    customer_id: int,
    drivers_before: pd.DataFrame,
    pools_before: pd.DataFrame,
    financing_before_cents: int,
    drivers_after: pd.DataFrame,
    pools_after: pd.DataFrame,
    financing_after_cents: int,
) -> dict:
    """Why did this customer's profit change: the change split into causes that add up exactly.

    Sequential substitution, each part the effect on the customer's profit (cents):
      own_margin       gross margin after - before
      own_drivers      its own driver row (orders, lines, visits, level, active) changed: A -> B
      pools            the pools changed (matched by pool_id; a missing pool counts as 0): B -> C
      other_customers  the other customers' drivers changed: C -> D
      financing        its financing cost changed
    with A = before drivers and pools; B = A with this customer's row replaced by its after row;
    C = B's drivers with the after pools; D = after drivers and pools. A customer absent from a
    side counts there as an inactive row with zero drivers.

    Returns profit_before_cents, profit_after_cents, total_change_cents, the five parts, and
    by_pool: a list per pool_id of pool_id, name, allocated_before_cents,
    allocated_after_cents, own_drivers_cents, pools_cents, other_customers_cents.
    """
    row_before = _own_row(drivers_before, drivers_after, customer_id)
    row_after = _own_row(drivers_after, drivers_before, customer_id)
    drivers_a = _replace_row(drivers_before, row_before)
    drivers_b = _replace_row(drivers_before, row_after)
    drivers_d = _replace_row(drivers_after, row_after)
    a = _allocated_by_pool(drivers_a, pools_before, customer_id)
    b = _allocated_by_pool(drivers_b, pools_before, customer_id)
    c = _allocated_by_pool(drivers_b, pools_after, customer_id)
    d = _allocated_by_pool(drivers_d, pools_after, customer_id)
    names = pd.concat([pools_before, pools_after]).pipe(_with_pool_defaults).groupby("pool_id")["name"].last()
    steps = pd.DataFrame({"a": a, "b": b, "c": c, "d": d}).reindex(names.index).fillna(0).astype(np.int64)
    by_pool = pd.DataFrame(
        {
            "pool_id": names.index.to_numpy(dtype=np.int64),
            "name": names.to_numpy(),
            "allocated_before_cents": steps["a"].to_numpy(),
            "allocated_after_cents": steps["d"].to_numpy(),
            "own_drivers_cents": -(steps["b"] - steps["a"]).to_numpy(),
            "pools_cents": -(steps["c"] - steps["b"]).to_numpy(),
            "other_customers_cents": -(steps["d"] - steps["c"]).to_numpy(),
        }
    )
    margin_before = int(row_before["gross_margin_cents"].iloc[0])
    margin_after = int(row_after["gross_margin_cents"].iloc[0])
    profit_before = margin_before - int(steps["a"].sum()) - int(financing_before_cents)
    profit_after = margin_after - int(steps["d"].sum()) - int(financing_after_cents)
    causes = {
        "profit_before_cents": profit_before,
        "profit_after_cents": profit_after,
        "total_change_cents": profit_after - profit_before,
        "own_margin_cents": margin_after - margin_before,
        "own_drivers_cents": int(by_pool["own_drivers_cents"].sum()),
        "pools_cents": int(by_pool["pools_cents"].sum()),
        "other_customers_cents": int(by_pool["other_customers_cents"].sum()),
        "financing_cents": -(int(financing_after_cents) - int(financing_before_cents)),
        "by_pool": [{k: _plain(v) for k, v in row.items()} for row in by_pool.to_dict("records")],
    }
    parts = (
        "own_margin_cents",
        "own_drivers_cents",
        "pools_cents",
        "other_customers_cents",
        "financing_cents",
    )
    if sum(causes[p] for p in parts) != causes["total_change_cents"]:
        raise AssertionError("The causes of the profit change do not add up to the change.")
    return causes


def _own_row(drivers: pd.DataFrame, other_side: pd.DataFrame, customer_id: int) -> pd.DataFrame:
    """The customer's drivers row, or an inactive row with zero drivers when it is absent."""
    row = drivers[drivers["customer_id"] == customer_id]
    if len(row):
        return row.iloc[[0]].reset_index(drop=True)
    template = other_side[other_side["customer_id"] == customer_id]
    if not len(template):
        raise ValueError(f"Customer {customer_id} is in neither the before nor the after drivers.")
    zero = {c: 0 for c in DRIVER_COLUMNS if c not in ("customer_id", "external_id", "active", "level")}
    return template.iloc[[0]].reset_index(drop=True).assign(active=False, level="inactive", **zero)


def _replace_row(drivers: pd.DataFrame, row: pd.DataFrame) -> pd.DataFrame:
    customer_id = row["customer_id"].iloc[0]
    others = drivers[drivers["customer_id"] != customer_id]
    return pd.concat([others, row[others.columns.intersection(row.columns)]], ignore_index=True)


def _allocated_by_pool(drivers: pd.DataFrame, pools: pd.DataFrame, customer_id: int) -> pd.Series:
    allocations = allocate_pools(drivers, pools).allocations
    own = allocations[allocations["customer_id"] == customer_id]
    return own.groupby("pool_id")["amount_cents"].sum()


def _plain(value):
    """numpy scalars as Python ones, so the dict can go to JSON as it is."""
    return value.item() if isinstance(value, np.generic) else value


def what_if(
    drivers: pd.DataFrame,
    pools: pd.DataFrame,
    *,
    changes: pd.DataFrame | None = None,
    remove_customer_id: int | None = None,
    remove_variable: bool = True,
) -> dict:
    """Rerun the allocation with some customers' drivers changed, or one customer removed.

    ``changes`` has customer_id and the driver columns to overwrite for those customers (when it
    changes revenue_cents but not active, active follows revenue > 0; the level is taken as
    given). Removing a customer takes its gross margin and drivers out: fixed pools fall on the
    others, and with ``remove_variable`` each variable pool shrinks by what the customer was
    allocated from it. Financing is left to the caller.

    Company profit = Σ gross margin - Σ pool amounts (unused and unallocated cost is still
    cost). The customer figures are for the removed customer, else summed over the changed
    customers (``customer_ids``); customer_profit_after_cents is None when removed.

    Returns company_profit_before_cents, company_profit_after_cents, customer_ids,
    customer_profit_before_cents, customer_profit_after_cents, pools_after, result_before and
    result (the new AllocationResult).
    """
    before = allocate_pools(drivers, pools)
    drivers_after = drivers if changes is None else _apply_changes(drivers, changes)
    pools_after = pools.copy()
    if remove_customer_id is not None:
        if not (drivers["customer_id"] == remove_customer_id).any():
            raise ValueError(f"Customer {remove_customer_id} is not among the drivers.")
        drivers_after = drivers_after[drivers_after["customer_id"] != remove_customer_id]
        if remove_variable:
            allocations = before.allocations
            own = allocations[allocations["customer_id"] == remove_customer_id]
            share = own.groupby("pool_id")["amount_cents"].sum()
            variable = pools_after["nature"] == "variable"
            reduction = pools_after["pool_id"].map(share).fillna(0).astype(np.int64).where(variable, 0)
            pools_after = pools_after.assign(amount_cents=pools_after["amount_cents"].astype(np.int64) - reduction)
        customer_ids = [int(remove_customer_id)]
    else:
        customer_ids = [] if changes is None else sorted(int(c) for c in changes["customer_id"].unique())
    after = allocate_pools(drivers_after, pools_after)

    def company_profit(d: pd.DataFrame, p: pd.DataFrame) -> int:
        return int(d["gross_margin_cents"].sum()) - int(p["amount_cents"].sum())

    def profit_of(d: pd.DataFrame, result: AllocationResult) -> int:
        own = d[d["customer_id"].isin(customer_ids)]
        allocated = result.per_customer()
        return int(own["gross_margin_cents"].sum()) - int(
            allocated.loc[allocated["customer_id"].isin(customer_ids), "allocated_cents"].sum()
        )

    return {
        "company_profit_before_cents": company_profit(drivers, pools),
        "company_profit_after_cents": company_profit(drivers_after, pools_after),
        "customer_ids": customer_ids,
        "customer_profit_before_cents": profit_of(drivers, before),
        "customer_profit_after_cents": None if remove_customer_id is not None else profit_of(drivers_after, after),
        "pools_after": pools_after,
        "result_before": before,
        "result": after,
    }


def _apply_changes(drivers: pd.DataFrame, changes: pd.DataFrame) -> pd.DataFrame:
    columns = [c for c in changes.columns if c != "customer_id"]
    unknown = [c for c in columns if c not in drivers.columns]
    if unknown:
        raise ValueError(f"The changes name unknown driver column(s) {', '.join(unknown)}.")
    if changes["customer_id"].duplicated().any():
        raise ValueError("The changes list a customer more than once.")
    missing = set(changes["customer_id"]) - set(drivers["customer_id"])
    if missing:
        raise ValueError(f"The changes name customer(s) not among the drivers: {', '.join(map(str, sorted(missing)))}.")
    changed = changes.set_index("customer_id")
    if "revenue_cents" in columns and "active" not in columns:
        changed = changed.assign(active=changed["revenue_cents"] > 0)
        columns.append("active")
    result = drivers.set_index("customer_id")
    rows = result.index.isin(changed.index)
    for column in columns:
        updated = result[column].copy()
        updated[rows] = changed[column].reindex(result.index[rows]).to_numpy()
        result[column] = updated.astype(drivers[column].dtype)
    return result.reset_index()[drivers.columns]
