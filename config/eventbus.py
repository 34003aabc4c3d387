"""Domain events, delivered after commit through Celery, with nothing lost.

How it works (one picture in the README):

1. A service changes data and calls ``publish(SomeEvent(period_ids=...))`` inside its
   transaction. For every subscription of that event type, the period's ``Computation`` row
   for the subscriber's *stage* gets ``requested += 1`` in the same transaction: this row is
   the outbox. It commits with the change or not at all.
2. On commit, the subscriber's Celery task is sent (``transaction.on_commit``). If the broker
   is down the send fails quietly: the row stays dirty.
3. ``sweep`` (celery beat, every few seconds) sends a task for every dirty row, so work
   committed while Redis or every worker was down is picked up once they are back.
4. A task calls ``run_stage``: under a per-(period, stage) lock it reads ``requested``,
   recomputes the period from the database and stores ``computed = requested`` in the same
   transaction as the results. A burst of 10,000 events therefore costs a handful of
   recomputations, and a recompute never reads a state older than the change that asked for it.

With REDIS_URL unset Celery runs eagerly: the same tasks run in-process after commit.

5. **The stage chain in one task** (issue 17): a worker that also consumes the queue of the next
   stage (the default layout: one worker on every queue) runs that stage itself, right after the
   current one, instead of sending it through the broker and waiting for it to come back. The
   row is marked dirty as always, so a crash in between leaves it for the sweeper; with the apps'
   queues split over workers, the next stage is sent as before. A stage still dirty after a run
   does not loop while the chain has stages waiting: it sends its own task to the broker (any free
   worker takes it) and lets the chain run, so a steady stream of orders cannot starve profit and value.

The bus imports no domain app: the outbox model is named in the setting ``EVENTBUS_OUTBOX_MODEL``
(``"app_label.Model"``, loaded with ``apps.get_model``). It needs the fields ``period_id``,
``stage``, ``requested``, ``requested_at``, ``computed``, ``computed_at``, ``duration_ms``, ``runs``
and a classmethod ``period_frozen(period_id) -> bool`` (a frozen period is answered, not recomputed).
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field

from celery import current_app, shared_task
from celery.signals import celeryd_after_setup
from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

logger = logging.getLogger(__name__)

# Test-only fault injection: hold a recompute open so a test can SIGKILL the worker mid-way.
FAULT_DELAY_SECONDS = float(os.environ.get("KLANTWAARDE_FAULT_DELAY_S", "0") or 0)

# Stages in dependency order; rows are always locked in this order (no deadlocks).
STAGE_ORDER = ("pyramid", "profit", "value", "salesforce")


def outbox_model():
    """The outbox model named in ``settings.EVENTBUS_OUTBOX_MODEL`` (one row per period and stage)."""
    return apps.get_model(settings.EVENTBUS_OUTBOX_MODEL)


@dataclass(frozen=True)
class Event:
    """Base of every domain event: ids only, never objects."""

    period_ids: tuple[int, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Subscription:
    stage: str
    task_name: str


_subscriptions: dict[type[Event], list[Subscription]] = defaultdict(list)
_stage_tasks: dict[str, str] = {}

#: The queues this process consumes as a Celery worker (empty elsewhere: web, eager mode, commands).
consumed_queues: set[str] = set()
#: Within a stage task: the stages to run next in this worker, in order ({"pending": [...]}).
_chain = threading.local()


@celeryd_after_setup.connect
def _remember_consumed_queues(sender, instance, **kwargs) -> None:
    consumed_queues.update(instance.app.amqp.queues.consume_from.keys())
    logger.info("Stage chain: this worker runs the next stage itself on its queues %s.", sorted(consumed_queues))


def _queue_of(task_name: str) -> str | None:
    route = current_app.amqp.router.route({}, task_name)
    queue = route.get("queue")
    return getattr(queue, "name", queue)


def subscribe(event_type: type[Event], *, stage: str, task_name: str) -> None:
    """Register that ``event_type`` makes ``stage`` dirty, recomputed by ``task_name``."""
    assert stage in STAGE_ORDER, stage
    sub = Subscription(stage=stage, task_name=task_name)
    if sub not in _subscriptions[event_type]:
        _subscriptions[event_type].append(sub)
    _stage_tasks[stage] = task_name


def publish(event: Event) -> None:
    """Mark the subscribers' stages dirty in this transaction; send their tasks on commit."""
    period_ids = sorted(set(event.period_ids))
    subs = sorted(_subscriptions.get(type(event), []), key=lambda s: STAGE_ORDER.index(s.stage))
    if not period_ids or not subs:
        return
    for sub in subs:
        request_stage(period_ids=period_ids, stage=sub.stage)


