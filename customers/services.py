"""Every write of the customers app: imports, settings and the stored pyramid."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, F
from django.utils import timezone
from django.utils.translation import gettext

from config.bulk import replace_rows
from config.dates import date_window, date_window_reason, outside_date_window, validate_date_in_window
from config.eventbus import publish
from config.intake import ErrorList, Layout, parse_date, parse_money_cents, parse_number, read_chunks, too_long
from config.money import cents_sql

from . import policy, pyramid, selectors
from .events import CustomersChanged, OrdersChanged, PyramidRecomputed, PyramidSettingsChanged
from .models import Customer, CustomerPeriod, CustomerStatus, Order, OrderLine, Period, Product, ProductGroup
from .organisation import pair_codes, portfolio_assignments_sync
from .period_services import closed_period_message, closed_period_names, closed_periods_refuse

Progress = Callable[[int], None] | None

CUSTOMER_LAYOUT = Layout(("external_id", "name"), ("status", "industry", "city", "owner", "since"))
ORDER_LAYOUT = Layout(("order_id", "customer_id", "date", "amount"), ("cost", "quantity", "product", "product_group"))


@dataclass
class ImportResult:
    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    #: rows already stored with exactly these values (re-importing a file changes nothing)
    unchanged: int = 0
    periods: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "periods": self.periods,
        }


# --- periods ----------------------------------------------------------------------------------


def fiscal_year_of(dates: pd.Series, start_month: int) -> pd.Series:
    """Period name (calendar year in which the fiscal year starts) for each date."""
    years = dates.dt.year
    return (years - (dates.dt.month < start_month).astype("int64")).astype("int64")


def period_bounds(name: int, start_month: int) -> tuple[dt.date, dt.date]:
    start = dt.date(name, start_month, 1)
    end = dt.date(name + 1, start_month, 1) - dt.timedelta(days=1)
    return start, end


def periods_ensure(*, names: set[int]) -> dict[int, int]:
    """Create missing periods; returns {name: id} for the given names.

    Unchecked: writes get their periods from ``periods_for_write`` (demo data and tests use this)."""
    start_month = selectors.pyramid_settings_get().fiscal_year_start_month
    existing = dict(Period.objects.filter(name__in=names).values_list("name", "id"))
    missing = [
        Period(name=n, start=period_bounds(n, start_month)[0], end=period_bounds(n, start_month)[1])
        for n in sorted(names - existing.keys())
    ]
    if missing:
        Period.objects.bulk_create(missing, ignore_conflicts=True)
        existing = dict(Period.objects.filter(name__in=names).values_list("name", "id"))
    return existing


def _period_in_window(name: int, start_month: int, first: dt.date, last: dt.date) -> bool:
    if not first.year - 1 <= name <= last.year:  # also keeps period_bounds clear of year 10000
        return False
    start, end = period_bounds(name, start_month)
    return end >= first and start <= last


def periods_outside_window(*, names: Iterable[int]) -> list[int]:
    """The period names among ``names`` that do not overlap the date window (``config.dates``)."""
    first, last = date_window()
    start_month = selectors.pyramid_settings_get().fiscal_year_start_month
    return sorted(n for n in {int(n) for n in names} if not _period_in_window(n, start_month, first, last))


def periods_for_write(*, names: Iterable[int]) -> dict[int, int]:
    """{name: id} of the periods a dated write lands in, created when missing.

    THE single choke point: every write of orders and their lines, invoices, visits and cost pools
    gets its period here, never from ``periods_ensure`` or ``Period.objects`` directly. It refuses
    (``ValidationError`` on ``period``) a period that does not overlap the date window
    (``config.dates``): imports, forms and serializers report a bad date first, with its row or
    field; this is the last line of defence, so no write path can create period 1900 or 9999.
    Every other rule about which periods accept writes (a closed period refuses them) belongs
    here as well, so that no write path can skip it.
    """
    names = {int(n) for n in names}
    first, last = date_window()
    outside = periods_outside_window(names=names)
    if outside:
        raise ValidationError(
            {
                "period": [
                    gettext("period %(names)s lies outside the date window %(first)s .. %(last)s; check the dates")
                    % {"names": ", ".join(map(str, outside)), "first": first.isoformat(), "last": last.isoformat()}
                ]
            }
        )
    closed_periods_refuse(names=names)
    return periods_ensure(names=names)


def period_for_write(*, date: dt.date, field: str = "date") -> int:
    """Id of the period a write dated ``date`` lands in (see ``periods_for_write``); a date outside
    the window is a ``ValidationError`` on ``field``."""
    try:
        validate_date_in_window(date)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from None
    start_month = selectors.pyramid_settings_get().fiscal_year_start_month
    name = date.year - (date.month < start_month)
    closed_periods_refuse(names={name}, field=field)
    return periods_for_write(names={name})[name]


def periods_from(*, first_name: int) -> list[int]:
    """Ids of the period named ``first_name`` and every later one (their 'existing' flags depend on it)."""
    return list(Period.objects.filter(name__gte=first_name).values_list("id", flat=True))


# --- customers import -------------------------------------------------------------------------


def _validate_customers_chunk(chunk: pd.DataFrame, errors: ErrorList, seen: dict, pairs: dict) -> pd.DataFrame:
    errors.add_mask(chunk, chunk["external_id"] == "", "external_id", gettext("missing customer id"))
    errors.add_mask(
        chunk, too_long(chunk["external_id"], 64), "external_id", gettext("longer than %(n)s characters") % {"n": 64}
    )
    errors.add_mask(chunk, chunk["name"] == "", "name", gettext("missing name"))
    errors.add_mask(chunk, too_long(chunk["name"], 200), "name", gettext("longer than %(n)s characters") % {"n": 200})
    status = chunk["status"].str.lower().replace("", CustomerStatus.CUSTOMER)
    errors.add_mask(
        chunk,
        ~status.isin(CustomerStatus.values),
        "status",
        gettext("unknown status; use suspect, prospect or customer"),
    )
    for col in ("industry", "city"):
        errors.add_mask(chunk, too_long(chunk[col], 100), col, gettext("longer than %(n)s characters") % {"n": 100})
    errors.add_mask(
        chunk,
        (chunk["owner"] != "") & ~chunk["owner"].isin(pairs.keys()),
        "owner",
        gettext("unknown rep pair code; create the pair first or leave the column empty"),
    )
    since, bad_since = parse_date(chunk["since"], required=False)
    errors.add_mask(chunk, bad_since, "since", gettext("not a date; write it as YYYY-MM-DD or leave it empty"))
    dup = chunk["external_id"].duplicated(keep=False) | chunk["external_id"].isin(seen.keys())
    dup &= chunk["external_id"] != ""
    errors.add_mask(chunk, dup, "external_id", gettext("the customer id appears more than once in the file"))
    for ext, row in zip(chunk["external_id"], chunk["_row"], strict=True):
        seen.setdefault(ext, row)
    return chunk.assign(status=status, since_parsed=since)


def _check_customers_scope(chunk: pd.DataFrame, errors: ErrorList, scope: policy.ImportScope) -> None:
    """A scoped importer (a manager) changes only their teams' customers and assigns only their pairs."""
    if scope.everything:
        return
    ids = list(chunk["external_id"])
    existing = dict(Customer.objects.filter(external_id__in=ids).values_list("external_id", "id"))
    foreign = {ext for ext, pk in existing.items() if pk not in scope.customer_ids}
    errors.add_mask(
        chunk,
        chunk["external_id"].isin(foreign),
        "external_id",
        gettext("this customer is not one of your teams' customers; you may not change it"),
    )
    mine = ", ".join(sorted(scope.pair_codes)) or "-"
    errors.add_mask(
        chunk,
        (chunk["owner"] != "") & ~chunk["owner"].isin(scope.pair_codes),
        "owner",
        gettext("you may assign customers only to the pairs of your teams: %(pairs)s") % {"pairs": mine},
    )
    errors.add_mask(
        chunk,
        (chunk["owner"] == "") & ~chunk["external_id"].isin(existing.keys()) & (chunk["external_id"] != ""),
        "owner",
        gettext("a new customer needs an owner: one of the pairs of your teams (%(pairs)s)") % {"pairs": mine},
    )


