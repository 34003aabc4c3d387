"""The period totals: one source for every page, API and report."""

from __future__ import annotations

import pandas as pd

from config.money import sum_cents
from customers.models import Period

from ..models import CostPool, PoolResult


def period_totals(*, period: Period, frame: pd.DataFrame | None = None) -> dict:
    """The totals of a period that every page, API and report shows (3 queries, or 1 with ``frame``).

    Every figure is in integer cents and comes from the stored figures of the period (the pyramid
    joined with the stored profit, ``customers.reports.stored_with_profit``; pass that frame when
    the caller already read it):

    - the period's totals over every customer with figures in the period: ``revenue_cents``,
      ``gross_margin_cents`` (net of credit notes, whoever the customer), ``allocated_cents``,
      ``financing_cents``, ``cost_to_serve_cents`` (allocated + financing) and ``profit_cents``
      (Σ customer profit: a customer outside the allocation keeps its gross margin as profit);
      ``customers``: the active customers (net revenue > 0). Cost and profit are None while
      profit is not computed (``computed`` False).
    - ``active``: the same figures over the active customers only, the base of the 80/20 figures,
      the whale curve, the segments and the scenarios' actuals (costs are allocated over them).
    - ``outside_active``: the difference (customers with figures but no net revenue, e.g. only
      credit notes): ``customers`` (those with any revenue or margin), ``revenue_cents``,
      ``gross_margin_cents``, ``profit_cents``. ``base_differs`` is True when it is not zero:
      a page on the active base must then say so next to its figure.
    - ``pools_cents``, ``unused_cents`` and ``unallocated_cents``: the cost pools of the period
      and what of them is in no customer's profit (time-driven unused capacity, pools without a
      driver), so ``profit_cents - unused_cents - unallocated_cents`` is the result after every pool.
    """
    from customers.reports import stored_with_profit

    frame = stored_with_profit(period) if frame is None else frame
    active_mask = frame["revenue_cents"] > 0
    computed = bool(len(frame)) and bool(frame["profit_cents"].notna().any())

    def sums(part: pd.DataFrame) -> dict:
        out = {
            "customers": int((part["revenue_cents"] > 0).sum()),
            "revenue_cents": int(part["revenue_cents"].astype("int64").sum()),
            "gross_margin_cents": int(part["gross_margin_cents"].astype("int64").sum()),
            "allocated_cents": None,
            "financing_cents": None,
            "cost_to_serve_cents": None,
            "profit_cents": None,
        }
        if computed:
            allocated = _sum_or_none(part["allocated_cost_cents"])
            financing = _sum_or_none(part["financing_cost_cents"])
            profit = _sum_or_none(part["profit_cents"])
            if None not in (allocated, financing, profit):
                out.update(
                    allocated_cents=allocated,
                    financing_cents=financing,
                    cost_to_serve_cents=allocated + financing,
                    profit_cents=profit,
                )
        return out

    total = sums(frame)
    active = sums(frame[active_mask])
    rest = frame[~active_mask]
    moving = rest[(rest["revenue_cents"] != 0) | (rest["gross_margin_cents"] != 0)]
    outside = {
        "customers": len(moving),
        "revenue_cents": total["revenue_cents"] - active["revenue_cents"],
        "gross_margin_cents": total["gross_margin_cents"] - active["gross_margin_cents"],
        "profit_cents": (
            None
            if total["profit_cents"] is None or active["profit_cents"] is None
            else total["profit_cents"] - active["profit_cents"]
        ),
    }
    results = PoolResult.objects.filter(pool__period=period).aggregate(
        unused=sum_cents("unused"), unallocated=sum_cents("unallocated")
    )
    pools = CostPool.objects.filter(period=period).aggregate(amount=sum_cents("amount"))
    return {
        "period": period,
        "computed": computed and total["profit_cents"] is not None,
        **total,
        "active": active,
        "outside_active": outside,
        "base_differs": bool(outside["customers"]),
        "pools_cents": int(pools["amount"] or 0),
        "unused_cents": int(results["unused"] or 0),
        "unallocated_cents": int(results["unallocated"] or 0),
    }


def _sum_or_none(values: pd.Series) -> int | None:
    if values.isna().any():
        return None
    return int(values.astype("int64").sum())