def request_stage(*, period_ids: Iterable[int], stage: str) -> None:
    Computation = outbox_model()  # noqa: N806 - a model class

    period_ids = sorted(set(period_ids))
    now = timezone.now()
    existing = set(
        Computation.objects.filter(period_id__in=period_ids, stage=stage).values_list("period_id", flat=True)
    )
    missing = [Computation(period_id=p, stage=stage) for p in period_ids if p not in existing]
    if missing:
        Computation.objects.bulk_create(missing, ignore_conflicts=True)
    Computation.objects.filter(period_id__in=period_ids, stage=stage).update(
        requested=F("requested") + 1, requested_at=now
    )
    task_name = _stage_tasks[stage]
    for period_id in period_ids:
        transaction.on_commit(lambda p=period_id: send_stage_task(task_name, p))


def send_stage_task(task_name: str, period_id: int) -> None:
    """Send a recompute task; a broker failure leaves the row dirty for the sweeper.

    Inside a stage task of a worker that consumes the task's queue, the stage is queued to run
    next in this worker instead (point 5 above)."""
    pending = getattr(_chain, "pending", None)
    if pending is not None and _queue_of(task_name) in consumed_queues:
        if (task_name, period_id) not in pending:
            pending.append((task_name, period_id))
        return
    _send_to_broker(task_name, period_id)


def _send_to_broker(task_name: str, period_id: int) -> None:
    try:
        current_app.tasks[task_name].apply_async(args=[period_id], retry=False)
    except Exception as exc:  # noqa: BLE001 - any broker error: the sweeper resends
        logger.warning("Could not send %s(%s) (%s); the sweeper will resend it.", task_name, period_id, exc)


_local_locks: dict[tuple[int, str], threading.Lock] = defaultdict(threading.Lock)


@contextmanager
def stage_lock(period_id: int, stage: str):
    """Try to take the (period, stage) lock, across processes on PostgreSQL; yields whether it did.

    Never waits: a worker that finds the lock taken leaves the work to the holder, which checks
    for new requests again after it lets go (see ``run_stage``). So workers are never parked
    behind a long recompute while other stages' tasks wait in the queue.
    """
    if connection.vendor == "postgresql":
        key = zlib.crc32(stage.encode()) & 0x7FFFFFFF
        with connection.cursor() as cur:
            cur.execute("SELECT pg_try_advisory_lock(%s, %s)", [key, period_id])
            acquired = cur.fetchone()[0]
        try:
            yield acquired
        finally:
            if acquired:
                with connection.cursor() as cur:
                    cur.execute("SELECT pg_advisory_unlock(%s, %s)", [key, period_id])
    else:
        lock = _local_locks[(period_id, stage)]
        acquired = lock.acquire(blocking=False)
        try:
            yield acquired
        finally:
            if acquired:
                lock.release()


def progress_key(period_id: int, stage: str) -> str:
    return f"progress:{stage}:{period_id}"


def report_progress(period_id: int, stage: str, percent: int) -> None:
    cache.set(progress_key(period_id, stage), int(percent), timeout=3600)


def run_stage(*, period_id: int, stage: str, compute: Callable[[int], None]) -> int:
    """Recompute ``stage`` of the period while it is dirty. Returns the number of runs.

    ``compute(period_id)`` runs inside a transaction that also records the version it
    satisfied, so results and the marker commit together or not at all. In a worker, the stages
    it makes dirty and this worker consumes run next, in this task (``_run_chain``).
    """
    if consumed_queues and getattr(_chain, "pending", None) is None:
        _chain.pending = []
        try:
            runs = _run_stage(period_id=period_id, stage=stage, compute=compute)
            _run_chain()
        finally:
            _chain.pending = None
        return runs
    return _run_stage(period_id=period_id, stage=stage, compute=compute)


