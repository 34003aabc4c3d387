"""Visits: log, change, delete and import them (the visit facts of the core kept in step), and the visit norms."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from config.dates import date_window_reason, outside_date_window, validate_date_in_window
from config.eventbus import publish
from config.intake import ErrorList, Layout, parse_date, parse_int, read_chunks, too_long
from config.roles import MANAGER, REP, user_roles
from customers import policy
from customers.facts import customer_facts_add, customer_facts_replace
from customers.models import Customer, Level, Period
from customers.period_services import add_closed_period_errors, period_writable

from ..events import VisitsChanged
from ..models import SalesRep, Visit, VisitNorm

MAX_VISIT_MINUTES = 24 * 60
VISIT_LAYOUT = Layout(("rep", "customer_id", "date", "minutes", "kind"), ("outcome", "next_step"))


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
