"""The orders import on PostgreSQL: the file's rows staged with COPY, checked and merged set-based.

``orders_import`` checks each row on its own in Python (``_order_rows_checked``: ids, customers,
dates, amounts), then COPYs the chunk into a temporary table here. What needs the whole file is
done by the database, in the import's transaction, whatever the file's size (Python holds one
chunk): the line number of a row within its order, the rows of an order with another customer or
date than its first row, orders of another team's customer, rows that would add, change or delete
something in a closed period. Then the merge: new orders and their lines are plain ``INSERT ...
SELECT``s (no conflict handling to pay for a million rows that cannot conflict); stored orders and
lines are ``UPDATE``d only where ``(...) IS DISTINCT FROM (...)``, a stored order's new lines
inserted, and one ``DELETE`` removes the lines an order no longer has. Every order those statements
wrote goes into a temporary table too, so the counts (created, updated, unchanged) and the (period,
customer) pairs whose facts change are exact: a re-import of the same file writes no row (not even
a row lock) and reports every order unchanged.

The temporary tables live until the transaction ends (``ON COMMIT DROP``) and are dropped at the
end of a successful import (an import inside a test's transaction may run twice).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pandas as pd
from django.db import connection

from config.intake import MAX_REPORTED_ERRORS, ErrorList

from ..models import Order, OrderLine, Period, Product

ROWS, LINES, ORDERS, CHANGED = "kw_import_rows", "kw_import_lines", "kw_import_orders", "kw_import_changed"
LINE_CHANGES = "kw_import_line_changes"
#: The stored line's columns the import writes: its key, then its values.
LINE_VALUES = ("amount", "cost", "quantity", "product_id", "customer_id", "period_id")
LINE_COLUMNS = ("order_id", "line_no", *LINE_VALUES)
WORK_MEM = "256MB"

#: The staged columns, in COPY order: one per file row, already checked on its own.
STAGED = (
    ("row", "integer"),
    ("order_id", "text"),
    ("customer_ext", "text"),  # the file's customer id (text): an order's rows must agree on it
    ("customer_id", "bigint"),  # NULL: unknown (already a row error)
    ("date_text", "text"),  # the file's date text (error messages show it)
    ("date", "date"),  # NULL: not a date (already a row error)
    ("fy", "integer"),  # the period name (fiscal year) of the date
    ("amount_cents", "bigint"),
    ("cost_cents", "bigint"),
    ("quantity", "double precision"),
    ("product", "text"),
)
_TEXT = [name for name, kind in STAGED if kind == "text"]


def _tables() -> dict[str, str]:
    quote = connection.ops.quote_name
    return {
        "orders_t": quote(Order._meta.db_table),
        "lines_t": quote(OrderLine._meta.db_table),
        "periods_t": quote(Period._meta.db_table),
        "products_t": quote(Product._meta.db_table),
    }


def stage_create(cursor) -> None:
    """The staging table; and memory for the import's sorts and hashes (numbering a million rows, the
    merge's joins), for this transaction only, so they do not spill to disk."""
    cursor.execute("SELECT set_config('work_mem', %s, true)", [WORK_MEM])
    cursor.execute(f"DROP TABLE IF EXISTS {ROWS}, {LINES}, {ORDERS}, {CHANGED}, {LINE_CHANGES}")
    columns = ", ".join(f"{name} {kind}" for name, kind in STAGED)
    cursor.execute(f"CREATE TEMP TABLE {ROWS} ({columns}) ON COMMIT DROP")


def stage_chunk(cursor, frame: pd.DataFrame) -> None:
    """COPY a chunk (columns ``STAGED``, NA for NULL) into the staging table: one CSV text block.
    An empty text column is '' (``FORCE_NOT_NULL``), an empty number or date NULL."""
    names = ", ".join(name for name, _ in STAGED)
    text = frame[[name for name, _ in STAGED]].to_csv(index=False, header=False)
    sql = f"COPY {ROWS} ({names}) FROM STDIN (FORMAT csv, FORCE_NOT_NULL ({', '.join(_TEXT)}))"
    with cursor.cursor.copy(sql) as copy:
        copy.write(text)


