"""Many actions at once, vectorised: their effects, the suggested parameter per customer and the
ranking of the suggestions within plausible bounds.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd

from accounting import allocation

from .changes import as_objects, changed_drivers, pool_changes
from .exact import customer_rows, financing_series
from .terms import (
    ACTION_TYPES,
    ASSUMPTIONS,
    DEFAULT_DISCOUNT_POINTS,
    DEFAULT_INSIDE_PERCENT,
    DEFAULT_ORDER_SIZE_FACTOR,
    DEFAULT_SURCHARGE,
    DISCOUNT_CHANGE,
    EFFECT_COLUMNS,
    MAX_DISCOUNT_POINTS,
    MAX_REVENUE_GROWTH_PERCENT,
    MAX_SURCHARGE_SHARE_PERCENT,
    MIN_ORDER_SIZE,
    MIN_REVENUE,
    MOVE_TO_INSIDE,
    ORDER_SURCHARGE,
    PART_WAYS,
    parameter_hundredths,
)


def action_effects(
    drivers: pd.DataFrame,
    pools: pd.DataFrame,
    financing: pd.DataFrame | None,
    before: allocation.AllocationResult,
    actions: pd.DataFrame,
) -> pd.DataFrame:
    """The effect of many actions at once (for ranking; see "Two ways to compute").

    ``actions``: customer_id, action_type (a computed type), parameter (a number, NaN for part
    ways). Returns ``actions`` with EFFECT_COLUMNS added (int64; customer_profit_after_cents is
    NA for part ways). The parameters must have passed ``parameter_check``; min_revenue rows of
    customers without revenue are the caller's to leave out.
    """
    if actions.empty:
        return actions.assign(**{c: pd.Series(dtype="Int64") for c in EFFECT_COLUMNS})
    rows = customer_rows(drivers, actions["customer_id"].tolist())
    hundredths = [0 if pd.isna(p) else parameter_hundredths(p) for p in actions["parameter"].tolist()]
    kind = actions["action_type"].to_numpy(dtype=object)
    rows = rows.assign(action_type=kind, parameter_hundredths=np.array(hundredths, dtype=np.int64))
    after = changed_drivers(rows)
    fin = financing_series(financing)
    own_financing = actions["customer_id"].map(fin).fillna(0).to_numpy(dtype=np.int64)
    allocated = before.per_customer().set_index("customer_id")["allocated_cents"]
    own_allocated = actions["customer_id"].map(allocated).fillna(0).to_numpy(dtype=np.int64)
    margin = rows["gross_margin_cents"].to_numpy(dtype=np.int64)
    customer_before = margin - own_allocated - own_financing

    changes = pool_changes(drivers, pools, rows, after)
    amount_change = sum((c.amount_change for c in changes), np.zeros(len(rows), dtype=np.int64))
    share_change = sum((c.share_change for c in changes), np.zeros(len(rows), dtype=np.int64))
    new_margin = after["gross_margin_cents"].to_numpy(dtype=np.int64)
    customer_after = new_margin - (own_allocated + share_change) - own_financing
    company_change = (new_margin - margin) - amount_change

    parted = kind == PART_WAYS
    variable_share = _variable_share(before, pools).reindex(actions["customer_id"]).fillna(0).to_numpy(np.int64)
    company_change = np.where(parted, -margin + variable_share + own_financing, company_change)
    own_change = np.where(parted, -customer_before, customer_after - customer_before)
    return actions.assign(
        customer_profit_before_cents=customer_before,
        customer_profit_after_cents=pd.Series(customer_after, index=actions.index, dtype="Int64").mask(parted),
        company_profit_change_cents=company_change.astype(np.int64),
        others_change_cents=(company_change - own_change).astype(np.int64),
    )


def _variable_share(before: allocation.AllocationResult, pools: pd.DataFrame) -> pd.Series:
    """Per customer_id, what it is allocated of the variable pools (what leaves when it goes)."""
    variable = pools.loc[pools["nature"] == "variable", "pool_id"]
    allocations = before.allocations
    own = allocations[allocations["pool_id"].isin(variable)]
    return own.groupby("customer_id")["amount_cents"].sum()


def default_parameters(drivers: pd.DataFrame, pools: pd.DataFrame, before, financing, customer_ids) -> pd.DataFrame:
    """Suggested parameters per customer, within what the customer could plausibly do.

    Columns: customer_id, action_type, parameter (Decimal; None for part ways), bound (the
    largest parameter a suggestion may have, Decimal or None when the type has none),
    break_even (the parameter at which the customer's own profit reaches zero, Decimal, or None
    when it cannot be reached by this action or is not computed in closed form), capped (True when
    break-even lies beyond the bound, so the parameter is the bound and the customer stays
    loss-making) and assumption (a code of ``ASSUMPTIONS``).

    min_revenue: break-even revenue at the current margin rate with the revenue-keyed costs growing
        along, (allocated - revenue-keyed + financing) × revenue / (margin - revenue-keyed), rounded
        up to whole euros; bound = revenue × (1 + MAX_REVENUE_GROWTH_PERCENT / 100), rounded down;
        suggested min(break-even, bound); only when the margin beats the revenue-keyed costs and the
        suggestion is above today's revenue.
    discount_change: break-even points = loss / revenue × 100, rounded up to hundredths; suggested
        min(break-even, MAX_DISCOUNT_POINTS), at least DEFAULT_DISCOUNT_POINTS when the customer
        loses nothing; only with revenue.
    min_order_size: 2 × the current average order value, rounded up to whole euros; only with 2 or
        more orders (its break-even is not closed-form: the what-if says whether it breaks even).
    order_surcharge: break-even = loss / orders, rounded up to cents; bound = min(€ 15,
        MAX_SURCHARGE_SHARE_PERCENT % of the average order value, rounded down to cents); only with
        orders and a bound of at least 1 cent.
    move_to_inside: 100 %; only with visit minutes. part_ways: always.
    """
    rows = customer_rows(drivers, list(customer_ids))
    ids = rows["customer_id"].to_numpy(dtype=np.int64)
    n = len(ids)
    revenue = rows["revenue_cents"].to_numpy(dtype=np.int64)
    margin = rows["gross_margin_cents"].to_numpy(dtype=np.int64)
    orders = rows["orders"].to_numpy(dtype=np.int64)
    allocated = before.per_customer().set_index("customer_id")["allocated_cents"].reindex(ids).fillna(0)
    revenue_pools = pools.loc[pools["key"] == "revenue", "pool_id"]
    by_revenue = before.allocations[before.allocations["pool_id"].isin(revenue_pools)]
    revenue_keyed = by_revenue.groupby("customer_id")["amount_cents"].sum().reindex(ids).fillna(0)
    fin = financing_series(financing).reindex(ids).fillna(0)
    allocated_cents = allocated.to_numpy(dtype=np.int64)
    loss = np.maximum(0, allocated_cents + fin.to_numpy(np.int64) - margin)  # cents, 0 when profitable

    # min_revenue (whole euros)
    costs = as_objects(allocated_cents - revenue_keyed.to_numpy(dtype=np.int64) + fin.to_numpy(np.int64))
    rate_margin = margin - revenue_keyed.to_numpy(dtype=np.int64)
    can_break_even = (revenue > 0) & (rate_margin > 0)
    break_even = np.where(
        can_break_even, _ceil_div(costs * as_objects(revenue), np.where(can_break_even, rate_margin, 1)), 0
    )
    revenue_be = _ceil_div(as_objects(break_even), 100)
    revenue_bound = (as_objects(revenue) * (100 + MAX_REVENUE_GROWTH_PERCENT)) // 10000
    revenue_bound = np.asarray(revenue_bound, dtype=np.int64)
    min_revenue = np.minimum(revenue_be, revenue_bound)

    # discount_change (hundredths of a point)
    # The margin grows by points × revenue / 10,000 rounded half up (changes.changed_drivers), so the
    # customer breaks even once points × revenue + 5,000 >= loss × 10,000.
    points_be = np.where(revenue > 0, _ceil_div(as_objects(loss) * 10000 - 5000, np.where(revenue > 0, revenue, 1)), 0)
    points_bound = int(MAX_DISCOUNT_POINTS * 100)
    points = np.where(loss > 0, np.minimum(np.maximum(points_be, 1), points_bound), int(DEFAULT_DISCOUNT_POINTS * 100))

    # order_surcharge (cents)
    surcharge_be = np.where(orders > 0, _ceil_div(as_objects(loss), np.maximum(orders, 1)), 0)
    share_bound = (as_objects(revenue) * MAX_SURCHARGE_SHARE_PERCENT) // (100 * as_objects(np.maximum(orders, 1)))
    surcharge_bound = np.minimum(np.asarray(share_bound, dtype=np.int64), int(DEFAULT_SURCHARGE * 100))
    surcharge = np.where(loss > 0, np.minimum(np.maximum(surcharge_be, 1), surcharge_bound), surcharge_bound)

    order_size = _ceil_div(as_objects(revenue) * DEFAULT_ORDER_SIZE_FACTOR, 100 * np.maximum(orders, 1))
    none = [None] * n

    def dec(values, exp: int) -> list:
        return [Decimal(int(v)).scaleb(exp) for v in np.asarray(values)]

    frames = [
        (
            MIN_REVENUE,
            dec(min_revenue, 0),
            dec(revenue_bound, 0),
            [Decimal(int(v)) if ok else None for v, ok in zip(revenue_be, can_break_even, strict=True)],
            can_break_even & (revenue_be > revenue_bound),
            can_break_even & (min_revenue * 100 > revenue),
        ),
        (
            DISCOUNT_CHANGE,
            dec(points, -2),
            [MAX_DISCOUNT_POINTS] * n,
            [Decimal(int(v)).scaleb(-2) if r > 0 else None for v, r in zip(points_be, revenue, strict=True)],
            points_be > points_bound,
            revenue > 0,
        ),
        (MIN_ORDER_SIZE, dec(order_size, 0), none, none, np.zeros(n, bool), (revenue > 0) & (orders >= 2)),
        (
            ORDER_SURCHARGE,
            dec(surcharge, -2),
            dec(surcharge_bound, -2),
            [Decimal(int(v)).scaleb(-2) if o > 0 else None for v, o in zip(surcharge_be, orders, strict=True)],
            (loss > 0) & (surcharge_be > surcharge_bound),
            (orders > 0) & (surcharge_bound > 0),
        ),
        (
            MOVE_TO_INSIDE,
            [DEFAULT_INSIDE_PERCENT] * n,
            [Decimal(100)] * n,
            none,
            np.zeros(n, bool),
            rows["visit_minutes"].to_numpy() > 0,
        ),
        (PART_WAYS, none, none, none, np.zeros(n, bool), np.ones(n, bool)),
    ]
    parts = []
    for kind, values, bounds, even, capped, keep in frames:
        keep = np.asarray(keep, dtype=bool)
        pick = np.flatnonzero(keep)
        parts.append(
            pd.DataFrame(
                {
                    "customer_id": ids[keep],
                    "action_type": kind,
                    "parameter": [values[i] for i in pick],
                    "bound": [bounds[i] for i in pick],
                    "break_even": [even[i] for i in pick],
                    "capped": np.asarray(capped, dtype=bool)[keep],
                    "assumption": ASSUMPTIONS[kind],
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _ceil_div(numerator, denominator) -> np.ndarray:
    num = np.atleast_1d(np.asarray(numerator, dtype=object))
    den = np.broadcast_to(np.asarray(denominator, dtype=object), num.shape)
    return (-((-num) // den)).astype(np.int64)


def suggested_actions(
    drivers: pd.DataFrame,
    pools: pd.DataFrame,
    financing: pd.DataFrame | None,
    before: allocation.AllocationResult,
    customer_ids,
) -> pd.DataFrame:
    """Every applicable action with its suggested parameter for each customer, ranked by effect.

    customer_id, action_type, parameter, bound, break_even, capped, assumption (see
    ``default_parameters``), EFFECT_COLUMNS, breaks_even (the customer's profit after is >= 0, or it
    is parted with) and rank (1 = the largest gain in company profit within the bounds; ties in the
    order of ACTION_TYPES), sorted by customer_id then rank.
    """
    if len(customer_ids) == 0:
        return pd.DataFrame(
            columns=[
                "customer_id",
                "action_type",
                "parameter",
                "bound",
                "break_even",
                "capped",
                "assumption",
                *EFFECT_COLUMNS,
                "breaks_even",
                "rank",
            ]
        )
    # Only these customers' allocations and financing are looked up (per customer); narrowed first,
    # the look-ups group a few hundred rows instead of the company's (735,000 at 100,000 customers).
    # The pools' totals still come from every customer's drivers.
    ids = np.unique(np.asarray(list(customer_ids), dtype=np.int64))
    before = allocation.AllocationResult(
        before.allocations[before.allocations["customer_id"].isin(ids)], before.pools, ids
    )
    if financing is not None:
        financing = financing[financing["customer_id"].isin(ids)]
    actions = default_parameters(drivers, pools, before, financing, customer_ids)
    effects = action_effects(drivers, pools, financing, before, actions)
    after = effects["customer_profit_after_cents"]
    effects = effects.assign(
        breaks_even=(effects["action_type"] == PART_WAYS).to_numpy() | (after.fillna(-1) >= 0).to_numpy(dtype=bool)
    )
    order = effects["action_type"].map({t: i for i, t in enumerate(ACTION_TYPES)})
    ranked = (
        effects.assign(_order=order)
        .sort_values(["customer_id", "company_profit_change_cents", "_order"], ascending=[True, False, True])
        .drop(columns="_order")
        .reset_index(drop=True)
    )
    return ranked.assign(rank=ranked.groupby("customer_id").cumcount() + 1)
