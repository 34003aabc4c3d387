"""Cost pool history keeps the original version, also of pools loaded in bulk (issue 14).

The first change of a bulk-loaded pool showed "– → Revenue": the value before it was lost and could
not be restored.
"""

import io
from decimal import Decimal

from accounting import selectors, services
from accounting.models import CostPool


def test_first_change_of_a_bulk_loaded_pool_keeps_and_restores_the_original(small_dataset, finance_user):
    pool = CostPool.objects.filter(period=small_dataset[2025]).order_by("name").first()
    original = (pool.amount,)
    # Loaded in bulk: no history at all (as bulk imports and older demo data leave a pool).
    pool.history.all().delete()
    CostPool.objects.filter(pk=pool.pk).update(key="per_customer")
    pool.refresh_from_db()

    services.cost_pool_update(pool=pool, acting_user=finance_user, key="revenue", amount=Decimal("1234.00"))

    entries = selectors.pool_history(pool=pool)
    assert len(entries) == 2
    changes = {c["field"]: (c["old"], c["new"]) for c in entries[0]["changes"]}
    assert changes["key"] == ("Equal per active customer", "Revenue")
    assert changes["amount"] == (original[0], Decimal("1234.00"))
    first = entries[-1]["record"]
    services.cost_pool_revert(pool=pool, history_id=first.history_id, acting_user=finance_user)
    pool.refresh_from_db()
    assert (pool.amount, pool.key) == (original[0], "per_customer")


def test_demo_pools_start_with_their_original_version(db):
    from django.core.management import call_command

    call_command("load_demo", "--customers", "40", stdout=io.StringIO())
    pool = CostPool.objects.order_by("pk").first()
    assert pool.history.count() == 1
