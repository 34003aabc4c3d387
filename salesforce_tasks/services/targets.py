"""Customer targets (a pair proposes, a manager approves or rejects; delete and restore), team targets
and the roll of targets into the coming year.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext

from config.roles import MANAGER, REP, user_roles
from customers import policy
from customers.models import Customer, Level, Period
from customers.period_services import period_writable

from .. import portfolio
from ..models import CustomerTarget, Team, TeamTarget


def _seasonality_clean(seasonality) -> list[float] | None:
    if seasonality in (None, "", []):
        return None
    try:
        values = [float(x) for x in seasonality]
        portfolio.monthly_targets(0, values)
    except (TypeError, ValueError) as exc:
        raise ValidationError({"seasonality": [str(exc)]}) from None
    return values


def customer_target_set(
    *,
    customer: Customer,
    period: Period,
    acting_user,
    target_level: str = "",
    target_revenue: Decimal | None = None,
    target_profit: Decimal | None = None,
    seasonality: list | None = None,
) -> CustomerTarget:
    """Set a customer's target for a period. A manager's target stands (and settles any pending
    proposal); a rep's is a proposal until a manager approves it: a new target is stored with
    ``proposed_by_pair``; a change to an APPROVED target is stored beside it (``proposal_*``) and
    never overwrites the approved values."""
    period_writable(period)
    roles = user_roles(acting_user)
    if not policy.customer_scope(acting_user).filter(pk=customer.pk).exists():
        raise PermissionDenied("This customer is not in your portfolio.")
    is_manager = acting_user.is_superuser or MANAGER in roles
    if not is_manager and REP not in roles:
        raise PermissionDenied("Only managers set customer targets and reps propose them.")
    errors = {}
    if target_level and target_level not in Level.values:
        errors["target_level"] = ["Choose a pyramid level."]
    if target_revenue is not None and target_revenue < 0:
        errors["target_revenue"] = ["A revenue target cannot be negative."]
    if not target_level and target_revenue is None and target_profit is None:
        errors["__all__"] = ["Set at least a target level, revenue or profit."]
    try:
        seasonality = _seasonality_clean(seasonality)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    values = {
        "target_level": target_level or "",
        "target_revenue": target_revenue,
        "target_profit": target_profit,
        "seasonality": seasonality,
        "proposed_by_pair": not is_manager,
    }
    with transaction.atomic():
        target = CustomerTarget.objects.select_for_update().filter(customer=customer, period=period).first()
        target = target or CustomerTarget(customer=customer, period=period)
        if is_manager:
            values.update(_NO_PROPOSAL)
        elif target.pk is not None and not target.proposed_by_pair:  # approved: propose beside it
            values = {
                "proposal_pending": True,
                "proposal_level": values["target_level"],
                "proposal_revenue": target_revenue,
                "proposal_profit": target_profit,
                "proposal_seasonality": seasonality,
            }
        for key, value in values.items():
            setattr(target, key, value)
        target.full_clean()
        target._history_user = acting_user
        target.save()
    return target


_NO_PROPOSAL = {
    "proposal_pending": False,
    "proposal_level": "",
    "proposal_revenue": None,
    "proposal_profit": None,
    "proposal_seasonality": None,
}


def _require_target_manager(*, target: CustomerTarget, acting_user, verb: str) -> None:
    if not (acting_user.is_superuser or MANAGER in user_roles(acting_user)):
        raise PermissionDenied(f"Only a manager {verb} targets.")
    if not policy.customer_scope(acting_user).filter(pk=target.customer_id).exists():
        raise PermissionDenied("This customer is not in your teams.")


def customer_target_approve(*, target: CustomerTarget, acting_user) -> CustomerTarget:
    """A manager accepts a pair's proposed target, or a proposed change to an approved one."""
    _require_target_manager(target=target, acting_user=acting_user, verb="approves")
    period_writable(target.period_id)
    if not target.proposed_by_pair and not target.proposal_pending:
        raise ValidationError("This target is already approved and no change is proposed.")
    with transaction.atomic():
        if target.proposal_pending:
            target.target_level = target.proposal_level
            target.target_revenue = target.proposal_revenue
            target.target_profit = target.proposal_profit
            target.seasonality = target.proposal_seasonality
        for key, value in _NO_PROPOSAL.items():
            setattr(target, key, value)
        target.proposed_by_pair = False
        target._history_user = acting_user
        target.save()
    return target


def customer_target_reject(*, target: CustomerTarget, acting_user) -> CustomerTarget | None:
    """A manager turns a proposal down: a proposed change is dropped (the approved values stay); a
    proposed new target is deleted (None is returned)."""
    _require_target_manager(target=target, acting_user=acting_user, verb="rejects")
    period_writable(target.period_id)
    if not target.proposed_by_pair and not target.proposal_pending:
        raise ValidationError("Nothing is proposed for this target.")
    with transaction.atomic():
        target._history_user = acting_user
        if target.proposed_by_pair:
            target.delete()
            return None
        for key, value in _NO_PROPOSAL.items():
            setattr(target, key, value)
        target.save()
    return target