def _run_chain() -> None:
    """Run the stages queued by ``send_stage_task`` in this worker, each with its task's body."""
    while _chain.pending:
        task_name, period_id = _chain.pending.pop(0)
        try:
            current_app.tasks[task_name].run(period_id)
        except Exception:  # the row stays dirty: the sweeper resends it
            logger.exception("%s(%s) failed in the stage chain; the sweeper will resend it.", task_name, period_id)


def _run_stage(*, period_id: int, stage: str, compute: Callable[[int], None]) -> int:
    Computation = outbox_model()  # noqa: N806 - a model class

    runs = 0
    while True:
        with stage_lock(period_id, stage) as acquired:
            if not acquired:
                return runs  # the holder re-checks after releasing: nothing is lost
            while True:
                row = _dirty_row(period_id, stage)
                if row is None:
                    break
                if runs and getattr(_chain, "pending", None):
                    # Still dirty, and the stages this run made dirty wait in this task's chain: under a
                    # steady stream of requests this loop would never end and starve them. Hand the
                    # rest of this stage to the broker (any free worker) and let the chain run.
                    _send_to_broker(_stage_tasks[stage], period_id)
                    return runs
                target = row["requested"]
                if _period_closed(period_id):
                    # A closed period's figures are frozen: the request is answered, nothing recomputed.
                    Computation.objects.filter(period_id=period_id, stage=stage).update(computed=target)
                    continue
                started = time.monotonic()
                report_progress(period_id, stage, 0)
                with transaction.atomic(), _gc_paused():
                    compute(period_id)
                    if FAULT_DELAY_SECONDS:  # fault-injection for the worker-kill test only
                        time.sleep(FAULT_DELAY_SECONDS)
                    Computation.objects.filter(period_id=period_id, stage=stage).update(
                        computed=target,
                        computed_at=timezone.now(),
                        duration_ms=int((time.monotonic() - started) * 1000),
                        runs=F("runs") + 1,
                    )
                report_progress(period_id, stage, 100)
                runs += 1
        # A request whose task found the lock taken just before we let go is ours to do.
        if _dirty_row(period_id, stage) is None:
            return runs


@contextmanager
def _gc_paused():
    """Python's cyclic garbage collector off while a stage computes, on again after.

    A stage builds hundreds of thousands of short-lived tuples and strings (rows read, values
    written); each 700 allocations start a collection that walks the young objects, and the
    older generations' walks cross the whole heap of Django and pandas: at 20,000 customers that
    was a third of the chain's Python time (README, Benchmarks). Reference counting still frees
    everything without cycles at once; the few cycles wait for the next collection."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _period_closed(period_id: int) -> bool:
    return outbox_model().period_frozen(period_id)


def _dirty_row(period_id: int, stage: str) -> dict | None:
    Computation = outbox_model()  # noqa: N806 - a model class

    row = Computation.objects.filter(period_id=period_id, stage=stage).values("requested", "computed").first()
    if row is None or row["computed"] >= row["requested"]:
        return None
    return row


@shared_task(name="config.eventbus.sweep", acks_late=True, ignore_result=True)
def sweep(min_age_seconds: float = 3.0) -> int:
    """Resend a task for every dirty (period, stage): the safety net for lost messages."""
    Computation = outbox_model()  # noqa: N806 - a model class

    cutoff = timezone.now() - timezone.timedelta(seconds=min_age_seconds)
    dirty = list(
        Computation.objects.filter(computed__lt=F("requested"), requested_at__lte=cutoff).values_list(
            "period_id", "stage"
        )
    )
    for period_id, stage in dirty:
        if stage in _stage_tasks:
            send_stage_task(_stage_tasks[stage], period_id)
    return len(dirty)


def drain(timeout: float = 60.0) -> None:
    """Run every dirty stage in-process until nothing is dirty (commands, tests, demo load)."""
    Computation = outbox_model()  # noqa: N806 - a model class

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dirty = list(Computation.objects.filter(computed__lt=F("requested")).values_list("period_id", "stage"))
        if not dirty:
            return
        dirty.sort(key=lambda r: (STAGE_ORDER.index(r[1]), r[0]))
        period_id, stage = dirty[0]
        current_app.tasks[_stage_tasks[stage]].apply(args=[period_id])
    raise TimeoutError("Recomputation did not finish in time.")
