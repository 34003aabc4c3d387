"""A cost pool's warning in the reader's language: ``{% load pool_warnings %}{{ result.warning|pool_warning }}``.

The allocation (``accounting.allocation``, pure: no Django, so no gettext) stores its warnings in
English with the numbers in them. Here each known warning is read back into its numbers and said
again through gettext, with the numbers formatted like every other page (``customers.templatetags.kw``).
Text that is not a known warning is shown as stored.
"""

import re

from django import template
from django.utils.translation import gettext

from customers.templatetags.kw import money, number

register = template.Library()

_NUMBER = r"\d{1,3}(?:,\d{3})*(?:\.\d+)?"
_OVER_CAPACITY = re.compile(
    rf"^Demand (?P<demand>{_NUMBER}) min exceeds practical capacity (?P<capacity>{_NUMBER}) min; the whole "
    rf"pool was charged at an effective rate of €(?P<rate>{_NUMBER})/min\. Raise the capacity or check the "
    r"minutes per order/line\.$"
)
_NO_DEMAND = "No minutes were demanded in this period: the whole pool is unused capacity."


def _decimals(text: str) -> int:
    return len(text.partition(".")[2])


def _number(text: str):
    return text.replace(",", "")


@register.filter
def pool_warning(warning) -> str:
    if not warning:
        return ""
    warning = str(warning)
    if warning == _NO_DEMAND:
        return gettext("No minutes were demanded in this period: the whole pool is unused capacity.")
    match = _OVER_CAPACITY.match(warning)
    if match is None:
        return warning
    demand, capacity, rate = match.group("demand", "capacity", "rate")
    return gettext(
        "Demand %(demand)s min exceeds practical capacity %(capacity)s min; the whole pool was charged at an "
        "effective rate of %(rate)s/min. Raise the capacity or check the minutes per order/line."
    ) % {
        "demand": number(_number(demand), _decimals(demand)),
        "capacity": number(_number(capacity), _decimals(capacity)),
        "rate": money(_number(rate), _decimals(rate)),
    }
