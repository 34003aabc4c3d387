"""Import of 1,000,000 order lines (target: under 60 s, memory not growing with the file).

    .venv/bin/python bench/bench_import.py [--db sqlite|postgres] [--small] [--repeat 2]

Generates (seeded, cached under /tmp/bench_import_data) a customers file of 20,000 customers and
order files of 250,000 and 1,000,000 lines (about 5 lines per order, two fiscal years), imports
the customers once into a template database, then for each order file and each repetition:
copies the template to a fresh database and runs ``config.intake.run_import("orders", ...)`` —
what ``manage.py import_csv orders FILE`` runs — in a fresh process, printing its wall time,
rows/s and the process's peak RSS (``ru_maxrss``). Then it re-imports the large file into the
imported database (must change nothing) and times that too.

Tasks the import sends on commit go to an in-memory broker nobody reads, so the time is the
import's own; the in-process recomputation the embedded (no Redis) setup runs after it is timed
separately once (``eventbus.drain``).

``--small``: 20,000 and 50,000 lines, 2,000 customers. ``--tag T``: databases ``bench_import_T`` and
``bench_import_tpl_T`` (so two people can run it at once).

The floor (PostgreSQL): a plain ``COPY`` of the same file's text, in the same run, into a temporary
table of text columns (``COPY ... FROM STDIN (FORMAT csv, HEADER)``); the import's ratio to it is printed.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c  # noqa: E402

SCRIPT = Path(__file__).resolve()
DATA_DIR = Path("/tmp/bench_import_data")
SEED = 20261123


# --- files ------------------------------------------------------------------------------------


def customers_file(n: int) -> Path:
    path = DATA_DIR / f"customers_{n}_{SEED}.csv"
    if path.exists():
        return path
    rng = np.random.default_rng(SEED)
    ids = np.arange(1, n + 1)
    pd.DataFrame(
        {
            "external_id": np.char.add("C", np.char.zfill(ids.astype(str), 7)),
            "name": np.char.add("Customer ", ids.astype(str)),
            "status": rng.choice(["customer", "prospect", "suspect"], size=n, p=[0.9, 0.06, 0.04]),
            "industry": rng.choice(["retail", "industry", "services", "care"], size=n),
            "city": rng.choice(["Utrecht", "Amsterdam", "Rotterdam", "Zwolle"], size=n),
        }
    ).to_csv(path.with_suffix(".tmp"), index=False)
    path.with_suffix(".tmp").rename(path)
    return path


def xlsx_file(csv_path: Path) -> Path:
    """The same rows as one .xlsx sheet (openpyxl write-only; every cell text, as an ERP export gives
    them), cached next to the CSV."""
    from openpyxl import Workbook

    path = csv_path.with_suffix(".xlsx")
    if path.exists():
        return path
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    for i, chunk in enumerate(pd.read_csv(csv_path, dtype=str, keep_default_na=False, chunksize=100_000)):
        if i == 0:
            sheet.append(list(chunk.columns))
        for row in chunk.itertuples(index=False):
            sheet.append(list(row))
    workbook.save(path)
    return path


def orders_file(lines: int, customers: int) -> Path:
    """``lines`` order lines, 1-9 per order (mean 5), dates over 2024-2025, 2,000 products in 40 groups."""
    path = DATA_DIR / f"orders_{lines}_{customers}_{SEED}.csv"
    if path.exists():
        return path
    rng = np.random.default_rng(SEED + lines)
    per_order = rng.integers(1, 10, size=lines // 5 + 1000)
    per_order = per_order[: np.searchsorted(np.cumsum(per_order), lines) + 1]
    per_order[-1] -= int(per_order.sum() - lines)
    per_order = per_order[per_order > 0]
    n_orders = len(per_order)
    weights = rng.lognormal(0, 1.2, customers)
    order_customer = rng.choice(np.arange(1, customers + 1), size=n_orders, p=weights / weights.sum())
    order_day = np.datetime64("2024-01-01") + rng.integers(0, 731, n_orders).astype("timedelta64[D]")
    order_ids = np.char.add("SO-", np.char.zfill(np.arange(1, n_orders + 1).astype(str), 8))
    amount = np.round(rng.lognormal(4.0, 1.0, lines) * 100).astype(np.int64) + 1
    amount[rng.random(lines) < 0.02] *= -1
    cost = (amount * rng.uniform(0.55, 0.85, lines)).astype(np.int64)
    product = rng.integers(1, 2001, lines)
    frame = pd.DataFrame(
        {
            "order_id": np.repeat(order_ids, per_order),
            "customer_id": np.repeat(np.char.add("C", np.char.zfill(order_customer.astype(str), 7)), per_order),
            "date": np.repeat(order_day.astype(str), per_order),
            "amount": c.money_text(amount),
            "cost": c.money_text(cost),
            "quantity": rng.integers(1, 25, lines),
            "product": np.char.add("P", np.char.zfill(product.astype(str), 5)),
            "product_group": np.char.add("G", (product % 40).astype(str)),
        }
    )
    frame.to_csv(path.with_suffix(".tmp"), index=False)
    path.with_suffix(".tmp").rename(path)
    return path


def _sizes(small: bool) -> tuple[int, tuple[int, ...]]:
    return (2_000, (20_000, 50_000)) if small else (20_000, (250_000, 1_000_000))


# --- child: one measurement in a fresh process ------------------------------------------------


def _timed_generator(spans: c.Spans, label: str, original):
    def wrapper(*args, **kwargs):
        iterator = original(*args, **kwargs)
        while True:
            started = time.perf_counter()
            try:
                item = next(iterator)
            except StopIteration:
                spans.seconds[label] += time.perf_counter() - started
                return
            spans.seconds[label] += time.perf_counter() - started
            yield item

    return wrapper


def _table_fingerprint() -> dict:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT COUNT(*), COALESCE(SUM(amount), 0), COALESCE(SUM(cost), 0) FROM customers_orderline")
        lines, amount, cost = cur.fetchone()
        cur.execute("SELECT COUNT(*) FROM customers_order")
        orders = cur.fetchone()[0]
    return {"lines": lines, "orders": orders, "amount": str(amount), "cost": str(cost)}


def _write_marker():
    """Something to tell afterwards how many rows a statement wrote (xid on PostgreSQL, total_changes on SQLite)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT mod(pg_current_xact_id()::text::bigint, 4294967296)")
            return cur.fetchone()[0]
    connection.ensure_connection()
    return connection.connection.total_changes


