"""How the order-line upsert of the import could write: the current executemany against a staged COPY.

    .venv/bin/python bench/probe_upsert.py [--db postgres|sqlite] [--small] [--lines 200000]

Supported a finding of bench_import.py: ``customers.services.orders_import`` wrote every line with
``cursor.executemany(line_sql, ...)`` (``INSERT ... ON CONFLICT (order_id, line_no) DO UPDATE ...
WHERE changed``). Since issue 17 the import stages its lines instead (way B: COPY on PostgreSQL,
``customers/services/order_staging.py``; a temporary table on SQLite). This probe writes the same
rows (same SQL, from ``customers.services.order_import._upsert_sql``) into the real table both ways,
first into an empty table, then again (nothing changes):

A. executemany, as the import did;
B. the rows staged into a temporary table (COPY on PostgreSQL, executemany on SQLite), then one
   ``INSERT INTO customers_orderline SELECT ... FROM staged ON CONFLICT ... DO UPDATE ... WHERE changed``.

It prints rows/s for each. It does not change the product.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c  # noqa: E402

COLUMNS = ["order_id", "line_no", "amount", "cost", "quantity", "product_id", "customer_id", "period_id"]
UPDATE = ["amount", "cost", "quantity", "product_id", "customer_id", "period_id"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--small", action="store_true")
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    lines = 20_000 if args.small else args.lines
    name = "bench_probe_upsert"
    c.database_create(args.db, name)
    c.django_setup(args.db, name, migrate=True)
    c.celery_quiet()
    import datetime as dt

    from django.db import connection, transaction

    from customers.models import Period
    from customers.services.order_import import _upsert_sql

    rng = np.random.default_rng(7)
    period = Period.objects.create(name=2025, start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31))
    customers = 2_000
    orders = lines // 5
    with c.fast_load():
        ids = np.arange(1, customers + 1)
        c.load_frame(
            "customers_customer",
            pd.DataFrame(
                {
                    "id": ids,
                    "external_id": np.char.add("C", ids.astype(str)),
                    "name": "x",
                    "status": "customer",
                    "industry": "",
                    "city": "",
                    "created_at": "2023-01-01 00:00:00+00",
                }
            ),
        )
        order_ids = np.arange(1, orders + 1)
        order_customer = rng.integers(1, customers + 1, orders)
        c.load_frame(
            "customers_order",
            pd.DataFrame(
                {
                    "id": order_ids,
                    "external_id": np.char.add("O", order_ids.astype(str)),
                    "customer_id": order_customer,
                    "date": "2025-03-01",
                    "period_id": period.id,
                }
            ),
        )
        c.sequences_reset(["customers_customer", "customers_order"])
    line_order = np.repeat(order_ids, 5)[:lines]
    rows = list(
        zip(
            line_order.tolist(),
            (np.arange(lines) % 5 + 1).tolist(),
            c.money_text(rng.integers(100, 100_000, lines)).tolist(),
            c.money_text(rng.integers(50, 50_000, lines)).tolist(),
            [f"{q}.000" for q in rng.integers(1, 20, lines)],
            [None] * lines,
            np.repeat(order_customer, 5)[:lines].tolist(),
            [period.id] * lines,
            strict=True,
        )
    )
    table = "customers_orderline"
    line_sql = _upsert_sql(table, COLUMNS, ["order_id", "line_no"], UPDATE)
    pg = connection.vendor == "postgresql"
    changed = " OR ".join(
        f"{table}.{col} IS DISTINCT FROM excluded.{col}" if pg else f"{table}.{col} IS NOT excluded.{col}"
        for col in UPDATE
    )
    staged_sql = (
        f"INSERT INTO {table} ({', '.join(COLUMNS)}) SELECT {', '.join(COLUMNS)} FROM staged_lines "
        + ("" if pg else "WHERE true ")  # SQLite: an upsert from a SELECT needs a WHERE to parse
        + f"ON CONFLICT (order_id, line_no) DO UPDATE SET {', '.join(f'{col} = excluded.{col}' for col in UPDATE)} "
        f"WHERE {changed}"
    )

    def way_a() -> None:
        with transaction.atomic(), connection.cursor() as cur:
            cur.executemany(line_sql, rows)

    def way_b() -> None:
        with transaction.atomic(), connection.cursor() as cur:
            if pg:
                cur.execute(
                    "CREATE TEMP TABLE staged_lines (order_id bigint, line_no integer, amount numeric(16,2), "
                    "cost numeric(16,2), quantity numeric(16,3), product_id bigint, customer_id bigint, "
                    "period_id bigint) ON COMMIT DROP"
                )
                with cur.cursor.copy(f"COPY staged_lines ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                cur.execute(
                    "CREATE TEMP TABLE staged_lines (order_id integer, line_no integer, amount decimal, "
                    "cost decimal, quantity decimal, product_id integer, customer_id integer, period_id integer)"
                )
                cur.executemany(f"INSERT INTO staged_lines VALUES ({', '.join(['%s'] * len(COLUMNS))})", rows)
            cur.execute(staged_sql)
            if not pg:
                cur.execute("DROP TABLE staged_lines")

    def empty() -> None:
        with connection.cursor() as cur:
            cur.execute(f"DELETE FROM {table}")
        if pg:
            with connection.cursor() as cur:
                cur.execute(f"VACUUM ANALYZE {table}")

    print(f"# probe_upsert — {args.db}, {lines:,} order lines; {c.machine()}")
    results = {}
    for _ in range(args.repeat):
        for label, way in (("A executemany (as before)", way_a), ("B staged + one INSERT ... SELECT", way_b)):
            empty()
            first, _ = c.timed(way)
            again, _ = c.timed(way)
            results.setdefault((label, "into an empty table"), []).append(first)
            results.setdefault((label, "same rows again (no change)"), []).append(again)
            print(f"  {label:34s} new rows {lines / first:9,.0f} rows/s   same rows again {lines / again:9,.0f} rows/s")
    table_rows = [
        (label, what, c.summary(secs), f"{lines / min(secs):,.0f}") for (label, what), secs in results.items()
    ]
    print(c.fmt_table(table_rows, ("way", "case", "wall time", "rows/s")))


if __name__ == "__main__":
    main()
