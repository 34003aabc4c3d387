"""Latency from an order's commit to its customer's profit being current, with real workers.

    .venv/bin/python bench/bench_events.py [--small] [--repeat 2] [--rate 20] [--seconds 60] [--burst 10000]

PostgreSQL (database ``bench_events``) + a private redis-server on a free port + 2 Celery worker
processes (``celery -A config worker -P solo -Q default,customers,accounting,scenarios,salesforce``,
the second with ``-B`` for the outbox sweeper), on a period of 20,000 customers (400,000 order
lines, 10 cost pools, visits and invoices; 2024 has 200,000 lines).

Steady: orders committed by ``customers.services.order_upsert`` at a steady rate (20/s for 60 s).
Burst: 10,000 orders committed as fast as 2 threads can, then the time until every figure is
current and how many recomputations ran (Σ ``Computation.runs`` deltas per stage).

How "current" is measured. An order bumps ``requested`` of the period's *pyramid* row in its
transaction; the profit row is bumped only later, by the pyramid recompute (``PyramidRecomputed``
is published in the same transaction that sets pyramid ``computed``). So per order we record the
commit time and the pyramid ``requested`` value its transaction wrote (read inside it), and a
poller thread (every 20 ms, one SELECT of both rows = one snapshot) waits until pyramid
``computed`` >= that value, takes the profit ``requested`` of that same snapshot as the profit
target, and waits until profit ``computed`` >= it. The time of that poll minus the commit time is
the latency. The literal recipe (profit ``requested`` right after the commit) is printed too, as
"naive": it does not wait for the pyramid recompute this order triggers, so it under-reports.

``--small``: 2,000 customers, 10 s steady, burst of 1,000 orders. ``--burst 0``: steady phase only.
``--layout per-queue``: one worker per queue as in the Procfile (customers | accounting | scenarios |
salesforce,default + beat) instead of 2 workers on every queue.
"""

from __future__ import annotations

import argparse
import heapq
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c  # noqa: E402

WORKDIR = Path("/tmp/bench_events")
QUEUES = "default,customers,accounting,scenarios,salesforce"
STAGES = ("pyramid", "profit", "value")
LAYOUTS = {
    "all-queues": [QUEUES, QUEUES],
    "per-queue": ["customers", "accounting", "scenarios", "salesforce,default"],
}


@dataclass
class OrderTiming:
    commit: float
    pyramid_requested: int
    profit_requested_naive: int
    call_seconds: float
    pyramid_current: float | None = None
    profit_target: int | None = None
    profit_current: float | None = None
    value_target: int | None = None
    value_current: float | None = None
    naive_current: float | None = None
    via_api: bool = False


