"""What an action changes: the customer's drivers after it and, pool by pool, the capacity and cost
that move with them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pandas as pd

from accounting import allocation

from .terms import (
    _POOL_DEFAULTS,
    _PROPORTIONAL_COLUMN,
    DISCOUNT_CHANGE,
    MIN_ORDER_SIZE,
    MIN_REVENUE,
    MOVE_TO_INSIDE,
    ORDER_SURCHARGE,
)


def changed_drivers(rows: pd.DataFrame) -> pd.DataFrame:
    """The drivers of ``rows`` after each row's action (see the module docstring).

    ``rows``: the customers' driver columns plus action_type and parameter_hundredths (int64;
    ignored for types without a parameter). Returns the same frame with revenue_cents,
    gross_margin_cents, orders, visits, visit_minutes and active changed (order_lines never
    change). part_ways and other rows are returned unchanged.
    """
    kind = rows["action_type"].to_numpy(dtype=object)
    h = rows["parameter_hundredths"].to_numpy(dtype=np.int64)
    revenue = rows["revenue_cents"].to_numpy(dtype=np.int64)
    margin = rows["gross_margin_cents"].to_numpy(dtype=np.int64)
    orders = rows["orders"].to_numpy(dtype=np.int64)
    visits = rows["visits"].to_numpy(dtype=np.int64)
    minutes = rows["visit_minutes"].to_numpy(dtype=np.int64)
    has_revenue = revenue > 0

    raised = (kind == MIN_REVENUE) & has_revenue & (revenue < h)
    new_revenue = np.where(raised, h, revenue)
    new_margin = np.where(
        raised, _div_half_up(as_objects(margin) * as_objects(h), np.where(has_revenue, revenue, 1)), margin
    )

    points = kind == DISCOUNT_CHANGE
    new_margin = new_margin + np.where(points, _div_half_up(as_objects(revenue) * as_objects(h), 10000), 0)

    merge = (kind == MIN_ORDER_SIZE) & has_revenue & (h > 0)
    merged_orders = np.maximum(1, -(-revenue // np.where(h > 0, h, 1)))
    new_orders = np.where(merge, np.minimum(orders, merged_orders), orders)

    surcharge = np.where(kind == ORDER_SURCHARGE, _div_half_up(as_objects(h) * as_objects(orders), 1), 0)
    new_revenue = new_revenue + surcharge
    new_margin = new_margin + surcharge

    inside = kind == MOVE_TO_INSIDE
    new_minutes = minutes - np.where(inside, _div_half_up(as_objects(minutes) * as_objects(h), 10000), 0)
    new_visits = visits - np.where(inside, _div_half_up(as_objects(visits) * as_objects(h), 10000), 0)

    return rows.assign(
        revenue_cents=new_revenue.astype(np.int64),
        gross_margin_cents=new_margin.astype(np.int64),
        orders=new_orders.astype(np.int64),
        visits=new_visits.astype(np.int64),
        visit_minutes=new_minutes.astype(np.int64),
        active=new_revenue > 0,
    )


def as_objects(values) -> np.ndarray:
    """Python integers, so products of cents never overflow."""
    return np.asarray(values, dtype=np.int64).astype(object)


def _div_half_up(numerator, denominator) -> np.ndarray:
    """numerator / denominator rounded to an integer, halves away from zero; 0 where denominator is 0.

    Exact on Python integers (object arrays); the denominator is 0 or more.
    """
    num = np.atleast_1d(np.asarray(numerator, dtype=object))
    den = np.broadcast_to(np.asarray(denominator, dtype=object), num.shape)
    out = np.zeros(num.shape, dtype=np.int64)
    ok = np.asarray(den != 0, dtype=bool)
    if ok.any():
        n, d = num[ok], den[ok]
        magnitude = (2 * np.abs(n) + d) // (2 * d)
        out[ok] = np.where(np.asarray(n < 0, dtype=bool), -magnitude, magnitude).astype(np.int64)
    return out


# --------------------------------------------------------------------------- pools


def _pool_values(pools: pd.DataFrame) -> list[dict]:
    records = pools.to_dict("records")
    for record in records:
        for column, default in _POOL_DEFAULTS.items():
            value = record.get(column, default)
            record[column] = default if value is None or pd.isna(value) else value
    return records


def _fraction(value) -> Fraction:
    """The exact decimal value (0.1 -> 1/10), as accounting.allocation reads pool numbers."""
    if isinstance(value, (int, Decimal, Fraction, np.integer)):
        return Fraction(value)
    return Fraction(repr(float(value)))


def _quantity(pool: dict, frame: pd.DataFrame) -> tuple[np.ndarray, int]:
    """Each row's driver quantity of the pool as exact integers (object array), and the scale of
    time-driven minutes (quantity = minutes × scale); the shares are proportional to it."""
    active = frame["active"].fillna(False).to_numpy(dtype=bool)
    key = pool["key"]
    scale = 1
    if key == "per_customer":
        quantity = active.astype(np.int64)
    elif key == "per_level":
        weights = [_fraction(pool[f"weight_{level}"]) for level in allocation.LEVELS]
        lcm = math.lcm(*(w.denominator for w in weights))
        table = np.array([int(w * lcm) for w in weights] + [0], dtype=object)
        codes = pd.Index(allocation.LEVELS).get_indexer(frame["level"].astype(str))
        codes = np.where(codes < 0, len(allocation.LEVELS), codes)
        return np.where(active, table[codes], 0).astype(object), 1
    elif key in _PROPORTIONAL_COLUMN:
        quantity = np.where(active, np.maximum(frame[_PROPORTIONAL_COLUMN[key]].to_numpy(dtype=np.int64), 0), 0)
    elif key == "time_driven":
        per_order, per_line = _fraction(pool["minutes_per_order"]), _fraction(pool["minutes_per_line"])
        scale = math.lcm(per_order.denominator, per_line.denominator)
        minutes = (
            int(per_order * scale) * as_objects(frame["orders"])
            + int(per_line * scale) * as_objects(frame["order_lines"])
            + scale * as_objects(frame["visit_minutes"])
        )
        return np.where(active, minutes, 0).astype(object), scale
    else:  # direct: a booking, no driver
        quantity = np.zeros(len(frame), dtype=np.int64)
    return as_objects(quantity), scale


@dataclass(frozen=True)
class _PoolChange:
    pool_id: int
    amount_change: np.ndarray  # per row, cents (variable pools only)
    share_change: np.ndarray  # per row: change of the customer's exact share, rounded
    capacity_after: np.ndarray | None  # per row, minutes (variable time-driven pools)


def pool_changes(drivers: pd.DataFrame, pools: pd.DataFrame, before: pd.DataFrame, after: pd.DataFrame):
    """Per pool, what the change of each row's customer from ``before`` to ``after`` does to it."""
    changes = []
    n = len(before)
    for pool in _pool_values(pools):
        amount = int(pool["amount_cents"])
        variable = pool["nature"] == "variable"
        if pool["key"] == "direct":
            zero = np.zeros(n, dtype=np.int64)
            changes.append(_PoolChange(int(pool["pool_id"]), zero, zero, None))
            continue
        total_q, scale = _quantity(pool, drivers)
        total = int(total_q.sum())
        q0, q1 = _quantity(pool, before)[0], _quantity(pool, after)[0]
        dq = q1 - q0
        if pool["key"] == "time_driven":
            changes.append(_time_driven_change(pool, amount, variable, total, scale, q0, q1, dq))
            continue
        amount_change = _div_half_up(amount * dq, total) if variable else np.zeros(n, dtype=np.int64)
        new_amount = amount + as_objects(amount_change)
        share_before = _div_half_up(amount * q0, total)
        share_after = _div_half_up(new_amount * q1, total + dq)
        changes.append(_PoolChange(int(pool["pool_id"]), amount_change, share_after - share_before, None))
    return changes


