"""Reads of the accounting app: DataFrames for the allocation and data for pages and reports.

Modules: frames (what the allocation reads and the stored results), totals (``period_totals``, the
one source of a period's totals), pools, profit, waterfall (one customer's profit and its change).
"""

from customers.profit import customer_profit_frame

from .frames import (
    DRIVER_COLUMNS,
    POOL_COLUMNS,
    by_pool_frame,
    drivers_frame,
    interest_rate,
    invoices_frame,
    lossmaking_count,
    periods_with_costs,
    pool_list,
    pool_results,
    pools_frame,
    profit_totals,
    snapshots,
)
from .pools import pool_get, pool_history, pool_overview
from .profit import customer_profit_queryset, customer_profit_table, lossmaking_customers, profit_overview
from .totals import period_totals
from .waterfall import computed_on, customer_waterfall, profit_change, waterfall_steps

__all__ = [
    "DRIVER_COLUMNS",
    "POOL_COLUMNS",
    "by_pool_frame",
    "computed_on",
    "customer_profit_frame",
    "customer_profit_queryset",
    "customer_profit_table",
    "customer_waterfall",
    "drivers_frame",
    "interest_rate",
    "invoices_frame",
    "lossmaking_count",
    "lossmaking_customers",
    "period_totals",
    "periods_with_costs",
    "pool_get",
    "pool_history",
    "pool_list",
    "pool_overview",
    "pool_results",
    "pools_frame",
    "profit_change",
    "profit_overview",
    "profit_totals",
    "snapshots",
    "waterfall_steps",
]