@dataclass
class Poller:
    """Polls the period's Computation rows every ``interval`` s and resolves waiting orders."""

    period_id: int
    interval: float = 0.02
    lock: threading.Lock = field(default_factory=threading.Lock)
    waiting_pyramid: list = field(default_factory=list)  # heap (pyramid_requested, seq, order)
    waiting_profit: list = field(default_factory=list)  # heap (profit_target, seq, order)
    waiting_value: list = field(default_factory=list)  # heap (value_target, seq, order)
    waiting_naive: list = field(default_factory=list)  # heap (profit_requested_naive, seq, order)
    last: dict = field(default_factory=dict)
    durations: dict = field(default_factory=lambda: {s: [] for s in STAGES})
    polls: int = 0
    seq: int = 0
    # every 0.5 s: how many worker connections wait for a stage lock (pg_advisory_lock)
    lock_samples: int = 0
    lock_waiting: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def add(self, order: OrderTiming) -> None:
        with self.lock:
            self.seq += 1
            heapq.heappush(self.waiting_pyramid, (order.pyramid_requested, self.seq, order))
            heapq.heappush(self.waiting_naive, (order.profit_requested_naive, self.seq, order))

    def pending(self) -> int:
        with self.lock:
            return len(self.waiting_pyramid) + len(self.waiting_profit) + len(self.waiting_value)

    def run(self) -> None:
        from django.db import connection

        sql = (
            "SELECT stage, requested, computed, runs, duration_ms FROM customers_computation "
            "WHERE period_id = %s AND stage IN ('pyramid', 'profit', 'value')"
        )
        try:
            while not self.stop.is_set():
                started = time.monotonic()
                with connection.cursor() as cur:
                    cur.execute(sql, [self.period_id])
                    rows = {r[0]: r[1:] for r in cur.fetchall()}
                    now = time.monotonic()
                    if self.polls % 25 == 0:
                        cur.execute(
                            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
                            "AND wait_event_type = 'Lock' AND wait_event = 'advisory'"
                        )
                        self.lock_waiting += cur.fetchone()[0]
                        self.lock_samples += 1
                self._resolve(rows, now)
                self.polls += 1
                time.sleep(max(0.0, self.interval - (time.monotonic() - started)))
        finally:
            connection.close()

    def _resolve(self, rows: dict, now: float) -> None:
        for stage, (_, _, runs, duration) in rows.items():
            if stage in self.last and runs != self.last[stage][2] and duration is not None:
                self.durations[stage].append(duration / 1000)
        self.last = rows
        if "pyramid" not in rows or "profit" not in rows or "value" not in rows:
            return
        pyr_computed = rows["pyramid"][1]
        prof_requested, prof_computed = rows["profit"][0], rows["profit"][1]
        value_requested, value_computed = rows["value"][0], rows["value"][1]
        with self.lock:
            while self.waiting_pyramid and self.waiting_pyramid[0][0] <= pyr_computed:
                _, seq, order = heapq.heappop(self.waiting_pyramid)
                order.pyramid_current = now
                order.profit_target = prof_requested
                heapq.heappush(self.waiting_profit, (prof_requested, seq, order))
            while self.waiting_profit and self.waiting_profit[0][0] <= prof_computed:
                _, seq, order = heapq.heappop(self.waiting_profit)
                order.profit_current = now
                # the value row is bumped by the profit recompute (ProfitRecomputed, same transaction)
                order.value_target = value_requested
                heapq.heappush(self.waiting_value, (value_requested, seq, order))
            while self.waiting_value and self.waiting_value[0][0] <= value_computed:
                _, _, order = heapq.heappop(self.waiting_value)
                order.value_current = now
            while self.waiting_naive and self.waiting_naive[0][0] <= prof_computed:
                _, _, order = heapq.heappop(self.waiting_naive)
                order.naive_current = now

    def all_current(self) -> bool:
        rows = self.last
        return bool(rows) and all(rows[s][1] >= rows[s][0] for s in rows)


# --- processes --------------------------------------------------------------------------------