def _time_driven_change(pool, amount, variable, demand, scale, q0, q1, dq) -> _PoolChange:
    """Charge = amount × minutes / capacity, or / demand when the demand exceeds the capacity."""
    capacity = _fraction(pool["capacity_minutes"]) if not pd.isna(pool["capacity_minutes"]) else Fraction(0)
    cap_num, cap_den = capacity.numerator * scale, capacity.denominator  # scaled capacity = num / den
    n = len(q0)

    def charge(amounts, minutes, demands, cap_nums):
        over = np.asarray(demands * cap_den > cap_nums, dtype=bool)
        by_demand = _div_half_up(amounts * minutes, demands)
        by_capacity = _div_half_up(amounts * minutes * cap_den, cap_nums)
        return np.where(over, by_demand, by_capacity)

    if cap_num <= 0:
        zero = np.zeros(n, dtype=np.int64)
        return _PoolChange(int(pool["pool_id"]), zero, zero, None)
    overloaded = demand * cap_den > cap_num
    new_cap_num = np.full(n, cap_num, dtype=object)
    if not variable:
        amount_change = np.zeros(n, dtype=np.int64)
    elif overloaded:
        amount_change = _div_half_up(amount * dq, demand)
    else:
        amount_change = _div_half_up(amount * dq * cap_den, cap_num)
        new_cap_num = cap_num + dq * cap_den
    share_before = charge(amount, q0, np.full(n, demand, dtype=object), np.full(n, cap_num, dtype=object))
    share_after = charge(amount + as_objects(amount_change), q1, demand + dq, new_cap_num)
    capacity_after = None
    if variable and not overloaded:
        capacity_after = new_cap_num.astype(float) / (cap_den * scale)
    return _PoolChange(int(pool["pool_id"]), amount_change, share_after - share_before, capacity_after)
