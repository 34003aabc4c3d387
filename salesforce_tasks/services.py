"""Every write of the sales-force app: visits, targets, bonus KPIs, visit norms and portfolios.

Each function takes keyword-only arguments and ``acting_user``, checks who may do it, validates
with messages a person can act on (``ValidationError``/``PermissionDenied``), writes in one
transaction and publishes its event in that transaction (sent on commit).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pandas as pd
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from config.dates import date_window_reason, outside_date_window, validate_date_in_window
from config.eventbus import publish
from config.intake import ErrorList, Layout, parse_date, parse_int, read_chunks, too_long
from config.roles import MANAGER, REP, user_roles
from customers import policy
from customers.facts import customer_facts_add, customer_facts_replace
from customers.models import Customer, Level, Period
from customers.period_services import add_closed_period_errors, period_writable

from . import portfolio
from .events import VisitsChanged
from .models import BonusKpi, CustomerTarget, PortfolioAssignment, RepPair, SalesRep, Team, TeamTarget, Visit, VisitNorm

MAX_VISIT_MINUTES = 24 * 60
VISIT_LAYOUT = Layout(("rep", "customer_id", "date", "minutes", "kind"), ("outcome", "next_step"))


# --- portfolios -------------------------------------------------------------------------------


def customer_reassign(*, customer: Customer, pair: RepPair, acting_user) -> PortfolioAssignment:
    """Move a customer to another pair from today (managers, within their teams).

    The open assignment ends yesterday and stays as history; a new one starts today. An open
    assignment that started today is moved instead (no day of the old pair is lost). Results of
    earlier days stay credited to the old pair.
    """
    from customers.events import CustomersChanged

    if not (acting_user.is_superuser or MANAGER in user_roles(acting_user)):
        raise PermissionDenied("Only a manager can move a customer to another pair.")
    if not policy.customer_scope(acting_user).filter(pk=customer.pk).exists():
        raise PermissionDenied("This customer is not in your teams.")
    if not policy.pairs_for_user(acting_user).filter(pk=pair.pk).exists():
        raise ValidationError({"pair": ["Choose a pair of one of your teams."]})
    today = timezone.localdate()
    with transaction.atomic():
        current = (
            PortfolioAssignment.objects.select_for_update()
            .filter(customer=customer, end__isnull=True)
            .order_by("-start")
            .first()
        )
        if current is not None and current.pair_id == pair.pk and customer.pair_id == pair.pk:
            raise ValidationError({"pair": [f"{customer.name} already belongs to pair {pair.code}."]})
        if current is not None and current.start >= today:
            current.pair = pair
            current.outside_share = None
            current.save(update_fields=["pair", "outside_share"])
            assignment = current
        else:
            if current is not None:
                current.end = today - dt.timedelta(days=1)
                current.save(update_fields=["end"])
            assignment = PortfolioAssignment.objects.create(customer=customer, pair=pair, start=today)
        customer.pair = pair
        customer._history_user = acting_user
        customer.save(update_fields=["pair"])
        period_ids = tuple(Period.objects.filter(end__gte=today - dt.timedelta(days=1)).values_list("id", flat=True))
        if not period_ids:
            period_ids = tuple(Period.objects.order_by("-name").values_list("id", flat=True)[:1])
        publish(CustomersChanged(period_ids=period_ids))
    return assignment


def portfolio_assign(*, owners: dict[int, int], start: dt.date, acting_user=None) -> int:
    """Give customers that have no portfolio yet their owning pair from ``start`` (bulk: a new
    company's first portfolios, the demo). {customer id: pair id}; returns the number assigned.

    Refused (nothing written) for a customer that already has an assignment (move it with
    ``customer_reassign``), an unknown customer or pair. Commands pass ``acting_user=None``."""
    from customers.events import CustomersChanged

    if acting_user is not None and not (acting_user.is_superuser or MANAGER in user_roles(acting_user)):
        raise PermissionDenied("Only a manager assigns portfolios.")
    ids = list(owners)
    assigned = set(PortfolioAssignment.objects.filter(customer_id__in=ids).values_list("customer_id", flat=True))
    if assigned:
        message = f"{len(assigned)} customer(s) have a portfolio already; move them with a reassignment instead."
        raise ValidationError({"customer": [message]})
    if Customer.objects.filter(pk__in=ids).count() != len(ids):
        raise ValidationError({"customer": ["Unknown customer id(s): assign only stored customers."]})
    pair_ids = set(owners.values())
    if RepPair.objects.filter(pk__in=pair_ids).count() != len(pair_ids):
        raise ValidationError({"pair": ["Unknown pair id(s)."]})
    with transaction.atomic():
        by_pair: dict[int, list[int]] = {}
        for customer_id, pair_id in owners.items():
            by_pair.setdefault(pair_id, []).append(customer_id)
        for pair_id, customer_ids in by_pair.items():
            for i in range(0, len(customer_ids), 5000):
                Customer.objects.filter(pk__in=customer_ids[i : i + 5000]).update(pair_id=pair_id)
        PortfolioAssignment.objects.bulk_create(
            [PortfolioAssignment(customer_id=c, pair_id=p, start=start) for c, p in owners.items()], batch_size=5000
        )
        periods = Period.objects.filter(end__gte=start).values_list("id", flat=True)
        publish(CustomersChanged(period_ids=tuple(periods)))
    return len(owners)


# --- visits -----------------------------------------------------------------------------------


def _visit_facts_add(*rows: tuple[int, int, int, int]) -> None:
    """Keep the core's visit facts in step, in the writer's transaction: (period, customer, visits, minutes)."""
    customer_facts_add(deltas=pd.DataFrame(list(rows), columns=["period_id", "customer_id", "visits", "visit_minutes"]))


def visit_facts_rebuild(*, period_ids=None) -> None:
    """Rewrite the core's visit facts (visits, visit minutes per customer) of these periods (all when
    None) from the stored visits: the repair for facts written around the services."""
    from django.db.models import Count, Sum

    if period_ids is None:
        period_ids = list(Period.objects.values_list("id", flat=True))
    rows = (
        Visit.objects.filter(period_id__in=period_ids)
        .values("period_id", "customer_id")
        .annotate(visits=Count("id"), visit_minutes=Sum("minutes"))
        .values_list("period_id", "customer_id", "visits", "visit_minutes")
    )
    values = pd.DataFrame.from_records(list(rows), columns=["period_id", "customer_id", "visits", "visit_minutes"])
    with transaction.atomic():
        customer_facts_replace(period_ids=period_ids, values=values.astype("int64"))
        publish(VisitsChanged(period_ids=tuple(period_ids)))


def _period_for(date: dt.date) -> int:
    """Id of the fiscal year holding ``date`` (the core's one choke point for dated writes)."""
    from customers.services import period_for_write

    return period_for_write(date=date)


def _check_visit_author(*, rep: SalesRep, acting_user) -> None:
    """A rep logs their own visits; a manager may log for a rep of their teams; finance reads only."""
    if acting_user is None or acting_user.is_superuser:
        return
    roles = user_roles(acting_user)
    if REP in roles and rep.user_id == acting_user.id:
        return
    if MANAGER in roles and policy.managed_teams(acting_user).filter(pk=rep.team_id).exists():
        return
    raise PermissionDenied("You can log visits only as yourself (or, as a manager, for a rep of your team).")


def _validate_visit(
    *, customer: Customer, date: dt.date, minutes: int, kind: str, outcome: str, next_step: str, acting_user
) -> None:
    errors: dict[str, list[str]] = {}
    if acting_user is not None and not policy.customer_scope(acting_user).filter(pk=customer.pk).exists():
        errors["customer"] = ["This customer is not in your portfolio."]
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= MAX_VISIT_MINUTES:
        errors["minutes"] = [f"Give the minutes as a whole number from 1 to {MAX_VISIT_MINUTES}."]
    if not isinstance(date, dt.date):
        errors["date"] = ["Give the date as YYYY-MM-DD."]
    elif date > timezone.localdate():
        errors["date"] = ["The date is in the future; log a visit once it has happened."]
    else:
        try:
            validate_date_in_window(date)
        except ValidationError as exc:
            errors["date"] = exc.messages
    if kind not in Visit.Kind.values:
        errors["kind"] = ["Choose visit, phone or video."]
    if len(outcome or "") > 300:
        errors["outcome"] = ["Keep the outcome to 300 characters."]
    if len(next_step or "") > 300:
        errors["next_step"] = ["Keep the next step to 300 characters."]
    if errors:
        raise ValidationError(errors)


def visit_log(
    *,
    rep: SalesRep,
    customer: Customer,
    date: dt.date,
    minutes: int,
    kind: str = Visit.Kind.VISIT,
    outcome: str = "",
    next_step: str = "",
    acting_user,
) -> Visit:
    """Log a visit or call: the customer must be in the user's scope, 1-1440 minutes, not in the future.

    The visit's period is the fiscal year of its date (created when missing). Visit minutes feed
    the visit and time-driven cost keys: the period's profit is recomputed after commit.
    """
    _check_visit_author(rep=rep, acting_user=acting_user)
    _validate_visit(
        customer=customer,
        date=date,
        minutes=minutes,
        kind=kind,
        outcome=outcome,
        next_step=next_step,
        acting_user=acting_user,
    )
    with transaction.atomic():
        period_id = _period_for(date)
        visit = Visit.objects.create(
            rep=rep,
            customer=customer,
            date=date,
            minutes=minutes,
            kind=kind,
            outcome=outcome or "",
            next_step=next_step or "",
            period_id=period_id,
        )
        _visit_facts_add((period_id, customer.pk, 1, minutes))
        publish(VisitsChanged(period_ids=(period_id,)))
    return visit


def _check_own_visit(*, visit: Visit, acting_user) -> None:
    if acting_user.is_superuser:
        return
    if visit.rep.user_id != acting_user.id:
        raise PermissionDenied("You can change or delete only your own visits.")


def visit_update(*, visit: Visit, acting_user, **values) -> Visit:
    """Change one's own visit (customer, date, minutes, kind, outcome, next step)."""
    _check_own_visit(visit=visit, acting_user=acting_user)
    unknown = set(values) - {"customer", "date", "minutes", "kind", "outcome", "next_step"}
    if unknown:
        raise ValidationError(f"These visit fields cannot be changed: {', '.join(sorted(unknown))}.")
    merged = {
        "customer": visit.customer,
        "date": visit.date,
        "minutes": visit.minutes,
        "kind": visit.kind,
        "outcome": visit.outcome,
        "next_step": visit.next_step,
        **values,
    }
    _validate_visit(acting_user=acting_user, **merged)
    period_writable(visit.period_id, field="date")
    old_period, old_customer, old_minutes = visit.period_id, visit.customer_id, visit.minutes
    with transaction.atomic():
        for key, value in merged.items():
            setattr(visit, key, value)
        visit.period_id = _period_for(visit.date)
        visit.save()
        _visit_facts_add(
            (old_period, old_customer, -1, -old_minutes), (visit.period_id, visit.customer_id, 1, visit.minutes)
        )
        publish(VisitsChanged(period_ids=tuple({old_period, visit.period_id})))
    return visit


def visit_delete(*, visit: Visit, acting_user) -> None:
    _check_own_visit(visit=visit, acting_user=acting_user)
    period_writable(visit.period_id, field="date")
    with transaction.atomic():
        period_id = visit.period_id
        _visit_facts_add((period_id, visit.customer_id, -1, -visit.minutes))
        visit.delete()
        publish(VisitsChanged(period_ids=(period_id,)))


def _validate_visits_chunk(
    chunk: pd.DataFrame, errors: ErrorList, reps: dict, customers: dict, allowed: set | None, today: pd.Timestamp
) -> pd.DataFrame:
    rep_id = chunk["rep"].map(reps)
    errors.add_mask(chunk, rep_id.isna(), "rep", "unknown rep code; use the code of a sales rep")
    customer_id = chunk["customer_id"].map(customers)
    errors.add_mask(chunk, customer_id.isna(), "customer_id", "unknown customer; import the customer first")
    if allowed is not None:
        outside = customer_id.notna() & ~customer_id.isin(allowed)
        errors.add_mask(chunk, outside, "customer_id", "this customer is not in your teams")
    date, bad_date = parse_date(chunk["date"])
    errors.add_mask(chunk, bad_date, "date", "not a date; write it as YYYY-MM-DD")
    errors.add_mask(chunk, ~bad_date & (date > today), "date", "the date is in the future")
    add_closed_period_errors(chunk, errors, date.where(~bad_date), "date")
    errors.add_mask(chunk, ~bad_date & outside_date_window(date), "date", date_window_reason())
    minutes, bad_minutes = parse_int(chunk["minutes"], minimum=1, maximum=MAX_VISIT_MINUTES)
    errors.add_mask(chunk, bad_minutes, "minutes", f"give whole minutes from 1 to {MAX_VISIT_MINUTES}")
    kind = chunk["kind"].str.lower().replace("", Visit.Kind.VISIT)
    errors.add_mask(chunk, ~kind.isin(Visit.Kind.values), "kind", "unknown kind; use visit, phone or video")
    for column in ("outcome", "next_step"):
        errors.add_mask(chunk, too_long(chunk[column], 300), column, "longer than 300 characters")
    return chunk.assign(rep_pk=rep_id, customer_pk=customer_id, date_parsed=date, minutes_int=minutes, kind=kind)


def visits_import(*, path: str | Path, acting_user=None, progress: Callable[[int], None] | None = None):
    """Import visits (rep, customer_id, date, minutes, kind, [outcome, next_step]); all or nothing.

    ``rep`` is the SalesRep code, ``customer_id`` the customer's external id. An import by a user
    (the upload page) only accepts that user's customers; the command line accepts all.
    """
    from customers.selectors import pyramid_settings_get
    from customers.services import ImportResult, periods_for_write

    scope = policy.import_scope(acting_user, "visits")  # reps: PermissionDenied; managers: their teams
    reps = dict(SalesRep.objects.values_list("code", "id"))
    customers = dict(Customer.objects.values_list("external_id", "id"))
    allowed = None if scope.everything else set(scope.customer_ids)
    today = pd.Timestamp(timezone.localdate())
    errors = ErrorList()
    for chunk in read_chunks(path, VISIT_LAYOUT):
        _validate_visits_chunk(chunk, errors, reps, customers, allowed, today)
    errors.raise_if_any()
    start_month = pyramid_settings_get().fiscal_year_start_month
    result = ImportResult("visits")
    with transaction.atomic():
        touched: set[int] = set()
        for chunk in read_chunks(path, VISIT_LAYOUT):
            chunk = _validate_visits_chunk(chunk, ErrorList(), reps, customers, allowed, today)
            dates = chunk["date_parsed"]
            names = (dates.dt.year - (dates.dt.month < start_month).astype("int64")).astype("int64")
            period_ids = periods_for_write(names=set(names.tolist()))
            chunk = chunk.assign(period_id=names.map(period_ids))
            Visit.objects.bulk_create(
                [
                    Visit(
                        rep_id=int(r.rep_pk),
                        customer_id=int(r.customer_pk),
                        date=r.date_parsed.date(),
                        minutes=int(r.minutes_int),
                        kind=r.kind,
                        outcome=r.outcome,
                        next_step=r.next_step,
                        period_id=int(r.period_id),
                    )
                    for r in chunk.itertuples(index=False)
                ],
                batch_size=5000,
            )
            customer_facts_add(
                deltas=pd.DataFrame(
                    {
                        "period_id": chunk["period_id"].astype("int64"),
                        "customer_id": chunk["customer_pk"].astype("int64"),
                        "visits": 1,
                        "visit_minutes": chunk["minutes_int"].astype("int64"),
                    }
                )
            )
            touched.update(int(p) for p in chunk["period_id"].unique())
            result.rows += len(chunk)
            result.created += len(chunk)
            if progress:
                progress(result.rows)
        result.periods = sorted(Period.objects.filter(id__in=touched).values_list("name", flat=True))
        publish(VisitsChanged(period_ids=tuple(sorted(touched))))
    return result


def visit_norms_update(*, norms: dict[str, tuple[int | None, str]], acting_user) -> list[VisitNorm]:
    """Set the days between contacts (and the usual contact kind) per pyramid level (managers)."""
    if not (acting_user.is_superuser or MANAGER in user_roles(acting_user)):
        raise PermissionDenied("Only managers set the visit norms.")
    errors = {}
    for level, (days, kind) in norms.items():
        if level not in Level.values:
            errors[level] = [f"Unknown level {level!r}."]
        elif days is not None and not (1 <= int(days) <= 3660):
            errors[level] = ["Give the days between contacts from 1 to 3660, or leave it empty for no norm."]
        elif kind not in Visit.Kind.values:
            errors[level] = ["Choose visit, phone or video."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        saved = [
            VisitNorm.objects.update_or_create(level=level, defaults={"days_between": days, "kind": kind})[0]
            for level, (days, kind) in norms.items()
        ]
    return saved


# --- targets ----------------------------------------------------------------------------------


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


# --- bonus KPIs -------------------------------------------------------------------------------

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


# --- the coming year --------------------------------------------------------------------------


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
