"""Customer based accounting: cost pools to customers, financing cost, profit per customer.

The pure computation behind DOMAIN.md section 5 (pandas/numpy/stdlib only, no Django).

Money is integer cents (int64) throughout. Decimal inputs (level weights, minutes per
order/line, practical capacity, the interest rate) are taken at their decimal value, as exact
fractions: a weight of 0.1 means 1/10, not the nearest binary float.

Rounding of a pool
    Every customer's exact share of a pool is a fraction (amount × driver / driver total,
    computed with integers, never with floats). Each share is floored to the cent; the cents
    that are left go one each to the customers with the largest fractional remainders, ties
    broken by ``external_id`` ascending (then ``customer_id`` ascending). So every customer gets
    its exact share rounded down or up, the result does not depend on the row order of the
    input, and per pool

        Σ allocated + unused + unallocated = amount, to the cent (checked on every run).

    *unused* is the part of a time-driven pool that the practical capacity did not use;
    *unallocated* is a pool that had nothing to be spread over (no active customers, no visits
    logged, a direct pool for a customer who is not in the drivers, ...). Both are reported per
    pool with a warning, never spread silently.

Frames
    drivers: customer_id, external_id, active (revenue > 0 in the period), level (top, big,
        medium, small, inactive, prospect, suspect), revenue_cents, gross_margin_cents, orders,
        order_lines, visits, visit_minutes.
    pools: pool_id, name, amount_cents, nature (fixed/variable), key (see ``KEYS``),
        weight_top, weight_big, weight_medium, weight_small (per_level; default 1),
        capacity_minutes, minutes_per_order, minutes_per_line (time_driven; default 0),
        customer_id (direct).
    invoices: customer_id, invoice_id, amount_cents, due, paid (NaT while open).

Modules
    frames (columns, keys, ``AllocationResult``), pools (``validate_pools``), keys
    (``allocate_pools``), rounding (exact shares in cents), financing, profit
    (``customer_profit``), why (``profit_change_causes``), whatif (``what_if``).
"""

from .financing import financing_cost, financing_cost_detail
from .frames import ALLOCATION_COLUMNS, DRIVER_COLUMNS, KEYS, LEVELS, NATURES, POOL_RESULT_COLUMNS, AllocationResult
from .keys import allocate_pools
from .pools import validate_pools
from .profit import customer_profit
from .whatif import what_if
from .why import profit_change_causes

__all__ = [
    "ALLOCATION_COLUMNS",
    "DRIVER_COLUMNS",
    "KEYS",
    "LEVELS",
    "NATURES",
    "POOL_RESULT_COLUMNS",
    "AllocationResult",
    "allocate_pools",
    "customer_profit",
    "financing_cost",
    "financing_cost_detail",
    "profit_change_causes",
    "validate_pools",
    "what_if",
]
