"""The rep's start page: revenue and target per month, the portfolio table and the visit plan."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from django.db.models import Count, F, Sum
from django.db.models.functions import TruncMonth

from config.money import cents_sql, sum_cents
from customers.models import Customer, Period

from .. import portfolio
from ..models import CustomerTarget, Visit
from .results import PeriodPortfolio
from .visits import last_visits, visit_norms


def monthly_revenue(*, customer_ids, periods: list[Period]) -> dict[int, list[int]]:
    """Net revenue in cents per month of each period (12 values, from the period's first month) for
    the given customers (a list or a subquery): one aggregate query."""
    from customers.models import OrderLine

    out = {p.id: [0] * 12 for p in periods}
    if not periods:
        return out
    starts = {p.id: p.start for p in periods}
    rows = (
        OrderLine.objects.filter(period__in=[p.id for p in periods], customer_id__in=customer_ids)
        .annotate(month=TruncMonth("order__date"))
        .values("period_id", "month")
        .annotate(revenue=sum_cents("amount"))
        .values_list("period_id", "month", "revenue")
    )
    for period_id, month, revenue in rows:
        start = starts[period_id]
        index = (month.year - start.year) * 12 + month.month - start.month
        if 0 <= index < 12:
            out[period_id][index] += int(revenue or 0)
    return out


def monthly_target_cents(*, period: Period, customer_ids) -> list[int]:
    """The monthly revenue targets of the customers' targets (seasonality or an even split), summed."""
    months = np.zeros(12, dtype=np.int64)
    rows = CustomerTarget.objects.filter(
        period=period, customer_id__in=customer_ids, target_revenue__isnull=False
    ).values_list(cents_sql(F("target_revenue")), "seasonality")
    even_total = 0
    for cents, seasonality in rows:
        if seasonality:
            try:
                months += np.asarray(portfolio.monthly_targets(int(cents), [float(x) for x in seasonality]))
                continue
            except (TypeError, ValueError):
                pass
        even_total += int(cents)
    if even_total:
        months += np.asarray(portfolio.monthly_targets(even_total, None))
    return [int(m) for m in months]


def month_labels(period: Period) -> list[str]:
    """'Jan 2025' .. 'Dec 2025' (in the active language) for the period's 12 months."""
    from django.utils.formats import date_format

    first = period.start.year * 12 + period.start.month - 1
    return [date_format(dt.date((first + i) // 12, (first + i) % 12 + 1, 1), "M Y") for i in range(12)]


def portfolio_rows(*, pp: PeriodPortfolio, customer_ids: list[int]) -> pd.DataFrame:
    """The rep's customers with level, revenue, profit, visits and target progress (3 queries)."""
    customers = pd.DataFrame.from_records(
        list(Customer.objects.filter(id__in=customer_ids).values_list("id", "external_id", "name", "status")),
        columns=["customer_id", "external_id", "name", "status"],
    )
    results = pp.results[
        ["customer_id", "level", "revenue_cents", "gross_margin_cents", "profit_cents", "profit_computed"]
    ]
    frame = customers.merge(results, on="customer_id", how="left")
    frame["level"] = frame["level"].fillna(frame["status"].where(frame["status"] != "customer", "inactive"))
    for column in ("revenue_cents", "gross_margin_cents", "profit_cents"):
        frame[column] = frame[column].fillna(0).astype("int64")
    targets = pd.DataFrame.from_records(
        list(
            CustomerTarget.objects.filter(period=pp.period, customer_id__in=customer_ids).values_list(
                "customer_id",
                cents_sql(F("target_revenue")),
                cents_sql(F("target_profit")),
                "target_level",
                "proposed_by_pair",
            )
        ),
        columns=["customer_id", "target_revenue_cents", "target_profit_cents", "target_level", "proposed_by_pair"],
    )
    frame = frame.merge(targets, on="customer_id", how="left")
    drivers = visit_drivers_for(period=pp.period, customer_ids=customer_ids)
    frame = frame.merge(drivers, on="customer_id", how="left")
    frame[["visits", "visit_minutes"]] = frame[["visits", "visit_minutes"]].fillna(0).astype("int64")
    target = frame["target_revenue_cents"].astype("float64")
    frame["revenue_progress"] = (frame["revenue_cents"] / target).where(target > 0)
    return frame.sort_values(["revenue_cents", "name"], ascending=[False, True], kind="stable").reset_index(drop=True)


def visit_drivers_for(*, period: Period, customer_ids) -> pd.DataFrame:
    rows = (
        Visit.objects.filter(period=period, customer_id__in=customer_ids)
        .values("customer_id")
        .annotate(visits=Count("id"), visit_minutes=Sum("minutes"))
        .values_list("customer_id", "visits", "visit_minutes")
    )
    return pd.DataFrame.from_records(list(rows), columns=["customer_id", "visits", "visit_minutes"]).astype("int64")


def visit_plan_rows(*, frame: pd.DataFrame, today: dt.date) -> pd.DataFrame:
    """:func:`portfolio.visit_plan` over a portfolio frame (customer_id, level, profit_cents,
    visit_minutes, name): the last visit read in one query, norms from VisitNorm or the defaults."""
    if frame.empty:
        return frame.assign(last_visit=pd.NaT, next_due=None, days_overdue=0, status="no_norm")
    last = last_visits(customer_ids=list(frame["customer_id"]), until=today)
    customers = frame[["customer_id", "external_id", "name", "level", "profit_cents", "visit_minutes"]].merge(
        last, on="customer_id", how="left"
    )
    return portfolio.visit_plan(customers, today=today, norms=visit_norms())
