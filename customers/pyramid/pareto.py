"""Concentration: the 80/20 figures, the whale curve and the Pareto curve."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .frames import _active, _cents, _complete_cents, _require_columns, _require_unique_customers, _sorted_by
from .scheme import ceil_share


def concentration(cur: pd.DataFrame) -> dict[str, Any]:
    """80/20 figures and the whale-curve peak over the active customers of P.

    Columns: ``customer_id, external_id, revenue_cents`` and optionally
    ``allocated_cost_cents`` and ``profit_cents``. Only customers with revenue > 0
    count (N of them). A cost or profit figure is ``None`` when its column is
    absent or missing for any active customer (accounting has not run, or is
    stale): a figure over part of the customers would mislead.

    Returns a dict:

    - ``active_customers`` (N), ``total_revenue_cents``
    - ``top20_customers`` = ceil(0.2 N); ``top20_revenue_share``: their revenue /
      total revenue (highest revenue first, ties external_id ascending)
    - ``customers_for_80pct_revenue`` (k): the smallest k whose k highest-revenue
      customers earn >= 80 % of revenue; ``customers_share_for_80pct_revenue`` = k/N
    - ``bottom20_customers``: length of the shortest prefix, revenue ascending
      (ties external_id ascending), whose revenue is >= 20 % of the total;
      ``bottom20_revenue_cost_share``: their share of the allocated cost of all
      active customers (None when that total is not positive)
    - ``total_profit_cents``; ``whale_peak_profit_share``: the peak of cumulative
      profit / total profit with customers by profit descending (ties external_id
      ascending); ``whale_peak_customers`` (i, the first i reaching the peak) and
      ``whale_peak_customer_share`` = i/N. These three are ``None`` when total
      profit <= 0: a share of a non-positive total has no meaning.
    - ``loss_on_lossmaking_cents``: Σ of the negative profits, as a negative
      number (0 when nobody loses money); ``lossmaking_customers``: their count.

    With N = 0 every revenue ratio and k are ``None``.
    """
    _require_columns(cur, ("customer_id", "external_id", "revenue_cents"), "cur")
    _require_unique_customers(cur, "cur")
    active = _active(cur)
    n = len(active)

    by_revenue = _sorted_by(active, "revenue_cents", descending=True)
    revenue_desc = _cents(by_revenue["revenue_cents"])
    total_revenue = int(revenue_desc.sum())
    figures: dict[str, Any] = {
        "active_customers": n,
        "total_revenue_cents": total_revenue,
        "top20_customers": ceil_share(0.2, n),
    }
    if n:
        top = figures["top20_customers"]
        # Smallest k with cum >= 0.8 total, in integers: 5 * cum >= 4 * total.
        k = int(np.searchsorted(5 * np.cumsum(revenue_desc), 4 * total_revenue)) + 1
        figures.update(
            top20_revenue_share=int(revenue_desc[:top].sum()) / total_revenue,
            customers_for_80pct_revenue=k,
            customers_share_for_80pct_revenue=k / n,
        )
    else:
        figures.update(
            top20_revenue_share=None,
            customers_for_80pct_revenue=None,
            customers_share_for_80pct_revenue=None,
        )
    figures.update(_bottom20_cost(active))
    figures.update(_whale_peak(active))
    return figures


def _bottom20_cost(active: pd.DataFrame) -> dict[str, Any]:
    by_revenue = _sorted_by(active, "revenue_cents", descending=False)
    revenue_asc = _cents(by_revenue["revenue_cents"])
    # Shortest prefix with cum >= 0.2 total, in integers: 5 * cum >= total.
    m = int(np.searchsorted(5 * np.cumsum(revenue_asc), revenue_asc.sum())) + 1
    figures: dict[str, Any] = {
        "bottom20_customers": m if len(active) else None,
        "bottom20_revenue_cost_share": None,
    }
    cost = _complete_cents(by_revenue, "allocated_cost_cents")
    if cost is not None and cost.sum() > 0:
        figures["bottom20_revenue_cost_share"] = int(cost[:m].sum()) / int(cost.sum())
    return figures


def _whale_peak(active: pd.DataFrame) -> dict[str, Any]:
    figures: dict[str, Any] = dict.fromkeys(
        (
            "total_profit_cents",
            "whale_peak_profit_share",
            "whale_peak_customers",
            "whale_peak_customer_share",
            "loss_on_lossmaking_cents",
            "lossmaking_customers",
        )
    )
    profit = _complete_cents(active, "profit_cents")
    if profit is None:
        return figures
    total = int(profit.sum())
    figures.update(
        total_profit_cents=total,
        loss_on_lossmaking_cents=int(profit[profit < 0].sum()),
        lossmaking_customers=int((profit < 0).sum()),
    )
    if total > 0:
        cumulative = np.cumsum(_cents(_sorted_by(active, "profit_cents", descending=True)["profit_cents"]))
        peak = int(np.argmax(cumulative))  # first index of the maximum
        figures.update(
            whale_peak_profit_share=int(cumulative[peak]) / total,
            whale_peak_customers=peak + 1,
            whale_peak_customer_share=(peak + 1) / len(active),
        )
    return figures


# --- curves ---------------------------------------------------------------------------


def _cumulative_curve(values_desc: np.ndarray, points: int, x_name: str, y_name: str) -> pd.DataFrame:
    """Cumulative share curve from (0, 0) to (1, total/total), downsampled.

    Keeps at most ``points`` evenly spaced points (always the start and the end)
    plus the peak of the cumulative share.
    """
    if points < 2:
        raise ValueError(f"A curve needs at least 2 points (got {points}).")
    n = len(values_desc)
    cumulative = np.concatenate(([0], np.cumsum(values_desc, dtype=np.int64)))
    peak = int(np.argmax(cumulative))
    keep = np.union1d(np.rint(np.linspace(0, n, min(points, n + 1))).astype(int), peak)
    return pd.DataFrame(
        {
            x_name: keep / n,
            y_name: cumulative[keep] / cumulative[-1],
        }
    )


def _empty_curve(x_name: str, y_name: str) -> pd.DataFrame:
    return pd.DataFrame({x_name: np.array([], dtype=float), y_name: np.array([], dtype=float)})


def whale_curve(cur: pd.DataFrame, points: int = 200) -> pd.DataFrame:
    """The whale curve of the active customers, for charting.

    Columns in: ``customer_id, external_id, revenue_cents, profit_cents``.
    Columns out (float): ``customer_share`` (i/N) and ``profit_share`` (cumulative
    profit of the i most profitable customers / total profit), starting at (0, 0),
    ending at (1, 1), with the peak always included; at most ``points`` + 1 rows.
    Empty when profit is unavailable (see :func:`concentration`), there is no
    active customer or total profit <= 0.
    """
    _require_columns(cur, ("customer_id", "external_id", "revenue_cents"), "cur")
    active = _active(cur)
    profit = _complete_cents(active, "profit_cents")
    if profit is None or not len(active) or profit.sum() <= 0:
        return _empty_curve("customer_share", "profit_share")
    profit_desc = _cents(_sorted_by(active, "profit_cents", descending=True)["profit_cents"])
    return _cumulative_curve(profit_desc, points, "customer_share", "profit_share")


def pareto_curve(cur: pd.DataFrame, points: int = 200) -> pd.DataFrame:
    """The 80/20 (Pareto) curve of the active customers, for charting.

    Columns in: ``customer_id, external_id, revenue_cents``. Columns out (float):
    ``customer_share`` (i/N) and ``revenue_share`` (cumulative revenue of the i
    highest-revenue customers / total revenue), from (0, 0) to (1, 1); at most
    ``points`` rows. Empty when there is no active customer.
    """
    _require_columns(cur, ("customer_id", "external_id", "revenue_cents"), "cur")
    active = _active(cur)
    if not len(active):
        return _empty_curve("customer_share", "revenue_share")
    revenue_desc = _cents(_sorted_by(active, "revenue_cents", descending=True)["revenue_cents"])
    return _cumulative_curve(revenue_desc, points, "customer_share", "revenue_share")
