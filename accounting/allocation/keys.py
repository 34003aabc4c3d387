"""Allocating the pools over the customers, key by key (per customer, per level, proportional,
time-driven, direct).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd

from .frames import (
    _COUNT_COLUMNS,
    _NOT_ALLOCATED,
    _PROPORTIONAL,
    _WEIGHT_COLUMNS,
    DRIVER_COLUMNS,
    LEVELS,
    POOL_RESULT_COLUMNS,
    AllocationResult,
)
from .pools import _with_pool_defaults, validate_pools
from .rounding import _check_pool_reconciles, _fraction, _linear_combination, _round_half_up, _shares


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


def _format_minutes(minutes: float) -> str:
    return f"{minutes:,.0f}" if float(minutes).is_integer() else f"{minutes:,.1f}"


def _format_rate(euros: float) -> str:
    return f"€{euros:,.2f}" if euros >= 1 else f"€{euros:,.4f}"