class Processes:
    """The private redis-server and the workers this benchmark starts (and stops, by pid)."""

    def __init__(self) -> None:
        self.procs: dict[str, subprocess.Popen] = {}

    def start_redis(self, port: int) -> str:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.procs["redis"] = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(WORKDIR)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        import socket

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    return f"redis://127.0.0.1:{port}/0"
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the private redis-server did not start")

    def _start(self, name: str, args: list[str], env: dict) -> None:
        log = open(WORKDIR / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        self.procs[name] = subprocess.Popen(args, cwd=c.ROOT, env=env, stdout=log, stderr=log, start_new_session=True)

    def start_worker(self, name: str, env: dict, *, queues: str = QUEUES) -> None:
        celery = str(Path(sys.executable).with_name("celery"))
        args = [celery, "-A", "config", "worker", "-P", "solo", "-Q", queues, "-n", f"{name}@%h", "-l", "warning",
                "--without-gossip", "--without-mingle", "--without-heartbeat"]  # fmt: skip
        self._start(name, args, env)

    def start_beat(self, env: dict) -> None:
        """The outbox sweeper as its own process, as the README, Makefile and Procfile run it (never -B)."""
        celery = str(Path(sys.executable).with_name("celery"))
        self._start(
            "beat", [celery, "-A", "config", "beat", "-l", "warning", "-s", str(WORKDIR / "beat-schedule")], env
        )

    def start_web(self, env: dict, port: int, workers: int = 2) -> str:
        """gunicorn serving config.wsgi on 127.0.0.1:port; returns the base URL once it answers."""
        import urllib.error
        import urllib.request

        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        args = [gunicorn, "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(workers), "--access-logfile", "-"]
        self._start("web", args, env)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.procs["web"].poll() is not None:
                break
            try:
                urllib.request.urlopen(base + "/api/v1/", timeout=1)  # noqa: S310 - our own local server
                return base
            except urllib.error.HTTPError:
                return base  # 401/403 without a token: it answers
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer; see " + str(WORKDIR / "web.log"))

    def stop_all(self) -> None:
        for name, proc in reversed(list(self.procs.items())):  # workers first, then their broker
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(5)
            self.procs.pop(name)


def queue_depth(client) -> int:
    total = 0
    for key in client.keys("*"):
        name = key.decode(errors="replace")
        if name.split("\x06")[0] in QUEUES.split(",") and client.type(key) == b"list":
            total += client.llen(key)
    return total


# --- orders -----------------------------------------------------------------------------------


def make_order(prefix: str, n: int, rng: random.Random, customers: list, year: int):
    from customers.services import LineInput

    lines = []
    for _ in range(rng.randint(1, 5)):
        amount = Decimal(rng.randint(500, 200_000)).scaleb(-2)
        lines.append(
            LineInput(
                amount=amount,
                cost=(amount * Decimal("0.7")).quantize(Decimal("0.01")),
                quantity=Decimal(rng.randint(1, 20)),
                product=f"P{rng.randint(1, 200):05d}",
            )
        )
    day = rng.randint(0, 364)
    import datetime as dt

    return {
        "external_id": f"{prefix}-{n}",
        "customer": rng.choice(customers),
        "date": dt.date(year, 1, 1) + dt.timedelta(days=day),
        "lines": lines,
    }


def commit_order(order: dict, period_id: int) -> OrderTiming:
    """order_upsert in an outer transaction so the requested values its transaction wrote are read exactly."""
    from django.db import transaction

    from customers.models import Computation
    from customers.services import order_upsert

    started = time.monotonic()
    with transaction.atomic():
        order_upsert(**order)
        values = dict(
            Computation.objects.filter(period_id=period_id, stage__in=("pyramid", "profit")).values_list(
                "stage", "requested"
            )
        )
    committed = time.monotonic()
    return OrderTiming(
        commit=committed,
        pyramid_requested=values["pyramid"],
        profit_requested_naive=values.get("profit", 0),
        call_seconds=committed - started,
    )


@dataclass
class Api:
    """The order API of the gunicorn this benchmark started, with an integration user's token."""

    base: str
    token: str

    def session(self):
        import requests

        http = requests.Session()
        http.headers["Authorization"] = f"Token {self.token}"
        return http


def api_token(base: str) -> str:
    """A user with the integration role (the ERP's account) and its token from POST /api/v1/auth/token/."""
    import requests
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from config.roles import INTEGRATION

    password = "Bench-Events-Integration-2026"  # noqa: S105 - a throwaway bench database
    user, _ = get_user_model().objects.get_or_create(username="bench_erp")
    user.set_password(password)
    user.save()
    user.groups.add(Group.objects.get_or_create(name=INTEGRATION)[0])
    answer = requests.post(
        base + "/api/v1/auth/token/", data={"username": "bench_erp", "password": password}, timeout=30
    )
    answer.raise_for_status()
    return answer.json()["token"]


def order_payload(order: dict) -> dict:
    return {
        "order_id": order["external_id"],
        "customer_id": order["customer"].external_id,
        "date": order["date"].isoformat(),
        "lines": [
            {"amount": str(li.amount), "cost": str(li.cost), "quantity": str(li.quantity), "product": li.product}
            for li in order["lines"]
        ],
    }


def post_order(http, api: Api, order: dict, period_id: int) -> OrderTiming:
    """POST the order; the clock starts at the 2xx response.

    The pyramid ``requested`` this order's transaction wrote cannot be read from outside the server, so
    it is read right after the response: at least the order's own bump (it committed before the
    response), at most a few later orders' too. Waiting for that value can only over-state the latency.
    """
    from customers.models import Computation

    started = time.monotonic()
    answer = http.post(api.base + "/api/v1/orders/", json=order_payload(order), timeout=60)
    answered = time.monotonic()
    if answer.status_code != 201:
        raise RuntimeError(f"POST /api/v1/orders/ answered {answer.status_code}: {answer.text[:500]}")
    values = dict(
        Computation.objects.filter(period_id=period_id, stage__in=("pyramid", "profit")).values_list(
            "stage", "requested"
        )
    )
    return OrderTiming(
        commit=answered,
        pyramid_requested=values["pyramid"],
        profit_requested_naive=values.get("profit", 0),
        call_seconds=answered - started,
        via_api=True,
    )


def producers(
    *,
    count: int,
    rate: float | None,
    threads: int,
    prefix: str,
    customers: list,
    year: int,
    period_id: int,
    poller,
    api: Api | None = None,
) -> tuple[list[OrderTiming], float, float]:
    """Commit ``count`` orders (at ``rate`` per second, or as fast as possible) in-process or through the
    API; returns timings, start, end."""
    from django.db import connection

    timings: list[OrderTiming] = []
    next_ticket = [0]
    ticket_lock = threading.Lock()
    start = time.monotonic() + 0.2

    def work(seed: int) -> None:
        rng = random.Random(seed)
        http = api.session() if api else None
        try:
            while True:
                with ticket_lock:
                    n = next_ticket[0]
                    if n >= count:
                        return
                    next_ticket[0] += 1
                order = make_order(prefix, n, rng, customers, year)
                if rate:
                    delay = start + n / rate - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                else:
                    time.sleep(max(0.0, start - time.monotonic()))
                timing = post_order(http, api, order, period_id) if api else commit_order(order, period_id)
                poller.add(timing)
                with ticket_lock:
                    timings.append(timing)
        finally:
            if http is not None:
                http.close()
            connection.close()

    pool = [threading.Thread(target=work, args=(hash((prefix, i)) & 0xFFFF,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return timings, start, max(t.commit for t in timings)


def stage_runs(period_id: int) -> dict[str, int]:
    from customers.models import Computation

    return dict(Computation.objects.filter(period_id=period_id).values_list("stage", "runs"))


def wait_quiet(poller: Poller, client, timeout: float) -> float:
    """Until every stage of the period is current, nothing waits and the queues are empty."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if poller.pending() == 0 and poller.all_current() and queue_depth(client) == 0:
            return time.monotonic()
        time.sleep(0.05)
    raise TimeoutError("the figures did not become current in time; see the worker logs in " + str(WORKDIR))


def latencies(timings: list[OrderTiming], attr: str) -> list[float]:
    return [getattr(t, attr) - t.commit for t in timings if getattr(t, attr) is not None]


def fmt_latency(values: list[float]) -> str:
    if not values:
        return "n/a"
    return (
        f"p50 {c.percentile(values, 50):.2f} s, p95 {c.percentile(values, 95):.2f} s, "
        f"max {max(values):.2f} s (n={len(values)})"
    )


# --- main -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["postgres"], default="postgres", help="PostgreSQL only (real workers)")
    parser.add_argument("--small", action="store_true", help="smoke size: 2,000 customers, 10 s, burst 1,000")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--rate", type=float, default=20.0, help="orders per second in the steady phase")
    parser.add_argument("--seconds", type=float, default=None, help="length of the steady phase")
    parser.add_argument("--burst", type=int, default=None, help="orders in the burst")
    parser.add_argument("--timeout", type=float, default=1800, help="give up waiting for current figures after")
    parser.add_argument(
        "--layout",
        choices=sorted(LAYOUTS),
        default="all-queues",
        help="all-queues: 2 workers on every queue (default); per-queue: one worker per queue as in the Procfile",
    )
    parser.add_argument(
        "--api",
        action="store_true",
        help="post the orders to POST /api/v1/orders/ of a gunicorn (2 workers) started here, as the integration role",
    )
    parser.add_argument("--customers", type=int, default=None, help="customers (default 20,000; --small 2,000)")
    parser.add_argument("--tag", default="", help="name the database bench_events_TAG (one per helper)")
    args = parser.parse_args()
    customers_n = args.customers or (2_000 if args.small else 20_000)
    steady_seconds = args.seconds or (10 if args.small else 60)
    burst = args.burst if args.burst is not None else (1_000 if args.small else 10_000)
    name = "bench_events_small" if args.small else "bench_events"
    if args.customers:
        name = f"bench_events_{customers_n}"
    if args.tag:  # its own database and log directory
        global WORKDIR
        name = f"{name}_{args.tag}"
        WORKDIR = Path(f"/tmp/bench_events_{args.tag}")

    shutil.rmtree(WORKDIR, ignore_errors=True)
    WORKDIR.mkdir(parents=True)
    procs = Processes()
    previous_term = signal.signal(signal.SIGTERM, lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        redis_url = procs.start_redis(c.free_port())
        c.database_create("postgres", name)
        c.django_setup("postgres", name, redis_url=redis_url, migrate=True)
        import redis

        from config import eventbus
        from config.celery import app
        from customers.events import OrdersChanged
        from customers.models import Customer

        print(
            f"# bench_events — postgres + redis, {customers_n:,} customers, workers {args.layout} + beat, "
            f"orders {'through the API (gunicorn -w 2)' if args.api else 'in-process (order_upsert)'}; {c.machine()}",
            flush=True,
        )
        started = time.perf_counter()
        scale = customers_n // 1_000
        data = c.dataset_generate(
            customers=customers_n,
            lines={2024: 10_000 * scale, 2025: 20_000 * scale},
            visits=2_000 * scale,
            invoices=1_500 * scale,
        )
        period_id, year = data["latest_id"], max(data["period_ids"])
        from django.db import connection, transaction
        from django.test.utils import CaptureQueriesContext

        buyers = list(Customer.objects.filter(status="customer").only("id", "external_id"))
        with transaction.atomic():
            eventbus.publish(OrdersChanged(period_ids=tuple(data["period_ids"].values())))
        # order_upsert alone (no worker running yet): its own cost, queries and time in the database
        rng = random.Random(1)
        calls, queries, db_time = [], [], []
        for i in range(60):
            with CaptureQueriesContext(connection) as captured:
                timing = commit_order(make_order("SOLO", i, rng, buyers, year), period_id)
            calls.append(timing.call_seconds)
            queries.append(len(captured.captured_queries))
            db_time.append(sum(float(q["time"]) for q in captured.captured_queries))
        solo = (c.percentile(calls[10:], 50), c.percentile(queries[10:], 50), c.percentile(db_time[10:], 50))
        print(
            f"order_upsert alone, no workers: p50 {solo[0] * 1000:.0f} ms per order, {solo[1]:.0f} queries "
            f"(incl. savepoints and the bench's read of requested), {solo[2] * 1000:.0f} ms of it in the database",
            flush=True,
        )
        eventbus.drain(timeout=1200)
        client = redis.Redis.from_url(redis_url)
        client.flushdb()  # the tasks the in-process drain sent: nobody needs them
        print(f"data generated and computed in-process in {time.perf_counter() - started:.1f} s", flush=True)
        env = {
            **os.environ,
            "DATABASE_URL": c.database_url("postgres", name),
            "REDIS_URL": redis_url,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "PYTHONUNBUFFERED": "1",
        }
        layout = LAYOUTS[args.layout]
        for i, queues in enumerate(layout, start=1):
            procs.start_worker(f"w{i}", env, queues=queues)
        procs.start_beat(env)
        api = None
        if args.api:
            base = procs.start_web(env, c.free_port())
            api = Api(base=base, token=api_token(base))
            print(f"gunicorn (2 workers) at {base}, integration token obtained", flush=True)
        deadline = time.monotonic() + 60
        while len(app.control.ping(timeout=1.0) or []) < len(layout):
            if time.monotonic() > deadline:
                raise RuntimeError("the workers did not answer; see " + str(WORKDIR))
        print("workers ready", flush=True)
        connection.close()

        poller = Poller(period_id=period_id)
        poll_thread = threading.Thread(target=poller.run, daemon=True)
        poll_thread.start()
        # Warm-up: the first task in each worker imports pandas and friends.
        producers(count=4, rate=None, threads=2, prefix="WARM", customers=buyers, year=year, period_id=period_id,
                  poller=poller, api=api)  # fmt: skip
        wait_quiet(poller, client, args.timeout)

        steady_runs, burst_runs = [], []
        start_label = "2xx response" if api else "commit"
        call_label = "POST /api/v1/orders/ round trip" if api else "order_upsert call incl. commit"
        for rep in range(1, args.repeat + 1):
            # --- steady ------------------------------------------------------------------
            count = int(args.rate * steady_seconds)
            runs_before = stage_runs(period_id)
            for stage in STAGES:
                poller.durations[stage].clear()
            poller.lock_samples = poller.lock_waiting = 0
            timings, t0, t_last = producers(
                count=count, rate=args.rate, threads=4 if api else 2, prefix=f"S{rep}", customers=buyers, year=year,
                period_id=period_id, poller=poller, api=api,
            )  # fmt: skip
            t_quiet = wait_quiet(poller, client, args.timeout)
            runs_after = stage_runs(period_id)
            lat = latencies(timings, "value_current")
            steady = {
                "orders": len(timings),
                "achieved_rate": len(timings) / (t_last - t0),
                "latency": lat,
                "profit_latency": latencies(timings, "profit_current"),
                "pyramid_latency": latencies(timings, "pyramid_current"),
                "naive": latencies(timings, "naive_current"),
                "call": [t.call_seconds for t in timings],
                "runs": {s: runs_after.get(s, 0) - runs_before.get(s, 0) for s in STAGES},
                "durations": {s: list(v) for s, v in poller.durations.items()},
                "settle": t_quiet - t_last,
                "lock_wait": poller.lock_waiting / max(poller.lock_samples, 1),
                "first_profit": min((t.profit_current for t in timings if t.profit_current), default=t0) - t0,
            }
            steady_runs.append(steady)
            print(
                f"\nsteady run {rep}: {steady['orders']} orders at {steady['achieved_rate']:.1f}/s; "
                f"{start_label} -> pyramid, profit and value current {fmt_latency(lat)}",
                flush=True,
            )
            print(f"  {start_label} -> profit current {fmt_latency(steady['profit_latency'])}")
            print(f"  {start_label} -> pyramid current {fmt_latency(steady['pyramid_latency'])}")
            print(f"  naive (profit.requested read right after the commit) {fmt_latency(steady['naive'])}")
            print(f"  {call_label}: {fmt_latency(steady['call'])}")
            print(f"  recomputations: {steady['runs']}; queue quiet {steady['settle']:.1f} s after the last commit")
            print(
                f"  first order whose profit became current: {steady['first_profit']:.1f} s after the phase started; "
                f"workers waiting on a stage lock (pg_advisory_lock), mean of samples: {steady['lock_wait']:.2f}"
            )
            for stage, values in steady["durations"].items():
                if values:
                    print(f"  {stage} run duration: p50 {c.percentile(values, 50):.2f} s, max {max(values):.2f} s")
            time.sleep(2)

            # --- burst -------------------------------------------------------------------
            if not burst:
                continue
            runs_before = stage_runs(period_id)
            poller.lock_samples = poller.lock_waiting = 0
            timings, t0, t_last = producers(
                count=burst, rate=None, threads=2, prefix=f"B{rep}", customers=buyers, year=year,
                period_id=period_id, poller=poller, api=api,
            )  # fmt: skip
            commit_done = time.monotonic()
            depth_at_last_commit = queue_depth(client)
            while poller.pending():
                if time.monotonic() - commit_done > args.timeout:
                    raise TimeoutError("burst: figures not current in time")
                time.sleep(0.02)
            t_profit = max(t.profit_current for t in timings)
            depth_at_profit = queue_depth(client)
            t_quiet = wait_quiet(poller, client, args.timeout)
            runs_after = stage_runs(period_id)
            result = {
                "orders": len(timings),
                "commit_seconds": t_last - t0,
                "profit_current": t_profit - t0,
                "profit_after_last": t_profit - t_last,
                "all_quiet": t_quiet - t0,
                "runs": {s: runs_after.get(s, 0) - runs_before.get(s, 0) for s in STAGES},
                "latency": latencies(timings, "profit_current"),
                "lock_wait": poller.lock_waiting / max(poller.lock_samples, 1),
                "call": [t.call_seconds for t in timings],
                "queued_at_last_commit": depth_at_last_commit,
                "queued_when_profit_current": depth_at_profit,
            }
            burst_runs.append(result)
            print(
                f"\nburst run {rep}: {result['orders']:,} orders committed in {result['commit_seconds']:.1f} s "
                f"({result['orders'] / result['commit_seconds']:.0f}/s); every order's profit current "
                f"{result['profit_current']:.1f} s after the first commit ({result['profit_after_last']:.1f} s after "
                f"the last); all stages current and queues empty after {result['all_quiet']:.1f} s; "
                f"recomputations {result['runs']}; per order {fmt_latency(result['latency'])}",
                flush=True,
            )
            print(f"  {call_label}: {fmt_latency(result['call'])}")
            print(f"  workers waiting on a stage lock, mean of samples: {result['lock_wait']:.2f}")
            print(
                f"  messages waiting in the queues: {depth_at_last_commit:,} at the last commit, "
                f"{depth_at_profit:,} when every profit was current; drained {t_quiet - t_profit:.1f} s later"
            )
            time.sleep(2)
        poller.stop.set()
        poll_thread.join(5)

        # --- summary ---------------------------------------------------------------------
        print(
            f"\n## summary (postgres + redis, {customers_n:,} customers, {len(layout)} workers -P solo: "
            f"{' | '.join(layout)}, beat apart; orders {'through the API' if api else 'in-process'})"
        )
        rows = []
        p50 = [c.percentile(r["latency"], 50) for r in steady_runs]
        p95 = [c.percentile(r["latency"], 95) for r in steady_runs]
        rows.append(
            (f"steady {args.rate:g}/s x {steady_seconds:g} s: {start_label} -> pyramid, profit, value current p50",
             c.summary(p50))
        )  # fmt: skip
        rows.append((f"steady: {start_label} -> pyramid, profit, value current p95", c.summary(p95)))
        rows.append(("steady: ... max", c.summary([max(r["latency"]) for r in steady_runs])))
        rows.append(
            ("steady: -> profit current p50 / p95",
             ", ".join(f"{c.percentile(r['profit_latency'], 50):.2f} / {c.percentile(r['profit_latency'], 95):.2f}"
                       for r in steady_runs))
        )  # fmt: skip
        rows.append(
            ("steady: call / round trip p50 / p95",
             ", ".join(f"{c.percentile(r['call'], 50) * 1000:.0f} / {c.percentile(r['call'], 95) * 1000:.0f} ms"
                       for r in steady_runs))
        )  # fmt: skip
        rows.append(
            ("steady: -> pyramid current p50 / p95",
             ", ".join(f"{c.percentile(r['pyramid_latency'], 50):.2f} / {c.percentile(r['pyramid_latency'], 95):.2f}"
                       for r in steady_runs))
        )  # fmt: skip
        rows.append(
            ("steady: naive (brief's recipe) p50 / p95",
             ", ".join(f"{c.percentile(r['naive'], 50):.2f} / {c.percentile(r['naive'], 95):.2f}"
                       for r in steady_runs))
        )  # fmt: skip
        rows.append(("steady: recomputations per run", "; ".join(str(r["runs"]) for r in steady_runs)))
        rows.append(("steady: achieved rate", ", ".join(f"{r['achieved_rate']:.1f}/s" for r in steady_runs)))
        rows.append((f"burst {burst:,}: commit phase", c.summary([r["commit_seconds"] for r in burst_runs])))
        rows.append(
            (
                "burst: first commit -> every order's profit current",
                c.summary([r["profit_current"] for r in burst_runs]),
            )
        )
        rows.append(
            (
                "burst: last commit -> every order's profit current",
                c.summary([r["profit_after_last"] for r in burst_runs]),
            )
        )
        rows.append(
            ("burst: first commit -> all stages current, queues empty", c.summary([r["all_quiet"] for r in burst_runs]))
        )
        rows.append(("burst: recomputations (Σ runs deltas)", "; ".join(str(r["runs"]) for r in burst_runs)))
        if not burst:
            rows = [r for r in rows if not r[0].startswith("burst")]
        rows.append(
            ("order_upsert alone (no workers): p50 per order", f"{solo[0] * 1000:.0f} ms, {solo[1]:.0f} queries")
        )
        print(c.fmt_table(rows, ("measurement", "figure")))
        print(f"machine: {c.machine()}")
    finally:
        procs.stop_all()
        signal.signal(signal.SIGTERM, previous_term)


if __name__ == "__main__":
    main()