def stage_number_lines(cursor) -> None:
    """The lines (each row with its line number in its order, by file row) and the orders (first
    row, number of lines, what is stored under the id)."""
    t = _tables()
    cursor.execute(
        f"""CREATE TEMP TABLE {LINES} ON COMMIT DROP AS
        SELECT r.*, row_number() OVER w AS line_no,
               first_value(customer_ext) OVER w AS first_customer, first_value(date) OVER w AS first_date,
               count(*) OVER (PARTITION BY order_id COLLATE "C") AS n_lines
        FROM {ROWS} r WINDOW w AS (PARTITION BY order_id COLLATE "C" ORDER BY row)"""
    )
    cursor.execute(f"DROP TABLE {ROWS}")
    cursor.execute(
        f"""CREATE TEMP TABLE {ORDERS} ON COMMIT DROP AS
        SELECT s.order_id, s.row AS first_row, s.n_lines, s.customer_id, s.date, s.fy,
               o.id AS stored_id, o.customer_id AS old_customer_id, o.period_id AS old_period_id,
               p.name AS old_period_name, coalesce(p.closed, false) AS old_closed
        FROM {LINES} s LEFT JOIN {t["orders_t"]} o ON o.external_id = s.order_id
        LEFT JOIN {t["periods_t"]} p ON p.id = o.period_id
        WHERE s.line_no = 1"""
    )
    cursor.execute(f"CREATE INDEX ON {ORDERS} (order_id)")
    cursor.execute(f"ANALYZE {LINES}")
    cursor.execute(f"ANALYZE {ORDERS}")


def _add_errors(cursor, errors: ErrorList, sql: str, params: Iterable, column: str, reason: Callable) -> None:
    """Row errors from ``sql`` (rows of ``row, value, key``): ``reason(key)`` says why. Counts
    every row, keeps the first ``MAX_REPORTED_ERRORS``."""
    room = max(MAX_REPORTED_ERRORS - len(errors.errors), 0)
    cursor.execute(f"SELECT q.*, count(*) OVER () FROM ({sql}) q ORDER BY 1 LIMIT {room or 1}", list(params))
    found = cursor.fetchall()
    if not found:
        return
    for row, value, key, _total in found[:room]:
        errors.add(row, column, value, reason(key))
    errors.total += found[0][-1] - len(found[:room])


def staged_errors(cursor, errors: ErrorList, *, customer_ids, closed: set[int], messages: dict[str, Callable]) -> None:
    """The checks across rows, on the staged file (``messages``: the reasons, by check)."""
    t = _tables()
    _add_errors(
        cursor,
        errors,
        f"""SELECT row, order_id, NULL FROM {LINES} WHERE order_id <> ''
        AND (customer_ext <> first_customer OR (date IS NOT NULL AND date IS DISTINCT FROM first_date))""",
        [],
        "order_id",
        messages["conflict"],
    )
    if customer_ids is not None:
        _add_errors(
            cursor,
            errors,
            f"""SELECT s.row, s.order_id, NULL FROM {LINES} s JOIN {ORDERS} k USING (order_id)
            JOIN {t["orders_t"]} o ON o.id = k.stored_id
            LEFT JOIN unnest(%s::bigint[]) AS mine (id) ON mine.id = o.customer_id WHERE mine.id IS NULL""",
            [sorted(customer_ids)],
            "order_id",
            messages["foreign"],
        )
    if not closed:
        return
    closed_list = sorted(closed)
    # An order stored in a closed period that a row dates elsewhere (or not at all).
    moved_out = "k.old_closed AND (s.date IS NULL OR s.fy IS DISTINCT FROM k.old_period_name)"
    _add_errors(
        cursor,
        errors,
        f"""SELECT s.row, s.date_text, k.old_period_name FROM {LINES} s JOIN {ORDERS} k USING (order_id)
        WHERE {moved_out}""",
        [],
        "date",
        messages["closed"],
    )
    # A row dated in a closed period that does not equal the stored line (a new or changed one).
    _add_errors(
        cursor,
        errors,
        f"""SELECT s.row, s.date_text, s.fy FROM {LINES} s JOIN {ORDERS} k USING (order_id)
        LEFT JOIN {t["orders_t"]} o ON o.id = k.stored_id
        LEFT JOIN {t["lines_t"]} l ON l.order_id = k.stored_id AND l.line_no = s.line_no
        LEFT JOIN {t["products_t"]} pr ON pr.id = l.product_id
        WHERE s.date IS NOT NULL AND s.fy = ANY(%s) AND NOT ({moved_out})
        AND (l.id IS NULL
             OR (s.customer_id, s.date, s.amount_cents, s.cost_cents, round(s.quantity::numeric, 3), s.product)
                IS DISTINCT FROM (o.customer_id, o.date, round(l.amount * 100)::bigint, round(l.cost * 100)::bigint,
                                  l.quantity, coalesce(pr.code, '')))""",
        [closed_list],
        "date",
        messages["closed"],
    )
    # An order stored in a closed period that the file gives fewer lines: the re-import would delete some.
    _add_errors(
        cursor,
        errors,
        f"""SELECT k.first_row, k.order_id, k.old_period_name FROM {ORDERS} k
        WHERE k.old_closed AND k.n_lines < (SELECT count(*) FROM {t["lines_t"]} l WHERE l.order_id = k.stored_id)""",
        [],
        "order_id",
        messages["closed"],
    )


