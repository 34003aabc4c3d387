"""The life of a period (fiscal year): open it ahead, close it, reopen it; and the closed-period rule.

A closed period refuses every write dated in it (orders and lines, invoices, costs, visits,
targets, KPIs) and its stored figures are frozen: ``config.eventbus.run_stage`` skips the
recompute of a closed period. Every write that lands in a period asks :func:`period_writable`
(one period) or :func:`closed_period_names` (an import's set of periods) first.

Opening, closing and reopening are finance's (superusers too), audited in the period's history.
"""

from __future__ import annotations

import pandas as pd
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from config.roles import FINANCE, user_roles

from .models import Period

EARLIEST_PERIOD = 1900
LATEST_PERIOD = 2999


def closed_period_message(name: int | str) -> str:
    """The one wording of the refusal, so every form, API error and import row says the same."""
    return _("period %(name)s is closed: nothing dated in it can be added, changed or deleted") % {"name": name}


def closed_period_names() -> set[int]:
    """Names of the closed periods (one query): an import checks its rows' periods against this."""
    return set(Period.objects.filter(closed=True).values_list("name", flat=True))


def closed_periods_refuse(*, names, field: str = "period") -> None:
    """Raise ValidationError ``{field: [...]}`` naming the first closed period among ``names``.

    ``customers.services.periods_for_write`` (the choke point of dated writes) calls this."""
    closed = sorted(Period.objects.filter(name__in={int(n) for n in names}, closed=True).values_list("name", flat=True))
    if closed:
        raise ValidationError({field: [closed_period_message(closed[0])]})


def add_closed_period_errors(chunk: pd.DataFrame, errors, dates: pd.Series, column: str) -> None:
    """Import rows whose (parsed) date lies in a closed period: one row error each, naming the period."""
    from .selectors import pyramid_settings_get

    closed = closed_period_names()
    if not closed:
        return
    start_month = pyramid_settings_get().fiscal_year_start_month
    names = dates.dt.year - (dates.dt.month < start_month).astype("float64")
    for name in sorted(closed):
        errors.add_mask(chunk, dates.notna() & (names == name), column, closed_period_message(name))


def period_writable(period: Period | int | None, *, field: str = "period") -> None:
    """Raise ValidationError ``{field: [...]}`` when the period (object or id) is closed."""
    if period is None:
        return
    if isinstance(period, Period):
        closed, name = Period.objects.filter(pk=period.pk).values_list("closed", "name").first() or (False, None)
    else:
        closed, name = Period.objects.filter(pk=period).values_list("closed", "name").first() or (False, None)
    if closed:
        raise ValidationError({field: [closed_period_message(name)]})


def _require_finance(acting_user) -> None:
    if acting_user is None:  # commands run as the system
        return
    if not (acting_user.is_superuser or FINANCE in user_roles(acting_user)):
        raise PermissionDenied(_("Only finance opens, closes and reopens periods."))


def _check_name(name: int) -> int:
    try:
        name = int(name)
    except (TypeError, ValueError):
        raise ValidationError({"name": [_("A period is named by its year, e.g. 2026.")]}) from None
    if not EARLIEST_PERIOD <= name <= LATEST_PERIOD:
        raise ValidationError(
            {
                "name": [
                    _("Choose a year between %(low)s and %(high)s.") % {"low": EARLIEST_PERIOD, "high": LATEST_PERIOD}
                ]
            }
        )
    return name


def period_open(*, name: int, acting_user) -> Period:
    """Create the period ``name`` ahead of its first order (an existing open period is returned as it is).

    Opening a closed period is :func:`period_reopen`, not this.
    """
    from .selectors import pyramid_settings_get
    from .services import period_bounds

    _require_finance(acting_user)
    name = _check_name(name)
    with transaction.atomic():
        existing = Period.objects.select_for_update().filter(name=name).first()
        if existing is not None and existing.closed:
            raise ValidationError({"name": [_("Period %(name)s is closed; reopen it instead.") % {"name": name}]})
        if existing is not None:
            return existing
        start, end = period_bounds(name, pyramid_settings_get().fiscal_year_start_month)
        period = Period(name=name, start=start, end=end)
        period._history_user = acting_user
        period.save()
    return period


def period_close(*, period: Period, acting_user) -> Period:
    """Close the period: writes dated in it are refused from now on and its figures are frozen."""
    _require_finance(acting_user)
    with transaction.atomic():
        period = Period.objects.select_for_update().get(pk=period.pk)
        if period.closed:
            raise ValidationError({"name": [_("Period %(name)s is already closed.") % {"name": period.name}]})
        _refuse_while_recomputing(period)
        period.closed = True
        period._history_user = acting_user
        period.save(update_fields=["closed"])
    return period


def period_reopen(*, period: Period, acting_user) -> Period:
    """Reopen a closed period (finance only, recorded in its history): writes are accepted again."""
    from config.eventbus import request_stage

    _require_finance(acting_user)
    with transaction.atomic():
        period = Period.objects.select_for_update().get(pk=period.pk)
        if not period.closed:
            raise ValidationError({"name": [_("Period %(name)s is not closed.") % {"name": period.name}]})
        period.closed = False
        period._history_user = acting_user
        period.save(update_fields=["closed"])
        # Writes refused while it was closed never happened, but figures skipped while closed may be stale.
        request_stage(period_ids=[period.pk], stage="pyramid")
    return period


def _refuse_while_recomputing(period: Period) -> None:
    """Closing freezes the stored figures, so they must be current: not while a recompute is pending."""
    from django.db.models import F

    from .models import Computation

    if Computation.objects.filter(period=period, computed__lt=F("requested")).exists():
        raise ValidationError(
            {
                "name": [
                    _("The figures of period %(name)s are being recomputed; close it when they are current.")
                    % {"name": period.name}
                ]
            }
        )
