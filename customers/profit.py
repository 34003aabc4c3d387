"""The stored profit as the core reads it: accounting's profit stage writes ``CustomerProfit`` and
``PeriodCosts`` into the core, and the core's pages and reports (customer list, pyramid, dashboard,
80/20) read them here without importing accounting (README, Architecture).

- ``customer_profit_frame``: the stored profit rows of a period, in cents (``customer_profit_cents``:
  only the profit);
- ``stored_with_profit``: the stored pyramid joined with them (what every profit-aware page reads);
- ``period_totals``: the one source of a period's totals, on every page, API and report.
"""

from __future__ import annotations

import pandas as pd
from django.db.models import F

from config.bulk import query_frame
from config.money import cents_sql
from config.snapshot import read_once

from .models import CustomerProfit, Period, PeriodCosts
from .pyramid import LEVELS_ACTIVE
from .selectors import customer_period_frame


@read_once
def customer_profit_frame(*, period: Period) -> pd.DataFrame:
    """customer_id, level, revenue_cents, gross_margin_cents, allocated_cents, financing_cents, profit_cents, ..."""
    cols = [
        "customer_id",
        "level",
        "revenue_cents",
        "gross_margin_cents",
        "allocated_cents",
        "financing_cents",
        "profit_cents",
        "orders",
        "order_lines",
        "visits",
        "visit_minutes",
    ]
    rows = CustomerProfit.objects.filter(period=period).values_list(
        "customer_id",
        "level",
        cents_sql(F("revenue")),
        cents_sql(F("gross_margin")),
        cents_sql(F("allocated")),
        cents_sql(F("financing")),
        cents_sql(F("profit")),
        "orders",
        "order_lines",
        "visits",
        "visit_minutes",
    )
    frame = pd.DataFrame.from_records(list(rows), columns=cols)
    return frame.astype({c: "int64" for c in cols if c != "level"})


def customer_profit_cents(*, period: Period) -> pd.DataFrame:
    """customer_id, profit_cents of the period's stored profit rows: what the value stage reads
    (one query of two columns, not the eleven of ``customer_profit_frame``)."""
    rows = CustomerProfit.objects.filter(period=period).values_list("customer_id", cents_sql(F("profit")))
    return query_frame(rows, ["customer_id", "profit_cents"], int_columns=("customer_id", "profit_cents")).astype(
        "int64"
    )


@read_once
def stored_with_profit(period: Period, fields: tuple[str, ...] = ()) -> pd.DataFrame:
    """The stored pyramid of the period joined with accounting's profit figures (if computed)."""
    frame = customer_period_frame(period=period, fields=fields)
    profit = customer_profit_frame(period=period)
    if profit.empty:
        frame["allocated_cost_cents"] = pd.array([pd.NA] * len(frame), dtype="Int64")
        frame["profit_cents"] = pd.array([pd.NA] * len(frame), dtype="Int64")
        frame["financing_cost_cents"] = pd.array([pd.NA] * len(frame), dtype="Int64")
        return frame
    merged = frame.merge(
        profit[["customer_id", "allocated_cents", "financing_cents", "profit_cents"]], on="customer_id", how="left"
    )
    # Non-active customers without a profit row carry no cost: their profit is their margin.
    inactive = ~merged["level"].isin(LEVELS_ACTIVE)
    merged["allocated_cost_cents"] = merged["allocated_cents"].astype("Int64")
    merged.loc[inactive & merged["allocated_cents"].isna(), "allocated_cost_cents"] = 0
    merged["financing_cost_cents"] = merged["financing_cents"].astype("Int64")
    merged.loc[inactive & merged["financing_cents"].isna(), "financing_cost_cents"] = 0
    merged["profit_cents"] = merged["profit_cents"].astype("Int64")
    fill = inactive & merged["profit_cents"].isna()
    merged.loc[fill, "profit_cents"] = merged.loc[fill, "gross_margin_cents"]
    return merged.drop(columns=["allocated_cents", "financing_cents"])


def period_totals(*, period: Period, frame: pd.DataFrame | None = None) -> dict:
    """The totals of a period that every page, API and report shows (3 queries, or 1 with ``frame``).

    Every figure is in integer cents and comes from the stored figures of the period (the pyramid
    joined with the stored profit, ``stored_with_profit``; pass that frame when
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
      driver), as the profit stage stored them (``PeriodCosts``), so
      ``profit_cents - unused_cents - unallocated_cents`` is the result after every pool.
    """
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
            allocated = sum_or_none(part["allocated_cost_cents"])
            financing = sum_or_none(part["financing_cost_cents"])
            profit = sum_or_none(part["profit_cents"])
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
    costs = PeriodCosts.objects.filter(period=period).values_list(
        cents_sql(F("pools")), cents_sql(F("unused")), cents_sql(F("unallocated"))
    ).first() or (0, 0, 0)
    return {
        "period": period,
        "computed": computed and total["profit_cents"] is not None,
        **total,
        "active": active,
        "outside_active": outside,
        "base_differs": bool(outside["customers"]),
        "pools_cents": int(costs[0]),
        "unused_cents": int(costs[1]),
        "unallocated_cents": int(costs[2]),
    }


def sum_or_none(values: pd.Series) -> int | None:
    if values.isna().any():
        return None
    return int(values.astype("int64").sum())
