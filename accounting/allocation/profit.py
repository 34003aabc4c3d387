"""The profit of every customer: gross margin less allocated cost less financing cost."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .frames import AllocationResult


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
