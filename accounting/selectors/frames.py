"""The DataFrames the allocation reads and the stored results of a period."""

from __future__ import annotations

import gzip
import io

import pandas as pd
from django.db.models import Count, F

from config.bulk import query_frame, remembered_frame
from config.money import cents_sql, sum_cents
from customers.facts import FACT_COLUMNS, customer_facts_frame
from customers.models import CustomerPeriod, CustomerProfit, Period

from ..models import CostPool, Invoice, PeriodFinance, PoolResult, ProfitSnapshot

DRIVER_COLUMNS = [
    "customer_id",
    "external_id",
    "active",
    "level",
    "revenue_cents",
    "gross_margin_cents",
    "orders",
    "order_lines",
    "visits",
    "visit_minutes",
]
POOL_COLUMNS = [
    "pool_id",
    "name",
    "amount_cents",
    "nature",
    "key",
    "weight_top",
    "weight_big",
    "weight_medium",
    "weight_small",
    "capacity_minutes",
    "minutes_per_order",
    "minutes_per_line",
    "customer_id",
]


def periods_with_costs() -> list[int]:
    return list(CostPool.objects.values_list("period_id", flat=True).distinct())


def interest_rate(*, period: Period):
    finance = PeriodFinance.objects.filter(period=period).first()
    return finance.interest_rate if finance else PeriodFinance._meta.get_field("interest_rate").default


def pools_frame(*, period: Period) -> pd.DataFrame:
    rows = CostPool.objects.filter(period=period).values_list(
        "id",
        "name",
        cents_sql(F("amount")),
        "nature",
        "key",
        "weight_top",
        "weight_big",
        "weight_medium",
        "weight_small",
        "capacity_minutes",
        "minutes_per_order",
        "minutes_per_line",
        "customer_id",
    )
    frame = pd.DataFrame.from_records(list(rows), columns=POOL_COLUMNS)
    for col in (
        "weight_top",
        "weight_big",
        "weight_medium",
        "weight_small",
        "capacity_minutes",
        "minutes_per_order",
        "minutes_per_line",
    ):
        frame[col] = pd.to_numeric(frame[col].astype(object), errors="coerce").astype("float64")
    frame["customer_id"] = frame["customer_id"].astype("Int64")
    return frame.astype({"pool_id": "int64", "amount_cents": "int64"})


def drivers_frame(*, period: Period) -> pd.DataFrame:
    """One row per customer in the period's stored pyramid (its level), with the order and visit
    drivers from the core's customer-period facts (kept by the order and visit writers; 2 queries)."""
    rows = CustomerPeriod.objects.filter(period=period).values_list("customer_id", "customer__external_id", "level")
    frame = query_frame(rows, ["customer_id", "external_id", "level"], int_columns=("customer_id",))
    facts = customer_facts_frame(period=period, columns=FACT_COLUMNS)
    frame = frame.merge(facts, on="customer_id", how="left")
    frame[list(FACT_COLUMNS)] = frame[list(FACT_COLUMNS)].fillna(0)
    frame["active"] = frame["revenue_cents"] > 0
    frame = frame.astype(
        {
            "customer_id": "int64",
            "revenue_cents": "int64",
            "gross_margin_cents": "int64",
            "orders": "int64",
            "order_lines": "int64",
            "visits": "int64",
            "visit_minutes": "int64",
            "active": "bool",
        }
    )
    return frame[DRIVER_COLUMNS]


def invoices_frame(*, period: Period) -> pd.DataFrame:
    """The period's invoices; read again only when one of them changed (``config.bulk.remembered_frame``:
    a recompute after an order finds them as they were)."""

    def read() -> pd.DataFrame:
        return _invoice_rows_frame(Invoice.objects.filter(period=period))

    return remembered_frame(Invoice, {"period_id": period.id}, read)


def by_pool_frame(*, period: Period) -> pd.DataFrame:
    """customer_id, pool_id, amount_cents, driver_quantity: every allocation of the period."""
    records = []
    for customer_id, by_pool in CustomerProfit.objects.filter(period=period).values_list("customer_id", "by_pool"):
        for pool_id, (amount, qty) in by_pool.items():
            records.append((customer_id, int(pool_id), amount, qty))
    return pd.DataFrame.from_records(records, columns=["customer_id", "pool_id", "amount_cents", "driver_quantity"])


def pool_list(*, period: Period) -> list[CostPool]:
    return list(CostPool.objects.filter(period=period).select_related("customer", "result").order_by("name"))


def pool_results(*, period: Period) -> list[PoolResult]:
    return list(PoolResult.objects.filter(pool__period=period).select_related("pool"))


def _read_frame(blob: bytes) -> pd.DataFrame:
    # Ids and names stay text: "0012" must not come back as the number 12.
    text_columns = {"external_id": str, "name": str, "level": str, "key": str, "nature": str}
    return pd.read_csv(io.BytesIO(gzip.decompress(bytes(blob))), dtype=text_columns)


def snapshots(*, period: Period, limit: int = 2) -> list[dict]:
    """The inputs of the latest computations of a period, newest first."""
    out = []
    for snap in ProfitSnapshot.objects.filter(period=period)[:limit]:
        out.append(
            {
                "created_at": snap.created_at,
                "drivers": _read_frame(snap.drivers),
                "pools": _read_frame(snap.pools),
                "financing": _read_frame(snap.financing),
            }
        )
    return out


def lossmaking_count(*, period: Period) -> int:
    return CustomerProfit.objects.filter(period=period, profit__lt=0).count()


def profit_totals(*, period: Period) -> dict:
    return CustomerProfit.objects.filter(period=period).aggregate(
        revenue=sum_cents("revenue"),
        gross_margin=sum_cents("gross_margin"),
        allocated=sum_cents("allocated"),
        financing=sum_cents("financing"),
        profit=sum_cents("profit"),
        customers=Count("id"),
    )


def _invoice_rows_frame(qs) -> pd.DataFrame:
    rows = qs.values_list("customer_id", "external_id", cents_sql(F("amount")), "due", "paid")
    frame = query_frame(
        rows, ["customer_id", "invoice_id", "amount_cents", "due", "paid"], int_columns=("customer_id", "amount_cents")
    )
    frame["due"] = pd.to_datetime(frame["due"])
    frame["paid"] = pd.to_datetime(frame["paid"])
    return frame.astype({"customer_id": "int64", "amount_cents": "int64"})
