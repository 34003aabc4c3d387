"""What-if of the actions for loss-making customers (DOMAIN.md section 9, last bullet).

Pure computation: pandas/numpy/stdlib and ``accounting.allocation`` (itself pure); no Django.
Money is integer cents. A parameter is a number with at most two decimals (euros, margin points
or a percentage) and is read exactly, as hundredths.

An action changes the customer's drivers; the period is then reallocated with
``accounting.allocation.what_if``, so the other customers' profit moves as well: shared pools are
spread over everyone (DOMAIN.md section 5).

Action types and their parameter
    min_revenue      minimum annual revenue (€). Revenue below the minimum is raised to it and the
                     gross margin grows at the customer's current margin rate (margin × minimum /
                     revenue, rounded half up); orders and order lines are unchanged (the same
                     orders, larger). A customer without revenue has no margin rate: not applicable.
    discount_change  margin points (+2 = 2 % of revenue). gross margin += points / 100 × revenue;
                     revenue, orders and lines are left as they are, so revenue-keyed pools do not
                     move.
    min_order_size   minimum order value (€). The orders are merged: the same revenue, margin and
                     order lines on max(1, ceil(revenue / minimum)) orders when that is fewer than
                     now. Without revenue nothing is merged.
    order_surcharge  € per order. Revenue and gross margin both rise by surcharge × orders (a fee
                     costs nothing to deliver); the customer is assumed to keep ordering as often.
    move_to_inside   % of visit minutes that go (default 100). Visit minutes and visits fall by that
                     share (each rounded half up); the inside rep's calls are assumed to fit in the
                     existing pools.
    part_ways        no parameter. The customer is removed: its gross margin and its share of every
                     variable pool leave; the fixed pools fall on the remaining customers, so company
                     profit can fall even though the customer made a loss.
    other            no computed effect (``action_whatif`` returns None).

Variable pools follow their driver
    A variable pool is a cost that moves with its driver. When an action changes the customer's
    driver quantity of a variable pool, the pool grows or shrinks at its current rate:
    amount × Δquantity / driver total, rounded half up, which is the rule ``what_if`` applies when
    a customer leaves (the pool shrinks by the customer's share). A variable time-driven pool
    changes by rate × Δminutes and its practical capacity by Δminutes (the rate stays); a fixed
    pool keeps its amount and is spread again. Direct pools are not touched by a driver change.

Financing
    The financing cost of late payment is not part of the allocation, so it is added here: the
    customer's profit before and after is what ``what_if`` gives minus the customer's financing
    cost, and company profit is Σ gross margin - Σ pools - Σ financing cost. An action is assumed
    not to change how the customer pays, except parting ways: then the customer's financing cost
    leaves with it. So the customer's "before" is the stored customer profit of the period.

Two ways to compute
    ``action_whatif`` computes one action exactly (a full reallocation through ``what_if``): the
    figure a proposal stores. ``action_effects`` computes many at once, vectorised, for ranking
    suggestions: the company profit change is the same, exactly (it does not depend on how pools
    are spread); the customer's profit after is its allocation now plus the change of its exact
    share of each changed pool, which can differ from the full reallocation by the rounding cent
    of a changed pool.

Frames (see ``accounting.allocation``)
    drivers: customer_id, external_id, active, level, revenue_cents, gross_margin_cents, orders,
        order_lines, visits, visit_minutes.
    pools: pool_id, name, amount_cents, nature, key and the key's columns.
    financing: customer_id, financing_cost_cents (customers without a row pay none).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction

import numpy as np
import pandas as pd

from accounting import allocation

MIN_REVENUE = "min_revenue"
DISCOUNT_CHANGE = "discount_change"
MIN_ORDER_SIZE = "min_order_size"
ORDER_SURCHARGE = "order_surcharge"
MOVE_TO_INSIDE = "move_to_inside"
PART_WAYS = "part_ways"
OTHER = "other"
ACTION_TYPES = (MIN_REVENUE, DISCOUNT_CHANGE, MIN_ORDER_SIZE, ORDER_SURCHARGE, MOVE_TO_INSIDE, PART_WAYS, OTHER)
COMPUTED_TYPES = ACTION_TYPES[:-1]
NEEDS_PARAMETER = (MIN_REVENUE, DISCOUNT_CHANGE, MIN_ORDER_SIZE, ORDER_SURCHARGE)

# Suggestion defaults (the minimum revenue and order size follow from the customer's figures).
DEFAULT_DISCOUNT_POINTS = Decimal("2")
DEFAULT_ORDER_SIZE_FACTOR = 2
DEFAULT_SURCHARGE = Decimal("15")
DEFAULT_INSIDE_PERCENT = Decimal("100")

# What a customer could plausibly do: the bounds of a suggestion (docs/method.md, "Actions").
# A suggestion aims at the customer's break-even but never beyond its bound; when break-even lies
# beyond the bound, the suggestion is the bound and says it does not break even (never inflated).
#   min_revenue       at most +50 % of the customer's revenue in the period.
#   discount_change   at most +5 margin points.
#   order_surcharge   at most 10 % of the customer's average order value per order, and € 15.
MAX_REVENUE_GROWTH_PERCENT = 50
MAX_DISCOUNT_POINTS = Decimal("5")
MAX_SURCHARGE_SHARE_PERCENT = 10

# Why a suggestion's figures hold (shown next to it): the assumption of each action type.
ASSUMPTIONS = {
    MIN_REVENUE: "same_margin_rate_same_orders",
    DISCOUNT_CHANGE: "same_revenue_and_orders",
    MIN_ORDER_SIZE: "same_revenue_fewer_orders",
    ORDER_SURCHARGE: "keeps_ordering_as_often",
    MOVE_TO_INSIDE: "inside_calls_fit_existing_pools",
    PART_WAYS: "fixed_pools_stay",
}

_CHANGED_COLUMNS = ("revenue_cents", "gross_margin_cents", "orders", "order_lines", "visits", "visit_minutes")
_PROPORTIONAL_COLUMN = {
    "revenue": "revenue_cents",
    "orders": "orders",
    "order_lines": "order_lines",
    "visits": "visits",
    "visit_minutes": "visit_minutes",
}
_POOL_DEFAULTS = {
    "weight_top": 1.0,
    "weight_big": 1.0,
    "weight_medium": 1.0,
    "weight_small": 1.0,
    "capacity_minutes": math.nan,
    "minutes_per_order": 0.0,
    "minutes_per_line": 0.0,
}
EFFECT_COLUMNS = (
    "customer_profit_before_cents",
    "customer_profit_after_cents",
    "company_profit_change_cents",
    "others_change_cents",
)


class NotApplicable(ValueError):
    """The action cannot be computed for this customer or parameter; ``code`` says why.

    Codes: unknown_type, parameter_required, parameter_not_positive, points_out_of_range,
    percent_out_of_range, no_revenue, unknown_customer.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ActionWhatIf:
    """The effect of one action, in cents.

    customer_profit_after_cents is None when the customer is parted with. others_change_cents is
    company_profit_change_cents minus the customer's own change (a parted customer counts 0
    after): what the other customers and unused capacity gain or lose.
    """

    customer_id: int
    action_type: str
    parameter: Decimal | None
    customer_profit_before_cents: int
    customer_profit_after_cents: int | None
    company_profit_before_cents: int
    company_profit_after_cents: int
    company_profit_change_cents: int
    others_change_cents: int

    def as_dict(self) -> dict:
        return asdict(self)


