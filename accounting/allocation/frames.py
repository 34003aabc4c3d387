"""The columns of the frames, the allocation keys, and the result of an allocation."""

from __future__ import annotations

from dataclasses import dataclass

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
