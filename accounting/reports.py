"""Accounting reports: profit per customer (with a column per pool) and the pools' allocation.

Registered in ``config.reports`` for the ``report`` command, the API and pages. Money in euros.
"""

from __future__ import annotations

from config.money import as_float_euros, to_cents
from config.reports import ReportKind, register
from customers.reports import period_or_error

from . import selectors

BASE_COLUMNS = ("customer_id", "level", "revenue", "gross_margin", "allocated_cost", "financing_cost", "profit")


def pool_column(name: str) -> str:
    """A pool's column name: its own name, unless that is one of the fixed columns."""
    return f"pool {name}" if name in BASE_COLUMNS else name


def profit_report(*, period, scope_ids=None) -> dict:
    """One row per customer with a stored profit (active, or carrying an allocation or financing).

    ``scope_ids``: the reader's customers (``customers.policy.report_options``); None = all.
    """
    period = period_or_error(period)
    table = selectors.customer_profit_table(period=period, scope_ids=scope_ids)
    pools = table["pools"]
    customers = []
    for r in table["rows"]:
        row = {
            "customer_id": r["customer_id"],
            "level": r["level"],
            "revenue": as_float_euros(to_cents(r["revenue"])),
            "gross_margin": as_float_euros(to_cents(r["gross_margin"])),
            "allocated_cost": as_float_euros(to_cents(r["allocated"])),
            "financing_cost": as_float_euros(to_cents(r["financing"])),
            "profit": as_float_euros(to_cents(r["profit"])),
        }
        for pool in pools:
            row[pool_column(pool["name"])] = as_float_euros(to_cents(r[f"pool_{pool['id']}"]))
        customers.append(row)
    return {"period": period.name, "pools": [p["name"] for p in pools], "customers": customers}


def pools_report(*, period) -> dict:
    """Per pool: amount, key, what was allocated, unused capacity, unallocated and any warning."""
    period = period_or_error(period)
    overview = selectors.pool_overview(period=period)
    pools = []
    for row in overview["rows"]:
        pool, result = row["pool"], row["result"]
        pools.append(
            {
                "pool": pool.name,
                "nature": pool.nature,
                "key": pool.key,
                "amount": as_float_euros(to_cents(pool.amount)),
                "allocated": as_float_euros(to_cents(result.allocated)) if result else None,
                "unused": as_float_euros(to_cents(result.unused)) if result else None,
                "unallocated": as_float_euros(to_cents(result.unallocated)) if result else None,
                "driver_total": result.driver_total if result else None,
                "rate": result.rate if result else None,
                "warning": result.warning if result else "not computed yet",
            }
        )
    totals = overview["totals"]
    return {
        "period": period.name,
        "reconciles": overview["reconciles"],
        "total": {k: as_float_euros(to_cents(totals[k])) for k in ("amount", "allocated", "unused", "unallocated")},
        "pools": pools,
    }


def _rows_customers(data: dict) -> list[dict]:
    return data["customers"]


def _rows_pools(data: dict) -> list[dict]:
    return [{"period": data["period"], **row} for row in data["pools"]]


register(ReportKind("profit", profit_report, _rows_customers))
register(ReportKind("pools", pools_report, _rows_pools))
