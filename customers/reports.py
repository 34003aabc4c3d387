"""Pyramid, migration, retention and concentration reports.

One builder per report serves the ``report`` command, the API and the pages. Money in the
JSON is in euros (numbers with two decimals); shares are fractions (0.65, not 65).
"""

from __future__ import annotations

import pandas as pd
from django.utils.translation import gettext

from config.money import as_float_euros
from config.reports import ReportKind, register

from . import pyramid, selectors
from .models import Period
from .profit import period_totals, stored_with_profit


class ReportError(ValueError):
    """A report cannot be built for the request (unknown period...): the message says why."""


def period_or_error(name) -> Period:
    period = selectors.period_get(name=name)
    if period is None:
        known = ", ".join(str(p.name) for p in selectors.period_list()) or gettext("none yet: import orders first")
        raise ReportError(
            gettext("Unknown period '%(name)s'. Known periods: %(known)s.") % {"name": name, "known": known}
        )
    return period


def _num(value):
    if value is None or pd.isna(value):
        return None
    return float(value)


def pyramid_report(*, period, frame=None) -> dict:
    """Per level of the period; ``frame``: its ``stored_with_profit`` when the caller read it already."""
    period = period_or_error(period)
    frame = stored_with_profit(period) if frame is None else frame
    summary = pyramid.level_summary(frame)
    levels = []
    for r in summary.itertuples(index=False):
        levels.append(
            {
                "level": r.level,
                "customers": int(r.customers),
                "revenue": as_float_euros(r.revenue_cents),
                "revenue_share": _num(r.revenue_share),
                "gross_margin": as_float_euros(r.gross_margin_cents),
                "allocated_cost": as_float_euros(r.allocated_cost_cents),
                "profit": as_float_euros(r.profit_cents),
                "avg_revenue": as_float_euros(r.avg_revenue_cents),
                "avg_profit": as_float_euros(r.avg_profit_cents),
            }
        )
    return {"period": period.name, "levels": levels}


def migration_report(*, period) -> dict:
    period = period_or_error(period)
    previous = selectors.period_previous(period)
    if previous is None:
        raise ReportError(
            gettext("Period %(name)s is the first period: there is no previous year to migrate from.")
            % {"name": period.name}
        )
    prev = selectors.customer_period_frame(period=previous)[["customer_id", "level"]]
    cur = selectors.customer_period_frame(period=period)[["customer_id", "level", "revenue_cents"]]
    cells = pyramid.migration_matrix(prev, cur)
    return {
        "period": period.name,
        "previous": previous.name,
        "cells": [
            {
                "from": r.from_level,
                "to": r.to_level,
                "customers": int(r.customers),
                "revenue": as_float_euros(r.revenue_cents),
            }
            for r in cells.itertuples(index=False)
        ],
    }


def retention_report(*, period) -> dict:
    period = period_or_error(period)
    previous = selectors.period_previous(period)
    cur = selectors.customer_period_frame(period=period)
    if previous is None:
        share = pyramid.retention(
            cur.iloc[0:0][["customer_id", "level", "revenue_cents"]], cur[["customer_id", "revenue_cents", "existing"]]
        )
        return {
            "period": period.name,
            "previous": None,
            "customer_retention": None,
            "revenue_retention": None,
            "existing_revenue_share": share["existing_revenue_share"],
            "by_level": [],
        }
    prev = selectors.customer_period_frame(period=previous)
    result = pyramid.retention(
        prev[["customer_id", "level", "revenue_cents"]], cur[["customer_id", "revenue_cents", "existing"]]
    )
    return {
        "period": period.name,
        "previous": previous.name,
        "customer_retention": result["customer_retention"],
        "revenue_retention": result["revenue_retention"],
        "existing_revenue_share": result["existing_revenue_share"],
        "customers_prev": result.get("customers_prev"),
        "customers_retained": result.get("customers_retained"),
        "by_level": [
            {
                "level": r["level"],
                "customer_retention": r["customer_retention"],
                "revenue_retention": r["revenue_retention"],
                "customers_prev": r["customers_prev"],
                "customers_retained": r["customers_retained"],
            }
            for r in result["by_level"]
        ],
    }


def retention_history() -> list[dict]:
    """Retention for every period that has a previous one (the 'over the years' chart)."""
    out = []
    for period in selectors.period_list()[1:]:
        out.append(retention_report(period=period.name))
    return out


