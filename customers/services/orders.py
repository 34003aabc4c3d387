"""Single orders from the API and the pages: create or replace, delete."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from config.eventbus import publish

from .. import selectors
from ..events import OrdersChanged
from ..facts import ORDER_FACTS, customer_facts_add, order_facts_of
from ..models import Customer, Order, OrderLine, Product
from ..period_services import closed_periods_refuse
from .periods import period_for_write, periods_from


@dataclass(frozen=True)
class LineInput:
    amount: Decimal
    cost: Decimal = Decimal("0")
    quantity: Decimal = Decimal("0")
    product: str = ""


def order_upsert(
    *, external_id: str, customer: Customer, date: dt.date, lines: list[LineInput], acting_user=None
) -> Order:
    """Create or replace one order and its lines; the pyramid of its period(s) is recomputed."""
    if not external_id or len(external_id) > 64:
        raise ValidationError({"order_id": [gettext("Give an order id of 1 to 64 characters.")]})
    if not lines:
        raise ValidationError({"lines": [gettext("An order needs at least one line.")]})
    for i, line in enumerate(lines, start=1):
        for name in ("amount", "cost", "quantity"):
            value = getattr(line, name)
            if not isinstance(value, Decimal) or not value.is_finite() or abs(value) >= Decimal("1e13"):
                raise ValidationError(
                    {
                        "lines": [
                            gettext("Line %(line)s: %(field)s must be a number below 10^13.")
                            % {"line": i, "field": name}
                        ]
                    }
                )
    start_month = selectors.pyramid_settings_get().fiscal_year_start_month
    name = date.year - (date.month < start_month)
    with transaction.atomic():
        period_id = period_for_write(date=date)
        old = Order.objects.filter(external_id=external_id).values_list("period__name", flat=True).first()
        if old is not None:
            closed_periods_refuse(names={old}, field="date")
        order, _ = Order.objects.update_or_create(
            external_id=external_id, defaults={"customer": customer, "date": date, "period_id": period_id}
        )
        before = order_facts_of(order_pks=[order.pk])  # its old customer and period: the lines still say
        OrderLine.objects.filter(order=order).delete()
        products = {}
        codes = {ln.product for ln in lines if ln.product}
        if codes:
            Product.objects.bulk_create([Product(code=c) for c in codes], ignore_conflicts=True)
            products = dict(Product.objects.filter(code__in=codes).values_list("code", "id"))
        OrderLine.objects.bulk_create(
            [
                OrderLine(
                    order=order,
                    line_no=i,
                    amount=ln.amount.quantize(Decimal("0.01")),
                    cost=ln.cost.quantize(Decimal("0.01")),
                    quantity=ln.quantity.quantize(Decimal("0.001")),
                    product_id=products.get(ln.product),
                    customer=customer,
                    period_id=period_id,
                )
                for i, ln in enumerate(lines, start=1)
            ]
        )
        # The order facts, by delta: out of the old (period, customer), into the new one.
        customer_facts_add(deltas=_facts_moved(before=before, after=order_facts_of(order_pks=[order.pk])))
        first = min(name, old) if old is not None else name
        publish(OrdersChanged(period_ids=tuple(periods_from(first_name=first))))
    return order


def order_delete(*, order: Order, acting_user=None) -> None:
    closed_periods_refuse(names={order.period.name}, field="date")
    with transaction.atomic():
        name = order.period.name
        before = order_facts_of(order_pks=[order.pk])
        order.delete()
        customer_facts_add(deltas=_facts_moved(before=before))
        publish(OrdersChanged(period_ids=tuple(periods_from(first_name=name))))


def _facts_moved(*, before: pd.DataFrame, after: pd.DataFrame | None = None) -> pd.DataFrame:
    """The delta of the order facts when an order's lines ``before`` become ``after`` (None: none)."""
    gone = before.assign(**{c: -before[c] for c in ORDER_FACTS})
    return gone if after is None else pd.concat([gone, after], ignore_index=True)
