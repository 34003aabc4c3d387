"""Every write of the customers app: imports, settings and the stored pyramid.

Modules: results (``ImportResult``), periods (fiscal years, the choke point of dated writes),
customer_data (customers import, status), order_import (orders import), levels (the stored pyramid,
its settings), orders (single orders).
"""

from .customer_data import CUSTOMER_LAYOUT, customer_status_update, customers_import
from .levels import pyramid_compute, pyramid_settings_update, pyramid_store
from .order_import import ORDER_LAYOUT, orders_import
from .orders import LineInput, order_delete, order_upsert
from .periods import (
    fiscal_year_of,
    period_bounds,
    period_for_write,
    periods_ensure,
    periods_for_write,
    periods_from,
    periods_outside_window,
)
from .results import ImportResult, Progress

__all__ = [
    "CUSTOMER_LAYOUT",
    "ORDER_LAYOUT",
    "ImportResult",
    "LineInput",
    "Progress",
    "customer_status_update",
    "customers_import",
    "fiscal_year_of",
    "order_delete",
    "order_upsert",
    "orders_import",
    "period_bounds",
    "period_for_write",
    "periods_ensure",
    "periods_for_write",
    "periods_from",
    "periods_outside_window",
    "pyramid_compute",
    "pyramid_settings_update",
    "pyramid_store",
]