def concentration_report(*, period, frame=None) -> dict:
    period = period_or_error(period)
    frame = stored_with_profit(period) if frame is None else frame
    c = pyramid.concentration(
        frame[["customer_id", "external_id", "revenue_cents", "allocated_cost_cents", "profit_cents"]]
    )
    totals = period_totals(period=period, frame=frame)
    outside = totals["outside_active"]
    return {
        "period": period.name,
        # The shares are over the active customers (net revenue > 0); the totals are the period's,
        # and what the active base leaves out is stated (customers without net revenue).
        "base": "active_customers",
        "total_revenue": as_float_euros(totals["revenue_cents"]),
        "active_revenue": as_float_euros(totals["active"]["revenue_cents"]),
        "active_profit": as_float_euros(c.get("total_profit_cents")),
        "customers_without_revenue": outside["customers"],
        "active_customers": c["active_customers"],
        "top20_revenue_share": c["top20_revenue_share"],
        "customers_share_for_80pct_revenue": c["customers_share_for_80pct_revenue"],
        "customers_for_80pct_revenue": c["customers_for_80pct_revenue"],
        "bottom20_revenue_cost_share": c["bottom20_revenue_cost_share"],
        "whale_peak_profit_share": c["whale_peak_profit_share"],
        "whale_peak_customer_share": c["whale_peak_customer_share"],
        "loss_on_lossmaking": as_float_euros(c["loss_on_lossmaking_cents"]),
        "lossmaking_customers": c.get("lossmaking_customers"),
        "total_profit": as_float_euros(totals["profit_cents"]) if totals["computed"] else None,
    }


def kpi_summary(*, period) -> dict:
    """The dashboard's key figures of a period, from the pyramid, retention and concentration reports.

    Money in euros; ``allocated_cost`` and ``profit`` are None until profit is computed (no cost pools).
    The period's stored figures are read once and shared by the three reports and the totals.
    """
    chosen = period_or_error(period)
    frame = stored_with_profit(chosen)
    pyramid_data = pyramid_report(period=period, frame=frame)
    retention_data = retention_report(period=period)
    concentration_data = concentration_report(period=period, frame=frame)
    levels = pyramid_data["levels"]
    totals = period_totals(period=chosen, frame=frame)
    computed = totals["computed"]
    return {
        "period": pyramid_data["period"],
        "previous": retention_data["previous"],
        "active_customers": totals["customers"],
        "revenue": as_float_euros(totals["revenue_cents"]),
        "gross_margin": as_float_euros(totals["gross_margin_cents"]),
        "allocated_cost": as_float_euros(totals["cost_to_serve_cents"]) if computed else None,
        "profit": as_float_euros(totals["profit_cents"]) if computed else None,
        "totals": totals,
        "customer_retention": retention_data["customer_retention"],
        "revenue_retention": retention_data["revenue_retention"],
        "existing_revenue_share": retention_data["existing_revenue_share"],
        "top20_revenue_share": concentration_data["top20_revenue_share"],
        "lossmaking_customers": concentration_data["lossmaking_customers"],
        "levels": levels,
    }


def concentration_curves(*, period, points: int = 200) -> dict:
    """The Pareto curve and (when profit exists) the whale curve of a period, for charts.

    ``pareto``: [{customer_share, revenue_share}], ``whale``: [{customer_share, profit_share}]
    (empty without computed profit or with total profit <= 0). Shares are fractions.
    """
    period = period_or_error(period)
    frame = stored_with_profit(period)
    pareto = pyramid.pareto_curve(frame, points=points)
    whale = pyramid.whale_curve(frame, points=points)
    return {
        "period": period.name,
        "pareto": [
            {"customer_share": float(x), "revenue_share": float(y)}
            for x, y in zip(pareto["customer_share"], pareto["revenue_share"], strict=True)
        ],
        "whale": [
            {"customer_share": float(x), "profit_share": float(y)}
            for x, y in zip(whale["customer_share"], whale["profit_share"], strict=True)
        ],
    }


def _rows_levels(data: dict) -> list[dict]:
    return [{"period": data["period"], **row} for row in data["levels"]]


def _rows_cells(data: dict) -> list[dict]:
    return [{"period": data["period"], "previous": data["previous"], **row} for row in data["cells"]]


def _rows_retention(data: dict) -> list[dict]:
    total = {
        "period": data["period"],
        "previous": data["previous"],
        "level": "all",
        "customer_retention": data["customer_retention"],
        "revenue_retention": data["revenue_retention"],
        "existing_revenue_share": data["existing_revenue_share"],
    }
    return [total] + [{"period": data["period"], "previous": data["previous"], **row} for row in data["by_level"]]


def _rows_single(data: dict) -> list[dict]:
    return [data]


register(ReportKind("pyramid", pyramid_report, _rows_levels))
register(ReportKind("migration", migration_report, _rows_cells))
register(ReportKind("retention", retention_report, _rows_retention))
register(ReportKind("concentration", concentration_report, _rows_single))
