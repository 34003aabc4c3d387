"""One action, exactly: a full reallocation through the allocation's what-if."""

from __future__ import annotations

import numpy as np
import pandas as pd

from accounting import allocation

from .changes import changed_drivers, pool_changes
from .terms import (
    CHANGED_COLUMNS,
    MIN_REVENUE,
    OTHER,
    PART_WAYS,
    ActionWhatIf,
    NotApplicable,
    parameter_check,
    parameter_hundredths,
)


def action_whatif(
    drivers: pd.DataFrame,
    pools: pd.DataFrame,
    financing: pd.DataFrame | None,
    *,
    customer_id: int,
    action_type: str,
    parameter=None,
    before: allocation.AllocationResult | None = None,
) -> ActionWhatIf | None:
    """The exact what-if of one action (a full reallocation); None for ``other``.

    ``before`` is the allocation of (drivers, pools) when the caller has it already. Raises
    NotApplicable (a ValueError with a code) when the action cannot be computed.
    """
    value = parameter_check(action_type, parameter)
    if action_type == OTHER:
        return None
    rows = customer_rows(drivers, [customer_id])
    fin = financing_series(financing)
    own_financing = int(fin.get(customer_id, 0))
    company_before = _company_profit(drivers, pools) - int(fin.sum())
    if action_type == PART_WAYS:
        result = allocation.what_if(drivers, pools, remove_customer_id=customer_id)
        customer_before = result["customer_profit_before_cents"] - own_financing
        change = result["company_profit_after_cents"] - result["company_profit_before_cents"] + own_financing
        return _whatif(customer_id, action_type, value, customer_before, None, company_before, change)

    _check_applicable(rows, action_type)
    after = changed_drivers(_with_action(rows, action_type, value))
    pools_after = pools.copy()
    for change in pool_changes(drivers, pools, rows, after):
        where = pools_after["pool_id"] == change.pool_id
        pools_after.loc[where, "amount_cents"] = pools_after.loc[where, "amount_cents"] + int(change.amount_change[0])
        if change.capacity_after is not None:
            pools_after.loc[where, "capacity_minutes"] = change.capacity_after[0]
    changes = after[["customer_id", *CHANGED_COLUMNS]]
    result = allocation.what_if(drivers, pools_after, changes=changes)
    before = before if before is not None else allocation.allocate_pools(drivers, pools)
    allocated = before.per_customer().set_index("customer_id")["allocated_cents"]
    customer_before = int(rows["gross_margin_cents"].iloc[0]) - int(allocated.get(customer_id, 0)) - own_financing
    customer_after = result["customer_profit_after_cents"] - own_financing
    change = result["company_profit_after_cents"] - _company_profit(drivers, pools)
    return _whatif(customer_id, action_type, value, customer_before, customer_after, company_before, change)


def _whatif(customer_id, action_type, value, customer_before, customer_after, company_before, change) -> ActionWhatIf:
    own_change = (0 if customer_after is None else customer_after) - customer_before
    return ActionWhatIf(
        customer_id=int(customer_id),
        action_type=action_type,
        parameter=value,
        customer_profit_before_cents=int(customer_before),
        customer_profit_after_cents=None if customer_after is None else int(customer_after),
        company_profit_before_cents=int(company_before),
        company_profit_after_cents=int(company_before + change),
        company_profit_change_cents=int(change),
        others_change_cents=int(change - own_change),
    )


def _company_profit(drivers: pd.DataFrame, pools: pd.DataFrame) -> int:
    """Σ gross margin - Σ pools, as ``what_if`` counts it (unused capacity is still cost)."""
    return int(drivers["gross_margin_cents"].sum()) - int(pools["amount_cents"].sum())


def financing_series(financing: pd.DataFrame | None) -> pd.Series:
    if financing is None or financing.empty:
        return pd.Series(dtype=np.int64)
    return financing.groupby("customer_id")["financing_cost_cents"].sum().astype(np.int64)


def customer_rows(drivers: pd.DataFrame, customer_ids) -> pd.DataFrame:
    indexed = drivers.set_index("customer_id")
    missing = [c for c in customer_ids if c not in indexed.index]
    if missing:
        raise NotApplicable("unknown_customer", f"Customer(s) {missing} have no figures in this period.")
    return indexed.loc[list(customer_ids)].reset_index()


def _with_action(rows: pd.DataFrame, action_type, value) -> pd.DataFrame:
    hundredths = 0 if value is None else parameter_hundredths(value)
    return rows.assign(action_type=action_type, parameter_hundredths=np.int64(hundredths))


def _check_applicable(rows: pd.DataFrame, action_type: str) -> None:
    if action_type == MIN_REVENUE and int(rows["revenue_cents"].iloc[0]) <= 0:
        raise NotApplicable(
            "no_revenue",
            "The customer has no revenue in this period, so there is no margin rate to raise it at.",
        )