def _rows_written_since(marker) -> int:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(
                "SELECT (SELECT COUNT(*) FROM customers_orderline WHERE xmin::text::bigint > %s)"
                " + (SELECT COUNT(*) FROM customers_order WHERE xmin::text::bigint > %s)",
                [marker, marker],
            )
            return cur.fetchone()[0]
    return connection.connection.total_changes - marker


def _publish_excluded(original, excluded: list[int]):
    """publish() bumps Computation rows; on SQLite total_changes counts them, so subtract them."""

    def wrapper(*args, **kwargs):
        from django.db import connection

        if connection.vendor != "sqlite":
            return original(*args, **kwargs)
        before = connection.connection.total_changes
        try:
            return original(*args, **kwargs)
        finally:
            excluded[0] += connection.connection.total_changes - before

    return wrapper


def child(args) -> None:
    if args.mode == "files":
        customers, sizes = _sizes(args.small)
        started = time.perf_counter()
        paths = {"customers": str(customers_file(customers)), **{str(n): str(orders_file(n, customers)) for n in sizes}}
        if args.xlsx:
            paths["xlsx"] = str(xlsx_file(Path(paths[str(sizes[-1])])))
        c.child_result({"seconds": time.perf_counter() - started, "paths": paths})
        return
    c.django_setup(args.db, args.name, migrate=args.mode == "setup")
    c.celery_quiet()
    from config.intake import run_import

    if args.mode == "setup":
        started = time.perf_counter()
        result = run_import("customers", args.file)
        c.child_result({"seconds": time.perf_counter() - started, "rows": result.rows})
        return
    if args.mode == "floor":
        c.child_result({"seconds": _copy_floor(args.file)})
        return
    if args.mode == "drain":
        from config import eventbus
        from customers.models import Computation

        started = time.perf_counter()
        eventbus.drain(timeout=3600)
        runs = dict(Computation.objects.values_list("stage", "runs"))
        c.child_result({"seconds": time.perf_counter() - started, "runs": runs})
        return

    import django.db.backends.utils as db_utils
    from django.test.utils import CaptureQueriesContext

    import customers.services.order_import as services
    import customers.services.order_staging as staging

    spans = c.Spans()
    before = _table_fingerprint()
    marker = _write_marker()
    from django.db import connection, connections

    connection.close()  # the import opens its own; the xid marker above is committed
    rss_before, peak_before = c.current_rss_mb(), c.peak_rss_mb()
    original_executemany = db_utils.CursorWrapper.executemany

    def executemany(self, sql, param_list):
        label = "write lines (executemany)" if "customers_orderline" in sql else "write orders (executemany)"
        if "kw_import_staged_lines" in sql:
            label = "stage lines (executemany, part of write lines)"
        elif "kw_import_staged_orders" in sql:
            label = "stage orders (executemany, part of write orders)"
        with spans.span(label):
            return original_executemany(self, sql, param_list)

    excluded = [0]  # rows the event outbox (Computation) and SQLite's staging table take: not order data
    original_staged = services._upsert_staged

    def upsert_staged(cursor, **kwargs):
        """SQLite's total_changes counts the temporary staging table's rows too: keep only the upsert's."""
        what = "lines" if kwargs["table"] == "customers_orderline" else "orders"
        with spans.span(f"write {what} (staged upsert, SQLite)"):
            before = connection.connection.total_changes
            original_staged(cursor, **kwargs)
            cursor.execute("SELECT changes()")
            excluded[0] += connection.connection.total_changes - before - cursor.fetchone()[0]

    services._upsert_staged = upsert_staged
    services.read_chunks = _timed_generator(spans, "read CSV chunks", services.read_chunks)
    db_utils.CursorWrapper.executemany = executemany
    with (
        spans.patch(services, "_validate_orders_chunk", "validate chunks (SQLite)"),
        spans.patch(services, "_order_rows_checked", "check rows (part of validate on SQLite)"),
        spans.patch(services, "_staged_frame", "rows to staging frame"),
        spans.patch(staging, "stage_chunk", "COPY chunks into staging"),
        spans.patch(staging, "stage_number_lines", "number lines, orders table"),
        spans.patch(staging, "staged_errors", "checks across rows (SQL)"),
        spans.patch(staging, "staged_merge", "merge orders + lines + surplus (SQL)"),
        spans.patch(staging, "staged_outcome", "counts, touched pairs (SQL)"),
        spans.patch(services, "order_facts_rebuild", "order facts rebuild"),
        spans.patch(services, "_products_ensure", "products ensure"),
        spans.patch(services, "_ids_for", "order ids lookup"),
        spans.patch(services, "_drop_surplus_lines", "drop surplus lines"),
        spans.patch(services, "_decimal_text", "money to text"),
        spans.patch(type(connections["default"]), "commit", "commit (PostgreSQL: deferred FK checks)"),
        CaptureQueriesContext(connection) as captured,
    ):
        services.publish = _publish_excluded(services.publish, excluded)
        started, cpu_started = time.perf_counter(), time.process_time()
        result = run_import("orders", args.file)
        seconds, cpu_python = time.perf_counter() - started, time.process_time() - cpu_started
    sql_groups: dict[str, float] = {}
    for q in captured.captured_queries:
        key = " ".join(re.sub(r"^\d+ times: ", "", q["sql"]).replace('"', "").split())[:90]
        sql_groups[key] = sql_groups.get(key, 0.0) + float(q["time"])
    cpu_db = c.backend_cpu_seconds()  # the connection the import opened (the marker's was closed)
    after = _table_fingerprint()
    written = _rows_written_since(marker) - excluded[0]
    c.child_result(
        {
            "seconds": seconds,
            "rows": result.rows,
            "created": result.created,
            "updated": result.updated,
            "rss_before_mb": rss_before,
            "peak_before_mb": peak_before,
            "peak_rss_mb": c.peak_rss_mb(),
            "hwm_rss_mb": c.hwm_rss_mb(),
            "unchanged": before == after,
            "rows_written": written,
            "before": before,
            "after": after,
            "spans": dict(spans.seconds),
            "sql": dict(sorted(sql_groups.items(), key=lambda kv: -kv[1])[:8]),
            "cpu_python": cpu_python,
            "cpu_db": cpu_db,
        }
    )


