"""Reads of the scenarios app."""

from __future__ import annotations

import pandas as pd
from django.db.models import F

from config.money import cents_sql
from customers.models import CustomerPeriod, Period

from . import valuation
from .models import CustomerValue, SurveyResponse, ValueSettings


def value_settings_get() -> ValueSettings:
    obj, _ = ValueSettings.objects.get_or_create(pk=1)
    return obj


def level_pairs(*, up_to: Period) -> pd.DataFrame:
    """customer_id, from_level, to_level for every consecutive pair of periods up to ``up_to``.

    Only customers in the chain (from level top/big/medium/small/inactive) count; one query.
    """
    periods = list(Period.objects.filter(name__lte=up_to.name).order_by("name").values_list("id", "name"))
    rows = CustomerPeriod.objects.filter(period_id__in=[p for p, _ in periods]).values_list(
        "customer_id", "period_id", "level"
    )
    frame = pd.DataFrame.from_records(list(rows), columns=["customer_id", "period_id", "level"])
    pairs = []
    for (prev_id, _), (cur_id, _) in zip(periods, periods[1:], strict=False):
        prev = frame[frame["period_id"] == prev_id][["customer_id", "level"]].rename(columns={"level": "from_level"})
        cur = frame[frame["period_id"] == cur_id][["customer_id", "level"]].rename(columns={"level": "to_level"})
        pair = prev.merge(cur, on="customer_id", how="inner")
        pairs.append(pair[pair["from_level"].isin(valuation.STATES)])
    if not pairs:
        return pd.DataFrame(columns=["customer_id", "from_level", "to_level"])
    result = pd.concat(pairs, ignore_index=True)
    # A chain customer seen again as prospect/suspect cannot happen; guard against bad data anyway.
    return result[result["to_level"].isin(valuation.STATES)]


def survey_frame(*, up_to: Period | None = None) -> pd.DataFrame:
    qs = SurveyResponse.objects.all()
    if up_to is not None:
        qs = qs.filter(date__lte=up_to.end)
    rows = qs.values_list("customer_id", "round", "date", "score")
    frame = pd.DataFrame.from_records(list(rows), columns=["customer_id", "round", "date", "score"])
    frame["date"] = pd.to_datetime(frame["date"])
    frame["score"] = frame["score"].astype(float)
    return frame


def customer_value_frame(*, period: Period) -> pd.DataFrame:
    rows = CustomerValue.objects.filter(period=period).values_list(
        "customer_id", cents_sql(F("clv")), "method", "product_value", "segment"
    )
    frame = pd.DataFrame.from_records(
        list(rows), columns=["customer_id", "clv_cents", "method", "product_value", "segment"]
    )
    frame["product_value"] = pd.to_numeric(frame["product_value"].astype(object), errors="coerce")
    return frame