def staged_period_names(cursor, closed: set[int]) -> set[int]:
    """The periods the file's orders land in, closed ones left out (their rows equal what is stored)."""
    cursor.execute(f"SELECT DISTINCT fy FROM {ORDERS} WHERE NOT (fy = ANY(%s))", [sorted(closed)])
    return {int(name) for (name,) in cursor.fetchall()}


def staged_merge(cursor, *, period_ids: dict[int, int], closed: set[int]) -> None:
    """Write the orders, then the lines, then delete the lines an order no longer has; every order
    a statement wrote lands in the temporary table of changed orders. Rows in a closed period
    write nothing (they passed the checks because they equal what is stored).

    New orders and their lines are plain INSERTs (nothing stored can conflict: a concurrent writer
    of the same new order makes one of the two fail on the unique key, not merge); stored orders
    and lines are UPDATEd where a value differs, so a re-import writes no row."""
    t = _tables()
    closed_list = sorted(closed)
    cursor.execute(f"CREATE TEMP TABLE {CHANGED} (order_id bigint PRIMARY KEY) ON COMMIT DROP")
    periods = "unnest(%s::integer[], %s::bigint[]) AS per (name, id)"
    names, ids = list(period_ids), [period_ids[n] for n in period_ids]
    cursor.execute(
        f"""WITH up AS (
            UPDATE {t["orders_t"]} o SET customer_id = k.customer_id, date = k.date, period_id = per.id
            FROM {ORDERS} k JOIN {periods} ON per.name = k.fy
            WHERE o.id = k.stored_id
            AND (o.customer_id, o.date, o.period_id) IS DISTINCT FROM (k.customer_id, k.date, per.id)
            RETURNING o.id)
        INSERT INTO {CHANGED} SELECT id FROM up""",
        [names, ids],
    )
    cursor.execute(
        f"""WITH up AS (
            INSERT INTO {t["orders_t"]} (external_id, customer_id, date, period_id)
            SELECT k.order_id, k.customer_id, k.date, per.id
            FROM {ORDERS} k JOIN {periods} ON per.name = k.fy
            WHERE k.stored_id IS NULL ORDER BY k.first_row
            RETURNING id)
        INSERT INTO {CHANGED} SELECT id FROM up""",
        [names, ids],
    )
    # The lines as they will be stored (closed periods left out), with their file row.
    values = f"""SELECT s.row, o.id AS order_id, s.line_no, s.amount_cents / 100.0 AS amount,
               s.cost_cents / 100.0 AS cost, round(s.quantity::numeric, 3) AS quantity, pr.id AS product_id,
               s.customer_id, o.period_id
        FROM {LINES} s JOIN {ORDERS} k USING (order_id) JOIN {t["orders_t"]} o ON o.external_id = k.order_id
        LEFT JOIN {t["products_t"]} pr ON pr.code = s.product AND s.product <> ''
        WHERE NOT (s.fy = ANY(%s))"""
    names = ", ".join(LINE_COLUMNS)
    cursor.execute(
        f"""INSERT INTO {t["lines_t"]} ({names})
        SELECT {names} FROM ({values} AND k.stored_id IS NULL) v ORDER BY v.row""",
        [closed_list],
    )
    # The lines of stored orders that are new or differ from the stored line: kept apart, then an
    # UPDATE of those stored and an INSERT of the others.
    differs = " OR ".join(f"l.{c} IS DISTINCT FROM v.{c}" for c in LINE_VALUES)
    cursor.execute(
        f"""CREATE TEMP TABLE {LINE_CHANGES} ON COMMIT DROP AS
        SELECT v.*, l.id AS line_id FROM ({values} AND k.stored_id IS NOT NULL) v
        LEFT JOIN {t["lines_t"]} l ON l.order_id = v.order_id AND l.line_no = v.line_no
        WHERE l.id IS NULL OR {differs}""",
        [closed_list],
    )
    cursor.execute(
        f"""UPDATE {t["lines_t"]} l SET {", ".join(f"{c} = v.{c}" for c in LINE_VALUES)}
        FROM {LINE_CHANGES} v WHERE l.id = v.line_id"""
    )
    cursor.execute(
        f"""INSERT INTO {t["lines_t"]} ({names})
        SELECT {names} FROM {LINE_CHANGES} WHERE line_id IS NULL ORDER BY row"""
    )
    cursor.execute(f"INSERT INTO {CHANGED} SELECT DISTINCT order_id FROM {LINE_CHANGES} ON CONFLICT DO NOTHING")
    cursor.execute(
        f"""WITH gone AS (
            DELETE FROM {t["lines_t"]} l USING {ORDERS} k
            WHERE l.order_id = k.stored_id AND l.line_no > k.n_lines RETURNING l.order_id)
        INSERT INTO {CHANGED} SELECT DISTINCT order_id FROM gone ON CONFLICT DO NOTHING"""
    )
    cursor.execute(f"ANALYZE {CHANGED}")