# --------------------------------------------------------------------------- parameters


def parameter_hundredths(parameter) -> int | None:
    """The parameter as an exact integer number of hundredths (15.5 -> 1550); None when empty."""
    if parameter is None or (isinstance(parameter, float) and math.isnan(parameter)) or parameter == "":
        return None
    try:
        value = Decimal(str(parameter)) * 100
    except InvalidOperation:
        raise NotApplicable("parameter_required", f"The parameter {parameter!r} is not a number.") from None
    if not value.is_finite() or value != value.to_integral_value():
        raise NotApplicable("parameter_required", f"The parameter {parameter} has more than two decimals.")
    return int(value)


def parameter_check(action_type: str, parameter) -> Decimal | None:
    """The parameter the action uses (None for part ways and other; 100 % by default for
    move_to_inside); raises NotApplicable with a code when it cannot be used."""
    if action_type not in ACTION_TYPES:
        raise NotApplicable("unknown_type", f"Unknown action type {action_type!r}.")
    if action_type in (PART_WAYS, OTHER):
        return None
    hundredths = parameter_hundredths(parameter)
    if hundredths is None:
        if action_type == MOVE_TO_INSIDE:
            return DEFAULT_INSIDE_PERCENT
        raise NotApplicable("parameter_required", f"The action {action_type} needs a parameter.")
    value = Decimal(hundredths).scaleb(-2)
    if action_type == DISCOUNT_CHANGE:
        if hundredths == 0 or not -10000 < hundredths <= 10000:
            raise NotApplicable("points_out_of_range", "Margin points lie between -100 and 100 and are not 0.")
    elif action_type == MOVE_TO_INSIDE:
        if not 0 < hundredths <= 10000:
            raise NotApplicable("percent_out_of_range", "The share of visit minutes lies above 0 and up to 100 %.")
    elif hundredths <= 0:
        raise NotApplicable("parameter_not_positive", f"The parameter of {action_type} must be above 0.")
    return value


