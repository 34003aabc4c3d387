"""Reads of the customers app: DataFrames for computations and the data of pages and reports.

Every function issues a bounded number of queries, whatever the number of customers.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
from django.db.models import (
    Case,
    DecimalField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy

from config.bulk import query_frame
from config.money import cents_sql
from config.snapshot import read_once

from . import pyramid
from .facts import ORDER_FACTS
from .models import (
    Customer,
    CustomerPeriod,
    CustomerPeriodFacts,
    CustomerProfit,
    Level,
    Period,
    PyramidSchemeKind,
    PyramidSettings,
)


def pyramid_settings_get() -> PyramidSettings:
    obj, _ = PyramidSettings.objects.get_or_create(pk=1)
    return obj


def pyramid_scheme(settings: PyramidSettings | None = None) -> pyramid.PyramidScheme:
    s = settings or pyramid_settings_get()
    if s.scheme == PyramidSchemeKind.THRESHOLDS:
        return pyramid.PyramidScheme(
            kind="thresholds",
            top_threshold=s.top_threshold,
            big_threshold=s.big_threshold,
            medium_threshold=s.medium_threshold,
        )
    return pyramid.PyramidScheme(
        kind="rank_share",
        top_share=float(s.top_share) / 100,
        big_share=float(s.big_share) / 100,
        medium_share=float(s.medium_share) / 100,
    )


def period_list() -> list[Period]:
    return list(Period.objects.order_by("name"))


def period_default() -> Period | None:
    """The period every page opens on: the latest one with orders.

    A visit, invoice or cost pool dated in a year without orders creates that period; it must not
    become the default (the dashboard opened on "2026" with all zeros). Without any orders: the latest.
    """
    with_orders = Period.objects.filter(Exists(_with_lines().filter(period=OuterRef("pk"))))
    return with_orders.order_by("-name").first() or Period.objects.order_by("-name").first()


def period_has_orders(period: Period | None) -> bool:
    return period is not None and _with_lines().filter(period=period).exists()


def _with_lines() -> QuerySet:
    """The customer-period facts of customers with order lines (the order facts, kept by the order
    writers in their transaction: ``customers.facts``)."""
    return CustomerPeriodFacts.objects.filter(order_lines__gt=0)


def period_get(*, name: int | str | None = None) -> Period | None:
    """A period by name; :func:`period_default` when ``name`` is None."""
    qs = Period.objects.order_by("-name")
    if name in (None, ""):
        return period_default()
    try:
        return qs.filter(name=int(name)).first()
    except (TypeError, ValueError):
        return None


def period_previous(period: Period) -> Period | None:
    return Period.objects.filter(name__lt=period.name).order_by("-name").first()


def period_facts(*, period: Period) -> pd.DataFrame:
    """customer_id, revenue_cents, gross_margin_cents, orders, order_lines of the period's customers
    with order lines: their stored order facts, not the lines (one query, one row per customer)."""
    columns = ["customer_id", "revenue_cents", "gross_margin_cents", "orders", "order_lines"]
    rows = _with_lines().filter(period=period).values_list("customer_id", *ORDER_FACTS)
    return query_frame(rows, columns, int_columns=tuple(columns)).astype("int64")


def customers_bought_before(*, period: Period) -> np.ndarray:
    """Ids of customers with net revenue > 0 in some period before this one (one query).

    Summed in integer cents (the order facts): an order cancelled by a credit note is 0."""
    rows = (
        CustomerPeriodFacts.objects.filter(period__name__lt=period.name, revenue_cents__gt=0)
        .values_list("customer_id", flat=True)
        .distinct()
    )
    return np.fromiter(rows, dtype=np.int64)


def customers_known(*, period: Period) -> pd.DataFrame:
    """customer_id, external_id, status of the customers known by the period's end.

    Known = created (``known since``) before the period ended, or bought by then. The latest
    period knows every customer: today's prospects and suspects belong in today's pyramid.
    """
    qs = Customer.objects.all()
    if Period.objects.filter(name__gt=period.name).exists():
        end = timezone.make_aware(timezone.datetime.combine(period.end, timezone.datetime.max.time()))
        with_lines = _with_lines().filter(period__name__lte=period.name).values("customer_id")
        qs = qs.filter(Q(created_at__lte=end) | Q(id__in=with_lines))
    rows = qs.values_list("id", "external_id", "status")
    return query_frame(rows, ["customer_id", "external_id", "status"], int_columns=("customer_id",))


def period_levels(*, period: Period) -> pd.DataFrame:
    """customer_id, level, revenue_cents of the period's stored pyramid: what the value stage reads
    (one query on the pyramid's rows alone, without the customers' names of ``customer_period_frame``)."""
    rows = CustomerPeriod.objects.filter(period=period).values_list("customer_id", "level", cents_sql(F("revenue")))
    frame = query_frame(rows, ["customer_id", "level", "revenue_cents"], int_columns=("customer_id", "revenue_cents"))
    return frame.astype({"customer_id": "int64", "revenue_cents": "int64"})


@read_once
def customer_period_frame(*, period: Period, fields: tuple[str, ...] = ()) -> pd.DataFrame:
    """The stored pyramid of a period: customer_id, external_id, name, level, rank,
    revenue_cents, gross_margin_cents, orders, order_lines, existing (+ extra customer fields)."""
    cols = [
        "customer_id",
        "external_id",
        "name",
        "level",
        "rank",
        "revenue_cents",
        "gross_margin_cents",
        "orders",
        "order_lines",
        "existing",
        *fields,
    ]
    rows = (
        CustomerPeriod.objects.filter(period=period)
        .annotate(
            external_id=F("customer__external_id"),
            name=F("customer__name"),
            revenue_cents=cents_sql(F("revenue")),
            gross_margin_cents=cents_sql(F("gross_margin")),
            **{f: F(f"customer__{f}") for f in fields},
        )
        .values_list(*(["customer_id"] + cols[1:]))
    )
    df = pd.DataFrame.from_records(list(rows), columns=cols)
    return df.astype(
        {
            "customer_id": "int64",
            "revenue_cents": "int64",
            "gross_margin_cents": "int64",
            "orders": "int64",
            "order_lines": "int64",
            "existing": "bool",
        }
    )


def level_history(*, customer: Customer) -> list[dict]:
    return list(
        CustomerPeriod.objects.filter(customer=customer)
        .order_by("period__name")
        .values("period__name", "level", "rank", "revenue", "gross_margin", "orders", "order_lines")
    )


LEVEL_ORDER = [c.value for c in Level]


STAGE_LABELS = {
    "pyramid": gettext_lazy("pyramid"),
    "profit": gettext_lazy("customer profit"),
    "value": gettext_lazy("customer value"),
    "salesforce": gettext_lazy("sales force"),
}


def computation_status(*, period: Period) -> dict:
    """Whether the period's figures are current: version, stale stage, progress, computed at."""
    from django.core.cache import cache

    from config.eventbus import STAGE_ORDER, progress_key

    from .models import Computation

    rows = {
        r["stage"]: r
        for r in Computation.objects.filter(period=period).values("stage", "requested", "computed", "computed_at")
    }
    stale = [s for s in STAGE_ORDER if s in rows and rows[s]["computed"] < rows[s]["requested"]]
    computed = [r["computed_at"] for r in rows.values() if r["computed_at"]]
    version = "-".join(str(rows[s]["computed"]) for s in STAGE_ORDER if s in rows)
    stage = stale[0] if stale else None
    percent = cache.get(progress_key(period.id, stage), 0) if stage else 100
    return {
        "stale": bool(stale),
        "stage": stage,
        "stage_label": STAGE_LABELS.get(stage, ""),
        "percent": max(5, int(percent or 0)),
        "computed_at": max(computed) if computed else None,
        "version": version,
    }


