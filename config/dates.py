"""The date window: the dates a write may carry (orders, invoices, visits, cost pools' periods).

A date outside ``DATE_WINDOW_START`` .. today + ``DATE_WINDOW_DAYS_AHEAD`` days is a typo or a
probe (1900-01-01 made period 1900 and a retention of 8581 %; 9999-12-31 overflowed into a 500),
never a reason to create a period. Imports give a row error, forms and the API a field error,
and ``customers.services.periods_for_write`` refuses as the last line of defence.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _


def date_window() -> tuple[dt.date, dt.date]:
    """(first, last) date a write may carry, both included."""
    return settings.DATE_WINDOW_START, timezone.localdate() + dt.timedelta(days=settings.DATE_WINDOW_DAYS_AHEAD)


def date_window_reason() -> str:
    first, last = date_window()
    return _("the date lies outside %(first)s .. %(last)s; check the year") % {
        "first": first.isoformat(),
        "last": last.isoformat(),
    }


def outside_date_window(dates: pd.Series) -> pd.Series:
    """Mask over parsed dates (datetime64, NaT allowed): true where a date lies outside the window."""
    first, last = date_window()
    return dates.notna() & ((dates < pd.Timestamp(first)) | (dates > pd.Timestamp(last)))


def validate_date_in_window(value: dt.date | None) -> None:
    """Validator for form and serializer date fields (and services): ValidationError outside the window."""
    if value is None:
        return
    first, last = date_window()
    if not first <= value <= last:
        reason = date_window_reason()
        raise ValidationError(reason[:1].upper() + reason[1:] + ".", code="date_window")
