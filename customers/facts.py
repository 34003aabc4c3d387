"""The per customer-period facts of the core (``CustomerPeriodFacts``): how higher apps write them
and how readers get them.

A higher app that owns a figure a lower one needs (the sales force's visits, which accounting's
allocation keys use) writes it here, in its own transaction, so the reader imports nothing of the
writer (README, Architecture). Two ways to write, both for any subset of ``FACT_COLUMNS``:

- ``customer_facts_add``: delta upsert, ``column = column + delta`` per (period, customer); what a
  single write (a visit logged, changed, deleted) or an import adds or takes away.
- ``customer_facts_replace``: the exact values of some columns for whole periods (a rebuild).
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from django.db import connection, transaction

from .models import CustomerPeriodFacts

#: The summable facts per customer and period.
FACT_COLUMNS = ("visits", "visit_minutes")


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
    names = ["period_id", "customer_id", *columns]
    if add:
        # A delta that takes something away applies to the stored row (an INSERT of a negative
        # candidate row would fail the table's check before ON CONFLICT turns it into an update).
        lowers = (grouped[columns] < 0).any(axis=1)
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


def customer_facts_frame(*, period, columns: tuple[str, ...] = FACT_COLUMNS) -> pd.DataFrame:
    """customer_id and ``columns`` (int64) of the period's stored facts (one query)."""
    unknown = set(columns) - set(FACT_COLUMNS)
    if unknown:
        raise ValueError(f"Unknown customer-period facts: {', '.join(sorted(unknown))}.")
    rows = CustomerPeriodFacts.objects.filter(period=period).values_list("customer_id", *columns)
    return pd.DataFrame.from_records(list(rows), columns=["customer_id", *columns]).astype("int64")
