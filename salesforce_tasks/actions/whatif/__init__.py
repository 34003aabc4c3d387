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

The modules: ``terms`` (types, defaults, bounds, the result), ``changes`` (drivers and pools an action
changes), ``exact`` (one action), ``ranking`` (many actions, vectorised); this package re-exports them.
"""

from accounting import allocation  # the allocation these figures run through (whatif.allocation)

from .changes import changed_drivers
from .exact import action_whatif
from .ranking import action_effects, default_parameters, suggested_actions
from .terms import (
    ACTION_TYPES,
    ASSUMPTIONS,
    COMPUTED_TYPES,
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
    NEEDS_PARAMETER,
    ORDER_SURCHARGE,
    OTHER,
    PART_WAYS,
    ActionWhatIf,
    NotApplicable,
    parameter_check,
    parameter_hundredths,
)

__all__ = [
    "ACTION_TYPES",
    "ASSUMPTIONS",
    "ActionWhatIf",
    "COMPUTED_TYPES",
    "DEFAULT_DISCOUNT_POINTS",
    "DEFAULT_INSIDE_PERCENT",
    "DEFAULT_ORDER_SIZE_FACTOR",
    "DEFAULT_SURCHARGE",
    "DISCOUNT_CHANGE",
    "EFFECT_COLUMNS",
    "MAX_DISCOUNT_POINTS",
    "MAX_REVENUE_GROWTH_PERCENT",
    "MAX_SURCHARGE_SHARE_PERCENT",
    "MIN_ORDER_SIZE",
    "MIN_REVENUE",
    "MOVE_TO_INSIDE",
    "NEEDS_PARAMETER",
    "NotApplicable",
    "ORDER_SURCHARGE",
    "OTHER",
    "PART_WAYS",
    "action_effects",
    "action_whatif",
    "allocation",
    "changed_drivers",
    "default_parameters",
    "parameter_check",
    "parameter_hundredths",
    "suggested_actions",
]
