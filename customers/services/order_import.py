"""The orders import: one row per order line, all or nothing, closed periods refused."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F
from django.utils.translation import gettext

from config.dates import date_window_reason, outside_date_window
from config.eventbus import publish
from config.intake import (
    ErrorList,
    ImportFailed,
    Layout,
    RowError,
    parse_date,
    parse_money_cents,
    parse_number,
    read_chunks,
    too_long,
)
from config.money import cents_sql

from .. import policy, selectors
from ..events import OrdersChanged
from ..facts import order_facts_pairs, order_facts_rebuild
from ..models import Order, OrderLine, Period, Product, ProductGroup
from ..period_services import closed_period_message, closed_period_names
from . import order_staging as staging
from .periods import fiscal_year_of, periods_for_write, periods_from
from .results import ImportResult, Progress

ORDER_LAYOUT = Layout(("order_id", "customer_id", "date", "amount"), ("cost", "quantity", "product", "product_group"))


@dataclass
class _OrderState:
    """What the two passes remember across chunks: small per order, not per line."""

    customers: dict[str, int]
    orders: dict[str, tuple[str, pd.Timestamp]] = field(default_factory=dict)
    lines_seen: dict[str, int] = field(default_factory=dict)
    #: orders stored in a closed period that the file names: id -> (stored lines, period name, first row)
    closed_orders: dict[str, tuple[int, int, int]] = field(default_factory=dict)


def _conflict_reason(_key: object = None) -> str:
    return gettext(
        "this order id appears earlier in the file with another customer or date; "
        "one order has one customer and one date"
    )


def _foreign_reason(_key: object = None) -> str:
    return gettext("this order id is an order of a customer outside your teams; you may not change it")


def _order_rows_checked(chunk: pd.DataFrame, errors: ErrorList, customers: dict[str, int]) -> pd.DataFrame:
    """The checks of each row on its own; the chunk with ``customer_pk, date_parsed, amount_cents,
    cost_cents, quantity_num``."""
    errors.add_mask(chunk, chunk["order_id"] == "", "order_id", gettext("missing order id"))
    errors.add_mask(
        chunk, too_long(chunk["order_id"], 64), "order_id", gettext("longer than %(n)s characters") % {"n": 64}
    )
    customer_pk = chunk["customer_id"].map(customers)
    errors.add_mask(
        chunk,
        customer_pk.isna(),
        "customer_id",
        gettext("unknown customer; import the customer first (customers file) or correct the id"),
    )
    date, bad_date = parse_date(chunk["date"])
    errors.add_mask(chunk, bad_date, "date", gettext("not a date; write it as YYYY-MM-DD"))
    errors.add_mask(chunk, ~bad_date & outside_date_window(date), "date", date_window_reason())
    amount, bad_amount = parse_money_cents(chunk["amount"])
    errors.add_mask(chunk, bad_amount, "amount", gettext("not a number; write amounts like 1234.56 or 1234,56"))
    cost, bad_cost = parse_money_cents(chunk["cost"], required=False)
    errors.add_mask(chunk, bad_cost, "cost", gettext("not a number; write amounts like 1234.56 or 1234,56"))
    quantity, bad_qty = parse_number(chunk["quantity"])
    errors.add_mask(chunk, bad_qty | (quantity.abs() >= 1e12), "quantity", gettext("not a number"))
    for col in ("product", "product_group"):
        errors.add_mask(chunk, too_long(chunk[col], 100), col, gettext("longer than %(n)s characters") % {"n": 100})
    errors.add_mask(
        chunk,
        (chunk["product_group"] != "") & (chunk["product"] == ""),
        "product_group",
        gettext("a product group needs a product in the same row"),
    )
    return chunk.assign(
        customer_pk=customer_pk, date_parsed=date, amount_cents=amount, cost_cents=cost, quantity_num=quantity
    )


def _validate_orders_chunk(chunk: pd.DataFrame, errors: ErrorList, state: _OrderState) -> pd.DataFrame:
    """The checks of each row, then those across rows and chunks (``state``); adds ``line_no``."""
    chunk = _order_rows_checked(chunk, errors, state.customers)
    date = chunk["date_parsed"]
    # An order belongs to one customer on one date, across all its rows.
    first = chunk.drop_duplicates("order_id")
    conflict = np.zeros(len(chunk), dtype=bool)
    for oid, cust, day in zip(first["order_id"], first["customer_id"], date[first.index], strict=True):
        prev = state.orders.get(oid)
        if prev is None:
            state.orders[oid] = (cust, day)
    expected = chunk["order_id"].map(lambda o: state.orders.get(o, ("", None))[0])
    conflict |= (expected != chunk["customer_id"]).to_numpy()
    expected_day = pd.to_datetime(chunk["order_id"].map(lambda o: state.orders.get(o, ("", None))[1]))
    conflict |= ((expected_day != date) & date.notna()).to_numpy()
    errors.add_mask(
        chunk,
        pd.Series(conflict, index=chunk.index) & (chunk["order_id"] != ""),
        "order_id",
        _conflict_reason(),
    )
    # Line number = position of the row within its order in the file.
    offset = chunk["order_id"].map(lambda o: state.lines_seen.get(o, 0))
    line_no = offset + chunk.groupby("order_id", sort=False).cumcount() + 1
    counts = chunk["order_id"].value_counts()
    for oid, n in counts.items():
        state.lines_seen[oid] = state.lines_seen.get(oid, 0) + int(n)
    return chunk.assign(line_no=line_no)


def _products_ensure(chunk: pd.DataFrame) -> pd.Series:
    """Create missing product groups and products of a chunk; product pk per row (or NA)."""
    named = chunk[chunk["product"] != ""]
    if named.empty:
        return pd.Series(pd.NA, index=chunk.index, dtype="Int64")
    groups = set(named["product_group"]) - {""}
    if groups:
        ProductGroup.objects.bulk_create([ProductGroup(name=g) for g in groups], ignore_conflicts=True)
    group_ids = dict(ProductGroup.objects.filter(name__in=groups).values_list("name", "id"))
    products = named.drop_duplicates("product")
    Product.objects.bulk_create(
        [
            Product(code=p, group_id=group_ids.get(g))
            for p, g in zip(products["product"], products["product_group"], strict=True)
        ],
        ignore_conflicts=True,
    )
    ids = dict(Product.objects.filter(code__in=list(products["product"])).values_list("code", "id"))
    return chunk["product"].map(ids).astype("Int64")


def _upsert_sql(table: str, columns: list[str], conflict: list[str], update: list[str]) -> str:
    cols = ", ".join(columns)
    marks = ", ".join(["%s"] * len(columns))
    sets = ", ".join(f"{c} = excluded.{c}" for c in update)
    changed = " OR ".join(f"{table}.{c} IS DISTINCT FROM excluded.{c}" for c in update)
    if connection.vendor == "sqlite":
        changed = " OR ".join(f"{table}.{c} IS NOT excluded.{c}" for c in update)
    return (
        f"INSERT INTO {table} ({cols}) VALUES ({marks}) ON CONFLICT ({', '.join(conflict)}) "
        f"DO UPDATE SET {sets} WHERE {changed}"
    )


def orders_import(*, path: str | Path, acting_user=None, progress: Progress = None) -> ImportResult:
    """Upsert orders and their lines (order_id + line number) from a CSV/XLSX file; all or nothing."""
    scope = policy.import_scope(acting_user, "orders")
    if connection.vendor == "postgresql":
        try:
            return _orders_import_staged(path=path, scope=scope, progress=progress)
        except IntegrityError:
            # New orders are plain INSERTs: another writer saved one of them (or removed a customer)
            # while the file was read. The transaction rolled back; the file can simply be sent again.
            raise ImportFailed(
                [
                    RowError(
                        0,
                        "order_id",
                        "",
                        gettext(
                            "another change to the same orders or customers was saved while this file was "
                            "imported; nothing was written: import the file again"
                        ),
                    )
                ]
            ) from None
    state = _OrderState(customers=scope.customers())
    errors = ErrorList()
    start_month = selectors.pyramid_settings_get().fiscal_year_start_month
    closed = closed_period_names()
    result = ImportResult("orders")
    order_table = Order._meta.db_table
    touched_periods: set[int] = set()
    before_orders = set(Order.objects.values_list("external_id", flat=True))
    changed_orders: set[str] = set()
    facts_before: set[tuple[int, int]] = set()  # the order facts' pairs of the file's orders before the write
    # One pass: each chunk is checked, then written while the file has no bad row so far; the checks
    # go on to the end of the file, and a bad row anywhere rolls the whole transaction back. The checks
    # of a later chunk see the rows written before it only where those were allowed anyway (an order
    # of the file in an open period and a customer in scope), so they answer as before the write.
    with transaction.atomic():
        for chunk in read_chunks(path, ORDER_LAYOUT):
            first_seen = [oid for oid in chunk["order_id"].unique().tolist() if oid not in state.orders]
            chunk = _validate_orders_chunk(chunk, errors, state)
            _closed_period_order_errors(chunk, errors, state, closed, start_month)
            errors.add_mask(
                chunk,
                chunk["order_id"].isin(scope.foreign_keys(Order.objects.all(), chunk["order_id"])),
                "order_id",
                _foreign_reason(),
            )
            result.rows += len(chunk)
            if errors.total:
                continue
            facts_before |= order_facts_pairs(order_ids=first_seen)
            fy = fiscal_year_of(chunk["date_parsed"], start_month)
            # Rows dated in a closed period passed validation only because they equal what is stored:
            # they write nothing (and count as unchanged).
            keep = ~fy.isin(closed)
            chunk, fy = chunk[keep], fy[keep]
            if chunk.empty:
                continue
            period_ids = periods_for_write(names=set(fy.unique().tolist()))
            chunk = chunk.assign(period_pk=fy.map(period_ids).astype("int64"), product_pk=_products_ensure(chunk))
            touched_periods.update(int(p) for p in chunk["period_pk"].unique())
            orders = chunk.drop_duplicates("order_id")
            old_periods = (
                Order.objects.filter(external_id__in=list(orders["order_id"]))
                .values_list("period_id", flat=True)
                .distinct()
            )
            touched_periods.update(old_periods)
            with connection.cursor() as cur:
                _upsert_staged(
                    cur,
                    table=order_table,
                    staged=_STAGED_ORDERS,
                    columns=_ORDER_COLUMNS,
                    types=_ORDER_TYPES,
                    key=["external_id"],
                    rows=list(
                        zip(
                            orders["order_id"],
                            orders["customer_pk"].astype("int64").tolist(),
                            orders["date_parsed"].dt.date.tolist(),
                            orders["period_pk"].tolist(),
                            strict=True,
                        )
                    ),
                )
            changed_orders.update(_orders_differing(chunk))
            order_pks = _ids_for(Order, "external_id", orders["order_id"].tolist())
            amounts = _decimal_text(chunk["amount_cents"])
            costs = _decimal_text(chunk["cost_cents"])
            quantities = _quantity_text(chunk["quantity_num"])
            product = chunk["product_pk"].astype(object).where(chunk["product_pk"].notna(), None)
            with connection.cursor() as cur:
                _upsert_staged(
                    cur,
                    table=OrderLine._meta.db_table,
                    staged=_STAGED_LINES,
                    columns=_LINE_COLUMNS,
                    types=_LINE_TYPES,
                    key=["order_id", "line_no"],
                    rows=list(
                        zip(
                            chunk["order_id"].map(order_pks).tolist(),
                            chunk["line_no"].astype("int64").tolist(),
                            amounts,
                            costs,
                            quantities,
                            product.tolist(),
                            chunk["customer_pk"].astype("int64").tolist(),
                            chunk["period_pk"].tolist(),
                            strict=True,
                        )
                    ),
                )
            if progress:
                progress(min(89, result.rows // 10_000))
        _closed_order_surplus_errors(errors, state)
        errors.raise_if_any()
        with connection.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {_STAGED_LINES}")
            cur.execute(f"DROP TABLE IF EXISTS {_STAGED_ORDERS}")
        # Only an order stored before this import can have lines beyond the file's: a new one has
        # exactly the lines just written (a first import of 1,000,000 lines skipped 2.3 s of queries).
        stored_before = {oid: n for oid, n in state.lines_seen.items() if oid in before_orders}
        changed_orders.update(_drop_surplus_lines(stored_before))
        new_orders = state.lines_seen.keys() - before_orders
        result.created = len(new_orders)
        result.updated = len(changed_orders - new_orders)
        result.unchanged = len(state.lines_seen) - result.created - result.updated
        if result.created or result.updated:  # the order facts of every pair the file's orders left or entered
            order_facts_rebuild(pairs=facts_before | order_facts_pairs(order_ids=state.orders))
        if touched_periods and (result.created or result.updated):
            first = Period.objects.filter(id__in=touched_periods).order_by("name").values_list("name", flat=True)[0]
            publish(OrdersChanged(period_ids=tuple(periods_from(first_name=first))))
        result.periods = sorted(Period.objects.filter(id__in=touched_periods).values_list("name", flat=True))
    return result


def _orders_import_staged(*, path: str | Path, scope: policy.ImportScope, progress: Progress) -> ImportResult:
    """``orders_import`` on PostgreSQL: each chunk checked row by row, then COPYed into a staging
    table; the checks across rows and the merge are set-based (``order_staging``). One read of the
    file, one transaction; memory holds one chunk whatever the file's size."""
    customers = scope.customers()
    errors = ErrorList()
    start_month = selectors.pyramid_settings_get().fiscal_year_start_month
    closed = closed_period_names()
    result = ImportResult("orders")
    products: dict[str, str] = {}  # product -> its group, from its first row outside closed periods
    with transaction.atomic(), connection.cursor() as cur:
        staging.stage_create(cur)
        for chunk in read_chunks(path, ORDER_LAYOUT):
            frame = _staged_frame(_order_rows_checked(chunk, errors, customers), start_month)
            staging.stage_chunk(cur, frame)
            named = frame[(frame["product"] != "") & frame["fy"].notna() & ~frame["fy"].isin(closed)]
            first = named.drop_duplicates("product")
            for product, group in zip(first["product"].tolist(), first["product_group"].tolist(), strict=True):
                products.setdefault(product, group)
            result.rows += len(chunk)
        staging.stage_number_lines(cur)
        if progress:
            progress(40)
        staging.staged_errors(
            cur,
            errors,
            customer_ids=scope.customer_ids,
            closed=closed,
            messages={"conflict": _conflict_reason, "foreign": _foreign_reason, "closed": closed_period_message},
        )
        errors.raise_if_any()
        period_ids = periods_for_write(names=staging.staged_period_names(cur, closed))
        _products_ensure(pd.DataFrame({"product": list(products), "product_group": list(products.values())}))
        if progress:
            progress(50)
        staging.staged_merge(cur, period_ids=period_ids, closed=closed)
        total, result.created, result.updated, touched_periods, pairs = staging.staged_outcome(cur, closed)
        result.unchanged = total - result.created - result.updated
        staging.stage_drop(cur)
        if result.created or result.updated:  # the order facts of every pair a changed order left or entered
            order_facts_rebuild(pairs=pairs)
        if touched_periods and (result.created or result.updated):
            first = Period.objects.filter(id__in=touched_periods).order_by("name").values_list("name", flat=True)[0]
            publish(OrdersChanged(period_ids=tuple(periods_from(first_name=first))))
        result.periods = sorted(Period.objects.filter(id__in=touched_periods).values_list("name", flat=True))
    if progress:
        progress(90)
    return result


