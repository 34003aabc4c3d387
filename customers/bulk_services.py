"""Bulk writes of the customers app for generated data (the demo, benchmarks): frames in, rows out.

The imports (``services.customers_import``, ``services.orders_import``) read people's files:
they parse text, upsert and compare with what is stored. These services take frames that code
built (typed columns, integer cents), only create, and still keep the rules every write keeps:
a frame that breaks one is refused with a ``ValidationError`` saying which rows and why, and
nothing is written; dated writes get their periods from ``services.periods_for_write`` (the date
window, closed periods); an event goes out on commit so the figures are recomputed.
"""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pandas as pd
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from config.dates import date_window_reason, outside_date_window
from config.eventbus import publish

from . import selectors
from .events import CustomersChanged, OrdersChanged
from .facts import order_facts_rebuild
from .models import Customer, CustomerStatus, Order, OrderLine, Period, Product, ProductGroup
from .services import fiscal_year_of, periods_for_write, periods_from
from .services.order_import import _decimal_text

BATCH = 5000


def _refuse(mask: pd.Series | np.ndarray, frame: pd.DataFrame, what: str, reason: str) -> None:
    mask = np.asarray(mask, dtype=bool)
    if mask.any():
        rows = ", ".join(str(i) for i in frame.index[mask][:5])
        more = f" (and {int(mask.sum()) - 5} more)" if mask.sum() > 5 else ""
        raise ValidationError({what: [f"rows {rows}{more}: {reason}"]})


def products_bulk_ensure(*, products: pd.DataFrame) -> dict[str, int]:
    """Create the products (columns: code, name, group) and their groups that do not exist yet.

    Existing products are left as they are. Returns {code: id} for every code of the frame."""
    _refuse(products["code"].duplicated(), products, "code", "the product code appears more than once")
    _refuse(~products["code"].str.len().between(1, 100), products, "code", "empty or longer than 100 characters")
    with transaction.atomic():
        groups = sorted(set(products["group"]) - {""})
        ProductGroup.objects.bulk_create([ProductGroup(name=g) for g in groups], ignore_conflicts=True)
        group_ids = dict(ProductGroup.objects.filter(name__in=groups).values_list("name", "id"))
        Product.objects.bulk_create(
            [
                Product(code=c, name=n, group_id=group_ids.get(g))
                for c, n, g in zip(products["code"], products["name"], products["group"], strict=True)
            ],
            ignore_conflicts=True,
        )
        return dict(Product.objects.filter(code__in=products["code"].tolist()).values_list("code", "id"))


def customers_bulk_create(*, customers: pd.DataFrame) -> np.ndarray:
    """Create new customers (columns: external_id, name, status, industry, city, created as a date: known
    since, stored as 09:00 local time that day). No owner pair: the sales force assigns portfolios.

    Refused when an external id repeats or is stored already, or a status is unknown. Returns the
    database ids in the frame's order."""
    ids = customers["external_id"]
    _refuse(ids.duplicated(), customers, "external_id", "the customer id appears more than once")
    taken = _ids(Customer, "external_id", ids.tolist()).keys()
    _refuse(ids.isin(list(taken)), customers, "external_id", "a customer with this id exists already")
    _refuse(~customers["status"].isin(CustomerStatus.values), customers, "status", "unknown status")
    tz = timezone.get_current_timezone()
    created = pd.to_datetime(customers["created"]).dt.date
    objs = [
        Customer(
            external_id=c.external_id,
            name=c.name,
            status=c.status,
            industry=c.industry,
            city=c.city,
            created_at=dt.datetime.combine(d, dt.time(9, 0), tzinfo=tz),
        )
        for c, d in zip(customers.itertuples(index=False), created, strict=True)
    ]
    with transaction.atomic():
        Customer.objects.bulk_create(objs, batch_size=BATCH)
        found = _ids(Customer, "external_id", ids.tolist())
        publish(CustomersChanged(period_ids=tuple(Period.objects.values_list("id", flat=True))))
    return np.array([found[e] for e in ids], dtype=np.int64)


