"""What if some customers' drivers changed, or one customer were gone: the allocation rerun."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .frames import AllocationResult
from .keys import allocate_pools


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