def _staged_frame(chunk: pd.DataFrame, start_month: int) -> pd.DataFrame:
    """A checked chunk in the columns of ``order_staging.STAGED`` and ``product_group`` (NA where a value
    is bad)."""
    date = chunk["date_parsed"]
    fy = date.dt.year - (date.dt.month < start_month).astype("int64")
    return pd.DataFrame(
        {
            "row": chunk["_row"],
            "order_id": chunk["order_id"],
            "customer_ext": chunk["customer_id"],
            "customer_id": chunk["customer_pk"].astype("Int64"),
            "date_text": chunk["date"],
            "date": date.dt.strftime("%Y-%m-%d"),
            "fy": fy.astype("Int64"),
            "amount_cents": chunk["amount_cents"],
            "cost_cents": chunk["cost_cents"],
            "quantity": chunk["quantity_num"],
            "product": chunk["product"],
            "product_group": chunk["product_group"],
        }
    )


def _closed_period_order_errors(
    chunk: pd.DataFrame, errors: ErrorList, state: _OrderState, closed: set[int], start_month: int
) -> None:
    """Rows that would add, change or delete something dated in a closed period: one row error each.

    A row dated in a closed period that equals the stored order line (same order, line number,
    customer, date, amount, cost, quantity and product) writes nothing and is accepted: re-importing
    last year's file after the close reports it as unchanged. Refused, naming the period: a new order
    or line in a closed period, a changed one, and an order stored in a closed period that the file
    dates elsewhere. An order stored in a closed period that the file gives fewer lines (its surplus
    would be deleted) is refused after the last chunk (``_closed_order_surplus_errors``).
    """
    if not closed or chunk.empty:
        return
    fy = fiscal_year_of(chunk["date_parsed"].fillna(pd.Timestamp("1900-06-01")), start_month)
    in_closed = chunk["date_parsed"].notna() & fy.isin(closed)
    ids = chunk["order_id"].unique().tolist()
    stored_closed = {
        oid: (int(n), int(name))
        for oid, name, n in Order.objects.filter(external_id__in=ids, period__closed=True)
        .annotate(n=Count("lines"))
        .values_list("external_id", "period__name", "n")
    }
    first_rows = chunk.drop_duplicates("order_id")
    for oid, row in zip(first_rows["order_id"], first_rows["_row"], strict=True):
        if oid in stored_closed and oid not in state.closed_orders:
            state.closed_orders[oid] = (*stored_closed[oid], int(row))
    stored_name = chunk["order_id"].map(lambda o: stored_closed.get(o, (0, None))[1])
    moved_out = stored_name.notna() & (~in_closed | (fy != stored_name))
    for name in sorted({int(n) for n in stored_name[moved_out]}):
        errors.add_mask(chunk, moved_out & (stored_name == name), "date", closed_period_message(name))
    check = in_closed & ~moved_out
    if not check.any():
        return
    changed = check & _lines_differ_from_stored(chunk[check]).reindex(chunk.index, fill_value=False)
    for name in sorted(closed):
        errors.add_mask(chunk, changed & (fy == name), "date", closed_period_message(name))