def orders_bulk_create(*, orders: pd.DataFrame, lines: pd.DataFrame) -> int:
    """Create new orders and their lines.

    orders: external_id, customer_id (database id), date. lines: order (position in ``orders``),
    line_no, amount_cents, cost_cents (int64), quantity, product_id (or -1 for none). A line's
    customer and period are its order's; an order's period is the fiscal year of its date
    (``periods_for_write``: inside the date window, not closed). Returns the number of lines."""
    dates = pd.to_datetime(orders["date"])
    _refuse(orders["external_id"].duplicated(), orders, "order_id", "the order id appears more than once")
    taken = set(
        Order.objects.filter(external_id__in=orders["external_id"].tolist()).values_list("external_id", flat=True)
    )
    _refuse(orders["external_id"].isin(list(taken)), orders, "order_id", "an order with this id exists already")
    known = set(Customer.objects.filter(pk__in=orders["customer_id"].unique().tolist()).values_list("pk", flat=True))
    _refuse(~orders["customer_id"].isin(known), orders, "customer_id", "unknown customer")
    _refuse(outside_date_window(dates), orders, "date", date_window_reason())
    _refuse(~lines["order"].between(0, len(orders) - 1), lines, "order", "no such order")
    _refuse(lines.duplicated(["order", "line_no"]), lines, "line_no", "a line number repeats within its order")
    start_month = selectors.pyramid_settings_get().fiscal_year_start_month
    names = fiscal_year_of(dates, start_month)
    with transaction.atomic():
        period_ids = periods_for_write(names=set(names.unique().tolist()))
        order_period = names.map(period_ids).to_numpy(dtype=np.int64)
        order_customer = orders["customer_id"].to_numpy(dtype=np.int64)
        _insert(
            Order,
            ["external_id", "customer", "date", "period"],
            zip(
                orders["external_id"].tolist(),
                order_customer.tolist(),
                dates.dt.date.tolist(),
                order_period.tolist(),
                strict=True,
            ),
        )
        found = _ids(Order, "external_id", orders["external_id"].tolist())
        order_pk = np.array([found[e] for e in orders["external_id"]], dtype=np.int64)
        at = lines["order"].to_numpy(dtype=np.int64)
        product = lines["product_id"].to_numpy(dtype=np.int64)
        _insert(
            OrderLine,
            ["order", "line_no", "amount", "cost", "quantity", "product", "customer", "period"],
            zip(
                order_pk[at].tolist(),
                lines["line_no"].tolist(),
                _decimal_text(lines["amount_cents"]),
                _decimal_text(lines["cost_cents"]),
                lines["quantity"].astype("int64").astype(str).tolist(),
                [None if p < 0 else p for p in product.tolist()],
                order_customer[at].tolist(),
                order_period[at].tolist(),
                strict=True,
            ),
        )
        # The order facts of the pairs the new lines went to, from the stored lines.
        order_facts_rebuild(pairs=zip(order_period[at].tolist(), order_customer[at].tolist(), strict=True))
        if len(orders):
            first = int(names.min())
            publish(OrdersChanged(period_ids=tuple(periods_from(first_name=first))))
    return len(lines)


def _insert(model, fields: list[str], rows) -> None:
    """Plain INSERTs of many rows (``executemany``, in batches): no model instances for 100,000s of rows.
    Values are what the database stores: ids, dates, decimal text."""
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(model._meta.get_field(f).column) for f in fields)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
    with connection.cursor() as cursor:
        while batch := list(itertools.islice(rows, BATCH * 4)):
            cursor.executemany(sql, batch)


def _ids(model, key: str, values: list) -> dict:
    found: dict = {}
    for i in range(0, len(values), BATCH):
        found.update(model.objects.filter(**{f"{key}__in": values[i : i + BATCH]}).values_list(key, "id"))
    return found
