"""Every write of the sales-force app."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from customers.models import Customer

from .models import PortfolioAssignment


def portfolio_assignments_sync(*, acting_user=None) -> int:
    """Open an assignment for every customer whose owning pair differs from its open one.

    Reassignment closes the previous row (end = yesterday) and keeps it: history stays.
    """
    today = timezone.localdate()
    open_rows = dict(PortfolioAssignment.objects.filter(end__isnull=True).values_list("customer_id", "pair_id"))
    owners = Customer.objects.filter(pair__isnull=False).values_list("id", "pair_id")
    changed = [(cid, pid) for cid, pid in owners if open_rows.get(cid) != pid]
    if not changed:
        return 0
    with transaction.atomic():
        ids = [cid for cid, _ in changed]
        PortfolioAssignment.objects.filter(customer_id__in=ids, end__isnull=True).update(
            end=today - timezone.timedelta(days=1)
        )
        PortfolioAssignment.objects.bulk_create(
            [PortfolioAssignment(customer_id=cid, pair_id=pid, start=today) for cid, pid in changed],
            batch_size=5000,
        )
    return len(changed)
