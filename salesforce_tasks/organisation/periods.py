"""Rolling the year: open the coming period with last year's cost pools and targets; close and reopen.

The period itself belongs to the core (``customers.period_services``); copying pools belongs to
accounting, rolling targets to the sales force. This module, above both, runs them in one
transaction so a year opens whole or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounting.services import cost_pools_copy
from customers.models import Period
from customers.period_services import period_close, period_open, period_reopen

from ..services import customer_targets_roll


@dataclass(frozen=True)
class YearOpened:
    period: Period
    pools_copied: int
    targets_rolled: int


def _source(name, field: str) -> Period:
    source = Period.objects.filter(name=name).first() if name not in (None, "") else None
    if source is None:
        raise ValidationError({field: [_("Unknown period %(name)s.") % {"name": name}]})
    return source


def year_open(
    *,
    name: int,
    acting_user,
    copy_pools_from: int | None = None,
    roll_targets_growth: Decimal | None = None,
    targets_from: int | None = None,
) -> YearOpened:
    """Open period ``name``; copy the cost pools and interest rate of ``copy_pools_from``; with
    ``roll_targets_growth`` roll the approved customer targets of ``targets_from`` (default: the
    period before ``name``) grown by that percentage."""
    with transaction.atomic():
        period = period_open(name=name, acting_user=acting_user)
        pools = 0
        if copy_pools_from not in (None, ""):
            pools = cost_pools_copy(
                source=_source(copy_pools_from, "copy_pools_from"), target=period, acting_user=acting_user
            )
        targets = 0
        if roll_targets_growth is not None:
            source = _source(targets_from if targets_from else period.name - 1, "roll_targets_growth")
            targets = customer_targets_roll(
                source=source, target=period, growth_pct=Decimal(roll_targets_growth), acting_user=acting_user
            )
    return YearOpened(period=period, pools_copied=pools, targets_rolled=targets)


def year_close(*, name: int, acting_user) -> Period:
    return period_close(period=_source(name, "name"), acting_user=acting_user)


def year_reopen(*, name: int, acting_user) -> Period:
    return period_reopen(period=_source(name, "name"), acting_user=acting_user)
