"""Reads of the sales-force app, and the one place that scopes customers by role."""

from __future__ import annotations

import pandas as pd

from django.db.models import Q, QuerySet

from config.roles import FINANCE, MANAGER, REP, user_roles
from customers.models import Customer

from .models import RepPair, SalesRep, Team


def pair_codes() -> dict[str, int]:
    return dict(RepPair.objects.values_list("code", "id"))


def rep_for_user(user) -> SalesRep | None:
    if not user.is_authenticated:
        return None
    return SalesRep.objects.filter(user=user).select_related("team").first()


def pairs_for_user(user) -> QuerySet[RepPair]:
    roles = user_roles(user)
    if FINANCE in roles or user.is_superuser:
        return RepPair.objects.all()
    q = Q(pk__in=[])
    if MANAGER in roles:
        q |= Q(team__manager=user)
    if REP in roles:
        q |= Q(outside_rep__user=user) | Q(inside_rep__user=user)
    return RepPair.objects.filter(q)


def teams_for_user(user) -> QuerySet[Team]:
    roles = user_roles(user)
    if FINANCE in roles or user.is_superuser:
        return Team.objects.all()
    return Team.objects.filter(Q(manager=user) | Q(reps__user=user)).distinct()


def customer_scope(user) -> QuerySet[Customer]:
    """The customers a user may see: finance all; a manager their teams'; a rep their pair's.

    Pages and the API both filter through this function; a customer outside the scope is a 404.
    """
    roles = user_roles(user)
    if not roles:
        return Customer.objects.none()
    if FINANCE in roles or user.is_superuser:
        return Customer.objects.all()
    return Customer.objects.filter(pair__in=pairs_for_user(user))


def customer_scope_ids(user) -> QuerySet | None:
    """None when the user sees every customer (no filter needed), else a subquery of ids."""
    roles = user_roles(user)
    if FINANCE in roles or user.is_superuser:
        return None
    return customer_scope(user).values("id")


def visit_drivers(*, period) -> pd.DataFrame:
    """customer_id, visits, visit_minutes of a period (one query): drivers for the allocation keys."""
    from django.db.models import Count, Sum

    from .models import Visit

    rows = (
        Visit.objects.filter(period=period)
        .values("customer_id")
        .annotate(visits=Count("id"), visit_minutes=Sum("minutes"))
        .values_list("customer_id", "visits", "visit_minutes")
    )
    return pd.DataFrame.from_records(list(rows), columns=["customer_id", "visits", "visit_minutes"]).astype("int64")
