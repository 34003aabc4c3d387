"""A period's facts per customer from its order lines."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .frames import _cents, _require_columns


def customer_period_facts(lines: pd.DataFrame) -> pd.DataFrame:
    """Per-customer totals of one period's order lines.

    Input columns: ``customer_id`` (int64), ``order_id`` (str or int),
    ``amount_cents`` (int64, net of discounts, excl. VAT; returns negative),
    ``cost_cents`` (int64, cost of goods sold).

    Output, one row per customer_id, sorted by customer_id, all int64:
    ``customer_id, revenue_cents, gross_margin_cents, orders, order_lines``
    (``gross_margin_cents`` = Σ amount - Σ cost, ``orders`` = distinct order_id,
    ``order_lines`` = number of rows).
    """
    _require_columns(lines, ("customer_id", "order_id", "amount_cents", "cost_cents"), "lines")
    amount = _cents(lines["amount_cents"])
    frame = pd.DataFrame(
        {
            "customer_id": lines["customer_id"].to_numpy(dtype=np.int64),
            "order_id": lines["order_id"].to_numpy(),
            "revenue_cents": amount,
            "gross_margin_cents": amount - _cents(lines["cost_cents"]),
        }
    )
    grouped = frame.groupby("customer_id", sort=True)
    facts = grouped[["revenue_cents", "gross_margin_cents"]].sum()
    facts["orders"] = grouped["order_id"].nunique()
    facts["order_lines"] = grouped.size()
    facts = facts.reset_index().astype("int64")
    assert facts["revenue_cents"].sum() == amount.sum()  # reconcile to the cent
    return facts
