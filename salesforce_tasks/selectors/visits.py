"""Visits: the visit drivers of a period, the visits a user sees, the visit norms, the last visit per customer."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from django.db.models import Count, Max, QuerySet, Sum

from customers.models import Customer
from customers.policy import (  # who sees what: one place
    customer_scope_ids,
)

from .. import portfolio
from ..models import SalesRep, Visit, VisitNorm


def visit_drivers(*, period) -> pd.DataFrame:
    """customer_id, visits, visit_minutes of a period (one query): drivers for the allocation keys."""
    rows = (
        Visit.objects.filter(period=period)
        .values("customer_id")
        .annotate(visits=Count("id"), visit_minutes=Sum("minutes"))
        .values_list("customer_id", "visits", "visit_minutes")
    )
    return pd.DataFrame.from_records(list(rows), columns=["customer_id", "visits", "visit_minutes"]).astype("int64")


def visit_list(*, user, rep: SalesRep | None = None, customer: Customer | None = None) -> QuerySet[Visit]:
    """Visits on customers in the user's scope, newest first (optionally one rep's or one customer's)."""
    qs = Visit.objects.select_related("customer", "rep", "period").order_by("-date", "-id")
    scope = customer_scope_ids(user)
    if scope is not None:
        qs = qs.filter(customer_id__in=scope)
    if rep is not None:
        qs = qs.filter(rep=rep)
    if customer is not None:
        qs = qs.filter(customer=customer)
    return qs


def visit_norms() -> dict[str, int | None]:
    """Days between contacts per level: the VisitNorm rows laid over the defaults."""
    norms = dict(portfolio.DEFAULT_VISIT_NORM_DAYS)
    norms.update(dict(VisitNorm.objects.values_list("level", "days_between")))
    return norms


def visit_norm_rows() -> list[dict]:
    stored = {n.level: n for n in VisitNorm.objects.all()}
    rows = []
    for level, default in portfolio.DEFAULT_VISIT_NORM_DAYS.items():
        norm = stored.get(level)
        rows.append(
            {
                "level": level,
                "days_between": norm.days_between if norm else default,
                "kind": norm.kind if norm else Visit.Kind.VISIT,
                "default": default,
            }
        )
    return rows


def last_visits(*, customer_ids, until: dt.date | None = None) -> pd.DataFrame:
    """customer_id, last_visit (date) for the given customers (a list or a subquery; None: every
    visited customer, for a caller that merges it onto many customers), one query."""
    qs = Visit.objects.all() if customer_ids is None else Visit.objects.filter(customer_id__in=customer_ids)
    if until is not None:
        qs = qs.filter(date__lte=until)
    rows = qs.values("customer_id").annotate(last=Max("date")).values_list("customer_id", "last")
    frame = pd.DataFrame.from_records(list(rows), columns=["customer_id", "last_visit"])
    frame["last_visit"] = pd.to_datetime(frame["last_visit"])
    return frame.astype({"customer_id": "int64"})
