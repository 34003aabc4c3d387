"""Bulk replacement of a period's computed rows, straight from a DataFrame, written as a difference.

PostgreSQL: ``COPY`` (psycopg 3) — hundreds of thousands of rows per second. SQLite:
``executemany``. No model instances are built, so writing 100,000 rows costs what the database
needs and little more. Call inside the transaction that also marks the computation done.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from decimal import Decimal
from typing import NamedTuple

import numpy as np
import pandas as pd
from django.db import connection


def _column_values(series: pd.Series, kind: str) -> list:
    if kind == "money":  # integer cents -> exact decimal text
        cents = series.astype("int64")
        sign = np.where(cents < 0, "-", "")
        absolute = cents.abs()
        return (sign + (absolute // 100).astype(str) + "." + (absolute % 100).astype(str).str.zfill(2)).tolist()
    if kind == "json_text":  # already JSON text
        return series.tolist()
    if kind == "json":
        return [None if v is None else json.dumps(v, separators=(",", ":")) for v in series]
    if kind == "decimal":  # each distinct value formatted once (a period has few distinct ones)
        present = series.dropna()
        text = {v: str(Decimal(str(v))) for v in present.unique()}
        return series.map(text).astype(object).where(series.notna(), None).tolist()
    values = series.astype(object).where(series.notna(), None).tolist()
    if kind == "bool":
        return [None if v is None else bool(v) for v in values]
    if kind == "int":
        return [None if v is None else int(v) for v in values]
    if kind == "float":
        return [None if v is None else float(v) for v in values]
    return values


def query_frame(queryset, columns: list[str], *, int_columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """The rows of a ``values_list`` queryset as a DataFrame with ``columns``, read with one raw
    cursor (``fetchall``), column by column.

    The ORM's iteration (chunks of 100 rows, a converter call per row) and ``from_records``'
    type inference cost more than the query at 20,000 rows. Only for columns whose raw database
    values are what the caller wants: integers, text, integer cents (``config.money.cents_sql``);
    a date comes back as text on SQLite, a decimal as a float. ``int_columns`` (no NULLs) are built
    as int64 directly; the others as objects, for the caller's ``astype``.
    """
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    return _records_frame(rows, columns, int_columns=int_columns)


def _records_frame(rows: list[tuple], columns: list[str], *, int_columns=()) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c in int_columns else object) for c in columns})
    data = {}
    for name, values in zip(columns, zip(*rows, strict=True), strict=True):
        if name in int_columns:
            try:
                data[name] = np.fromiter(values, dtype=np.int64, count=len(values))
                continue
            except TypeError:  # a NULL after all: as objects
                pass
        data[name] = np.array(values, dtype=object)
    return pd.DataFrame(data)


class Written(NamedTuple):
    """What ``replace_rows`` did: the rows it was given, and the rows it inserted, updated, deleted."""

    rows: int
    inserted: int
    updated: int
    deleted: int


def replace_rows(model, *, where: dict, frame: pd.DataFrame, columns: dict[str, str], key=("customer_id",)) -> Written:
    """Make ``model``'s rows matching ``where`` equal to ``frame``, writing only the difference.

    ``columns`` maps database column -> kind (money, int, float, bool, str, json, json_text, decimal);
    the frame has a column of the same name. Constants (e.g. period_id) go in ``where`` and
    are added to every row. ``key`` (columns of ``columns``) names a row within ``where`` (with it,
    a unique constraint of the table).

    A recompute mostly finds most rows unchanged (one order changes one customer's figures), so
    the stored rows are read (one query, money as integer cents, JSON as the database's text) and
    compared with the frame in pandas; only the rows that differ, or are new, are turned into
    database values and loaded into a temporary table (COPY on PostgreSQL), then three statements
    follow: delete the stored rows whose key is gone, update the rows whose values differ (the
    database compares once more, so a value that only looked different is not written), insert the
    new keys. Unchanged rows are neither formatted, sent nor written: no dead tuples, no index
    churn, stable ids. When nothing is stored yet the rows are written straight into the table.

    A value that compares unequal only by its text (``json`` kind, or JSON text that is not in the
    database's own form: ``jsonb`` prints ``{"1": [2, 3.5]}``, keys by length then bytes) is sent
    again and left to the database's comparison: slower, never wrong.
    """
    names = list(where.keys()) + list(columns.keys())
    table = connection.ops.quote_name(model._meta.db_table)
    memo_key = (connection.alias, connection.settings_dict["NAME"], table, tuple(where.items()), tuple(columns.items()))
    stored = _remembered_rows(memo_key, table, where)
    remembered = stored is not None
    if not remembered:
        stored = _stored_frame(table, where=where, columns=columns)
    if stored is None or stored.empty:
        _load(table, names, _rows(frame, where, columns))
        _remember_rows(memo_key, table, where, frame, columns)
        return Written(len(frame), len(frame), 0, 0)
    if frame.empty:
        deleted, _ = model.objects.filter(**where).delete()
        _remember_rows(memo_key, table, where, frame, columns)
        return Written(0, 0, 0, deleted)
    send, gone = _difference(frame, stored, columns=columns, key=list(key))
    if not send.any() and not len(gone):
        if not remembered:  # the remembered rows are these already
            _remember_rows(memo_key, table, where, frame, columns)
        return Written(len(frame), 0, 0, 0)
    quote = connection.ops.quote_name
    stage = quote(f"stage_{model._meta.db_table}")
    where_sql = _where_sql(where, alias="t.")
    params = list(where.values())
    same_key = " AND ".join(f"s.{quote(c)} = t.{quote(c)}" for c in key)
    distinct = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    values = [c for c in columns if c not in key]
    differs = " OR ".join(f"t.{quote(c)} {distinct} s.{quote(c)}" for c in values) or "FALSE"
    column_list = ", ".join(quote(n) for n in names)
    deleted = updated = inserted = 0
    with connection.cursor() as cur:
        if len(gone):
            deleted = _delete_keys(cur, table, where, key, gone)
        if send.any():
            cur.execute(f"DROP TABLE IF EXISTS {stage}")
            cur.execute(f"CREATE TEMPORARY TABLE {stage} AS SELECT {column_list} FROM {table} WHERE 1 = 0")
            _load(stage, names, _rows(frame[send], where, columns), cur)
            sets = ", ".join(f"{quote(c)} = s.{quote(c)}" for c in values)
            if values:
                cur.execute(
                    f"UPDATE {table} AS t SET {sets} FROM {stage} s WHERE {where_sql} AND {same_key} AND ({differs})",
                    params,
                )
                updated = cur.rowcount
            cur.execute(
                f"INSERT INTO {table} ({column_list}) SELECT {column_list} FROM {stage} s "
                f"WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {where_sql} AND {same_key})",
                params,
            )
            inserted = cur.rowcount
            cur.execute(f"DROP TABLE {stage}")
    _remember_rows(memo_key, table, where, frame, columns)
    return Written(len(frame), inserted, updated, deleted)


# --- the rows this process wrote last (PostgreSQL) ----------------------------------------------
#
# A recompute after one order reads back every stored row of the period only to compare (at 20,000
# customers the profit rows' waterfall text alone is 50 ms of the database's time). The rows this
# process wrote last are what is stored, unless someone wrote them since: PostgreSQL says so in each
# row's header. The fingerprint (how many rows, the newest writing transaction ``xmin`` and, within
# one transaction, the newest statement ``cmin``) is read right after writing and again before the
# next comparison, from the rows' headers alone; any insert, update or delete by anyone else,
# or a rollback of ours, changes it, and then the stored rows are read as before. SQLite has no
# such header: there the stored rows are always read.

_MEMO_SIZE = 6  # (table, where) pairs: the pyramid, profit and value rows of two periods
_memo: OrderedDict[tuple, tuple[tuple, pd.DataFrame]] = OrderedDict()
_memo_lock = threading.Lock()


def _where_sql(where: dict, alias: str = "") -> str:
    """``where``'s columns as SQL conditions with ``%s`` for their values (``list(where.values())``)."""
    return " AND ".join(f"{alias}{connection.ops.quote_name(c)} = %s" for c in where)


def _remember(memo: OrderedDict, key: tuple, value: tuple, size: int) -> None:
    """Keep ``value`` under ``key``, dropping the least recently kept beyond ``size``."""
    with _memo_lock:
        memo[key] = value
        memo.move_to_end(key)
        while len(memo) > size:
            memo.popitem(last=False)


def _fingerprint(table: str, where: dict) -> tuple:
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT COUNT(*), MAX(xmin::text::bigint), MAX(cmin::text::bigint) FROM {table} WHERE {_where_sql(where)}",
            list(where.values()),
        )
        return tuple(cur.fetchone())


def _remembered_rows(memo_key: tuple, table: str, where: dict) -> pd.DataFrame | None:
    """The rows this process wrote last under ``where``, if nobody wrote them since; else None."""
    if connection.vendor != "postgresql":
        return None
    with _memo_lock:
        remembered = _memo.get(memo_key)
    if remembered is None:
        return None
    fingerprint, rows = remembered
    return rows if _fingerprint(table, where) == fingerprint else None


def _remember_rows(memo_key: tuple, table: str, where: dict, frame: pd.DataFrame, columns: dict[str, str]) -> None:
    if connection.vendor != "postgresql":
        return
    fingerprint = _fingerprint(table, where)
    rows = pd.DataFrame({c: _as_stored(frame[c], kind) for c, kind in columns.items()}, index=frame.index)
    _remember(_memo, memo_key, (fingerprint, rows.reset_index(drop=True)), _MEMO_SIZE)


_frames: OrderedDict[tuple, tuple[tuple, pd.DataFrame]] = OrderedDict()
_FRAMES_SIZE = 8


def remembered_frame(model, where: dict, read: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """``read()``, or on PostgreSQL a copy of the frame it gave last in this process while the rows of
    ``model`` under ``where`` show the same fingerprint as then (see above): for reads that depend on
    those rows alone, such as a period's invoices or an earlier period's levels, which a recompute
    after an order would otherwise read again unchanged."""
    if connection.vendor != "postgresql":
        return read()
    table = connection.ops.quote_name(model._meta.db_table)
    key = (connection.alias, connection.settings_dict["NAME"], table, tuple(where.items()), read.__qualname__)
    fingerprint = _fingerprint(table, where)
    with _memo_lock:
        remembered = _frames.get(key)
    if remembered is not None and remembered[0] == fingerprint:
        return remembered[1].copy()
    frame = read()
    _remember(_frames, key, (fingerprint, frame.copy()), _FRAMES_SIZE)
    return frame


def _as_stored(series: pd.Series, kind: str) -> pd.Series:
    """A column of a frame as ``_stored_frame`` reads it back: JSON and decimals as their text."""
    if kind in ("json", "decimal"):
        return pd.Series(_column_values(series, kind), index=series.index, dtype=object)
    return series


def _rows(frame: pd.DataFrame, where: dict, columns: dict[str, str]) -> list[tuple]:
    data = [[v] * len(frame) for v in where.values()]
    data += [_column_values(frame[c], kind) for c, kind in columns.items()]
    return list(zip(*data, strict=True))


def _stored_sql(column: str, kind: str) -> str:
    if kind == "money":  # integer cents, as config.money.cents_sql
        return f"CAST(ROUND({column} * 100) AS BIGINT)"
    if kind in ("json", "json_text", "decimal") and connection.vendor == "postgresql":
        return f"{column}::text"
    return column


def _stored_frame(table: str, *, where: dict, columns: dict[str, str]) -> pd.DataFrame | None:
    """``columns`` of the stored rows matching ``where`` (money in cents, JSON and decimals as text),
    or None when there are none (one query)."""
    quote = connection.ops.quote_name
    select = ", ".join(_stored_sql(quote(c), kind) for c, kind in columns.items())
    with connection.cursor() as cur:
        cur.execute(f"SELECT {select} FROM {table} WHERE {_where_sql(where)}", list(where.values()))
        rows = cur.fetchall()
    if not rows:
        return None
    whole = tuple(c for c, kind in columns.items() if kind == "money")  # never NULL
    return _records_frame(rows, list(columns), int_columns=whole)


def _comparable(series: pd.Series, kind: str, *, stored: bool) -> pd.Series:
    """A column of the frame, or of the stored rows, in one form for both (None for a missing value)."""
    if kind == "money":
        return series.astype("Int64")
    if kind == "int":
        return series.astype("Int64")
    if kind == "bool":
        return series.astype("boolean")
    if kind == "float":
        return series.astype("Float64")
    if kind in ("json", "decimal") and not stored:
        return pd.Series(_column_values(series, kind), index=series.index, dtype=object)
    return series.astype(object).where(series.notna(), None)


def _difference(frame: pd.DataFrame, stored: pd.DataFrame, *, columns: dict[str, str], key: list[str]):
    """(a boolean per frame row: new or different from its stored row; the keys of the stored rows
    that are not in the frame, a list of tuples). Rows are matched by key with a hash lookup, no join."""

    def keys(table: pd.DataFrame, *, is_stored: bool) -> pd.Index:
        arrays = [_comparable(table[c], columns[c], stored=is_stored).to_numpy() for c in key]
        return pd.MultiIndex.from_arrays(arrays) if len(key) > 1 else pd.Index(arrays[0])

    new_keys, old_keys = keys(frame, is_stored=False), keys(stored, is_stored=True)
    position = old_keys.get_indexer(new_keys)  # the stored row of each frame row, -1 if none
    found = position >= 0
    send = ~found
    at = position[found]
    for c, kind in columns.items():
        if c in key:
            continue
        a = _comparable(frame[c], kind, stored=False)[found]
        b = _comparable(stored[c], kind, stored=True).iloc[at]
        if a.dtype == object or b.dtype == object:
            same = np.fromiter((x == y for x, y in zip(a.tolist(), b.tolist(), strict=True)), dtype=bool, count=len(a))
        else:
            a, b = a.reset_index(drop=True), b.reset_index(drop=True)
            same = ((a == b).fillna(False) | (a.isna() & b.isna())).to_numpy(dtype=bool)
        send[found] |= ~same
    gone_keys = old_keys[~old_keys.isin(new_keys)]
    gone = [tuple(_python(v) for v in (k if len(key) > 1 else (k,))) for k in gone_keys.tolist()]
    return send, gone


def _python(value):
    return value.item() if hasattr(value, "item") else value


def _delete_keys(cur, table: str, where: dict, key, gone: list[tuple]) -> int:
    """Delete the rows under ``where`` whose ``key`` is one of ``gone``, 500 at a time."""
    where_sql = _where_sql(where)
    columns = ", ".join(connection.ops.quote_name(c) for c in key)
    one = "(" + ", ".join(["%s"] * len(key)) + ")"
    deleted = 0
    for start in range(0, len(gone), 500):
        chunk = gone[start : start + 500]
        cur.execute(
            f"DELETE FROM {table} WHERE {where_sql} AND ({columns}) IN ({', '.join([one] * len(chunk))})",
            [*where.values(), *(v for k in chunk for v in k)],
        )
        deleted += cur.rowcount
    return deleted


def _load(table: str, names: list[str], rows: list[tuple], cur=None) -> None:
    """Insert ``rows`` into ``table`` (COPY on PostgreSQL, executemany elsewhere)."""
    if not rows:
        return
    column_list = ", ".join(connection.ops.quote_name(n) for n in names)
    if cur is None:
        with connection.cursor() as own:
            _load(table, names, rows, own)
        return
    if connection.vendor == "postgresql":
        with cur.cursor.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join(["%s"] * len(names))
        cur.executemany(f"INSERT INTO {table} ({column_list}) VALUES ({marks})", rows)
