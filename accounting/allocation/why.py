"""Why a customer's profit changed: the change split into causes that add up exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .frames import DRIVER_COLUMNS
from .keys import allocate_pools
from .pools import _with_pool_defaults


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