def _lines_differ_from_stored(chunk: pd.DataFrame) -> pd.Series:
    """Per row of a validated chunk: True where no stored order line equals it (one query)."""
    cols = ["order_id", "line_no", "customer", "date", "amount_cents", "cost_cents", "quantity", "product"]
    stored = pd.DataFrame.from_records(
        list(
            OrderLine.objects.filter(order__external_id__in=list(chunk["order_id"].unique()))
            .annotate(amount_cents=cents_sql(F("amount")), cost_cents=cents_sql(F("cost")))
            .values_list(
                "order__external_id",
                "line_no",
                "order__customer_id",
                "order__date",
                "amount_cents",
                "cost_cents",
                "quantity",
                "product__code",
            )
        ),
        columns=cols,
    )
    incoming = pd.DataFrame(
        {
            "order_id": chunk["order_id"].to_numpy(),
            "line_no": chunk["line_no"].astype("int64").to_numpy(),
            "customer": chunk["customer_pk"].astype("Float64").to_numpy(),
            "date": chunk["date_parsed"].dt.date.to_numpy(),
            "amount_cents": chunk["amount_cents"].astype("Float64").to_numpy(),
            "cost_cents": chunk["cost_cents"].astype("Float64").to_numpy(),
            "quantity": chunk["quantity_num"].astype("float64").round(3).to_numpy(),
            "product": chunk["product"].to_numpy(),
        },
        index=chunk.index,
    )
    stored = stored.assign(
        customer=stored["customer"].astype("Float64"),
        amount_cents=stored["amount_cents"].astype("Float64"),
        cost_cents=stored["cost_cents"].astype("Float64"),
        quantity=pd.to_numeric(stored["quantity"], errors="coerce").astype("float64").round(3),
        product=stored["product"].fillna(""),
    )
    both = incoming.reset_index().merge(stored, on=["order_id", "line_no"], how="left", suffixes=("", "_db"))
    differ = both["date_db"].isna()
    for col in cols[2:]:
        differ |= ~(both[col] == both[f"{col}_db"]).fillna(False).astype(bool)
    return pd.Series(differ.to_numpy(), index=both["index"].to_numpy())