def _known_since(date) -> dt.datetime:
    """The ``since`` column (a date, or NaT) as the customer's ``created_at`` (start of that day)."""
    if pd.isna(date):
        return timezone.now()
    return timezone.make_aware(dt.datetime.combine(date.date(), dt.time.min))


def _customers_compare(chunk: pd.DataFrame, pairs: dict) -> tuple[pd.Series, pd.Series]:
    """Masks over the chunk: new customers, and rows equal to what is stored (nothing to write).

    An empty ``owner`` or ``since`` keeps the stored value, so it never counts as a change."""
    fields = ("external_id", "name", "status", "industry", "city", "pair_id", "created_at")
    stored = pd.DataFrame.from_records(
        list(Customer.objects.filter(external_id__in=list(chunk["external_id"])).values_list(*fields)),
        columns=list(fields),
    ).set_index("external_id")
    row = stored.reindex(chunk["external_id"])
    row.index = chunk.index
    new = row["name"].isna()
    same = ~new
    for col in ("name", "status", "industry", "city"):
        same &= row[col] == chunk[col]
    owner = chunk["owner"].map(pairs)
    same &= (chunk["owner"] == "") | (row["pair_id"] == owner)
    stored_since = pd.to_datetime(row["created_at"], utc=True).dt.tz_convert(timezone.get_current_timezone())
    given = chunk["since_parsed"].notna()
    same &= ~given | (stored_since.dt.tz_localize(None) == chunk["since_parsed"])
    return new, same.fillna(False).astype(bool)


