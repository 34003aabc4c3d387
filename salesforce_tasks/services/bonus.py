"""Bonus KPIs: save and delete, one KPI per metric for a rep or pair and period."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from customers.period_services import period_writable

from ..models import BonusKpi, Team
from .targets import _require_team_manager

KPI_FIELDS = ("period", "rep", "pair", "metric", "weight", "threshold", "target", "cap", "base_amount")


def bonus_kpi_save(*, acting_user, kpi: BonusKpi | None = None, **values) -> BonusKpi:
    """Create or change a bonus KPI of a rep or a pair (managers of its team)."""
    unknown = set(values) - set(KPI_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown KPI fields: {', '.join(sorted(unknown))}.")
    kpi = kpi or BonusKpi()
    if kpi.pk:
        _require_team_manager(team=_kpi_team(kpi), acting_user=acting_user)
        period_writable(kpi.period_id)
    for key, value in values.items():
        setattr(kpi, key, value)
    if (kpi.rep_id is None) == (kpi.pair_id is None):
        raise ValidationError({"subject": ["Set the KPI on one rep or on one pair."]})
    _require_team_manager(team=_kpi_team(kpi), acting_user=acting_user)
    period_writable(kpi.period_id)
    errors = {}
    if kpi.cap is not None and kpi.cap < 0:
        errors["cap"] = ["The cap must be zero or more."]
    if kpi.base_amount is not None and kpi.base_amount < 0:
        errors["base_amount"] = ["The base bonus must be zero or more."]
    if errors:
        raise ValidationError(errors)
    if _kpi_metric_taken(kpi):
        raise _kpi_metric_taken_error(kpi)
    kpi.full_clean(validate_constraints=False)  # the one-per-metric rule just above, with its message
    try:
        with transaction.atomic():
            kpi._history_user = acting_user
            kpi.save()
    except IntegrityError:  # the same KPI saved at the same moment by someone else
        if kpi.pk is None or _kpi_metric_taken(kpi):
            raise _kpi_metric_taken_error(kpi) from None
        raise
    return kpi


def _kpi_metric_taken(kpi: BonusKpi) -> bool:
    """Another KPI of the same metric for the same rep (or pair) and period (models: bonuskpi_unique_*)."""
    others = BonusKpi.objects.filter(period_id=kpi.period_id, metric=kpi.metric).exclude(pk=kpi.pk)
    others = others.filter(rep_id=kpi.rep_id) if kpi.rep_id else others.filter(pair_id=kpi.pair_id)
    return others.exists()


def _kpi_metric_taken_error(kpi: BonusKpi) -> ValidationError:
    subject = kpi.rep.name if kpi.rep_id else kpi.pair.code
    message = gettext(
        "%(subject)s already has a KPI on %(metric)s in %(period)s: change that KPI, or choose another metric."
    ) % {"subject": subject, "metric": kpi.get_metric_display(), "period": kpi.period.name}
    return ValidationError({"metric": [message]})


def _kpi_team(kpi: BonusKpi) -> Team:
    return kpi.pair.team if kpi.pair_id else kpi.rep.team


def bonus_kpi_delete(*, kpi: BonusKpi, acting_user) -> None:
    _require_team_manager(team=_kpi_team(kpi), acting_user=acting_user)
    period_writable(kpi.period_id)
    with transaction.atomic():
        kpi._history_user = acting_user
        kpi.delete()