def staged_outcome(cursor, closed: set[int]) -> tuple[int, int, int, set[int], set[tuple[int, int]]]:
    """(orders in the file, created, updated, touched period ids, changed (period, customer) pairs).

    Touched periods: those the file's orders (outside closed periods) land in or leave. Changed
    pairs: the (period, customer) pairs a changed order left or entered (its facts change)."""
    t = _tables()
    cursor.execute(
        f"""SELECT count(*), count(*) FILTER (WHERE k.stored_id IS NULL), count(c.order_id)
        FROM {ORDERS} k LEFT JOIN {CHANGED} c ON c.order_id = k.stored_id"""
    )
    total, created, updated = cursor.fetchone()
    cursor.execute(
        f"""SELECT o.period_id FROM {ORDERS} k JOIN {t["orders_t"]} o ON o.external_id = k.order_id
            WHERE NOT (k.fy = ANY(%s))
        UNION SELECT old_period_id FROM {ORDERS} WHERE old_period_id IS NOT NULL AND NOT (fy = ANY(%s))""",
        [sorted(closed), sorted(closed)],
    )
    touched = {int(p) for (p,) in cursor.fetchall()}
    cursor.execute(
        f"""SELECT k.old_period_id, k.old_customer_id FROM {ORDERS} k JOIN {CHANGED} c ON c.order_id = k.stored_id
        UNION SELECT o.period_id, o.customer_id FROM {CHANGED} c JOIN {t["orders_t"]} o ON o.id = c.order_id"""
    )
    pairs = {(int(p), int(c)) for p, c in cursor.fetchall()}
    return int(total), int(created), int(updated), touched, pairs


def stage_drop(cursor) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {ROWS}, {LINES}, {ORDERS}, {CHANGED}, {LINE_CHANGES}")