def customers_import(*, path: str | Path, acting_user=None, progress: Progress = None) -> ImportResult:
    """Upsert customers by external_id from a CSV/XLSX file; all or nothing."""
    scope = policy.import_scope(acting_user, "customers")
    pairs = pair_codes()
    errors, seen = ErrorList(), {}
    for chunk in read_chunks(path, CUSTOMER_LAYOUT):
        _validate_customers_chunk(chunk, errors, seen, pairs)
        _check_customers_scope(chunk, errors, scope)
    errors.raise_if_any()
    result = ImportResult("customers")
    with transaction.atomic():
        for chunk in read_chunks(path, CUSTOMER_LAYOUT):
            chunk = _validate_customers_chunk(chunk, ErrorList(), {}, pairs)
            new, same = _customers_compare(chunk, pairs)
            result.rows += len(chunk)
            result.created += int(new.sum())
            result.unchanged += int(same.sum())
            result.updated += int((~new & ~same).sum())
            chunk = chunk[~same]
            if chunk.empty:
                continue
            has_owner = chunk["owner"] != ""
            objs = [
                Customer(
                    external_id=r.external_id,
                    name=r.name,
                    status=r.status,
                    industry=r.industry,
                    city=r.city,
                    pair_id=pairs.get(r.owner),
                    created_at=_known_since(r.since_parsed),
                )
                for r in chunk.itertuples(index=False)
            ]
            update = ["name", "status", "industry", "city"] + (["pair"] if has_owner.all() else [])
            Customer.objects.bulk_create(
                objs, batch_size=2000, update_conflicts=True, unique_fields=["external_id"], update_fields=update
            )
            if has_owner.any() and not has_owner.all():
                for code, group in chunk[has_owner].groupby("owner"):
                    Customer.objects.filter(external_id__in=list(group["external_id"])).update(pair_id=pairs[code])
            since = chunk[chunk["since_parsed"].notna() & ~new[chunk.index]]
            if not since.empty:  # existing customers: 'known since' changes only where the file gives it
                ids = dict(
                    Customer.objects.filter(external_id__in=list(since["external_id"])).values_list("external_id", "id")
                )
                Customer.objects.bulk_update(
                    [
                        Customer(id=ids[e], created_at=_known_since(d))
                        for e, d in zip(since["external_id"], since["since_parsed"], strict=True)
                    ],
                    ["created_at"],
                    batch_size=2000,
                )
        if result.created or result.updated:
            portfolio_assignments_sync(acting_user=acting_user)
            period_ids = list(Period.objects.values_list("id", flat=True))
            publish(CustomersChanged(period_ids=tuple(period_ids)))
    return result