def _closed_order_surplus_errors(errors: ErrorList, state: _OrderState) -> None:
    """Orders stored in a closed period that the file gives fewer lines than stored: refused (the
    re-import would delete the surplus lines), on the order's first row."""
    for oid, (stored_lines, name, row) in state.closed_orders.items():
        if state.lines_seen.get(oid, 0) < stored_lines:
            errors.add(row, "order_id", oid, closed_period_message(name))


_STAGED_LINES = "kw_import_staged_lines"
_LINE_COLUMNS = ["order_id", "line_no", "amount", "cost", "quantity", "product_id", "customer_id", "period_id"]
_LINE_TYPES = ["integer", "integer", "decimal", "decimal", "decimal", "integer", "integer", "integer"]
_STAGED_ORDERS = "kw_import_staged_orders"
_ORDER_COLUMNS = ["external_id", "customer_id", "date", "period_id"]
_ORDER_TYPES = ["text", "integer", "text", "integer"]


def _upsert_staged(cursor, *, table: str, staged: str, columns: list[str], types: list[str], key: list[str], rows):
    """SQLite: a chunk's rows into a temporary table by a plain executemany, then into ``table`` by
    one ``INSERT ... SELECT ... ON CONFLICT (key) DO UPDATE ... WHERE changed``: three to four times
    the rows/s of an executemany of the upsert (bench/probe_upsert.py)."""
    update = [c for c in columns if c not in key]
    spec = ", ".join(f"{c} {t}" for c, t in zip(columns, types, strict=True))
    cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {staged} ({spec})")
    cursor.execute(f"DELETE FROM {staged}")
    cursor.executemany(f"INSERT INTO {staged} VALUES ({', '.join(['%s'] * len(columns))})", rows)
    names = ", ".join(columns)
    cursor.execute(
        f"INSERT INTO {table} ({names}) SELECT {names} FROM {staged} WHERE true "  # WHERE: SQLite's upsert parse
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in update)} "
        f"WHERE {' OR '.join(f'{table}.{c} IS NOT excluded.{c}' for c in update)}"
    )


