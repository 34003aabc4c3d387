"""The words that explain a pool: why a customer carries its amount, and the pool's parameters."""

from __future__ import annotations

from django.utils.translation import gettext as _

from customers.templatetags.kw import money, number

from ..models import AllocationKey, CostPool


def _rate_text(rate: float | None) -> str:
    if rate is None:
        return "–"
    return money(rate, 2 if abs(rate) >= 1 else 4)


def why_text(pool: dict, drivers: dict) -> str:
    """One line that says why the customer carries this amount of the pool."""
    key, qty, total, rate = pool["key"], pool["quantity"], pool["driver_total"], pool["rate"]
    if key is None:
        return _("This pool was deleted after the last computation.")
    if key == AllocationKey.DIRECT:
        return _("Booked directly to this customer.")
    if total is None:
        return _("The pool has not been allocated yet.")
    fmt = {
        "qty": number(qty, 0 if float(qty).is_integer() else 2),
        "total": number(total, 0 if float(total).is_integer() else 2),
        "rate": _rate_text(rate),
    }
    if key == AllocationKey.PER_CUSTOMER:
        return _("%(qty)s of %(total)s active customers × %(rate)s per customer") % fmt
    if key == AllocationKey.PER_LEVEL:
        return _("level weight %(qty)s of a total weight of %(total)s × %(rate)s per weight unit") % fmt
    if key == AllocationKey.REVENUE:
        fmt.update(qty=money(qty), total=money(total))
        return _("%(qty)s revenue of %(total)s × %(rate)s per euro of revenue") % fmt
    if key == AllocationKey.TIME_DRIVEN:
        fmt.update(
            a=number(pool["minutes_per_order"], 2),
            b=number(pool["minutes_per_line"], 2),
            orders=number(drivers["orders"]),
            lines=number(drivers["order_lines"]),
            visit=number(drivers["visit_minutes"]),
            capacity=number(pool["capacity_minutes"]),
        )
        return (
            _(
                "%(qty)s min (%(a)s × %(orders)s orders + %(b)s × %(lines)s lines + %(visit)s visit minutes) "
                "× %(rate)s per minute; all customers demand %(total)s of a capacity of %(capacity)s min"
            )
            % fmt
        )
    many = qty != 1
    units = {
        AllocationKey.ORDERS: (_("order"), _("orders")),
        AllocationKey.ORDER_LINES: (_("order line"), _("order lines")),
        AllocationKey.VISITS: (_("visit"), _("visits")),
        AllocationKey.VISIT_MINUTES: (_("minute"), _("visit and call minutes")),
    }
    one, several = units.get(key, (key, key))
    fmt.update(units=several if many else one, unit=one)
    return _("%(qty)s %(units)s of %(total)s × %(rate)s per %(unit)s") % fmt


def _pool_parameters(pool: CostPool) -> str:
    if pool.key == AllocationKey.PER_LEVEL:
        return _("weights top %(top)s · big %(big)s · medium %(medium)s · small %(small)s") % {
            "top": number(pool.weight_top, 2),
            "big": number(pool.weight_big, 2),
            "medium": number(pool.weight_medium, 2),
            "small": number(pool.weight_small, 2),
        }
    if pool.key == AllocationKey.TIME_DRIVEN:
        return _("capacity %(capacity)s min · %(a)s min/order · %(b)s min/line") % {
            "capacity": number(pool.capacity_minutes),
            "a": number(pool.minutes_per_order, 2),
            "b": number(pool.minutes_per_line, 2),
        }
    if pool.key == AllocationKey.DIRECT:
        return "→ " + (str(pool.customer) if pool.customer_id else "?")
    return ""
