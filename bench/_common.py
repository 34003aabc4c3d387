"""Shared parts of the benchmarks: database set-up, timing, statistics and seeded data.

Nothing here is imported by the product. Every benchmark uses its own database: a PostgreSQL
database named ``bench_*`` on 127.0.0.1:5432 or a SQLite file under /tmp, never the project's
db.sqlite3.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
PG_DSN = "postgres://postgres@127.0.0.1:5432/{name}"
SQLITE_PATH = "/tmp/{name}.sqlite3"
RESULT_PREFIX = "RESULT "

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


# --- databases --------------------------------------------------------------------------------


def database_url(db: str, name: str) -> str:
    if not name.startswith("bench_"):
        raise ValueError(f"benchmark databases are named bench_*, not {name!r}")
    return PG_DSN.format(name=name) if db == "postgres" else f"sqlite:///{SQLITE_PATH.format(name=name)}"


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True) as conn:
        conn.execute(sql)


def database_drop(db: str, name: str) -> None:
    database_url(db, name)  # checks the name
    if db == "postgres":
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(SQLITE_PATH.format(name=name) + suffix).unlink(missing_ok=True)


def database_create(db: str, name: str, *, template: str | None = None) -> str:
    """A fresh, empty database (or a copy of ``template``); returns its DATABASE_URL."""
    database_drop(db, name)
    if db == "postgres":
        _pg_admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    elif template:
        shutil.copyfile(SQLITE_PATH.format(name=template), SQLITE_PATH.format(name=name))
    return database_url(db, name)


def django_setup(db: str, name: str, *, redis_url: str | None = None, migrate: bool = False) -> None:
    """Point this process at the benchmark database (and broker) and set Django up.

    Without ``redis_url`` Celery would run tasks eagerly in-process after every commit; the
    benchmarks switch that off (``celery_quiet``) so a timed service call does only its own work.
    """
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["DATABASE_URL"] = database_url(db, name)
    if redis_url:
        os.environ["REDIS_URL"] = redis_url
    else:
        os.environ.pop("REDIS_URL", None)
    os.chdir(ROOT)
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)


def celery_quiet() -> None:
    """Tasks sent on commit go to an in-memory broker that nobody reads (no eager recompute)."""
    from config.celery import app

    app.conf.task_always_eager = False
    app.conf.broker_url = "memory://localhost/"


# --- timing -----------------------------------------------------------------------------------


class Spans:
    """Wall time spent inside named functions while patched (``with spans.patch(module, "name"):``)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.captured: dict[str, tuple] = {}

    @contextlib.contextmanager
    def patch(self, module, attr: str, label: str | None = None, capture: bool = False):
        original = getattr(module, attr)
        label = label or attr

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - started
                self.calls[label] += 1
                if capture:
                    self.captured[label] = (args, kwargs)

        setattr(module, attr, timed)
        try:
            yield
        finally:
            setattr(module, attr, original)

    @contextlib.contextmanager
    def span(self, label: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[label] += time.perf_counter() - started
            self.calls[label] += 1


def timed(fn: Callable, *args, **kwargs) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - started, result


def timed_cpu(fn: Callable, *args, **kwargs) -> tuple[float, float, float, object]:
    """(wall s, CPU s of this process, CPU s of its PostgreSQL backend, result)."""
    db_before = backend_cpu_seconds()
    started, cpu_started = time.perf_counter(), time.process_time()
    result = fn(*args, **kwargs)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return wall, cpu, backend_cpu_seconds() - db_before, result


def summary(values: list[float], unit: str = "s", digits: int = 3) -> str:
    """'best 1.234 s (n=2: 1.234, 1.301; spread 0.067 s)'."""
    if not values:
        return "n/a"
    best = min(values)
    runs = ", ".join(f"{v:.{digits}f}" for v in values)
    spread = max(values) - best
    return f"best {best:.{digits}f} {unit} (n={len(values)}: {runs}; spread {spread:.{digits}f} {unit})"


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if values else float("nan")


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def hwm_rss_mb() -> float:
    """Peak RSS of this process image (VmHWM): unlike ru_maxrss it does not inherit the parent's peak.

    Linux carries the parent's high-water mark into ru_maxrss across fork + exec, so a child started
    by a big parent reports at least the parent's size; the benchmarks keep their parents small.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def current_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def backend_cpu_seconds() -> float:
    """CPU seconds used so far by this process's PostgreSQL backend (same machine: /proc); 0 on SQLite.

    With the Python process's own ``time.process_time()`` this gives the work a measurement did,
    which other people's load on the machine hardly changes (wall time does).
    """
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# --- child processes (a fresh process per measurement: its own peak RSS) ----------------------


def run_child(script: Path, args: list[str], *, env: dict | None = None) -> dict:
    """Run ``script --child ...`` and return the JSON it printed after RESULT_PREFIX."""
    proc = subprocess.run(
        [sys.executable, str(script), *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
    )
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX) :])
    sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
    raise RuntimeError(f"child {args} failed with exit code {proc.returncode}")


def child_result(data: dict) -> None:
    print(RESULT_PREFIX + json.dumps(data), flush=True)


def machine() -> str:
    """Date, cores and load average: the figures are only comparable with these."""
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{dt.date.today().isoformat()}, {os.cpu_count()} cores, load average {load}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- bulk loading for generated data (not the product's import: that is benchmarked apart) ----


def _copy_text(frame: pd.DataFrame) -> str:
    return frame.to_csv(sep="\t", header=False, index=False, na_rep="\\N", lineterminator="\n")


def load_frame(table: str, frame: pd.DataFrame, *, chunk_rows: int = 500_000) -> None:
    """Append ``frame`` (columns = table columns) to ``table``: COPY on PostgreSQL, executemany on SQLite."""
    from django.db import connection

    columns = ", ".join(frame.columns)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            with cur.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for start in range(0, len(frame), chunk_rows):
                    copy.write(_copy_text(frame.iloc[start : start + chunk_rows]))
        return
    marks = ", ".join(["?"] * len(frame.columns))
    raw = connection.connection
    for start in range(0, len(frame), chunk_rows):
        part = frame.iloc[start : start + chunk_rows].astype(object)
        part = part.where(part.notna(), None)
        raw.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", part.itertuples(index=False, name=None))


def sequences_reset(tables: list[str]) -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cur:
        for table in tables:
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 1)) FROM {table}")


@contextlib.contextmanager
def fast_load() -> Iterator[None]:
    """One transaction; on PostgreSQL foreign-key triggers off for the load (generated data is consistent)."""
    from django.db import connection, transaction

    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SET LOCAL session_replication_role = replica")
        yield
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")


def money_text(cents: np.ndarray) -> np.ndarray:
    """int cents -> '-12.34' strings (exact)."""
    cents = np.asarray(cents, dtype=np.int64)
    sign = np.where(cents < 0, "-", "")
    absolute = np.abs(cents)
    whole = (absolute // 100).astype(str)
    frac = np.char.zfill((absolute % 100).astype(str), 2)
    return np.char.add(np.char.add(np.char.add(sign, whole), "."), frac)


# --- a seeded dataset: customers, two periods of orders, visits, invoices, 10 cost pools -------

CUSTOMER_STATUS_P = {"customer": 0.90, "prospect": 0.06, "suspect": 0.04}


def dataset_generate(
    *,
    customers: int,
    lines: dict[int, int],
    visits: int,
    invoices: int,
    seed: int = 20261123,
    progress: Callable[[str], None] = print,
) -> dict:
    """Write a consistent dataset straight into the tables (COPY), bypassing the import.

    ``lines`` maps period name (fiscal year = calendar year) -> number of order lines. About 85 %
    of the customers buy in each period (different subsets, so 'bought before' matters); the
    revenue per customer is log-normal (a pyramid with a long tail); orders have 1-9 lines.
    Returns ids and counts the benchmarks need.
    """
    from django.db import connection

    from accounting.models import CostPool, PeriodFinance
    from customers.facts import order_facts_rebuild
    from customers.models import Period
    from customers.selectors import pyramid_settings_get
    from salesforce_tasks.models import SalesRep, Team
    from salesforce_tasks.services import visit_facts_rebuild

    rng = np.random.default_rng(seed)
    pyramid_settings_get()
    names = sorted(lines)
    Period.objects.bulk_create(
        [Period(name=n, start=dt.date(n, 1, 1), end=dt.date(n, 12, 31)) for n in names], ignore_conflicts=True
    )
    period_ids = dict(Period.objects.filter(name__in=names).values_list("name", "id"))
    team, _ = Team.objects.get_or_create(name="Bench team")
    rep, _ = SalesRep.objects.get_or_create(
        code="BENCH-OUT", defaults={"name": "Bench outside", "kind": "outside", "team": team}
    )

    t0 = time.perf_counter()
    ids = np.arange(1, customers + 1, dtype=np.int64)
    status = rng.choice(list(CUSTOMER_STATUS_P), size=customers, p=list(CUSTOMER_STATUS_P.values()))
    size = rng.lognormal(0.0, 1.2, customers)  # relative order frequency
    frame = pd.DataFrame(
        {
            "id": ids,
            "external_id": np.char.add("C", np.char.zfill(ids.astype(str), 7)),
            "name": np.char.add("Customer ", ids.astype(str)),
            "status": status,
            "industry": rng.choice(["retail", "industry", "services", "care", "public"], size=customers),
            "city": rng.choice(["Utrecht", "Amsterdam", "Rotterdam", "Zwolle", "Breda", "Gouda"], size=customers),
            "created_at": "2023-01-01 00:00:00+00",
        }
    )
    with fast_load():
        load_frame("customers_customer", frame)
        order_id_next, line_id_next = 1, 1
        total_lines = 0
        for name in names:
            period_id = period_ids[name]
            buyers = ids[(status == "customer") & (rng.random(customers) < 0.94)]
            weights = size[buyers - 1] / size[buyers - 1].sum()
            n_lines = lines[name]
            per_order = rng.integers(1, 10, size=int(n_lines / 5 * 1.1) + 10)
            per_order = per_order[: np.searchsorted(np.cumsum(per_order), n_lines) + 1]
            per_order[-1] -= int(per_order.sum() - n_lines)
            per_order = per_order[per_order > 0]
            n_orders = len(per_order)
            # every buyer has at least one order, the rest by size
            order_customer = np.concatenate(
                [rng.permutation(buyers)[: min(len(buyers), n_orders)], rng.choice(buyers, n_orders, p=weights)]
            )[:n_orders]
            days = rng.integers(0, 365, n_orders)
            order_dates = (np.datetime64(f"{name}-01-01") + days.astype("timedelta64[D]")).astype(str)
            order_ids = np.arange(order_id_next, order_id_next + n_orders, dtype=np.int64)
            orders = pd.DataFrame(
                {
                    "id": order_ids,
                    "external_id": np.char.add(f"O{name}-", order_ids.astype(str)),
                    "customer_id": order_customer,
                    "date": order_dates,
                    "period_id": period_id,
                }
            )
            load_frame("customers_order", orders)
            line_order = np.repeat(order_ids, per_order)
            line_customer = np.repeat(order_customer, per_order)
            starts = np.cumsum(per_order) - per_order
            line_no = np.arange(n_lines) - np.repeat(starts, per_order) + 1
            amount = np.round(rng.lognormal(4.0, 1.0, n_lines) * 100).astype(np.int64) + 1
            amount[rng.random(n_lines) < 0.02] *= -1  # returns
            cost = (amount * rng.uniform(0.55, 0.85, n_lines)).astype(np.int64)
            for start in range(0, n_lines, 1_000_000):
                end = min(start + 1_000_000, n_lines)
                chunk = pd.DataFrame(
                    {
                        "id": np.arange(line_id_next + start, line_id_next + end, dtype=np.int64),
                        "order_id": line_order[start:end],
                        "line_no": line_no[start:end],
                        "amount": money_text(amount[start:end]),
                        "cost": money_text(cost[start:end]),
                        "quantity": rng.integers(1, 20, end - start).astype(str),
                        "customer_id": line_customer[start:end],
                        "period_id": period_id,
                    }
                )
                load_frame("customers_orderline", chunk)
            order_id_next += n_orders
            line_id_next += n_lines
            total_lines += n_lines
            progress(
                f"  period {name}: {n_orders:,} orders, {n_lines:,} lines, {len(np.unique(order_customer)):,} buyers"
            )
        latest = names[-1]
        latest_id = period_ids[latest]
        visited = rng.choice(ids, size=visits)
        visit_days = (np.datetime64(f"{latest}-01-01") + rng.integers(0, 365, visits).astype("timedelta64[D]")).astype(
            str
        )
        load_frame(
            "salesforce_tasks_visit",
            pd.DataFrame(
                {
                    "rep_id": rep.id,
                    "customer_id": visited,
                    "date": visit_days,
                    "minutes": rng.integers(10, 121, visits),
                    "kind": rng.choice(["visit", "phone", "video"], size=visits, p=[0.4, 0.45, 0.15]),
                    "outcome": "",
                    "next_step": "",
                    "period_id": latest_id,
                    "created_at": "2025-06-01 12:00:00+00",
                }
            ),
        )
        invoiced = rng.choice(ids[status == "customer"], size=invoices)
        issued = np.datetime64(f"{latest}-01-01") + rng.integers(0, 330, invoices).astype("timedelta64[D]")
        due = issued + np.timedelta64(30, "D")
        paid = (due + rng.integers(-20, 60, invoices).astype("timedelta64[D]")).astype(str).astype(object)
        paid[rng.random(invoices) < 0.1] = None  # still open
        load_frame(
            "accounting_invoice",
            pd.DataFrame(
                {
                    "external_id": np.char.add("INV-", np.arange(1, invoices + 1).astype(str)),
                    "customer_id": invoiced,
                    "amount": money_text(rng.integers(5_000, 500_000, invoices)),
                    "issued": issued.astype(str),
                    "due": due.astype(str),
                    "paid": paid,
                    "period_id": latest_id,
                }
            ),
        )
        sequences_reset(["customers_customer", "customers_order", "customers_orderline"])
        # Lines and visits went around the services: their customer-period facts from the rows.
        order_facts_rebuild(period_ids=period_ids.values())
        visit_facts_rebuild(period_ids=list(period_ids.values()))
    progress(f"  data written in {time.perf_counter() - t0:.1f} s")

    # Ten pools for the latest period: every allocation key, fixed and variable.
    with connection.cursor() as cur:
        cur.execute(
            "SELECT COUNT(DISTINCT order_id), COUNT(*) FROM customers_orderline WHERE period_id = %s", [latest_id]
        )
        n_orders_latest, n_lines_latest = cur.fetchone()
    visit_minutes = int(_scalar("SELECT COALESCE(SUM(minutes), 0) FROM salesforce_tasks_visit"))
    demand = 3 * n_orders_latest + 0.5 * n_lines_latest + visit_minutes
    top_customer = int(ids[np.argmax(np.where(status == "customer", size, 0))])
    pools = [
        ("Account management", "per_customer", "fixed", 2_500_000_00, {}),
        ("Sales support", "per_level", "fixed", 1_800_000_00, {"w": (4, 3, 2, 1)}),
        ("Marketing", "revenue", "variable", 900_000_00, {}),
        ("Order handling", "orders", "variable", 1_200_000_00, {}),
        ("Picking", "order_lines", "variable", 1_500_000_00, {}),
        ("Field visits", "visits", "fixed", 700_000_00, {}),
        ("Inside sales", "visit_minutes", "fixed", 400_000_00, {}),
        ("Logistics (time-driven)", "time_driven", "variable", 3_000_000_00, {"tdabc": True}),
        ("Key account project", "direct", "fixed", 50_000_00, {"customer": top_customer}),
        ("Campaigns", "per_level", "variable", 300_000_00, {"w": (2.5, 1.75, 1, 0.5)}),
    ]
    for pool_name, key, nature, cents, extra in pools:
        weights = extra.get("w", (1, 1, 1, 1))
        CostPool.objects.create(
            period_id=latest_id,
            name=pool_name,
            key=key,
            nature=nature,
            amount=Decimal(cents).scaleb(-2),
            weight_top=str(weights[0]),
            weight_big=str(weights[1]),
            weight_medium=str(weights[2]),
            weight_small=str(weights[3]),
            capacity_minutes=Decimal(round(demand * 1.15)) if extra.get("tdabc") else None,
            minutes_per_order="3" if extra.get("tdabc") else "0",
            minutes_per_line="0.5" if extra.get("tdabc") else "0",
            customer_id=extra.get("customer"),
        )
    PeriodFinance.objects.get_or_create(period_id=latest_id)
    return {
        "period_ids": period_ids,
        "latest_id": latest_id,
        "customer_ids": ids,
        "buyer_ids": ids[status == "customer"],
        "lines_total": total_lines,
    }


def _scalar(sql: str, params: list | None = None):
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(sql, params or [])
        return cur.fetchone()[0]


def fmt_table(rows: list[tuple], headers: tuple[str, ...]) -> str:
    """A Markdown table."""
    widths = [max([len(str(h))] + [len(str(r[i])) for r in rows]) for i, h in enumerate(headers)]
    out = io.StringIO()
    out.write("| " + " | ".join(str(h).ljust(w) for h, w in zip(headers, widths, strict=True)) + " |\n")
    out.write("|" + "|".join("-" * (w + 2) for w in widths) + "|\n")
    for r in rows:
        out.write("| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) + " |\n")
    return out.getvalue()