def _quantity_text(quantity: pd.Series) -> list[str]:
    """Quantities to decimal strings with 3 decimals, as ``Decimal(repr(q)).quantize(0.001)`` (half
    to even on the shortest repr): whole numbers vectorised, the others one by one."""
    values = quantity.to_numpy(dtype="float64")
    whole = (values == np.floor(values)) & ~((values == 0) & np.signbit(values))
    text = pd.Series(values.astype("int64").astype(str), index=quantity.index, dtype=object) + ".000"
    if not whole.all():
        rest = quantity[~whole].map(lambda q: str(Decimal(repr(q)).quantize(Decimal("0.001"))))
        text[~whole] = rest
    return text.tolist()


def _decimal_text(cents: pd.Series) -> list[str]:
    """Integer cents to exact decimal strings '-12.34' (vectorised, no float)."""
    sign = np.where(cents < 0, "-", "")
    absolute = cents.abs()
    whole = (absolute // 100).astype(str)
    frac = (absolute % 100).astype(str).str.zfill(2)
    return (sign + whole + "." + frac).tolist()


def _ids_for(model, field_name: str, values: list[str], batch: int = 5000) -> dict[str, int]:
    ids: dict[str, int] = {}
    for i in range(0, len(values), batch):
        ids.update(model.objects.filter(**{f"{field_name}__in": values[i : i + batch]}).values_list(field_name, "id"))
    return ids


def _drop_surplus_lines(lines_per_order: dict[str, int]) -> set[str]:
    """Re-import semantics: an order that now has fewer lines loses its surplus lines.

    Returns the external ids of the orders that lost lines."""
    by_count: dict[int, list[str]] = {}
    for oid, n in lines_per_order.items():
        by_count.setdefault(n, []).append(oid)
    shrunk: set[str] = set()
    for n, oids in by_count.items():
        for i in range(0, len(oids), 5000):
            surplus = OrderLine.objects.filter(order__external_id__in=oids[i : i + 5000], line_no__gt=n)
            shrunk.update(surplus.values_list("order__external_id", flat=True))
            surplus.delete()
    return shrunk


def _orders_differing(chunk: pd.DataFrame) -> set[str]:
    """External ids of the chunk's orders whose stored order or lines differ from the chunk's rows
    (new orders and new lines included). Read before the upsert writes them (one query)."""
    cols = ["order_id", "line_no", "amount_cents", "cost_cents", "quantity", "product", "customer", "period", "date"]
    stored = pd.DataFrame.from_records(
        list(
            OrderLine.objects.filter(order__external_id__in=list(chunk["order_id"].unique()))
            .annotate(amount_cents=cents_sql(F("amount")), cost_cents=cents_sql(F("cost")))
            .values_list(
                "order__external_id",
                "line_no",
                "amount_cents",
                "cost_cents",
                "quantity",
                "product_id",
                "customer_id",
                "period_id",
                "order__date",
            )
        ),
        columns=cols,
    )
    incoming = pd.DataFrame(
        {
            "order_id": chunk["order_id"].to_numpy(),
            "line_no": chunk["line_no"].astype("int64").to_numpy(),
            "amount_cents": chunk["amount_cents"].astype("int64").to_numpy(),
            "cost_cents": chunk["cost_cents"].astype("int64").to_numpy(),
            "quantity": chunk["quantity_num"].round(3).to_numpy(),
            "product": chunk["product_pk"].astype("Float64").to_numpy(),
            "customer": chunk["customer_pk"].astype("int64").to_numpy(),
            "period": chunk["period_pk"].astype("int64").to_numpy(),
            "date": chunk["date_parsed"].dt.date.to_numpy(),
        }
    )
    both = incoming.merge(stored, on=["order_id", "line_no"], how="left", suffixes=("", "_db"), indicator=True)
    differ = both["_merge"] == "left_only"
    for col in cols[2:]:
        db = both[f"{col}_db"]
        if col == "quantity":
            db = pd.to_numeric(db, errors="coerce").astype("float64").round(3)
        elif col == "product":
            db = db.astype("Float64")
        same = (both[col] == db).fillna(False).astype(bool) | (both[col].isna() & db.isna())
        differ |= ~same
    return set(both.loc[differ, "order_id"])