def customer_target_delete(*, target: CustomerTarget, acting_user) -> None:
    roles = user_roles(acting_user)
    if not policy.customer_scope(acting_user).filter(pk=target.customer_id).exists():
        raise PermissionDenied("This customer is not in your portfolio.")
    manager = acting_user.is_superuser or MANAGER in roles
    if not manager and not (REP in roles and target.proposed_by_pair):
        raise PermissionDenied("Only a manager deletes an approved target; reps may withdraw their proposals.")
    period_writable(target.period_id)
    with transaction.atomic():
        target._history_user = acting_user
        target.delete()


def customer_target_restore(*, deleted, acting_user) -> CustomerTarget:
    """Bring a deleted customer target back from its deletion record in the history (the Undo after
    a delete): the same row, id and values. Who may delete it may restore it; a target set for the
    same customer and period since then is kept, and the restore refused."""
    target = deleted.instance
    roles = user_roles(acting_user)
    if not policy.customer_scope(acting_user).filter(pk=target.customer_id).exists():
        raise PermissionDenied(gettext("This customer is not in your portfolio."))
    manager = acting_user.is_superuser or MANAGER in roles
    if not manager and not (REP in roles and target.proposed_by_pair):
        raise PermissionDenied(gettext("Only a manager restores an approved target; reps may restore their proposals."))
    period_writable(target.period_id)
    with transaction.atomic():
        if CustomerTarget.objects.select_for_update().filter(pk=target.pk).exists():
            raise ValidationError(gettext("This target is back already."))
        if CustomerTarget.objects.filter(customer_id=target.customer_id, period_id=target.period_id).exists():
            raise ValidationError(
                gettext("A target for this customer and period was set after the delete; change that one instead.")
            )
        target._history_user = acting_user
        target.save(force_insert=True)
    return target


def _require_team_manager(*, team: Team, acting_user) -> None:
    if not policy.managed_teams(acting_user).filter(pk=team.pk).exists():
        raise PermissionDenied("Only the team's manager sets its targets and bonus KPIs.")


def team_target_set(*, team: Team, period: Period, kind: str, target: Decimal, acting_user) -> TeamTarget:
    _require_team_manager(team=team, acting_user=acting_user)
    period_writable(period)
    if kind not in TeamTarget.Kind.values:
        raise ValidationError({"kind": ["Choose a team target kind."]})
    if target is None or target < 0:
        raise ValidationError({"target": ["A target must be zero or more."]})
    if kind == TeamTarget.Kind.RETENTION and target > 100:
        raise ValidationError({"target": ["Retention is a percentage: at most 100."]})
    with transaction.atomic():
        obj = TeamTarget.objects.select_for_update().filter(team=team, period=period, kind=kind).first()
        obj = obj or TeamTarget(team=team, period=period, kind=kind)
        obj.target = target
        obj.full_clean()
        obj._history_user = acting_user
        obj.save()
    return obj


def team_target_delete(*, target: TeamTarget, acting_user) -> None:
    _require_team_manager(team=target.team, acting_user=acting_user)
    period_writable(target.period_id)
    with transaction.atomic():
        target._history_user = acting_user
        target.delete()


def team_target_restore(*, deleted, acting_user) -> TeamTarget:
    """Bring a deleted team target back from its deletion record (the Undo after a remove); the team's
    managers only. A target of the same kind set for the team and period since then is kept."""
    target = deleted.instance
    _require_team_manager(team=target.team, acting_user=acting_user)
    period_writable(target.period_id)
    with transaction.atomic():
        if TeamTarget.objects.select_for_update().filter(pk=target.pk).exists():
            raise ValidationError(gettext("This team target is back already."))
        if TeamTarget.objects.filter(team_id=target.team_id, period_id=target.period_id, kind=target.kind).exists():
            raise ValidationError(
                gettext("A team target of this kind was set for the period after the remove; change that one instead.")
            )
        target._history_user = acting_user
        target.save(force_insert=True)
    return target


def customer_targets_roll(*, source: Period, target: Period, growth_pct: Decimal, acting_user) -> int:
    """Roll every approved customer target of ``source`` into ``target``, revenue and profit targets
    grown by ``growth_pct`` % (rounded to the cent); the level and seasonality are kept. Targets
    ``target`` already has are left alone. Finance (and superusers), who roll the year. Returns the
    number of targets written."""
    from config.roles import FINANCE

    period_writable(target)
    if acting_user is not None and not (acting_user.is_superuser or FINANCE in user_roles(acting_user)):
        raise PermissionDenied("Only finance rolls the targets into a new year.")
    if growth_pct is None or not Decimal(-100) <= Decimal(growth_pct) <= Decimal(1000):
        raise ValidationError({"roll_targets_growth": ["Give the growth as a percentage from -100 to 1000."]})
    factor = (Decimal(100) + Decimal(growth_pct)) / Decimal(100)
    cent = Decimal("0.01")
    taken = set(CustomerTarget.objects.filter(period=target).values_list("customer_id", flat=True))
    written = 0
    with transaction.atomic():
        for old in CustomerTarget.objects.filter(period=source, proposed_by_pair=False).order_by("customer_id"):
            if old.customer_id in taken:
                continue
            new = CustomerTarget(
                customer_id=old.customer_id,
                period=target,
                target_level=old.target_level,
                target_revenue=None if old.target_revenue is None else (old.target_revenue * factor).quantize(cent),
                target_profit=None if old.target_profit is None else (old.target_profit * factor).quantize(cent),
                seasonality=old.seasonality,
            )
            new._history_user = acting_user
            new.save()
            written += 1
    return written