def _copy_floor(path: str) -> float:
    """Seconds to COPY the file's text into a temporary table of text columns (PostgreSQL)."""
    from django.db import connection, transaction

    with open(path, encoding="utf-8") as fh:
        header = fh.readline().strip().split(",")
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"CREATE TEMP TABLE floor_lines ({', '.join(f'{h} text' for h in header)}) ON COMMIT DROP")
        with cur.cursor.copy("COPY floor_lines FROM STDIN (FORMAT csv, HEADER)") as copy, open(path, "rb") as fh:
            while block := fh.read(1 << 20):
                copy.write(block)
    return time.perf_counter() - started


def _cpu(runs: list[dict]) -> str:
    best = min(runs, key=lambda r: r["cpu_python"] + r["cpu_db"])
    return f"{best['cpu_python'] + best['cpu_db']:.1f} ({best['cpu_python']:.1f} + {best['cpu_db']:.1f})"


# --- parent -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--small", action="store_true", help="smoke size: 20k and 50k lines, 2,000 customers")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--tag", default="", help="suffix of the database names (bench_import_TAG)")
    parser.add_argument(
        "--child", dest="mode", choices=["files", "setup", "import", "drain", "floor"], help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--xlsx", action="store_true", help="also import the large file's rows as .xlsx (the file is made once, cached)"
    )
    parser.add_argument("--name", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode:
        child(args)
        return

    customers, sizes = _sizes(args.small)
    DATA_DIR.mkdir(exist_ok=True)
    # The files are generated in a child: this parent stays small, so the children's ru_maxrss
    # (which Linux carries over from the parent at fork + exec) is their own.
    flags = (["--small"] if args.small else []) + (["--xlsx"] if args.xlsx else [])
    made = c.run_child(SCRIPT, ["--child", "files", *flags])
    cust_path, files = made["paths"]["customers"], {n: made["paths"][str(n)] for n in sizes}
    print(f"# bench_import — {args.db}, {customers:,} customers, files {', '.join(f'{n:,}' for n in sizes)} lines")
    print(f"machine: {c.machine()}")
    print(f"files ready in {made['seconds']:.1f} s ({DATA_DIR}); parent peak RSS {c.peak_rss_mb():.0f} MB", flush=True)

    suffix = f"_{args.tag}" if args.tag else ""
    template, work = f"bench_import_tpl{suffix}", f"bench_import{suffix}"
    c.database_create(args.db, template)
    setup = c.run_child(SCRIPT, ["--child", "setup", "--db", args.db, "--name", template, "--file", str(cust_path)])
    print(f"customers import: {setup['rows']:,} rows in {setup['seconds']:.2f} s", flush=True)

    floors: dict[int, float] = {}
    if args.db == "postgres":
        for n in sizes:
            runs = [
                c.run_child(SCRIPT, ["--child", "floor", "--db", args.db, "--name", template, "--file", str(files[n])])
                for _ in range(max(args.repeat, 2))
            ]
            floors[n] = min(r["seconds"] for r in runs)
            shown = ", ".join(f"{r['seconds']:.2f}" for r in runs)
            print(f"COPY floor {n:>9,} lines: {floors[n]:.2f} s (runs {shown})", flush=True)

    results: dict[int, list[dict]] = {}
    for n in sizes:
        results[n] = []
        for i in range(args.repeat):
            c.database_create(args.db, work, template=template)
            r = c.run_child(SCRIPT, ["--child", "import", "--db", args.db, "--name", work, "--file", str(files[n])])
            results[n].append(r)
            print(
                f"import {n:>9,} lines run {i + 1}: {r['seconds']:7.2f} s  {r['rows'] / r['seconds']:9,.0f} rows/s  "
                f"peak RSS {r['peak_rss_mb']:6.0f} MB "
                f"(VmHWM {r['hwm_rss_mb']:.0f}, before import {r['rss_before_mb']:.0f})  "
                f"created {r['created']:,} orders  CPU python {r['cpu_python']:.1f} s + database {r['cpu_db']:.1f} s",
                flush=True,
            )
    big = sizes[-1]
    xlsx_runs = []
    if args.xlsx:
        for i in range(args.repeat):
            c.database_create(args.db, work, template=template)
            xlsx_path = made["paths"]["xlsx"]
            r = c.run_child(SCRIPT, ["--child", "import", "--db", args.db, "--name", work, "--file", xlsx_path])
            xlsx_runs.append(r)
            print(
                f"import {big:,} lines as XLSX run {i + 1}: {r['seconds']:7.2f} s  "
                f"peak RSS {r['peak_rss_mb']:6.0f} MB  "
                f"created {r['created']:,} orders  CPU python {r['cpu_python']:.1f} s + database {r['cpu_db']:.1f} s",
                flush=True,
            )
    reimports = []
    for i in range(args.repeat):
        r = c.run_child(SCRIPT, ["--child", "import", "--db", args.db, "--name", work, "--file", str(files[big])])
        reimports.append(r)
        print(
            f"re-import {big:,} lines run {i + 1}: {r['seconds']:7.2f} s  {r['rows'] / r['seconds']:9,.0f} rows/s  "
            f"peak RSS {r['peak_rss_mb']:6.0f} MB  unchanged={r['unchanged']}  rows written={r['rows_written']:,}  "
            f"created={r['created']}  CPU python {r['cpu_python']:.1f} s + database {r['cpu_db']:.1f} s",
            flush=True,
        )
    drain = c.run_child(SCRIPT, ["--child", "drain", "--db", args.db, "--name", work])
    print(
        f"in-process recompute after the import (eventbus.drain, embedded mode): {drain['seconds']:.2f} s, "
        f"runs {drain['runs']}",
        flush=True,
    )

    print("\n## where the time of the large import goes (best run)")
    best = min(results[big], key=lambda r: r["seconds"])
    known = 0.0
    for label, seconds in sorted(best["spans"].items(), key=lambda kv: -kv[1]):
        if label in ("publish events",):
            continue
        nested = ("(part of validate" in label and "validate chunks (SQLite)" in best["spans"]) or (
            "part of write lines" in label
        )
        known += 0 if nested else seconds
        print(f"  {label:32s} {seconds:7.2f} s  {100 * seconds / best['seconds']:5.1f} %")
    print(f"  {'other (Python: Decimal quantities, ...)':32s} {best['seconds'] - known:7.2f} s")
    print("  SQL by statement (time in the database driver, includes the executemany above):")
    for sql, seconds in best.get("sql", {}).items():
        print(f"    {seconds:7.2f} s  {sql}")
    best_re = min(reimports, key=lambda r: r["seconds"])
    print("## re-import")
    for label, seconds in sorted(best_re["spans"].items(), key=lambda kv: -kv[1]):
        if label != "publish events":
            print(f"  {label:32s} {seconds:7.2f} s")

    print(f"\n## summary ({args.db}; {c.machine()})")
    rows = []
    for n in sizes:
        secs = [r["seconds"] for r in results[n]]
        peaks = [r["peak_rss_mb"] for r in results[n]]
        rows.append(
            (
                f"import {n:,} lines",
                c.summary(secs),
                f"{n / min(secs):,.0f}",
                _cpu(results[n]),
                f"{min(peaks):.0f} MB (spread {max(peaks) - min(peaks):.0f})",
                f"{min(secs) / floors[n]:.1f}x" if n in floors else "",
            )
        )
    secs = [r["seconds"] for r in reimports]
    rows.append(
        (
            f"re-import {big:,} lines (no change)",
            c.summary(secs),
            f"{big / min(secs):,.0f}",
            _cpu(reimports),
            f"{min(r['peak_rss_mb'] for r in reimports):.0f} MB",
            f"{min(secs) / floors[big]:.1f}x" if big in floors else "",
        )
    )
    if xlsx_runs:
        secs = [r["seconds"] for r in xlsx_runs]
        rows.append(
            (
                f"import {big:,} lines as XLSX",
                c.summary(secs),
                f"{big / min(secs):,.0f}",
                _cpu(xlsx_runs),
                f"{min(r['peak_rss_mb'] for r in xlsx_runs):.0f} MB",
                f"{min(secs) / floors[big]:.1f}x" if big in floors else "",
            )
        )
    for n, seconds in floors.items():
        rows.append((f"COPY floor {n:,} lines (text into a temp table)", f"{seconds:.2f} s", f"{n / seconds:,.0f}"))
        rows[-1] += ("", "", "1x")
    headers = ("measurement", "wall time", "rows/s", "CPU s (python + db), best", "peak RSS", "vs COPY floor")
    print(c.fmt_table(rows, headers))
    small_peak = min(r["peak_rss_mb"] for r in results[sizes[0]])
    big_peak = min(r["peak_rss_mb"] for r in results[big])
    base = min(r["rss_before_mb"] for r in results[big])
    print(
        f"peak RSS {sizes[0]:,} -> {big:,} lines: {small_peak:.0f} -> {big_peak:.0f} MB "
        f"(x{big / sizes[0]:.0f} file, x{big_peak / small_peak:.2f} memory; "
        f"above the {base:.0f} MB before the import: {small_peak - base:.0f} -> {big_peak - base:.0f} MB)"
    )
    print(f"re-import changed nothing: {all(r['unchanged'] and r['rows_written'] == 0 for r in reimports)}")


if __name__ == "__main__":
    main()
