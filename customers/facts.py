"""The per customer-period facts of the core (``CustomerPeriodFacts``): how higher apps write them
and how readers get them.

A higher app that owns a figure a lower one needs (the sales force's visits, which accounting's
allocation keys use) writes it here, in its own transaction, so the reader imports nothing of the
writer (README, Architecture). Two ways to write, both for any subset of ``FACT_COLUMNS``:

- ``customer_facts_add``: delta upsert, ``column = column + delta`` per (period, customer); what a
  single write (a visit logged, changed, deleted) or an import adds or takes away.
- ``customer_facts_replace``: the exact values of some columns for whole periods (a rebuild).

The order facts (net revenue and gross margin in cents, orders, lines) are the core's own: the order
writers keep them in step in their transaction, a single order by delta (``customer_facts_add``),
an import, the fiscal-year re-cut and bulk loads by ``order_facts_rebuild`` (one set-based statement
from the stored lines, for some (period, customer) pairs or whole periods).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterable

import pandas as pd
from django.db import connection, transaction
from django.db.models import Count, F, Q

from config.money import sum_cents

from .models import CustomerPeriodFacts, Order, OrderLine

#: The summable facts per customer and period.
VISIT_FACTS = ("visits", "visit_minutes")
ORDER_FACTS = ("revenue_cents", "gross_margin_cents", "orders", "order_lines")
FACT_COLUMNS = VISIT_FACTS + ORDER_FACTS
#: Facts the table's checks keep at 0 or above (money may be negative: credit notes).
_COUNTS = ("visits", "visit_minutes", "orders", "order_lines")


def _columns(frame: pd.DataFrame) -> list[str]:
    columns = [c for c in frame.columns if c not in ("period_id", "customer_id")]
    unknown = set(columns) - set(FACT_COLUMNS)
    if unknown:
        raise ValueError(f"Unknown customer-period facts: {', '.join(sorted(unknown))}.")
    return columns


def _upsert(frame: pd.DataFrame, *, add: bool) -> None:
    columns = _columns(frame)
    if frame.empty or not columns:
        return
    grouped = frame.groupby(["period_id", "customer_id"], as_index=False)[columns].sum()
    quote = connection.ops.quote_name
    table = quote(CustomerPeriodFacts._meta.db_table)
    keys = f"{quote('period_id')} = %s AND {quote('customer_id')} = %s"
    # A new row names every fact (the columns have no database default): 0 for those not given.
    names = ["period_id", "customer_id", *FACT_COLUMNS]
    grouped = grouped.assign(**{c: 0 for c in FACT_COLUMNS if c not in columns})
    if add:
        grouped = grouped[(grouped[columns] != 0).any(axis=1)]  # nothing to add
        # A delta that takes something away applies to the stored row (an INSERT of a negative
        # candidate row would fail the table's check before ON CONFLICT turns it into an update).
        counts = [c for c in columns if c in _COUNTS]
        lowers = (grouped[counts] < 0).any(axis=1)
        sets = ", ".join(f"{quote(c)} = {quote(c)} + %s" for c in columns)
        update = f"UPDATE {table} SET {sets} WHERE {keys}"
        _execute(update, grouped[lowers][[*columns, "period_id", "customer_id"]])
        grouped = grouped[~lowers]
    sets = ", ".join(
        f"{quote(c)} = {table}.{quote(c)} + excluded.{quote(c)}" if add else f"{quote(c)} = excluded.{quote(c)}"
        for c in columns
    )
    insert = (
        f"INSERT INTO {table} ({', '.join(quote(n) for n in names)}) VALUES ({', '.join(['%s'] * len(names))}) "
        f"ON CONFLICT ({quote('period_id')}, {quote('customer_id')}) DO UPDATE SET {sets}"
    )
    _execute(insert, grouped[names])


def _execute(sql: str, frame: pd.DataFrame) -> None:
    rows = [tuple(int(v) for v in row) for row in frame.itertuples(index=False, name=None)]
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(rows), 5000):
            cursor.executemany(sql, rows[start : start + 5000])


def customer_facts_add(*, deltas: pd.DataFrame) -> None:
    """Add ``deltas`` (period_id, customer_id and fact columns, signed integers) to the stored facts.

    Rows for the same (period, customer) are summed first; a missing row starts at 0. Call it in the
    writer's transaction: the facts then commit with the change or not at all. A result below 0
    (deltas that do not match what was stored) violates the table's check and fails the write;
    ``visit_facts_rebuild`` (the writer's rebuild) repairs facts written around the services.
    """
    _upsert(deltas, add=True)


def customer_facts_replace(*, period_ids: Iterable[int], values: pd.DataFrame) -> None:
    """Set the fact columns of ``values`` for whole periods: ``values`` (period_id, customer_id and
    fact columns) holds the new figures, every other customer of those periods gets 0 in them."""
    columns = _columns(values)
    period_ids = sorted({int(p) for p in period_ids})
    with transaction.atomic():
        CustomerPeriodFacts.objects.filter(period_id__in=period_ids).update(**dict.fromkeys(columns, 0))
        _upsert(values[values["period_id"].isin(period_ids)], add=False)


def customer_facts_frame(*, period, columns: tuple[str, ...] = VISIT_FACTS) -> pd.DataFrame:
    """customer_id and ``columns`` (int64) of the period's stored facts: one row per customer with
    any of them not 0 (a customer without one is 0 in all of them; one query)."""
    unknown = set(columns) - set(FACT_COLUMNS)
    if unknown:
        raise ValueError(f"Unknown customer-period facts: {', '.join(sorted(unknown))}.")
    any_set = functools.reduce(operator.or_, [~Q(**{c: 0}) for c in columns])
    rows = CustomerPeriodFacts.objects.filter(any_set, period=period).values_list("customer_id", *columns)
    return pd.DataFrame.from_records(list(rows), columns=["customer_id", *columns]).astype("int64")


def _cents(column: str) -> str:
    # As config.money.cents_sql: each amount rounded to integer cents (SQLite stores REAL).
    return f"CAST(ROUND({column} * 100) AS BIGINT)"


def _order_facts_sql(*, lines_where: str, keys: str, touched: str = "") -> str:
    """One INSERT ... SELECT ... GROUP BY ... ON CONFLICT DO UPDATE: the order facts of the
    (period, customer) pairs in ``keys`` from the lines ``lines_where`` selects; a pair in ``keys``
    without lines gets 0. Rows whose figures are already right are not written."""
    quote = connection.ops.quote_name
    table = quote(CustomerPeriodFacts._meta.db_table)
    lines = quote(OrderLine._meta.db_table)
    order_id, amount, cost = quote("order_id"), quote("amount"), quote("cost")
    sets = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in ORDER_FACTS)
    differs = " OR ".join(f"{table}.{quote(c)} <> excluded.{quote(c)}" for c in ORDER_FACTS)
    names = ", ".join(quote(c) for c in ("period_id", "customer_id", *VISIT_FACTS, *ORDER_FACTS))
    return f"""
        WITH {touched}
        agg AS (
            SELECT l.period_id, l.customer_id,
                   SUM({_cents(f"l.{amount}")}) AS revenue_cents,
                   SUM({_cents(f"l.{amount}")} - {_cents(f"l.{cost}")}) AS gross_margin_cents,
                   COUNT(DISTINCT l.{order_id}) AS orders, COUNT(*) AS order_lines
            FROM {lines} l {lines_where}
            GROUP BY l.period_id, l.customer_id
        ),
        pair_keys AS ({keys})
        INSERT INTO {table} ({names})
        SELECT k.period_id, k.customer_id, 0, 0,
               COALESCE(a.revenue_cents, 0), COALESCE(a.gross_margin_cents, 0),
               COALESCE(a.orders, 0), COALESCE(a.order_lines, 0)
        FROM pair_keys k LEFT JOIN agg a ON a.period_id = k.period_id AND a.customer_id = k.customer_id
        WHERE 1 = 1
        ON CONFLICT ({quote("period_id")}, {quote("customer_id")}) DO UPDATE SET {sets} WHERE {differs}
    """


def order_facts_rebuild(*, period_ids: Iterable[int] = (), pairs: Iterable[tuple[int, int]] = ()) -> None:
    """Set the order facts (``ORDER_FACTS``) from the stored order lines, set-based in the database.

    ``period_ids``: every customer of those periods (one statement per call); ``pairs``: only
    those (period_id, customer_id) pairs (one statement per few thousand pairs). A customer (of a
    period, or a pair) without lines gets 0 in the order facts; visits are left alone. What an
    import, the fiscal-year re-cut and bulk loads call in their transaction after writing lines.
    """
    quote = connection.ops.quote_name
    table = quote(CustomerPeriodFacts._meta.db_table)
    period_ids = sorted({int(p) for p in period_ids})
    pairs = sorted({(int(p), int(c)) for p, c in pairs if int(p) not in period_ids})
    with transaction.atomic(), connection.cursor() as cursor:
        if period_ids:
            marks = ", ".join(["%s"] * len(period_ids))
            keys = (
                f"SELECT period_id, customer_id FROM agg UNION "
                f"SELECT period_id, customer_id FROM {table} WHERE period_id IN ({marks})"
            )
            sql = _order_facts_sql(lines_where=f"WHERE l.period_id IN ({marks})", keys=keys)
            cursor.execute(sql, [*period_ids, *period_ids])
        size = max(1, min(5000, (connection.features.max_query_params or 10_000) // 2 - 10))
        for start in range(0, len(pairs), size):
            chunk = pairs[start : start + size]
            values = ", ".join(["(%s, %s)"] * len(chunk))
            sql = _order_facts_sql(
                touched=f"touched (period_id, customer_id) AS (VALUES {values}),",
                lines_where="JOIN touched t ON t.period_id = l.period_id AND t.customer_id = l.customer_id",
                keys="SELECT period_id, customer_id FROM touched",
            )
            cursor.execute(sql, [v for pair in chunk for v in pair])


def order_facts_of(*, order_pks: Iterable[int]) -> pd.DataFrame:
    """period_id, customer_id and ``ORDER_FACTS`` (int64) of the stored lines of the orders
    ``order_pks`` (database ids): what a single order adds to its pair, read before it is replaced
    or deleted (its negation is the delta) and after its lines are written (one query)."""
    rows = (
        OrderLine.objects.filter(order_id__in=list(order_pks))
        .values("period_id", "customer_id")
        .annotate(
            revenue_cents=sum_cents("amount"),
            gross_margin_cents=sum_cents(F("amount") - F("cost")),
            orders=Count("order_id", distinct=True),
            order_lines=Count("id"),
        )
        .values_list("period_id", "customer_id", *ORDER_FACTS)
    )
    return pd.DataFrame.from_records(list(rows), columns=["period_id", "customer_id", *ORDER_FACTS]).astype("int64")


def order_facts_pairs(*, order_ids: Iterable[str]) -> set[tuple[int, int]]:
    """The (period_id, customer_id) pairs the stored orders ``order_ids`` (external ids) are in:
    what an import asks before it writes (an order may move to another customer or period) and
    after, and hands both to ``order_facts_rebuild``."""
    order_ids = list(order_ids)
    pairs: set[tuple[int, int]] = set()
    for start in range(0, len(order_ids), 5000):
        rows = Order.objects.filter(external_id__in=order_ids[start : start + 5000])
        pairs.update(rows.values_list("period_id", "customer_id").distinct())
    return pairs
