"""The organisation's core reads and writes that the customer data itself needs: which pair a code
names and who owns which customer from when (``PortfolioAssignment``).

Ownership lives in the core (README, Architecture): the customer import's ``owner`` column names a
pair, and an owner change opens the next assignment in the same transaction, without the core
importing the sales force. The organisation's pages, API and forms stay in
``salesforce_tasks.organisation`` and call these.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from .models import Customer, PortfolioAssignment, RepPair


def pair_codes() -> dict[str, int]:
    """Every pair's code -> id (the customer import's ``owner`` column)."""
    return dict(RepPair.objects.values_list("code", "id"))


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