# --- orders import ----------------------------------------------------------------------------


@dataclass
class _OrderState:
    """What the two passes remember across chunks: small per order, not per line."""

    customers: dict[str, int]
    orders: dict[str, tuple[str, pd.Timestamp]] = field(default_factory=dict)
    lines_seen: dict[str, int] = field(default_factory=dict)
    #: orders stored in a closed period that the file names: id -> (stored lines, period name, first row)
    closed_orders: dict[str, tuple[int, int, int]] = field(default_factory=dict)


def _validate_orders_chunk(chunk: pd.DataFrame, errors: ErrorList, state: _OrderState) -> pd.DataFrame:
    errors.add_mask(chunk, chunk["order_id"] == "", "order_id", gettext("missing order id"))
    errors.add_mask(
        chunk, too_long(chunk["order_id"], 64), "order_id", gettext("longer than %(n)s characters") % {"n": 64}
    )
    customer_pk = chunk["customer_id"].map(state.customers)
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
        gettext(
            "this order id appears earlier in the file with another customer or date; "
            "one order has one customer and one date"
        ),
    )
    # Line number = position of the row within its order in the file.
    offset = chunk["order_id"].map(lambda o: state.lines_seen.get(o, 0))
    line_no = offset + chunk.groupby("order_id", sort=False).cumcount() + 1
    counts = chunk["order_id"].value_counts()
    for oid, n in counts.items():
        state.lines_seen[oid] = state.lines_seen.get(oid, 0) + int(n)
    return chunk.assign(
        customer_pk=customer_pk,
        date_parsed=date,
        amount_cents=amount,
        cost_cents=cost,
        quantity_num=quantity,
        line_no=line_no,
    )


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
    state = _OrderState(customers=scope.customers())
    errors = ErrorList()
    total_rows = 0
    start_month = selectors.pyramid_settings_get().fiscal_year_start_month
    closed = closed_period_names()
    for chunk in read_chunks(path, ORDER_LAYOUT):
        _closed_period_order_errors(_validate_orders_chunk(chunk, errors, state), errors, state, closed, start_month)
        errors.add_mask(
            chunk,
            chunk["order_id"].isin(scope.foreign_keys(Order.objects.all(), chunk["order_id"])),
            "order_id",
            gettext("this order id is an order of a customer outside your teams; you may not change it"),
        )
        total_rows += len(chunk)
    _closed_order_surplus_errors(errors, state)
    errors.raise_if_any()
    result = ImportResult("orders")
    order_table, line_table = Order._meta.db_table, OrderLine._meta.db_table
    order_sql = _upsert_sql(
        order_table,
        ["external_id", "customer_id", "date", "period_id"],
        ["external_id"],
        ["customer_id", "date", "period_id"],
    )
    line_sql = _upsert_sql(
        line_table,
        ["order_id", "line_no", "amount", "cost", "quantity", "product_id", "customer_id", "period_id"],
        ["order_id", "line_no"],
        ["amount", "cost", "quantity", "product_id", "customer_id", "period_id"],
    )
    touched_periods: set[int] = set()
    before_orders = set(Order.objects.values_list("external_id", flat=True))
    changed_orders: set[str] = set()
    replay = _OrderState(customers=state.customers)
    with transaction.atomic():
        # Periods of orders moving out of a period also change: remember the old ones.
        done = 0
        for chunk in read_chunks(path, ORDER_LAYOUT):
            chunk = _validate_orders_chunk(chunk, ErrorList(), replay)
            fy = fiscal_year_of(chunk["date_parsed"], start_month)
            result.rows += len(chunk)
            done += len(chunk)
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
                cur.executemany(
                    order_sql,
                    list(
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
            quantities = chunk["quantity_num"].map(lambda q: str(Decimal(repr(q)).quantize(Decimal("0.001"))))
            product = chunk["product_pk"].astype(object).where(chunk["product_pk"].notna(), None)
            with connection.cursor() as cur:
                cur.executemany(
                    line_sql,
                    list(
                        zip(
                            chunk["order_id"].map(order_pks).tolist(),
                            chunk["line_no"].astype("int64").tolist(),
                            amounts,
                            costs,
                            quantities.tolist(),
                            product.tolist(),
                            chunk["customer_pk"].astype("int64").tolist(),
                            chunk["period_pk"].tolist(),
                            strict=True,
                        )
                    ),
                )
            if progress:
                progress(int(90 * done / max(total_rows, 1)))
        changed_orders.update(_drop_surplus_lines(replay.lines_seen))
        new_orders = replay.lines_seen.keys() - before_orders
        result.created = len(new_orders)
        result.updated = len(changed_orders - new_orders)
        result.unchanged = len(replay.lines_seen) - result.created - result.updated
        if touched_periods and (result.created or result.updated):
            first = Period.objects.filter(id__in=touched_periods).order_by("name").values_list("name", flat=True)[0]
            publish(OrdersChanged(period_ids=tuple(periods_from(first_name=first))))
        result.periods = sorted(Period.objects.filter(id__in=touched_periods).values_list("name", flat=True))
    return result


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


# --- pyramid ----------------------------------------------------------------------------------


def pyramid_compute(*, period: Period) -> pd.DataFrame:
    """Levels of every known customer in the period (pure computation fed by bulk reads)."""
    customers = selectors.customers_known(period=period)
    facts = selectors.period_facts(period=period)
    frame = customers.merge(facts, on="customer_id", how="left")
    for col in ("revenue_cents", "gross_margin_cents", "orders", "order_lines"):
        frame[col] = frame[col].fillna(0).astype("int64")
    frame["bought_before"] = frame["customer_id"].isin(selectors.customers_bought_before(period=period))
    return pyramid.assign_levels(frame, scheme=selectors.pyramid_scheme())


def pyramid_store(period_id: int) -> int:
    """Recompute a period's pyramid and replace its stored rows in bulk. Returns the row count."""
    period = Period.objects.get(pk=period_id)
    levels = pyramid_compute(period=period).rename(
        columns={"revenue_cents": "revenue", "gross_margin_cents": "gross_margin", "bought_before": "existing"}
    )
    with transaction.atomic():
        replace_rows(
            CustomerPeriod,
            where={"period_id": period.id},
            frame=levels,
            columns={
                "customer_id": "int",
                "level": "str",
                "rank": "int",
                "revenue": "money",
                "gross_margin": "money",
                "orders": "int",
                "order_lines": "int",
                "existing": "bool",
            },
        )
        publish(PyramidRecomputed(period_ids=(period.id,)))
    return len(levels)


def pyramid_settings_update(*, acting_user, **values) -> None:
    """Change the pyramid scheme or fiscal year start; every period is recomputed."""
    settings = selectors.pyramid_settings_get()
    old_month = settings.fiscal_year_start_month
    for key, value in values.items():
        setattr(settings, key, value)
    settings.full_clean()
    scheme = selectors.pyramid_scheme(settings)
    try:
        scheme.validate()
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    with transaction.atomic():
        settings._history_user = acting_user
        settings.save()
        if settings.fiscal_year_start_month != old_month:
            _periods_rebuild(settings.fiscal_year_start_month)
        publish(PyramidSettingsChanged(period_ids=tuple(Period.objects.values_list("id", flat=True))))


def _periods_rebuild(start_month: int) -> None:
    """Re-cut the fiscal years after a change of start month (refused once costs are set up)."""
    from .events import periods_recut_requested

    periods_recut_requested.send(sender=Period, start_month=start_month)  # a receiver may refuse
    dates = Order.objects.order_by().values_list("date", flat=True).distinct()
    names = {d.year - (d.month < start_month) for d in dates}
    Period.objects.filter(name__in=names).update(start=timezone.now().date(), end=timezone.now().date())
    ids = {}
    for name in sorted(names):
        start, end = period_bounds(name, start_month)
        obj, _ = Period.objects.update_or_create(name=name, defaults={"start": start, "end": end})
        ids[name] = obj.id
        Order.objects.filter(date__gte=start, date__lte=end).update(period_id=obj.id)
        OrderLine.objects.filter(order__date__gte=start, order__date__lte=end).update(period_id=obj.id)
    CustomerPeriod.objects.exclude(period_id__in=ids.values()).delete()
    Period.objects.exclude(id__in=ids.values()).filter(orders__isnull=True).delete()


def customer_status_update(*, customer: Customer, status: str, acting_user) -> Customer:
    customer.status = status
    customer.full_clean()
    with transaction.atomic():
        customer._history_user = acting_user
        customer.save()
        publish(CustomersChanged(period_ids=tuple(Period.objects.values_list("id", flat=True))))
    return customer


# --- single orders (API, UI) ------------------------------------------------------------------


@dataclass(frozen=True)
class LineInput:
    amount: Decimal
    cost: Decimal = Decimal("0")
    quantity: Decimal = Decimal("0")
    product: str = ""


def order_upsert(
    *, external_id: str, customer: Customer, date: dt.date, lines: list[LineInput], acting_user=None
) -> Order:
    """Create or replace one order and its lines; the pyramid of its period(s) is recomputed."""
    if not external_id or len(external_id) > 64:
        raise ValidationError({"order_id": [gettext("Give an order id of 1 to 64 characters.")]})
    if not lines:
        raise ValidationError({"lines": [gettext("An order needs at least one line.")]})
    for i, line in enumerate(lines, start=1):
        for name in ("amount", "cost", "quantity"):
            value = getattr(line, name)
            if not isinstance(value, Decimal) or not value.is_finite() or abs(value) >= Decimal("1e13"):
                raise ValidationError(
                    {
                        "lines": [
                            gettext("Line %(line)s: %(field)s must be a number below 10^13.")
                            % {"line": i, "field": name}
                        ]
                    }
                )
    start_month = selectors.pyramid_settings_get().fiscal_year_start_month
    name = date.year - (date.month < start_month)
    with transaction.atomic():
        period_id = period_for_write(date=date)
        old = Order.objects.filter(external_id=external_id).values_list("period__name", flat=True).first()
        if old is not None:
            closed_periods_refuse(names={old}, field="date")
        order, _ = Order.objects.update_or_create(
            external_id=external_id, defaults={"customer": customer, "date": date, "period_id": period_id}
        )
        OrderLine.objects.filter(order=order).delete()
        products = {}
        codes = {ln.product for ln in lines if ln.product}
        if codes:
            Product.objects.bulk_create([Product(code=c) for c in codes], ignore_conflicts=True)
            products = dict(Product.objects.filter(code__in=codes).values_list("code", "id"))
        OrderLine.objects.bulk_create(
            [
                OrderLine(
                    order=order,
                    line_no=i,
                    amount=ln.amount.quantize(Decimal("0.01")),
                    cost=ln.cost.quantize(Decimal("0.01")),
                    quantity=ln.quantity.quantize(Decimal("0.001")),
                    product_id=products.get(ln.product),
                    customer=customer,
                    period_id=period_id,
                )
                for i, ln in enumerate(lines, start=1)
            ]
        )
        first = min(name, old) if old is not None else name
        publish(OrdersChanged(period_ids=tuple(periods_from(first_name=first))))
    return order


def order_delete(*, order: Order, acting_user=None) -> None:
    closed_periods_refuse(names={order.period.name}, field="date")
    with transaction.atomic():
        name = order.period.name
        order.delete()
        publish(OrdersChanged(period_ids=tuple(periods_from(first_name=name))))
