"""Event-driven recomputation with real Redis, real PostgreSQL and real Celery worker processes.

After any interleaving of changes, once the queue drains every stored figure equals a
from-scratch recompute; and that stays true when Redis is down for a while or a worker is
killed in the middle of a recompute.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from decimal import Decimal

import pandas as pd
import pytest
from django.db import close_old_connections, connection, transaction
from django.db.models import F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounting import selectors as acc_selectors
from accounting import services as acc_services
from accounting.models import CostPool
from config.intake import run_import
from customers import selectors as cust_selectors
from customers import services as cust_services
from customers.models import Computation, Customer, Period

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True), pytest.mark.timeout(600)]

N_CUSTOMERS = 120


def build_data(tmp_path) -> None:
    rng = random.Random(7)
    customers = ["external_id,name"] + [f"K{i:04d},Klant {i}" for i in range(N_CUSTOMERS)]
    orders = ["order_id,customer_id,date,amount,cost"]
    for i in range(N_CUSTOMERS * 4):
        c = rng.randrange(N_CUSTOMERS)
        year = rng.choice((2024, 2025))
        orders.append(
            f"S{i},K{c:04d},{year}-{rng.randint(1, 12):02d}-15,{rng.randint(50, 5000)}.00,{rng.randint(10, 40)}.00"
        )
    costs = [
        "period,pool,amount,key,nature,capacity_minutes,minutes_per_order",
        "2025,Sales,20000,per_customer,fixed,,",
        "2025,Handling,8000,orders,variable,,",
        "2025,Logistics,5000,time_driven,variable,4000,5",
        "2024,Sales,15000,revenue,fixed,,",
    ]
    for kind, lines in (("customers", customers), ("orders", orders), ("costs", costs)):
        path = tmp_path / f"{kind}.csv"
        path.write_text("\n".join(lines) + "\n")
        with transaction.atomic():
            run_import(kind, path)


def wait_converged(workers, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    clean = 0
    while time.monotonic() < deadline:
        dirty = Computation.objects.filter(computed__lt=F("requested")).exists()
        clean = 0 if dirty else clean + 1
        if clean >= 4:
            return
        time.sleep(0.5)
    raise AssertionError("recomputation did not converge in time\n" + workers.logs())


def assert_matches_from_scratch() -> None:
    for period in Period.objects.all():
        expected = cust_services.pyramid_compute(period=period)[["customer_id", "level", "revenue_cents"]]
        stored = cust_selectors.customer_period_frame(period=period)[["customer_id", "level", "revenue_cents"]]
        pd.testing.assert_frame_equal(
            expected.sort_values("customer_id").reset_index(drop=True),
            stored.sort_values("customer_id").reset_index(drop=True),
            check_dtype=False,
        )
        fresh = acc_services.profit_compute(period=period).profit[["customer_id", "profit_cents"]]
        kept = acc_selectors.customer_profit_frame(period=period)[["customer_id", "profit_cents"]]
        pd.testing.assert_frame_equal(
            fresh.sort_values("customer_id").reset_index(drop=True),
            kept.sort_values("customer_id").reset_index(drop=True),
            check_dtype=False,
        )


def apply_change(kind: str, n: int, amount: int) -> None:
    """One change through the services, as the UI, API or an import would make it."""
    try:
        if kind in ("order_new", "order_change"):
            customer = Customer.objects.get(external_id=f"K{n % N_CUSTOMERS:04d}")
            order_id = f"H{n % 17}" if kind == "order_change" else f"N{n}-{amount}-{threading.get_ident()}"
            cust_services.order_upsert(
                external_id=order_id,
                customer=customer,
                date=dt.date(2025, 1 + n % 12, 10),
                lines=[cust_services.LineInput(amount=Decimal(amount), cost=Decimal(amount) / 3)],
            )
        else:
            pool = CostPool.objects.filter(period__name=2025).order_by("id")[n % 3]
            if kind == "pool_amount":
                acc_services.cost_pool_update(pool=pool, acting_user=None, amount=Decimal(1000 + amount))
            else:
                acc_services.cost_pool_update(
                    pool=pool, acting_user=None, key=("revenue", "orders", "per_customer")[n % 3], capacity_minutes=None
                )
    finally:
        close_old_connections()


def run_threads(changes: list[tuple[str, int, int]], threads: int = 3) -> None:
    def work(part):
        for change in part:
            apply_change(*change)
        connection.close()

    parts = [changes[i::threads] for i in range(threads)]
    pool = [threading.Thread(target=work, args=(p,)) for p in parts]
    for t in pool:
        t.start()
    for t in pool:
        t.join(120)


CHANGES = st.lists(
    st.tuples(
        st.sampled_from(["order_new", "order_change", "pool_amount", "pool_key"]),
        st.integers(0, 10_000),
        st.integers(1, 9_000),
    ),
    min_size=5,
    max_size=25,
)


def test_random_interleavings_converge(pipeline, tmp_path):
    pipeline.start("w1")
    pipeline.start("w2")
    pipeline.start_beat()
    build_data(tmp_path)
    wait_converged(pipeline)
    assert_matches_from_scratch()

    @settings(
        max_examples=4,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(changes=CHANGES)
    def interleave(changes):
        run_threads(changes)
        wait_converged(pipeline)
        assert_matches_from_scratch()

    interleave()


def test_burst_coalesces(pipeline, tmp_path):
    # Each recompute holds 0.3 s longer, so the 200 commits arrive faster than one recompute:
    # the events must coalesce instead of queueing 200 recomputations.
    slow = {"KLANTWAARDE_FAULT_DELAY_S": "0.3"}
    pipeline.start("w1", extra_env=slow)
    pipeline.start_beat()
    pipeline.start("w2", extra_env=slow)
    build_data(tmp_path)
    wait_converged(pipeline)
    runs_before = sum(Computation.objects.filter(stage="pyramid").values_list("runs", flat=True))
    for i in range(200):
        apply_change("order_new", i, 100 + i)
    wait_converged(pipeline)
    runs = sum(Computation.objects.filter(stage="pyramid").values_list("runs", flat=True)) - runs_before
    # 200 orders each dirtying the 2025 period: far fewer recomputations than events.
    assert 1 <= runs <= 60
    assert_matches_from_scratch()


def test_redis_down_while_writing_then_back(pipeline, redis_server, tmp_path):
    pipeline.start("w1")
    pipeline.start_beat()
    build_data(tmp_path)
    wait_converged(pipeline)
    redis_server.stop()
    for i in range(10):  # commits succeed; sending the tasks fails quietly, rows stay dirty
        apply_change("order_new", i, 500 + i)
    assert Computation.objects.filter(computed__lt=F("requested")).exists()
    redis_server.start()
    pipeline.kill("w1", sig=15)  # the beat keeps running on its own, as under systemd
    pipeline.start("w1b")
    wait_converged(pipeline)
    assert_matches_from_scratch()


def test_worker_killed_mid_recompute(pipeline, tmp_path):
    pipeline.start("slow", extra_env={"KLANTWAARDE_FAULT_DELAY_S": "3"})
    build_data(tmp_path)
    wait_converged(pipeline)
    apply_change("order_new", 1, 777)
    deadline = time.monotonic() + 30
    # Wait until the slow worker holds the pyramid recompute open, then SIGKILL it.
    while time.monotonic() < deadline:
        with connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")
            if cur.fetchone()[0]:
                break
        time.sleep(0.05)
    else:
        raise AssertionError("the slow worker never started the recompute\n" + pipeline.logs())
    pipeline.kill("slow")
    assert Computation.objects.filter(computed__lt=F("requested")).exists()
    pipeline.start("rescuer")
    pipeline.start_beat()
    wait_converged(pipeline)
    assert_matches_from_scratch()


def test_the_workers_build_the_pages_figures_after_the_chain(pipeline, redis_server, tmp_path, settings):
    """After the chain, a worker has left every period's page figures and frames in the shared cache
    under the current version: a page reads them instead of computing them."""
    from django.core.cache import cache

    from customers import figures_cache

    settings.CACHES = {"default": {"BACKEND": "config.cache.TolerantRedisCache", "LOCATION": redis_server.url}}
    pipeline.start("w1")
    pipeline.start_beat()
    build_data(tmp_path)
    wait_converged(pipeline)
    period = Period.objects.get(name=2025)
    deadline = time.monotonic() + 120
    missing = ["not looked yet"]
    while missing and time.monotonic() < deadline:
        version = figures_cache.figures_version()
        missing = [
            name
            for name in figures_cache.PERIOD_FIGURES
            if cache.get(figures_cache._cache_key(name, figures_cache._figures_key(name, period.pk), version)) is None
        ] + [
            name
            for name in figures_cache.PERIOD_FRAMES
            if (cache.get(figures_cache._frame_slot(name, period.pk)) or (None,))[0]
            != figures_cache._frame_stamp(name, version)
        ]
        time.sleep(0.5)
    assert not missing, f"not built by the workers: {missing}\n" + pipeline.logs()
