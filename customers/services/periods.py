"""Fiscal years as periods: their bounds, and the choke point of every dated write."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pandas as pd
from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from config.dates import date_window, validate_date_in_window

from .. import selectors
from ..models import Period
from ..period_services import closed_periods_refuse


def fiscal_year_of(dates: pd.Series, start_month: int) -> pd.Series:
    """Period name (calendar year in which the fiscal year starts) for each date."""
    years = dates.dt.year
    return (years - (dates.dt.month < start_month).astype("int64")).astype("int64")


def period_bounds(name: int, start_month: int) -> tuple[dt.date, dt.date]:
    start = dt.date(name, start_month, 1)
    end = dt.date(name + 1, start_month, 1) - dt.timedelta(days=1)
    return start, end


def periods_ensure(*, names: set[int]) -> dict[int, int]:
    """Create missing periods; returns {name: id} for the given names.

    Unchecked: writes get their periods from ``periods_for_write`` (demo data and tests use this)."""
    start_month = selectors.pyramid_settings_get().fiscal_year_start_month
    existing = dict(Period.objects.filter(name__in=names).values_list("name", "id"))
    missing = [
        Period(name=n, start=period_bounds(n, start_month)[0], end=period_bounds(n, start_month)[1])
        for n in sorted(names - existing.keys())
    ]
    if missing:
        Period.objects.bulk_create(missing, ignore_conflicts=True)
        existing = dict(Period.objects.filter(name__in=names).values_list("name", "id"))
    return existing


def _period_in_window(name: int, start_month: int, first: dt.date, last: dt.date) -> bool:
    if not first.year - 1 <= name <= last.year:  # also keeps period_bounds clear of year 10000
        return False
    start, end = period_bounds(name, start_month)
    return end >= first and start <= last


def periods_outside_window(*, names: Iterable[int]) -> list[int]:
    """The period names among ``names`` that do not overlap the date window (``config.dates``)."""
    first, last = date_window()
    start_month = selectors.pyramid_settings_get().fiscal_year_start_month
    return sorted(n for n in {int(n) for n in names} if not _period_in_window(n, start_month, first, last))


def periods_for_write(*, names: Iterable[int]) -> dict[int, int]:
    """{name: id} of the periods a dated write lands in, created when missing.

    THE single choke point: every write of orders and their lines, invoices, visits and cost pools
    gets its period here, never from ``periods_ensure`` or ``Period.objects`` directly. It refuses
    (``ValidationError`` on ``period``) a period that does not overlap the date window
    (``config.dates``): imports, forms and serializers report a bad date first, with its row or
    field; this is the last line of defence, so no write path can create period 1900 or 9999.
    Every other rule about which periods accept writes (a closed period refuses them) belongs
    here as well, so that no write path can skip it.
    """
    names = {int(n) for n in names}
    first, last = date_window()
    outside = periods_outside_window(names=names)
    if outside:
        raise ValidationError(
            {
                "period": [
                    gettext("period %(names)s lies outside the date window %(first)s .. %(last)s; check the dates")
                    % {"names": ", ".join(map(str, outside)), "first": first.isoformat(), "last": last.isoformat()}
                ]
            }
        )
    closed_periods_refuse(names=names)
    return periods_ensure(names=names)


def period_for_write(*, date: dt.date, field: str = "date") -> int:
    """Id of the period a write dated ``date`` lands in (see ``periods_for_write``); a date outside
    the window is a ``ValidationError`` on ``field``."""
    try:
        validate_date_in_window(date)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from None
    start_month = selectors.pyramid_settings_get().fiscal_year_start_month
    name = date.year - (date.month < start_month)
    closed_periods_refuse(names={name}, field=field)
    return periods_for_write(names={name})[name]


def periods_from(*, first_name: int) -> list[int]:
    """Ids of the period named ``first_name`` and every later one (their 'existing' flags depend on it)."""
    return list(Period.objects.filter(name__gte=first_name).values_list("id", flat=True))