# --- pages and API: stored rows of a period, scoped and filtered in the database ---------------

#: Sort keys a list page or the API accepts, and the columns they order by.
CUSTOMER_LIST_ORDERING = {
    "name": ("customer__name", "customer__external_id"),
    "external_id": ("customer__external_id",),
    "level": ("level_order", "rank", "customer__external_id"),
    "revenue": ("revenue", "customer__external_id"),
    "gross_margin": ("gross_margin", "customer__external_id"),
    "profit": ("profit", "customer__external_id"),
}


def customer_list_order_by(ordering: str) -> list:
    """``-revenue`` -> [F("revenue").desc(nulls_last=True), ...]; unknown keys fall back to level order."""
    descending = ordering.startswith("-")
    key = ordering.lstrip("-")
    fields = CUSTOMER_LIST_ORDERING.get(key) or CUSTOMER_LIST_ORDERING["level"]
    first, *rest = fields
    head = F(first).desc(nulls_last=True) if descending else F(first).asc(nulls_last=True)
    return [head, *rest]


def customer_search_q(text: str) -> Q:
    """Rows whose customer name or customer id contains ``text`` (case-insensitive)."""
    text = text.strip()
    return Q(customer__name__icontains=text) | Q(customer__external_id__icontains=text)


def customer_period_list(
    *,
    period: Period,
    scope_ids=None,
    level: str | None = None,
    search: str | None = None,
    ordering: str = "level",
) -> QuerySet[CustomerPeriod]:
    """The stored pyramid rows of a period for list pages and the API (one query, any page size).

    Each row carries its ``customer`` (select_related), ``level_order`` (position in the pyramid),
    ``allocated_cost`` and ``profit`` from the profit stage: ``None`` while profit has not been
    computed for an active customer; a non-active customer without a profit row has no cost, so
    its profit is its gross margin (as in ``customers.reports.stored_with_profit``).
    ``scope_ids`` is ``customers.policy.customer_scope_ids(user)`` (None = everyone).
    """
    from .pyramid import LEVELS_ACTIVE

    profit_row = CustomerProfit.objects.filter(period_id=period.id, customer_id=OuterRef("customer_id"))
    computed = CustomerProfit.objects.filter(period_id=period.id)
    stored_profit = Subquery(profit_row.values("profit")[:1])
    stored_cost = Subquery(profit_row.values("allocated")[:1])
    qs = (
        CustomerPeriod.objects.filter(period=period)
        .select_related("customer")
        .annotate(
            level_order=Case(
                *[When(level=lvl, then=Value(i)) for i, lvl in enumerate(LEVEL_ORDER)],
                output_field=IntegerField(),
            ),
            profit=Case(
                When(level__in=LEVELS_ACTIVE, then=stored_profit),
                When(Exists(computed), then=Coalesce(stored_profit, F("gross_margin"))),
                default=Value(None),
                output_field=DecimalField(max_digits=16, decimal_places=2),
            ),
            allocated_cost=Case(
                When(level__in=LEVELS_ACTIVE, then=stored_cost),
                When(Exists(computed), then=Coalesce(stored_cost, Value(Decimal("0")))),
                default=Value(None),
                output_field=DecimalField(max_digits=16, decimal_places=2),
            ),
        )
    )
    if scope_ids is not None:
        qs = qs.filter(customer_id__in=scope_ids)
    if level:
        qs = qs.filter(level=level)
    if search:
        qs = qs.filter(customer_search_q(search))
    return qs.order_by(*customer_list_order_by(ordering))


def migration_cell_customers(
    *, period: Period, previous: Period, from_level: str, to_level: str, scope_ids=None
) -> QuerySet[CustomerPeriod]:
    """Customers with level ``from_level`` in ``previous`` and ``to_level`` in ``period``.

    ``from_level="new"``: no stored row in the previous period (as in ``pyramid.migration_matrix``).
    Highest revenue in ``period`` first.
    """
    qs = customer_period_list(period=period, scope_ids=scope_ids, level=to_level, ordering="-revenue")
    before = CustomerPeriod.objects.filter(period=previous)
    if from_level == "new":
        return qs.exclude(customer_id__in=before.values("customer_id"))
    return qs.filter(customer_id__in=before.filter(level=from_level).values("customer_id"))
