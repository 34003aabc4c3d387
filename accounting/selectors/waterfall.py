"""One customer's profit: the waterfall from revenue to profit and why it changed."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pandas as pd

from config.money import to_cents
from customers.models import Customer, CustomerPeriod, CustomerProfit, Period

from ..models import CostPool, Invoice, ProfitSnapshot
from .frames import _invoice_rows_frame, interest_rate, snapshots


def computed_on(*, period: Period) -> datetime.date:
    """The day the stored profit of a period was computed (open invoices count up to it)."""
    from django.utils import timezone

    latest = ProfitSnapshot.objects.filter(period=period).values_list("created_at", flat=True).first()
    return timezone.localdate(latest) if latest else timezone.localdate()


def customer_waterfall(*, customer: Customer, period: Period) -> dict:
    """The P&L of one customer in a period, from revenue to profit, pool by pool (5 queries).

    Returns the stored figures (cents): revenue, gross_margin, allocated, financing, profit;
    level; drivers (orders, order_lines, visits, visit_minutes); pools: one dict per pool the
    customer carries or has a driver for (pool_id, name, key, nature, amount_cents (the
    customer's share), quantity (its driver quantity), driver_total, rate (euros per driver
    unit), pool_amount_cents, unused_cents, warning, minutes_per_order, minutes_per_line,
    capacity_minutes, weight); invoices: the financing detail per invoice (invoice_id,
    amount_cents, due, paid, days_late, cost in euros); interest_rate (%); as_of; steps: the
    waterfall (label, kind, amount_cents signed, start_cents, end_cents) ending at profit.
    ``computed`` is False when no profit is stored for the customer (then profit = margin).
    """
    from .. import allocation

    row = CustomerProfit.objects.filter(period=period, customer=customer).first()
    stored = CustomerPeriod.objects.filter(period=period, customer=customer).first()
    if row is not None:
        figures = {
            "revenue": to_cents(row.revenue),
            "gross_margin": to_cents(row.gross_margin),
            "allocated": to_cents(row.allocated),
            "financing": to_cents(row.financing),
            "profit": to_cents(row.profit),
        }
        level = row.level
        drivers = {k: getattr(row, k) for k in ("orders", "order_lines", "visits", "visit_minutes")}
        by_pool = row.by_pool or {}
    else:
        revenue = to_cents(stored.revenue) if stored else 0
        margin = to_cents(stored.gross_margin) if stored else 0
        figures = {"revenue": revenue, "gross_margin": margin, "allocated": 0, "financing": 0, "profit": margin}
        level = stored.level if stored else None
        drivers = {
            "orders": stored.orders if stored else 0,
            "order_lines": stored.order_lines if stored else 0,
            "visits": 0,
            "visit_minutes": 0,
        }
        by_pool = {}
    pools = {p.id: p for p in CostPool.objects.filter(period=period).select_related("result")}
    lines = []
    for pool_id, (amount_cents, quantity) in by_pool.items():
        pool = pools.get(int(pool_id))
        result = pool.result if pool is not None and hasattr(pool, "result") else None
        lines.append(
            {
                "pool_id": int(pool_id),
                "name": pool.name if pool else None,
                "key": pool.key if pool else None,
                "nature": pool.nature if pool else None,
                "amount_cents": int(amount_cents),
                "quantity": float(quantity),
                "driver_total": result.driver_total if result else None,
                "rate": result.rate if result else None,
                "pool_amount_cents": to_cents(pool.amount) if pool else None,
                "unused_cents": to_cents(result.unused) if result else None,
                "warning": result.warning if result else "",
                "minutes_per_order": pool.minutes_per_order if pool else None,
                "minutes_per_line": pool.minutes_per_line if pool else None,
                "capacity_minutes": pool.capacity_minutes if pool else None,
            }
        )
    lines.sort(key=lambda p: (-p["amount_cents"], p["name"] or ""))
    rate = interest_rate(period=period)
    as_of = computed_on(period=period)
    invoices = _invoice_rows_frame(Invoice.objects.filter(period=period, customer=customer).order_by("due"))
    detail = allocation.financing_cost_detail(invoices, yearly_rate=Decimal(rate) / 100, as_of=as_of)
    detail = detail.assign(due=invoices["due"].dt.date, paid=invoices["paid"].dt.date)
    invoice_rows = [
        {
            "invoice_id": r.invoice_id,
            "amount_cents": int(r.amount_cents),
            "due": r.due,
            "paid": None if pd.isna(r.paid) else r.paid,
            "days_late": int(r.days_late),
            "cost": round(float(r.cost), 2),
        }
        for r in detail.itertuples(index=False)
    ]
    return {
        "customer": customer,
        "period": period,
        "computed": row is not None,
        "level": level,
        "drivers": drivers,
        **figures,
        "pools": lines,
        "invoices": invoice_rows,
        "interest_rate": rate,
        "as_of": as_of,
        "steps": waterfall_steps(figures, lines),
    }


def waterfall_steps(figures: dict, pools: list[dict]) -> list[dict]:
    """The bars of a P&L waterfall: revenue, cost of goods, gross margin, each pool, financing, profit."""
    steps = [
        {"label": "revenue", "kind": "total", "amount_cents": figures["revenue"]},
        {"label": "cogs", "kind": "step", "amount_cents": figures["gross_margin"] - figures["revenue"]},
        {"label": "gross_margin", "kind": "total", "amount_cents": figures["gross_margin"]},
    ]
    steps += [
        {"label": p["name"] or f"#{p['pool_id']}", "kind": "pool", "amount_cents": -p["amount_cents"]} for p in pools
    ]
    steps += [
        {"label": "financing", "kind": "step", "amount_cents": -figures["financing"]},
        {"label": "profit", "kind": "total", "amount_cents": figures["profit"]},
    ]
    running = 0
    for step in steps:
        if step["kind"] == "total":
            step["start_cents"], step["end_cents"] = 0, step["amount_cents"]
            running = step["amount_cents"]
        else:
            step["start_cents"], step["end_cents"] = running, running + step["amount_cents"]
            running += step["amount_cents"]
    if steps[-2]["end_cents"] != figures["profit"]:
        raise AssertionError("The waterfall does not add up to the stored profit.")
    return steps


def _pools_matched_by_name(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """The before pools with the pool_id of the after pool of the same name (another period's pools)."""
    by_name = dict(zip(after["name"], after["pool_id"], strict=True))
    unmatched = iter(range(-1, -len(before) - 1, -1))
    ids = [int(by_name[n]) if n in by_name else next(unmatched) for n in before["name"]]
    return before.assign(pool_id=pd.array(ids, dtype="int64"))


def profit_change(*, customer: Customer, period: Period, compare: str = "snapshots") -> dict:
    """Why a customer's profit changed, split into causes that add up to the change.

    compare="snapshots": between the last two computations of the period; "previous_period":
    between the latest computation of the previous period and of this one (pools matched by
    name). Returns available (bool) and reason, or available plus the figures of
    ``accounting.allocation.profit_change_causes`` and before/after labels.
    """
    from .. import allocation

    if compare == "previous_period":
        from customers.selectors import period_previous

        previous = period_previous(period)
        if previous is None:
            return {"available": False, "reason": "first_period"}
        after, before = snapshots(period=period, limit=1), snapshots(period=previous, limit=1)
        if not after or not before:
            return {"available": False, "reason": "not_computed"}
        after, before = after[0], before[0]
        before = {**before, "pools": _pools_matched_by_name(before["pools"], after["pools"])}
        labels = (str(previous.name), str(period.name))
    else:
        snaps = snapshots(period=period, limit=2)
        if len(snaps) < 2:
            return {"available": False, "reason": "one_computation"}
        after, before = snaps
        labels = (before["created_at"], after["created_at"])
    in_before = (before["drivers"]["customer_id"] == customer.id).any()
    in_after = (after["drivers"]["customer_id"] == customer.id).any()
    if not (in_before or in_after):
        return {"available": False, "reason": "not_in_pyramid"}

    def financing_of(frame: pd.DataFrame) -> int:
        if frame.empty:
            return 0
        return int(frame.loc[frame["customer_id"] == customer.id, "financing_cost_cents"].sum())

    causes = allocation.profit_change_causes(
        customer_id=customer.id,
        drivers_before=before["drivers"],
        pools_before=before["pools"],
        financing_before_cents=financing_of(before["financing"]),
        drivers_after=after["drivers"],
        pools_after=after["pools"],
        financing_after_cents=financing_of(after["financing"]),
    )
    return {"available": True, "compare": compare, "before": labels[0], "after": labels[1], **causes}
