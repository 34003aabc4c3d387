"""The figures of every level in a period."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .frames import _cents, _require_columns, _require_levels, _round_half_up_div
from .scheme import ALL_LEVELS


def level_summary(cur: pd.DataFrame) -> pd.DataFrame:
    """The pyramid report: one row per level of ALL_LEVELS, in that order.

    Columns in: ``customer_id, level, revenue_cents, gross_margin_cents`` and
    optionally ``allocated_cost_cents, profit_cents``.

    Columns out:

    - ``level`` (str), ``customers``, ``revenue_cents``, ``gross_margin_cents``
      (int64; 0 for an empty level)
    - ``revenue_share`` (float64): level revenue / revenue of all rows; NaN when
      that total is not positive
    - ``allocated_cost_cents``, ``profit_cents`` (Int64): ``<NA>`` when the column
      is absent or any customer of the level has no value (never a partial sum)
    - ``avg_revenue_cents``, ``avg_profit_cents`` (Int64): total / customers,
      rounded half away from zero; ``<NA>`` for an empty level or missing total
    """
    _require_columns(cur, ("customer_id", "level", "revenue_cents", "gross_margin_cents"), "cur")
    _require_levels(cur["level"], ALL_LEVELS, "cur")
    level = pd.Categorical(cur["level"], categories=ALL_LEVELS)
    grouped = pd.DataFrame(
        {
            "revenue_cents": _cents(cur["revenue_cents"]),
            "gross_margin_cents": _cents(cur["gross_margin_cents"]),
        }
    ).groupby(level, observed=False)
    summary = grouped.sum().astype("int64")
    customers = grouped.size().to_numpy(dtype=np.int64)
    total_revenue = int(summary["revenue_cents"].sum())
    revenue_share = (
        summary["revenue_cents"].to_numpy() / total_revenue if total_revenue > 0 else np.full(len(ALL_LEVELS), np.nan)
    )

    def optional_sum(column: str) -> pd.arrays.IntegerArray:
        if column not in cur.columns:
            return pd.array([pd.NA] * len(ALL_LEVELS), dtype="Int64")
        values = pd.Series(pd.array(cur[column], dtype="Int64"))
        sums = values.groupby(level, observed=False).sum(skipna=False)
        return pd.array(sums, dtype="Int64")

    allocated_cost = optional_sum("allocated_cost_cents")
    profit = optional_sum("profit_cents")
    return pd.DataFrame(
        {
            "level": pd.array(ALL_LEVELS, dtype="str"),
            "customers": customers,
            "revenue_cents": summary["revenue_cents"].to_numpy(),
            "revenue_share": revenue_share,
            "gross_margin_cents": summary["gross_margin_cents"].to_numpy(),
            "allocated_cost_cents": allocated_cost,
            "profit_cents": profit,
            "avg_revenue_cents": _round_half_up_div(summary["revenue_cents"].to_numpy(), customers),
            # A missing total counts as an empty level: the average is <NA>.
            "avg_profit_cents": _round_half_up_div(
                profit.fillna(0).to_numpy(dtype=np.int64),
                np.where(profit.isna(), 0, customers),
            ),
        }
    )
