"""Every write of the scenarios app: customer value and segments, surveys, targets, scenarios."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
from django.db import transaction

from accounting.selectors import customer_profit_frame
from config.bulk import replace_rows
from customers.models import Period
from customers.selectors import customer_period_frame

from . import selectors, valuation
from .models import CustomerValue


def customer_value_compute(*, period: Period) -> tuple[pd.DataFrame, int]:
    """CLV (Markov chain over levels), product value and the 2×2 segment of every customer."""
    settings = selectors.value_settings_get()
    pairs = selectors.level_pairs(up_to=period)
    matrix = valuation.transition_matrix(pairs) if len(pairs) else None
    levels = customer_period_frame(period=period)[["customer_id", "level", "revenue_cents"]]
    profit = customer_profit_frame(period=period)[["customer_id", "profit_cents"]]
    customers = levels.merge(profit, on="customer_id", how="left")
    customers["profit_cents"] = customers["profit_cents"].fillna(0).astype("int64")
    clv = valuation.customer_value(
        customers[["customer_id", "level", "profit_cents"]],
        matrix=matrix,
        horizon=settings.horizon_years,
        discount_rate=float(settings.discount_rate) / 100,
    )
    pv = valuation.product_value(selectors.survey_frame(up_to=period))
    frame = customers.merge(clv, on="customer_id").merge(
        pv[["customer_id", "product_value"]], on="customer_id", how="left"
    )
    frame["active"] = frame["revenue_cents"] > 0
    threshold = None if settings.clv_threshold is None else int(settings.clv_threshold * 100)
    segments, used = valuation.segment_customers(
        frame[["customer_id", "clv_cents", "product_value", "active"]],
        clv_threshold_cents=threshold,
        product_value_threshold=float(settings.product_value_threshold),
    )
    frame = frame.merge(segments[["customer_id", "segment"]], on="customer_id")
    return frame, used


def customer_value_store(period_id: int) -> int:
    period = Period.objects.get(pk=period_id)
    frame, _ = customer_value_compute(period=period)
    frame = frame.rename(columns={"clv_cents": "clv"})
    frame["product_value"] = frame["product_value"].map(
        lambda v: None if pd.isna(v) else Decimal(str(v)).quantize(Decimal("0.01"))
    )
    with transaction.atomic():
        replace_rows(
            CustomerValue,
            where={"period_id": period.id},
            frame=frame,
            columns={
                "customer_id": "int",
                "clv": "money",
                "method": "str",
                "product_value": "decimal",
                "segment": "str",
            },
        )
    return len(frame)