# --------------------------------------------------------------------------- driver changes


def changed_drivers(rows: pd.DataFrame) -> pd.DataFrame:
    """The drivers of ``rows`` after each row's action (see the module docstring).

    ``rows``: the customers' driver columns plus action_type and parameter_hundredths (int64;
    ignored for types without a parameter). Returns the same frame with revenue_cents,
    gross_margin_cents, orders, visits, visit_minutes and active changed (order_lines never
    change). part_ways and other rows are returned unchanged.
    """
    kind = rows["action_type"].to_numpy(dtype=object)
    h = rows["parameter_hundredths"].to_numpy(dtype=np.int64)
    revenue = rows["revenue_cents"].to_numpy(dtype=np.int64)
    margin = rows["gross_margin_cents"].to_numpy(dtype=np.int64)
    orders = rows["orders"].to_numpy(dtype=np.int64)
    visits = rows["visits"].to_numpy(dtype=np.int64)
    minutes = rows["visit_minutes"].to_numpy(dtype=np.int64)
    has_revenue = revenue > 0

    raised = (kind == MIN_REVENUE) & has_revenue & (revenue < h)
    new_revenue = np.where(raised, h, revenue)
    new_margin = np.where(raised, _div_half_up(_obj(margin) * _obj(h), np.where(has_revenue, revenue, 1)), margin)

    points = kind == DISCOUNT_CHANGE
    new_margin = new_margin + np.where(points, _div_half_up(_obj(revenue) * _obj(h), 10000), 0)

    merge = (kind == MIN_ORDER_SIZE) & has_revenue & (h > 0)
    merged_orders = np.maximum(1, -(-revenue // np.where(h > 0, h, 1)))
    new_orders = np.where(merge, np.minimum(orders, merged_orders), orders)

    surcharge = np.where(kind == ORDER_SURCHARGE, _div_half_up(_obj(h) * _obj(orders), 1), 0)
    new_revenue = new_revenue + surcharge
    new_margin = new_margin + surcharge

    inside = kind == MOVE_TO_INSIDE
    new_minutes = minutes - np.where(inside, _div_half_up(_obj(minutes) * _obj(h), 10000), 0)
    new_visits = visits - np.where(inside, _div_half_up(_obj(visits) * _obj(h), 10000), 0)

    return rows.assign(
        revenue_cents=new_revenue.astype(np.int64),
        gross_margin_cents=new_margin.astype(np.int64),
        orders=new_orders.astype(np.int64),
        visits=new_visits.astype(np.int64),
        visit_minutes=new_minutes.astype(np.int64),
        active=new_revenue > 0,
    )


def _obj(values) -> np.ndarray:
    """Python integers, so products of cents never overflow."""
    return np.asarray(values, dtype=np.int64).astype(object)


def _div_half_up(numerator, denominator) -> np.ndarray:
    """numerator / denominator rounded to an integer, halves away from zero; 0 where denominator is 0.

    Exact on Python integers (object arrays); the denominator is 0 or more.
    """
    num = np.atleast_1d(np.asarray(numerator, dtype=object))
    den = np.broadcast_to(np.asarray(denominator, dtype=object), num.shape)
    out = np.zeros(num.shape, dtype=np.int64)
    ok = np.asarray(den != 0, dtype=bool)
    if ok.any():
        n, d = num[ok], den[ok]
        magnitude = (2 * np.abs(n) + d) // (2 * d)
        out[ok] = np.where(np.asarray(n < 0, dtype=bool), -magnitude, magnitude).astype(np.int64)
    return out


# --------------------------------------------------------------------------- pools


def _pool_values(pools: pd.DataFrame) -> list[dict]:
    records = pools.to_dict("records")
    for record in records:
        for column, default in _POOL_DEFAULTS.items():
            value = record.get(column, default)
            record[column] = default if value is None or pd.isna(value) else value
    return records


def _fraction(value) -> Fraction:
    """The exact decimal value (0.1 -> 1/10), as accounting.allocation reads pool numbers."""
    if isinstance(value, (int, Decimal, Fraction, np.integer)):
        return Fraction(value)
    return Fraction(repr(float(value)))


def _quantity(pool: dict, frame: pd.DataFrame) -> tuple[np.ndarray, int]:
    """Each row's driver quantity of the pool as exact integers (object array), and the scale of
    time-driven minutes (quantity = minutes × scale); the shares are proportional to it."""
    active = frame["active"].fillna(False).to_numpy(dtype=bool)
    key = pool["key"]
    scale = 1
    if key == "per_customer":
        quantity = active.astype(np.int64)
    elif key == "per_level":
        weights = [_fraction(pool[f"weight_{level}"]) for level in allocation.LEVELS]
        lcm = math.lcm(*(w.denominator for w in weights))
        table = np.array([int(w * lcm) for w in weights] + [0], dtype=object)
        codes = pd.Index(allocation.LEVELS).get_indexer(frame["level"].astype(str))
        codes = np.where(codes < 0, len(allocation.LEVELS), codes)
        return np.where(active, table[codes], 0).astype(object), 1
    elif key in _PROPORTIONAL_COLUMN:
        quantity = np.where(active, np.maximum(frame[_PROPORTIONAL_COLUMN[key]].to_numpy(dtype=np.int64), 0), 0)
    elif key == "time_driven":
        per_order, per_line = _fraction(pool["minutes_per_order"]), _fraction(pool["minutes_per_line"])
        scale = math.lcm(per_order.denominator, per_line.denominator)
        minutes = (
            int(per_order * scale) * _obj(frame["orders"])
            + int(per_line * scale) * _obj(frame["order_lines"])
            + scale * _obj(frame["visit_minutes"])
        )
        return np.where(active, minutes, 0).astype(object), scale
    else:  # direct: a booking, no driver
        quantity = np.zeros(len(frame), dtype=np.int64)
    return _obj(quantity), scale


@dataclass(frozen=True)
class _PoolChange:
    pool_id: int
    amount_change: np.ndarray  # per row, cents (variable pools only)
    share_change: np.ndarray  # per row: change of the customer's exact share, rounded
    capacity_after: np.ndarray | None  # per row, minutes (variable time-driven pools)


def _pool_changes(drivers: pd.DataFrame, pools: pd.DataFrame, before: pd.DataFrame, after: pd.DataFrame):
    """Per pool, what the change of each row's customer from ``before`` to ``after`` does to it."""
    changes = []
    n = len(before)
    for pool in _pool_values(pools):
        amount = int(pool["amount_cents"])
        variable = pool["nature"] == "variable"
        if pool["key"] == "direct":
            zero = np.zeros(n, dtype=np.int64)
            changes.append(_PoolChange(int(pool["pool_id"]), zero, zero, None))
            continue
        total_q, scale = _quantity(pool, drivers)
        total = int(total_q.sum())
        q0, q1 = _quantity(pool, before)[0], _quantity(pool, after)[0]
        dq = q1 - q0
        if pool["key"] == "time_driven":
            changes.append(_time_driven_change(pool, amount, variable, total, scale, q0, q1, dq))
            continue
        amount_change = _div_half_up(amount * dq, total) if variable else np.zeros(n, dtype=np.int64)
        new_amount = amount + _obj(amount_change)
        share_before = _div_half_up(amount * q0, total)
        share_after = _div_half_up(new_amount * q1, total + dq)
        changes.append(_PoolChange(int(pool["pool_id"]), amount_change, share_after - share_before, None))
    return changes


def _time_driven_change(pool, amount, variable, demand, scale, q0, q1, dq) -> _PoolChange:
    """Charge = amount × minutes / capacity, or / demand when the demand exceeds the capacity."""
    capacity = _fraction(pool["capacity_minutes"]) if not pd.isna(pool["capacity_minutes"]) else Fraction(0)
    cap_num, cap_den = capacity.numerator * scale, capacity.denominator  # scaled capacity = num / den
    n = len(q0)

    def charge(amounts, minutes, demands, cap_nums):
        over = np.asarray(demands * cap_den > cap_nums, dtype=bool)
        by_demand = _div_half_up(amounts * minutes, demands)
        by_capacity = _div_half_up(amounts * minutes * cap_den, cap_nums)
        return np.where(over, by_demand, by_capacity)

    if cap_num <= 0:
        zero = np.zeros(n, dtype=np.int64)
        return _PoolChange(int(pool["pool_id"]), zero, zero, None)
    overloaded = demand * cap_den > cap_num
    new_cap_num = np.full(n, cap_num, dtype=object)
    if not variable:
        amount_change = np.zeros(n, dtype=np.int64)
    elif overloaded:
        amount_change = _div_half_up(amount * dq, demand)
    else:
        amount_change = _div_half_up(amount * dq * cap_den, cap_num)
        new_cap_num = cap_num + dq * cap_den
    share_before = charge(amount, q0, np.full(n, demand, dtype=object), np.full(n, cap_num, dtype=object))
    share_after = charge(amount + _obj(amount_change), q1, demand + dq, new_cap_num)
    capacity_after = None
    if variable and not overloaded:
        capacity_after = new_cap_num.astype(float) / (cap_den * scale)
    return _PoolChange(int(pool["pool_id"]), amount_change, share_after - share_before, capacity_after)


# --------------------------------------------------------------------------- one action, exactly


def action_whatif(
    drivers: pd.DataFrame,
    pools: pd.DataFrame,
    financing: pd.DataFrame | None,
    *,
    customer_id: int,
    action_type: str,
    parameter=None,
    before: allocation.AllocationResult | None = None,
) -> ActionWhatIf | None:
    """The exact what-if of one action (a full reallocation); None for ``other``.

    ``before`` is the allocation of (drivers, pools) when the caller has it already. Raises
    NotApplicable (a ValueError with a code) when the action cannot be computed.
    """
    value = parameter_check(action_type, parameter)
    if action_type == OTHER:
        return None
    rows = _customer_rows(drivers, [customer_id])
    fin = _financing_series(financing)
    own_financing = int(fin.get(customer_id, 0))
    company_before = _company_profit(drivers, pools) - int(fin.sum())
    if action_type == PART_WAYS:
        result = allocation.what_if(drivers, pools, remove_customer_id=customer_id)
        customer_before = result["customer_profit_before_cents"] - own_financing
        change = result["company_profit_after_cents"] - result["company_profit_before_cents"] + own_financing
        return _whatif(customer_id, action_type, value, customer_before, None, company_before, change)

    _check_applicable(rows, action_type)
    after = changed_drivers(_with_action(rows, action_type, value))
    pools_after = pools.copy()
    for change in _pool_changes(drivers, pools, rows, after):
        where = pools_after["pool_id"] == change.pool_id
        pools_after.loc[where, "amount_cents"] = pools_after.loc[where, "amount_cents"] + int(change.amount_change[0])
        if change.capacity_after is not None:
            pools_after.loc[where, "capacity_minutes"] = change.capacity_after[0]
    changes = after[["customer_id", *_CHANGED_COLUMNS]]
    result = allocation.what_if(drivers, pools_after, changes=changes)
    before = before if before is not None else allocation.allocate_pools(drivers, pools)
    allocated = before.per_customer().set_index("customer_id")["allocated_cents"]
    customer_before = int(rows["gross_margin_cents"].iloc[0]) - int(allocated.get(customer_id, 0)) - own_financing
    customer_after = result["customer_profit_after_cents"] - own_financing
    change = result["company_profit_after_cents"] - _company_profit(drivers, pools)
    return _whatif(customer_id, action_type, value, customer_before, customer_after, company_before, change)


def _whatif(customer_id, action_type, value, customer_before, customer_after, company_before, change) -> ActionWhatIf:
    own_change = (0 if customer_after is None else customer_after) - customer_before
    return ActionWhatIf(
        customer_id=int(customer_id),
        action_type=action_type,
        parameter=value,
        customer_profit_before_cents=int(customer_before),
        customer_profit_after_cents=None if customer_after is None else int(customer_after),
        company_profit_before_cents=int(company_before),
        company_profit_after_cents=int(company_before + change),
        company_profit_change_cents=int(change),
        others_change_cents=int(change - own_change),
    )


def _company_profit(drivers: pd.DataFrame, pools: pd.DataFrame) -> int:
    """Σ gross margin - Σ pools, as ``what_if`` counts it (unused capacity is still cost)."""
    return int(drivers["gross_margin_cents"].sum()) - int(pools["amount_cents"].sum())


def _financing_series(financing: pd.DataFrame | None) -> pd.Series:
    if financing is None or financing.empty:
        return pd.Series(dtype=np.int64)
    return financing.groupby("customer_id")["financing_cost_cents"].sum().astype(np.int64)


def _customer_rows(drivers: pd.DataFrame, customer_ids) -> pd.DataFrame:
    indexed = drivers.set_index("customer_id")
    missing = [c for c in customer_ids if c not in indexed.index]
    if missing:
        raise NotApplicable("unknown_customer", f"Customer(s) {missing} have no figures in this period.")
    return indexed.loc[list(customer_ids)].reset_index()


def _with_action(rows: pd.DataFrame, action_type, value) -> pd.DataFrame:
    hundredths = 0 if value is None else parameter_hundredths(value)
    return rows.assign(action_type=action_type, parameter_hundredths=np.int64(hundredths))


def _check_applicable(rows: pd.DataFrame, action_type: str) -> None:
    if action_type == MIN_REVENUE and int(rows["revenue_cents"].iloc[0]) <= 0:
        raise NotApplicable(
            "no_revenue",
            "The customer has no revenue in this period, so there is no margin rate to raise it at.",
        )


# --------------------------------------------------------------------------- many actions, vectorised


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
    rows = _customer_rows(drivers, actions["customer_id"].tolist())
    hundredths = [0 if pd.isna(p) else parameter_hundredths(p) for p in actions["parameter"].tolist()]
    kind = actions["action_type"].to_numpy(dtype=object)
    rows = rows.assign(action_type=kind, parameter_hundredths=np.array(hundredths, dtype=np.int64))
    after = changed_drivers(rows)
    fin = _financing_series(financing)
    own_financing = actions["customer_id"].map(fin).fillna(0).to_numpy(dtype=np.int64)
    allocated = before.per_customer().set_index("customer_id")["allocated_cents"]
    own_allocated = actions["customer_id"].map(allocated).fillna(0).to_numpy(dtype=np.int64)
    margin = rows["gross_margin_cents"].to_numpy(dtype=np.int64)
    customer_before = margin - own_allocated - own_financing

    changes = _pool_changes(drivers, pools, rows, after)
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
    rows = _customer_rows(drivers, list(customer_ids))
    ids = rows["customer_id"].to_numpy(dtype=np.int64)
    n = len(ids)
    revenue = rows["revenue_cents"].to_numpy(dtype=np.int64)
    margin = rows["gross_margin_cents"].to_numpy(dtype=np.int64)
    orders = rows["orders"].to_numpy(dtype=np.int64)
    allocated = before.per_customer().set_index("customer_id")["allocated_cents"].reindex(ids).fillna(0)
    revenue_pools = pools.loc[pools["key"] == "revenue", "pool_id"]
    by_revenue = before.allocations[before.allocations["pool_id"].isin(revenue_pools)]
    revenue_keyed = by_revenue.groupby("customer_id")["amount_cents"].sum().reindex(ids).fillna(0)
    fin = _financing_series(financing).reindex(ids).fillna(0)
    allocated_cents = allocated.to_numpy(dtype=np.int64)
    loss = np.maximum(0, allocated_cents + fin.to_numpy(np.int64) - margin)  # cents, 0 when profitable

    # min_revenue (whole euros)
    costs = _obj(allocated_cents - revenue_keyed.to_numpy(dtype=np.int64) + fin.to_numpy(np.int64))
    rate_margin = margin - revenue_keyed.to_numpy(dtype=np.int64)
    can_break_even = (revenue > 0) & (rate_margin > 0)
    break_even = np.where(can_break_even, _ceil_div(costs * _obj(revenue), np.where(can_break_even, rate_margin, 1)), 0)
    revenue_be = _ceil_div(_obj(break_even), 100)
    revenue_bound = (_obj(revenue) * (100 + MAX_REVENUE_GROWTH_PERCENT)) // 10000
    revenue_bound = np.asarray(revenue_bound, dtype=np.int64)
    min_revenue = np.minimum(revenue_be, revenue_bound)

    # discount_change (hundredths of a point)
    points_be = np.where(revenue > 0, _ceil_div(_obj(loss) * 10000, np.where(revenue > 0, revenue, 1)), 0)
    points_bound = int(MAX_DISCOUNT_POINTS * 100)
    points = np.where(loss > 0, np.minimum(np.maximum(points_be, 1), points_bound), int(DEFAULT_DISCOUNT_POINTS * 100))

    # order_surcharge (cents)
    surcharge_be = np.where(orders > 0, _ceil_div(_obj(loss), np.maximum(orders, 1)), 0)
    share_bound = (_obj(revenue) * MAX_SURCHARGE_SHARE_PERCENT) // (100 * _obj(np.maximum(orders, 1)))
    surcharge_bound = np.minimum(np.asarray(share_bound, dtype=np.int64), int(DEFAULT_SURCHARGE * 100))
    surcharge = np.where(loss > 0, np.minimum(np.maximum(surcharge_be, 1), surcharge_bound), surcharge_bound)

    order_size = _ceil_div(_obj(revenue) * DEFAULT_ORDER_SIZE_FACTOR, 100 * np.maximum(orders, 1))
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
