"""DELETE of a cost pool racing the recompute that stores pool results (issue 13, finding 11).

Under load, ``DELETE /api/v1/cost-pools/<id>/`` failed with an IntegrityError on
``accounting_poolresult``: Django collected the pool's result rows, the recompute then committed
a new result for the same pool, and the pool's delete broke the foreign key. Both sides now lock
the pool rows first. The interleavings are made deterministic with two real PostgreSQL
connections: one side holds its transaction open until the other is seen waiting on a lock.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from accounting import services
from accounting.models import CostPool, PoolResult

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def wait_until_a_backend_waits_on_a_lock() -> None:
    deadline = time.monotonic() + 30
    with connection.cursor() as cur:
        while time.monotonic() < deadline:
            cur.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cur.fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("the second transaction never waited on a lock")


def in_thread(target, errors: list) -> threading.Thread:
    def run():
        try:
            target()
        except Exception as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_delete_during_a_result_store_waits_and_removes_the_new_result(small_dataset, finance_user):
    period = small_dataset[2025]
    pool = CostPool.objects.filter(period=period).order_by("pk").first()
    pools = services.profit_compute(period=period).result.pools
    stored, release, errors = threading.Event(), threading.Event(), []

    def store():
        with transaction.atomic():
            services._pool_results_store(period, pools)
            stored.set()
            release.wait(30)

    worker = in_thread(store, errors)
    assert stored.wait(30)
    deleter = in_thread(
        lambda: services.cost_pool_delete(pool=CostPool.objects.get(pk=pool.pk), acting_user=finance_user), errors
    )
    wait_until_a_backend_waits_on_a_lock()
    release.set()
    worker.join(60)
    deleter.join(60)
    assert errors == []
    assert not CostPool.objects.filter(pk=pool.pk).exists()
    assert not PoolResult.objects.filter(pool_id=pool.pk).exists()


def test_a_result_store_during_a_delete_skips_the_deleted_pool(small_dataset, finance_user):
    period = small_dataset[2025]
    pool = CostPool.objects.filter(period=period).order_by("pk").first()
    others = set(CostPool.objects.filter(period=period).exclude(pk=pool.pk).values_list("pk", flat=True))
    pools = services.profit_compute(period=period).result.pools  # computed while the pool still existed
    assert pool.pk in set(pools["pool_id"].astype(int))
    deleted, release, errors = threading.Event(), threading.Event(), []

    def delete():
        with transaction.atomic():
            services.cost_pool_delete(pool=CostPool.objects.get(pk=pool.pk), acting_user=finance_user)
            deleted.set()
            release.wait(30)

    deleter = in_thread(delete, errors)
    assert deleted.wait(30)

    def store():
        with transaction.atomic():
            services._pool_results_store(period, pools)

    worker = in_thread(store, errors)
    wait_until_a_backend_waits_on_a_lock()
    release.set()
    deleter.join(60)
    worker.join(60)
    assert errors == []
    assert set(PoolResult.objects.filter(pool__period=period).values_list("pool_id", flat=True)) <= others
    assert not PoolResult.objects.filter(pool_id=pool.pk).exists()
