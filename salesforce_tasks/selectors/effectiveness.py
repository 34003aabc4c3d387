"""Visit effectiveness: visits and their cost against each customer's level, profit and norm."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
from django.db.models import Count, Sum
from django.utils import timezone

from customers.figures_cache import period_frames, period_frames_get
from customers.models import Period
from customers.policy import (  # who sees what: one place
    customer_scope,
    customer_scope_ids,
)

from .. import portfolio
from ..models import Visit
from .common import CENT
from .results import PeriodPortfolio, period_portfolio, rep_results
from .visits import last_visits


def _reference_day(period: Period):
    """Today, or the period's last day for a past period: the day "days since the last visit" counts to."""
    return min(timezone.localdate(), period.end)


@period_frames("service_flags", depends=timezone.localdate)
def _service_frame(period: Period) -> pd.DataFrame:
    """Every customer of the period that matters (active, or visited) with its visits, minutes,
    last visit and over-/under-served flags. The norms (median visit minutes per level,
    high-value threshold) are the company's, so this frame is the same for every viewer: built
    once per version and day (ahead, by the value stage's task) and shared."""
    pp = period_portfolio(period=period)
    today = _reference_day(period)
    per_customer = pd.DataFrame.from_records(
        list(
            Visit.objects.filter(period=period)
            .values("customer_id")
            .annotate(visits=Count("id"), visit_minutes=Sum("minutes"))
            .values_list("customer_id", "visits", "visit_minutes")
        ),
        columns=["customer_id", "visits", "visit_minutes"],
    )
    frame = pp.results.merge(per_customer, on="customer_id", how="left")
    frame[["visits", "visit_minutes"]] = frame[["visits", "visit_minutes"]].fillna(0).astype("int64")
    # Customers of the period that matter: active ones and any that were visited.
    frame = frame[(frame["revenue_cents"] != 0) | (frame["visits"] > 0)].reset_index(drop=True)
    # Every visited customer's last visit in one grouped query, merged onto the frame (a list of
    # 100,000 ids in the query cost more than the grouping).
    last = last_visits(customer_ids=None, until=today) if len(frame) else None
    if last is not None:
        frame = frame.merge(last, on="customer_id", how="left")
    else:
        frame = frame.assign(last_visit=pd.NaT)
    if len(frame):
        flags = portfolio.service_flags(
            frame[["customer_id", "level", "visit_minutes", "profit_cents", "last_visit"]], today=today
        )
        return frame.merge(flags, on="customer_id", how="left")
    return frame.assign(
        over_served=False,
        under_served=False,
        reason="",
        median_minutes=0.0,
        days_since=float("nan"),
        under_limit_days=0,
    )


def visit_effectiveness(*, period: Period, user, pp: PeriodPortfolio | None = None) -> dict:
    """Per customer and per rep: visits and minutes against revenue and profit, with the
    over-/under-served flags of :func:`portfolio.service_flags` (reference day: today, or the
    period's last day for a past period)."""
    pp = pp or period_portfolio(period=period)
    today = _reference_day(period)
    scope = customer_scope_ids(user)
    visits = Visit.objects.filter(period=period)
    frame = period_frames_get("service_flags", period)  # shared: filter and assign into new frames
    if scope is not None:
        visits = visits.filter(customer_id__in=scope)
        # unordered: sorting a manager's 50,000 customers by name first was half of this read
        allowed = set(customer_scope(user).order_by().values_list("id", flat=True))
        frame = frame[frame["customer_id"].isin(allowed)].reset_index(drop=True)
    hours = frame["visit_minutes"] / 60
    frame = frame.assign(
        revenue_per_hour_cents=(frame["revenue_cents"] / hours).where(hours > 0),
        profit_per_hour_cents=(frame["profit_cents"] / hours).where(hours > 0),
    )

    per_rep = pd.DataFrame.from_records(
        list(
            visits.values("rep_id")
            .annotate(visits=Count("id"), visit_minutes=Sum("minutes"), customers=Count("customer_id", distinct=True))
            .values_list("rep_id", "visits", "visit_minutes", "customers")
        ),
        columns=["rep_id", "visits", "visit_minutes", "visited_customers"],
    )
    results_by_rep = {r["rep_id"]: r for r in rep_results(period=period, user=user, pp=pp)["reps"]}
    rep_rows = []
    visits_by_rep = per_rep.set_index("rep_id") if len(per_rep) else None
    for rep_id in sorted(set(results_by_rep) | (set(per_rep["rep_id"]) if len(per_rep) else set())):
        credited = results_by_rep.get(rep_id)
        v = visits_by_rep.loc[rep_id] if visits_by_rep is not None and rep_id in visits_by_rep.index else None
        minutes = int(v["visit_minutes"]) if v is not None else 0
        revenue = credited["revenue"] if credited else None
        profit = credited["profit"] if credited else None
        rep_rows.append(
            {
                "rep_id": int(rep_id),
                "rep": pp.rep_names.get(rep_id, ""),
                "pair": credited["pair"] if credited else "",
                "visits": int(v["visits"]) if v is not None else 0,
                "visit_minutes": minutes,
                "visited_customers": int(v["visited_customers"]) if v is not None else 0,
                "revenue": revenue,
                "profit": profit,
                "revenue_per_hour": (revenue / Decimal(minutes) * 60).quantize(CENT) if revenue and minutes else None,
                "profit_per_hour": (profit / Decimal(minutes) * 60).quantize(CENT) if profit and minutes else None,
                "loss_making_customers": credited["loss_making_customers"] if credited else 0,
            }
        )
    return {"customers": frame, "reps": rep_rows, "today": today}
