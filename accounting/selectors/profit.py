"""Reads of customer profit for pages, API and reports: the table, loss-making customers, overview."""

from __future__ import annotations

from decimal import Decimal

from customers.models import CustomerProfit, Period
from customers.profit import period_totals, sum_or_none

from ..models import CostPool


def customer_profit_table(*, period: Period, scope_ids=None) -> dict:
    """One row per customer with a stored profit, by external id, with a column per pool (2 queries).

    Returns pools: [{id, name, key}] by name, and rows: customer_pk, customer_id (external id),
    name, level, revenue, gross_margin, allocated, financing, profit (Decimal euros) and
    ``pool_<id>`` (Decimal euros, 0 when the customer carries none of the pool).
    """
    pools = list(CostPool.objects.filter(period=period).order_by("name").values("id", "name", "key"))
    qs = CustomerProfit.objects.filter(period=period)
    if scope_ids is not None:
        qs = qs.filter(customer_id__in=scope_ids)
    values = qs.order_by("customer__external_id").values_list(
        "customer_id",
        "customer__external_id",
        "customer__name",
        "level",
        "revenue",
        "gross_margin",
        "allocated",
        "financing",
        "profit",
        "by_pool",
    )
    rows = []
    for pk, ext, name, level, revenue, margin, allocated, financing, profit, by_pool in values:
        row = {
            "customer_pk": pk,
            "customer_id": ext,
            "name": name,
            "level": level,
            "revenue": revenue,
            "gross_margin": margin,
            "allocated": allocated,
            "financing": financing,
            "profit": profit,
        }
        for pool in pools:
            amount = (by_pool or {}).get(str(pool["id"]))
            row[f"pool_{pool['id']}"] = Decimal(int(amount[0]) if amount else 0).scaleb(-2)
        rows.append(row)
    return {"pools": pools, "rows": rows}


def customer_profit_queryset(*, period: Period, scope_ids=None):
    """The stored profit rows of a period with their customer, for lists and the API."""
    qs = CustomerProfit.objects.filter(period=period).select_related("customer")
    if scope_ids is not None:
        qs = qs.filter(customer_id__in=scope_ids)
    return qs


def lossmaking_customers(*, period: Period, scope_ids=None):
    """Loss-making customers of a period, the largest loss first (ties by external id)."""
    return (
        customer_profit_queryset(period=period, scope_ids=scope_ids)
        .filter(profit__lt=0)
        .order_by("profit", "customer__external_id")
    )


def profit_overview(*, period: Period, curve_points: int = 100) -> dict:
    """Profit per pyramid level, the whale curve and its figures for one period (2 queries).

    levels: one dict per level (the four active ones always, the others when they hold a
    customer): level, customers, revenue_cents, gross_margin_cents, allocated_cents,
    financing_cents, profit_cents, avg_profit_cents; total: the same summed. computed is False
    when accounting has not run for the period (cost figures are then None). whale: the curve
    points (customer_share, profit_share) and concentration: customers.pyramid.concentration.
    """
    from customers import pyramid
    from customers.profit import stored_with_profit

    frame = stored_with_profit(period)
    computed = bool(len(frame)) and not frame["profit_cents"].isna().all()
    money = ["revenue_cents", "gross_margin_cents", "allocated_cost_cents", "financing_cost_cents", "profit_cents"]
    levels = []
    for level in pyramid.ALL_LEVELS:
        part = frame[frame["level"] == level]
        if not len(part) and level not in pyramid.LEVELS_ACTIVE:
            continue
        sums = {c: sum_or_none(part[c]) for c in money}
        levels.append(
            {
                "level": level,
                "customers": len(part),
                "revenue_cents": sums["revenue_cents"] or 0,
                "gross_margin_cents": sums["gross_margin_cents"] or 0,
                "allocated_cents": sums["allocated_cost_cents"],
                "financing_cents": sums["financing_cost_cents"],
                "profit_cents": sums["profit_cents"],
                "avg_profit_cents": (
                    None if sums["profit_cents"] is None or not len(part) else round(sums["profit_cents"] / len(part))
                ),
            }
        )
    totals = period_totals(period=period, frame=frame)
    keys = ["revenue_cents", "gross_margin_cents", "allocated_cents", "financing_cents", "profit_cents"]
    total = {"customers": sum(r["customers"] for r in levels), **{k: totals[k] for k in keys}}
    subset = frame[["customer_id", "external_id", "revenue_cents", "allocated_cost_cents", "profit_cents"]]
    return {
        "levels": levels,
        "total": total,
        "totals": totals,
        "computed": computed,
        "whale": pyramid.whale_curve(subset, points=curve_points) if computed else None,
        "concentration": pyramid.concentration(subset),
    }
