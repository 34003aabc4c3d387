"""Portfolios: hand a customer over to another pair, assign many owners at once."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from config.eventbus import publish
from config.roles import MANAGER, user_roles
from customers import policy
from customers.models import Customer, Period

from ..models import PortfolioAssignment, RepPair


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
