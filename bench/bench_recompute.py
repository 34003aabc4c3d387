"""Recomputing one period at 100,000 customers and 5,000,000 order lines.

    .venv/bin/python bench/bench_recompute.py [--db postgres|sqlite] [--small] [--repeat 2] [--fresh]
        [--name DB] [--lines N] [--reads-only]

Targets (PostgreSQL): pyramid of one period (read, compute, write) under 30 s, of which the pure
computation (``pyramid.assign_levels``) under 2 s; allocation of 10 pools over 100,000 customers
(``allocation.allocate_pools``) under 1 s; the full profit period (drivers from the database,
allocation, bulk write: ``accounting.services.profit_store``) under 30 s.

The data is written straight into the tables with COPY (seeded, see ``_common.dataset_generate``):
100,000 customers, 5,000,000 order lines in the measured period 2025 and 1,000,000 in 2024 (so
'bought before' matters), 200,000 visits, 150,000 invoices and 10 cost pools covering every
allocation key. The database ``bench_recompute`` is kept and reused while its row counts match
(``--fresh`` regenerates it). Events published by the services go to an in-memory broker nobody
reads, so each figure is the service's own work.

Every figure is split into read (each selector timed apart), compute and write, and the SQL of the
slowest queries is explained (PostgreSQL: EXPLAIN ANALYZE to /tmp/bench_logs/recompute_plans.txt).

First, the period's reads of the pyramid and profit stages from the order lines (as before issue
17) and from the customer-period facts (now), beside the GROUP BY floor measured in the same run
(``reads_compare``; ``--reads-only`` stops there).

``--small``: 10,000 customers, 500,000 + 100,000 lines. ``--lines N``: N lines in the period, N/5
the year before. ``--name``: the database (default ``bench_recompute``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c  # noqa: E402

PLANS = Path("/tmp/bench_logs/recompute_plans.txt")


def sizes(small: bool) -> dict:
    if small:
        return {"customers": 10_000, "lines": {2024: 100_000, 2025: 500_000}, "visits": 20_000, "invoices": 15_000}
    return {"customers": 100_000, "lines": {2024: 1_000_000, 2025: 5_000_000}, "visits": 200_000, "invoices": 150_000}


def ensure_data(args, size: dict) -> None:
    from customers.models import Customer, OrderLine

    expected_lines = sum(size["lines"].values())
    if not args.fresh:
        try:
            if Customer.objects.count() == size["customers"] and OrderLine.objects.count() == expected_lines:
                print("reusing the generated data", flush=True)
                return
        except Exception:  # noqa: BLE001 - no tables yet
            pass
    from django.db import connection

    connection.close()
    c.database_create(args.db, args.name)
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    started = time.perf_counter()
    c.dataset_generate(
        customers=size["customers"], lines=size["lines"], visits=size["visits"], invoices=size["invoices"]
    )
    print(f"data generated in {time.perf_counter() - started:.1f} s", flush=True)


def query_report(captured, label: str, top: int = 4) -> list[tuple[float, str]]:
    """The slowest queries of a captured run: (seconds, sql)."""
    queries = sorted(((float(q["time"]), q["sql"]) for q in captured.captured_queries), reverse=True)
    for seconds, sql in queries[:top]:
        print(f"    {label} query {seconds:6.2f} s  {sql[:150]}")
    return queries[:top]


def explain(queries: list[tuple[float, str]], note: str) -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with PLANS.open("a") as fh, connection.cursor() as cur:
        for seconds, sql in queries:
            if seconds < 0.3 or not sql.lstrip().upper().startswith("SELECT"):
                continue
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = [r[0] for r in cur.fetchall()]
            fh.write(f"\n### {note} ({seconds:.2f} s)\n{sql}\n" + "\n".join(plan) + "\n")
            keys = [
                ln.strip()
                for ln in plan
                if any(k in ln for k in ("Sort Method", "Disk:", "Execution Time", "HashAggregate", "Batches"))
            ]
            print(f"    plan ({note}, {seconds:.2f} s): " + " | ".join(keys[:6]))


def _lines_readers():
    """The period's reads of the pyramid and profit stages as they were before the order facts
    (issue 17): aggregates over the order lines, and the drivers from the stored pyramid."""
    import numpy as np
    import pandas as pd
    from django.db.models import Count, F, Q
    from django.utils import timezone

    from config.money import cents_sql, sum_cents
    from customers.facts import customer_facts_frame
    from customers.models import Customer, CustomerPeriod, OrderLine, Period

    def period_facts(period):
        rows = (
            OrderLine.objects.filter(period=period)
            .values("customer_id")
            .annotate(
                revenue_cents=sum_cents("amount"),
                gross_margin_cents=sum_cents(F("amount") - F("cost")),
                orders=Count("order_id", distinct=True),
                order_lines=Count("id"),
            )
            .values_list("customer_id", "revenue_cents", "gross_margin_cents", "orders", "order_lines")
        )
        return pd.DataFrame.from_records(
            list(rows), columns=["customer_id", "revenue_cents", "gross_margin_cents", "orders", "order_lines"]
        ).astype("int64")

    def bought_before(period):
        rows = (
            OrderLine.objects.filter(period__name__lt=period.name)
            .values("customer_id", "period_id")
            .annotate(revenue_cents=sum_cents("amount"))
            .filter(revenue_cents__gt=0)
            .values_list("customer_id", flat=True)
            .distinct()
        )
        return np.fromiter(rows, dtype=np.int64)

    def known(period):
        qs = Customer.objects.all()
        if Period.objects.filter(name__gt=period.name).exists():
            with_lines = OrderLine.objects.filter(period__name__lte=period.name).values("customer_id")
            end = timezone.make_aware(timezone.datetime.combine(period.end, timezone.datetime.max.time()))
            qs = qs.filter(Q(created_at__lte=end) | Q(id__in=with_lines))
        rows = qs.values_list("id", "external_id", "status")
        return pd.DataFrame.from_records(list(rows), columns=["customer_id", "external_id", "status"])

    def drivers(period):
        rows = CustomerPeriod.objects.filter(period=period).values_list(
            "customer_id", "customer__external_id", "level", cents_sql(F("revenue")), cents_sql(F("gross_margin")),
            "orders", "order_lines",
        )  # fmt: skip
        columns = ["customer_id", "external_id", "level", "revenue_cents", "gross_margin_cents"]
        frame = pd.DataFrame.from_records(list(rows), columns=[*columns, "orders", "order_lines"])
        return frame.merge(customer_facts_frame(period=period), on="customer_id", how="left")

    return {"period_facts": period_facts, "customers_bought_before": bought_before, "customers_known": known,
            "drivers_frame": drivers}  # fmt: skip


def reads_compare(period, repeat: int, size: dict) -> None:
    """Reading the period's figures for the pyramid and profit stages: from the order lines (before
    issue 17) and from the customer-period facts (now), next to the floor of reading the lines at
    all: one plain GROUP BY customer over the period's lines (SUM(amount), COUNT(*), fetched)."""
    from django.db import connection, transaction

    import customers.services as cust_services
    from accounting import selectors as acc_selectors
    from customers import selectors as cust_selectors
    from customers.facts import order_facts_rebuild

    before = _lines_readers()
    after = {
        "period_facts": lambda p: cust_selectors.period_facts(period=p),
        "customers_bought_before": lambda p: cust_selectors.customers_bought_before(period=p),
        "customers_known": lambda p: cust_selectors.customers_known(period=p),
        "drivers_frame": lambda p: acc_selectors.drivers_frame(period=p),
    }

    def floor():
        with connection.cursor() as cur:
            cur.execute(
                "SELECT customer_id, SUM(amount), COUNT(*) FROM customers_orderline WHERE period_id = %s "
                "GROUP BY customer_id",
                [period.id],
            )
            return cur.fetchall()

    print("\n## the period's reads: order lines (before) vs customer-period facts (after)", flush=True)
    if not period.customer_rows.exists():  # the profit stage's drivers need the stored pyramid
        with transaction.atomic():
            cust_services.pyramid_store(period.id)
    times: dict[str, list[float]] = {}
    for _ in range(repeat):
        times.setdefault("floor", []).append(c.timed(floor)[0])
        for name in after:
            times.setdefault(f"before {name}", []).append(c.timed(before[name], period)[0])
            times.setdefault(f"after {name}", []).append(c.timed(after[name], period)[0])
    old = before["period_facts"](period).sort_values("customer_id", ignore_index=True)
    new = after["period_facts"](period).sort_values("customer_id", ignore_index=True)
    same = old.equals(new) and set(before["customers_bought_before"](period).tolist()) == set(
        after["customers_bought_before"](period).tolist()
    )
    rebuild = [c.timed(order_facts_rebuild, period_ids=[period.id])[0] for _ in range(repeat)]

    floor_s = min(times["floor"])
    rows = [("GROUP BY floor (SUM, COUNT per customer over the period's lines)", f"{floor_s:.3f}", "", "", "")]
    stages = {"pyramid": ["period_facts", "customers_bought_before", "customers_known"], "profit": ["drivers_frame"]}
    for stage, names in [*((n, [n]) for n in after), *stages.items()]:
        b = sum(min(times[f"before {n}"]) for n in names)
        a = sum(min(times[f"after {n}"]) for n in names)
        label = f"{stage} stage reads ({', '.join(names)})" if stage in stages else f"  {stage}"
        rows.append((label, f"{b:.3f}", f"{a:.3f}", f"{b / floor_s:.2f} / {a / floor_s:.2f}", f"{b / a:.1f}x"))
    rows.append(("order_facts_rebuild of the period (re-cut, bulk load)", "", f"{min(rebuild):.3f}", "", ""))
    print(
        f"  {size['customers']:,} customers, {period.order_lines.count():,} lines in the period; best of {repeat}; "
        f"same figures before and after: {same}; {c.machine()}"
    )
    print(c.fmt_table(rows, ("read", "before (lines), s", "after (facts), s", "÷ floor (before / after)", "speed-up")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--small", action="store_true", help="smoke size: 10,000 customers, 600,000 lines")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each database-bound measurement")
    parser.add_argument("--pure-repeat", type=int, default=5, help="runs of each pure computation")
    parser.add_argument("--fresh", action="store_true", help="regenerate the data even if it is there")
    parser.add_argument("--name", help="database name (default bench_recompute, bench_recompute_small)")
    parser.add_argument(
        "--lines", type=int, help="order lines in the measured period (default 5,000,000; the year before a fifth)"
    )
    parser.add_argument("--reads-only", action="store_true", help="only the period's reads: lines vs facts")
    args = parser.parse_args()
    args.name = args.name or ("bench_recompute_small" if args.small else "bench_recompute")
    size = sizes(args.small)
    if args.lines:
        size["lines"] = {2024: args.lines // 5, 2025: args.lines}
    Path("/tmp/bench_logs").mkdir(exist_ok=True)
    PLANS.write_text("")

    if args.db == "postgres":
        import psycopg  # the database may not exist yet: create it empty so Django can connect

        with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [args.name]).fetchone():
                conn.execute(f'CREATE DATABASE "{args.name}"')
    c.django_setup(args.db, args.name, migrate=True)
    c.celery_quiet()
    ensure_data(args, size)

    import django.db.models.query as query_module
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    import accounting.services as acc_services
    import config.bulk as bulk
    import customers.services as cust_services
    import customers.services.levels as levels_module
    import scenarios.services as value_services
    from accounting import allocation
    from accounting import selectors as acc_selectors
    from customers import pyramid
    from customers import selectors as cust_selectors
    from customers.models import Period

    period = Period.objects.order_by("-name").first()
    lines_in_period = period.order_lines.count()
    print(
        f"# bench_recompute — {args.db}, period {period.name}: {lines_in_period:,} order lines, "
        f"{size['customers']:,} customers, repeat {args.repeat}; {c.machine()}",
        flush=True,
    )
    results: dict[str, list[float]] = {}

    def record(label: str, seconds: float) -> None:
        results.setdefault(label, []).append(seconds)

    def read_patches(spans: c.Spans) -> list:
        return [
            spans.patch(cust_selectors, "customers_known", "read: customers_known"),
            spans.patch(cust_selectors, "period_facts", "read: period_facts"),
            spans.patch(cust_selectors, "customers_bought_before", "read: customers_bought_before"),
            spans.patch(cust_selectors, "pyramid_scheme", "read: pyramid_scheme"),
            spans.patch(pyramid, "assign_levels", "compute: assign_levels", capture=True),
        ]

    def write_patches(spans: c.Spans, module) -> list:
        return [
            spans.patch(module, "replace_rows", "write: replace_rows"),
            spans.patch(bulk, "_column_values", "write:   values to rows (Python)"),
            spans.patch(query_module.QuerySet, "delete", "write:   delete old rows"),
            spans.patch(module, "publish", "write: publish event"),
        ]

    cpu: dict[str, list[tuple[float, float]]] = {}

    def run_with(patches: list, fn, *a, label: str, **k):
        """Run fn with the patches; record wall time under ``label`` and CPU (python, database)."""
        import contextlib

        with contextlib.ExitStack() as stack:
            for p in patches:
                stack.enter_context(p)
            wall, cpu_py, cpu_db, result = c.timed_cpu(fn, *a, **k)
        record(label, wall)
        cpu.setdefault(label, []).append((cpu_py, cpu_db))
        return wall, result

    def print_spans(spans: c.Spans, total: float, runs: int) -> None:
        for label, seconds in spans.seconds.items():
            print(f"    {label:42s} {seconds / runs:7.3f} s")
        print(f"    {'(total)':42s} {total:7.3f} s")

    reads_compare(period, args.repeat, size)
    if args.reads_only:
        return

    # --- pyramid: read + compute ----------------------------------------------------------
    print("\n## pyramid_compute (read + compute)", flush=True)
    spans = c.Spans()
    for i in range(args.repeat):
        one = c.Spans()
        with CaptureQueriesContext(connection) as captured:
            seconds, levels = run_with(
                read_patches(one), cust_services.pyramid_compute, period=period, label="pyramid_compute (read+compute)"
            )
        for k, v in one.seconds.items():
            spans.seconds[k] += v
            record(k, v)
        spans.captured.update(one.captured)
        print(f"  run {i + 1}: {seconds:.3f} s  ({len(levels):,} customers)", flush=True)
    print_spans(spans, min(results["pyramid_compute (read+compute)"]), args.repeat)
    explain(query_report(captured, "pyramid"), "pyramid_compute")

    frame_in = spans.captured["compute: assign_levels"][0][0]
    scheme = cust_selectors.pyramid_scheme()
    for _ in range(args.pure_repeat):
        run_with([], pyramid.assign_levels, frame_in, scheme=scheme, label="pure assign_levels")
    print(f"  pure assign_levels: {c.summary(results['pure assign_levels'])}", flush=True)

    # --- pyramid_store: read + compute + write -------------------------------------------
    print("\n## pyramid_store (read + compute + write, one transaction as in run_stage)", flush=True)
    spans = c.Spans()

    def pyramid_stage():
        with transaction.atomic():
            return cust_services.pyramid_store(period.id)

    for i in range(args.repeat):
        one = c.Spans()
        seconds, rows = run_with(
            read_patches(one) + write_patches(one, levels_module), pyramid_stage, label="pyramid_store total"
        )
        for k, v in one.seconds.items():
            spans.seconds[k] += v
            record("pyramid_store " + k, v)
        print(f"  run {i + 1}: {seconds:.3f} s  ({rows:,} rows written)", flush=True)
    print_spans(spans, min(results["pyramid_store total"]), args.repeat)

    # --- profit: read + compute ----------------------------------------------------------
    def profit_read_patches(spans: c.Spans) -> list:
        return [
            spans.patch(acc_selectors, "drivers_frame", "read: drivers_frame"),
            spans.patch(acc_selectors, "pools_frame", "read: pools_frame"),
            spans.patch(acc_selectors, "invoices_frame", "read: invoices_frame"),
            spans.patch(acc_selectors, "interest_rate", "read: interest_rate"),
            spans.patch(allocation, "allocate_pools", "compute: allocate_pools", capture=True),
            spans.patch(allocation, "financing_cost", "compute: financing_cost", capture=True),
            spans.patch(allocation, "customer_profit", "compute: customer_profit", capture=True),
        ]

    print("\n## profit_compute (drivers from the database + allocation + financing + profit)", flush=True)
    spans = c.Spans()
    for i in range(args.repeat):
        one = c.Spans()
        with CaptureQueriesContext(connection) as captured:
            seconds, comp = run_with(
                profit_read_patches(one), acc_services.profit_compute, period=period,
                label="profit_compute (read+compute)",
            )  # fmt: skip
        for k, v in one.seconds.items():
            spans.seconds[k] += v
            record(k, v)
        spans.captured.update(one.captured)
        print(
            f"  run {i + 1}: {seconds:.3f} s  ({len(comp.drivers):,} drivers, {len(comp.pools)} pools, "
            f"{len(comp.result.allocations):,} allocation rows)",
            flush=True,
        )
    print_spans(spans, min(results["profit_compute (read+compute)"]), args.repeat)
    explain(query_report(captured, "profit"), "profit_compute")

    drivers, pools = spans.captured["compute: allocate_pools"][0]
    for _ in range(args.pure_repeat):
        run_with([], allocation.allocate_pools, drivers, pools, label="pure allocate_pools")
    print(f"  pure allocate_pools (10 pools): {c.summary(results['pure allocate_pools'])}", flush=True)
    per_key = []
    for row in pools.itertuples(index=False):
        one_pool = pools[pools["pool_id"] == row.pool_id]
        best = min(c.timed(allocation.allocate_pools, drivers, one_pool)[0] for _ in range(3))
        per_key.append((row.key, best))
    print("  per pool (best of 3): " + ", ".join(f"{k} {s * 1000:.0f} ms" for k, s in per_key))
    fin_args, fin_kwargs = spans.captured["compute: financing_cost"]

    def pure_profit():
        result = allocation.allocate_pools(drivers, pools)
        financing = allocation.financing_cost(*fin_args, **fin_kwargs)
        return allocation.customer_profit(drivers, result, financing)

    for _ in range(args.pure_repeat):
        run_with([], pure_profit, label="pure profit (allocate+financing+profit)")
    pure = c.summary(results["pure profit (allocate+financing+profit)"])
    print(f"  pure allocate + financing + customer_profit: {pure}")

    # --- profit_store --------------------------------------------------------------------
    print("\n## profit_store (read + compute + bulk write, one transaction as in run_stage)", flush=True)
    spans = c.Spans()

    def profit_stage():
        with transaction.atomic():
            return acc_services.profit_store(period.id)

    def profit_write_patches(spans: c.Spans) -> list:
        return write_patches(spans, acc_services) + [
            spans.patch(acc_services, "profit_compute", "read+compute: profit_compute"),
            spans.patch(acc_services, "_by_pool", "write: _by_pool (by_pool JSON dicts)"),
            spans.patch(acc_services, "_pool_results_store", "write: _pool_results_store"),
            spans.patch(acc_services, "_gz", "write: snapshot _gz (CSV + gzip)"),
        ]

    for i in range(args.repeat):
        one = c.Spans()
        seconds, rows = run_with(profit_write_patches(one), profit_stage, label="profit_store total")
        for k, v in one.seconds.items():
            spans.seconds[k] += v
            record("profit_store " + k, v)
        print(f"  run {i + 1}: {seconds:.3f} s  ({rows:,} rows written)", flush=True)
    print_spans(spans, min(results["profit_store total"]), args.repeat)

    # --- value stage (next in the event chain) -------------------------------------------
    print("\n## customer_value_store (value stage, next in the chain after profit)", flush=True)
    for i in range(args.repeat):

        def value_stage():
            with transaction.atomic():
                return value_services.customer_value_store(period.id)

        seconds, rows = run_with([], value_stage, label="customer_value_store total")
        print(f"  run {i + 1}: {seconds:.3f} s  ({rows:,} rows)", flush=True)

    # --- summary -------------------------------------------------------------------------
    def best(label: str) -> str:
        return c.summary(results[label])

    def split(prefix: str, labels: list[str]) -> str:
        parts = []
        for label in labels:
            key = prefix + label
            if key in results:
                parts.append(f"{label.split(':')[-1].strip()} {min(results[key]):.2f}")
        return ", ".join(parts)

    print(
        f"\n## summary ({args.db}, {size['customers']:,} customers, {lines_in_period:,} lines in the period; "
        f"{c.machine()})"
    )
    reads = [
        "read: customers_known",
        "read: period_facts",
        "read: customers_bought_before",
    ]
    rows = [
        (
            "pyramid_compute (read + compute)",
            "< 30 s incl. write",
            best("pyramid_compute (read+compute)"),
            split("", reads + ["compute: assign_levels"]),
        ),
        ("pure assign_levels", "< 2 s", best("pure assign_levels"), ""),
        (
            "pyramid_store total",
            "< 30 s",
            best("pyramid_store total"),
            split(
                "pyramid_store ",
                reads
                + [
                    "compute: assign_levels",
                    "write: replace_rows",
                    "write:   values to rows (Python)",
                    "write:   delete old rows",
                ],
            ),
        ),
        ("pure allocate_pools (10 pools)", "< 1 s", best("pure allocate_pools"), ""),
        ("pure allocate + financing + profit", "", best("pure profit (allocate+financing+profit)"), ""),
        (
            "profit_compute (read + compute)",
            "",
            best("profit_compute (read+compute)"),
            split(
                "",
                [
                    "read: drivers_frame",
                    "read: invoices_frame",
                    "compute: allocate_pools",
                    "compute: financing_cost",
                    "compute: customer_profit",
                ],
            ),
        ),
        (
            "profit_store total",
            "< 30 s",
            best("profit_store total"),
            split(
                "profit_store ",
                [
                    "read+compute: profit_compute",
                    "write: _by_pool (by_pool JSON dicts)",
                    "write: replace_rows",
                    "write:   values to rows (Python)",
                    "write:   delete old rows",
                    "write: snapshot _gz (CSV + gzip)",
                    "write: _pool_results_store",
                ],
            ),
        ),
        ("customer_value_store total", "", best("customer_value_store total"), ""),
    ]
    labels = [
        "pyramid_compute (read+compute)", "pure assign_levels", "pyramid_store total", "pure allocate_pools",
        "pure profit (allocate+financing+profit)", "profit_compute (read+compute)",
        "profit_store total", "customer_value_store total",
    ]  # fmt: skip

    def cpu_of(label: str) -> str:
        if label not in cpu:
            return ""
        py, db = min(cpu[label], key=sum)
        return f"{py + db:.1f} ({py:.1f} + {db:.1f})"

    rows = [(r[0], r[1], r[2], cpu_of(label), r[3]) for r, label in zip(rows, labels, strict=True)]
    print(
        c.fmt_table(
            rows, ("measurement", "target", "wall time", "CPU s (python + db)", "split: min per part over the runs, s")
        )
    )
    if connection.vendor == "postgresql":
        print(f"EXPLAIN ANALYZE of the slow queries: {PLANS}")


if __name__ == "__main__":
    main()
