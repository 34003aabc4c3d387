"""The pyramid levels of a period, computed and stored, and the pyramid scheme's settings."""

from __future__ import annotations

import pandas as pd
from django.core.exceptions import ValidationError
from django.db import transaction

from config.bulk import replace_rows
from config.eventbus import publish

from .. import pyramid, selectors
from ..events import PyramidRecomputed, PyramidSettingsChanged
from ..facts import order_facts_rebuild
from ..models import CustomerPeriod, Order, OrderLine, Period
from .periods import period_bounds


def pyramid_compute(*, period: Period) -> pd.DataFrame:
    """Levels of every known customer in the period (pure computation fed by bulk reads)."""
    customers = selectors.customers_known(period=period)
    facts = selectors.period_facts(period=period)
    frame = customers.merge(facts, on="customer_id", how="left")
    for col in ("revenue_cents", "gross_margin_cents", "orders", "order_lines"):
        frame[col] = frame[col].fillna(0).astype("int64")
    frame["bought_before"] = frame["customer_id"].isin(selectors.customers_bought_before(period=period))
    return pyramid.assign_levels(frame, scheme=selectors.pyramid_scheme())


def pyramid_store(period_id: int) -> int:
    """Recompute a period's pyramid and replace its stored rows in bulk. Returns the row count."""
    period = Period.objects.get(pk=period_id)
    levels = pyramid_compute(period=period).rename(
        columns={"revenue_cents": "revenue", "gross_margin_cents": "gross_margin", "bought_before": "existing"}
    )
    with transaction.atomic():
        replace_rows(
            CustomerPeriod,
            where={"period_id": period.id},
            frame=levels,
            columns={
                "customer_id": "int",
                "level": "str",
                "rank": "int",
                "revenue": "money",
                "gross_margin": "money",
                "orders": "int",
                "order_lines": "int",
                "existing": "bool",
            },
        )
        publish(PyramidRecomputed(period_ids=(period.id,)))
    return len(levels)


def pyramid_settings_update(*, acting_user, **values) -> None:
    """Change the pyramid scheme or fiscal year start; every period is recomputed."""
    settings = selectors.pyramid_settings_get()
    old_month = settings.fiscal_year_start_month
    for key, value in values.items():
        setattr(settings, key, value)
    settings.full_clean()
    scheme = selectors.pyramid_scheme(settings)
    try:
        scheme.validate()
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    with transaction.atomic():
        settings._history_user = acting_user
        settings.save()
        if settings.fiscal_year_start_month != old_month:
            _periods_rebuild(settings.fiscal_year_start_month)
        publish(PyramidSettingsChanged(period_ids=tuple(Period.objects.values_list("id", flat=True))))


def _periods_rebuild(start_month: int) -> None:
    """Re-cut the fiscal years after a change of start month (refused once costs are set up)."""
    from ..events import periods_recut_requested

    periods_recut_requested.send(sender=Period, start_month=start_month)  # a receiver may refuse
    dates = Order.objects.order_by().values_list("date", flat=True).distinct()
    names = {d.year - (d.month < start_month) for d in dates}
    ids = {}
    for name in sorted(names):
        start, end = period_bounds(name, start_month)
        obj, _ = Period.objects.update_or_create(name=name, defaults={"start": start, "end": end})
        ids[name] = obj.id
        Order.objects.filter(date__gte=start, date__lte=end).update(period_id=obj.id)
        OrderLine.objects.filter(order__date__gte=start, order__date__lte=end).update(period_id=obj.id)
    CustomerPeriod.objects.exclude(period_id__in=ids.values()).delete()
    Period.objects.exclude(id__in=ids.values()).filter(orders__isnull=True).delete()
    # Every line may be in another period now: the order facts of every period left, from the lines.
    order_facts_rebuild(period_ids=Period.objects.values_list("id", flat=True))
