"""How customers move from one period to the next: the migration matrix and retention."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .frames import _active, _cents, _ratio, _require_columns, _require_levels, _require_unique_customers
from .scheme import ALL_LEVELS, LEVELS_ACTIVE, MIGRATION_FROM


def migration_matrix(prev: pd.DataFrame, cur: pd.DataFrame) -> pd.DataFrame:
    """How customers moved between pyramid levels from P-1 to P.

    ``prev``: ``customer_id, level`` (the pyramid of P-1).
    ``cur``: ``customer_id, level, revenue_cents`` (the pyramid of P, with every
    customer known in P). A customer of ``cur`` without a row in ``prev`` comes
    from ``new``; a customer only in ``prev`` is not counted (it is not in P).

    Returns the full grid, MIGRATION_FROM × ALL_LEVELS in that order (8 × 7 rows):
    ``from_level, to_level, customers`` (int64), ``revenue_cents`` (int64, net
    revenue in P of those customers); zeros where no customer moved.
    """
    _require_columns(prev, ("customer_id", "level"), "prev")
    _require_columns(cur, ("customer_id", "level", "revenue_cents"), "cur")
    _require_unique_customers(prev, "prev")
    _require_unique_customers(cur, "cur")
    _require_levels(prev["level"], ALL_LEVELS, "prev")
    _require_levels(cur["level"], ALL_LEVELS, "cur")

    moves = pd.DataFrame(
        {
            "customer_id": cur["customer_id"].to_numpy(),
            "to_level": cur["level"].to_numpy(),
            "revenue_cents": _cents(cur["revenue_cents"]),
        }
    ).merge(
        prev[["customer_id", "level"]].rename(columns={"level": "from_level"}),
        on="customer_id",
        how="left",
    )
    moves["from_level"] = moves["from_level"].fillna("new")

    grid = pd.MultiIndex.from_product([MIGRATION_FROM, ALL_LEVELS], names=["from_level", "to_level"])
    matrix = (
        moves.groupby(["from_level", "to_level"])
        .agg(
            customers=("customer_id", "size"),
            revenue_cents=("revenue_cents", "sum"),
        )
        .reindex(grid, fill_value=0)
        .astype("int64")
        .reset_index()
    )
    assert matrix["customers"].sum() == len(cur)
    assert matrix["revenue_cents"].sum() == moves["revenue_cents"].sum()
    return matrix


# --- retention ------------------------------------------------------------------------


def retention(prev: pd.DataFrame, cur: pd.DataFrame) -> dict[str, Any]:
    """Customer and revenue retention of period P against P-1 (DOMAIN section 3).

    ``prev``: ``customer_id, level, revenue_cents`` (P-1). A(P-1) is the customers
    with revenue > 0 there; their level must be one of top/big/medium/small.
    ``cur``: ``customer_id, revenue_cents, existing`` (P; ``existing`` = had
    revenue > 0 in some period before P). A customer of A(P-1) missing from ``cur``
    counts with revenue 0 in P.

    Returns a dict:

    - ``customer_retention`` = |A(P) ∩ A(P-1)| / |A(P-1)|
    - ``revenue_retention`` = Σ_{A(P-1)} rev_P / Σ_{A(P-1)} rev_{P-1} (net: returns
      in P count negative, the figure can exceed 1)
    - ``existing_revenue_share`` = Σ_{existing} rev_P / Σ_{all of cur} rev_P;
      ``None`` when total revenue in P is not positive (the share means nothing)
    - ``customers_prev``, ``customers_retained``, ``revenue_prev_cents``,
      ``revenue_cur_cents`` (over A(P-1)), ``existing_revenue_cents``,
      ``total_revenue_cents`` (over cur): the numbers behind the ratios
    - ``by_level``: one dict per level of P-1, top, big, medium, small, with
      ``level, customers_prev, customers_retained, customer_retention,
      revenue_prev_cents, revenue_cur_cents, revenue_retention``

    Ratios are floats, ``None`` when the denominator is 0 (no active customer).
    """
    _require_columns(prev, ("customer_id", "level", "revenue_cents"), "prev")
    _require_columns(cur, ("customer_id", "revenue_cents", "existing"), "cur")
    _require_unique_customers(prev, "prev")
    _require_unique_customers(cur, "cur")

    base = _active(prev)
    _require_levels(base["level"], LEVELS_ACTIVE, "prev (customers active in P-1)")
    cur_revenue = pd.Series(_cents(cur["revenue_cents"]), index=cur["customer_id"])
    cohort = pd.DataFrame(
        {
            "level": pd.Categorical(base["level"], categories=LEVELS_ACTIVE),
            "revenue_prev_cents": _cents(base["revenue_cents"]),
            "revenue_cur_cents": cur_revenue.reindex(base["customer_id"].to_numpy(), fill_value=0).to_numpy(
                dtype=np.int64
            ),
        }
    )
    cohort["retained"] = (cohort["revenue_cur_cents"] > 0).astype(np.int64)
    per_level = cohort.groupby("level", observed=False).agg(
        customers_prev=("retained", "size"),
        customers_retained=("retained", "sum"),
        revenue_prev_cents=("revenue_prev_cents", "sum"),
        revenue_cur_cents=("revenue_cur_cents", "sum"),
    )

    def figures(row: pd.Series | dict) -> dict[str, Any]:
        return {
            "customers_prev": int(row["customers_prev"]),
            "customers_retained": int(row["customers_retained"]),
            "customer_retention": _ratio(int(row["customers_retained"]), int(row["customers_prev"])),
            "revenue_prev_cents": int(row["revenue_prev_cents"]),
            "revenue_cur_cents": int(row["revenue_cur_cents"]),
            "revenue_retention": _ratio(int(row["revenue_cur_cents"]), int(row["revenue_prev_cents"])),
        }

    overall = figures(per_level.sum())
    total = int(_cents(cur["revenue_cents"]).sum())
    existing = int(_cents(cur["revenue_cents"])[cur["existing"].to_numpy(dtype=bool)].sum())
    return {
        "customer_retention": overall["customer_retention"],
        "revenue_retention": overall["revenue_retention"],
        "existing_revenue_share": existing / total if total > 0 else None,
        "customers_prev": overall["customers_prev"],
        "customers_retained": overall["customers_retained"],
        "revenue_prev_cents": overall["revenue_prev_cents"],
        "revenue_cur_cents": overall["revenue_cur_cents"],
        "existing_revenue_cents": existing,
        "total_revenue_cents": total,
        "by_level": [{"level": level, **figures(per_level.loc[level])} for level in LEVELS_ACTIVE],
    }
