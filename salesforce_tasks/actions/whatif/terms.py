"""The action types, their parameters' defaults and plausible bounds, the assumptions, the result
(``ActionWhatIf``) and the check of a parameter.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation

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

CHANGED_COLUMNS = ("revenue_cents", "gross_margin_cents", "orders", "order_lines", "visits", "visit_minutes")
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
