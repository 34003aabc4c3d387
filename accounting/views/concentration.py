"""The 80/20 page: revenue and profit concentration, the Pareto and whale curves.

It needs profit, so it lives here, above the core (issue 16); the old address
``/customers/concentration/`` sends managers and finance on to it.
"""

from __future__ import annotations

import numpy as np
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from config import pages
from config.export import table_response
from config.roles import FINANCE, MANAGER, require_role
from customers import pages as core_pages
from customers import reports
from customers.figures_cache import period_figures, period_figures_get
from customers.selectors import period_list

from ..selectors import period_totals  # the one source of a period's totals

CURVE_POINTS = (0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1.0)
CONCENTRATION_COLUMNS = [("label", gettext_lazy("Figure")), ("value", gettext_lazy("Value"))]
CURVE_COLUMNS = [
    ("customer_share", gettext_lazy("Share of customers")),
    ("revenue_share", gettext_lazy("Cumulative revenue share")),
    ("profit_share", gettext_lazy("Cumulative profit share")),
]


def _curve_at(curve: list[dict], key: str, shares: tuple[float, ...]) -> list[float | None]:
    if not curve:
        return [None] * len(shares)
    xs = np.array([p["customer_share"] for p in curve])
    ys = np.array([p[key] for p in curve])
    return [float(v) for v in np.interp(shares, xs, ys)]


def _concentration_figures(c: dict) -> list[dict]:
    k, n = c["customers_for_80pct_revenue"], c["active_customers"]
    return [
        {"key": "active_customers", "label": _("Active customers"), "value": n},
        {
            "key": "top20_revenue_share",
            "label": _("Revenue share of the top 20 % customers"),
            "value": c["top20_revenue_share"],
        },
        {
            "key": "customers_for_80pct_revenue",
            "label": _("Customers for 80 % of revenue"),
            "value": f"{k}/{n}" if k is not None else None,
        },
        {
            "key": "customers_share_for_80pct_revenue",
            "label": _("Share of customers for 80 % of revenue"),
            "value": c["customers_share_for_80pct_revenue"],
        },
        {
            "key": "bottom20_revenue_cost_share",
            "label": _("Cost share of the bottom 20 % of revenue"),
            "value": c["bottom20_revenue_cost_share"],
        },
        {
            "key": "whale_peak_profit_share",
            "label": _("Whale curve peak: share of profit"),
            "value": c["whale_peak_profit_share"],
        },
        {
            "key": "whale_peak_customer_share",
            "label": _("Whale curve peak: share of customers"),
            "value": c["whale_peak_customer_share"],
        },
        {"key": "total_profit", "label": _("Total profit"), "value": c["total_profit"]},
        {"key": "lossmaking_customers", "label": _("Loss-making customers"), "value": c["lossmaking_customers"]},
        {"key": "loss_on_lossmaking", "label": _("Loss on loss-making customers"), "value": c["loss_on_lossmaking"]},
    ]


@period_figures("concentration")
def _concentration_figures_of(period) -> tuple:
    """The concentration table, the period's totals and the curves (what the page draws)."""
    return (
        reports.concentration_report(period=period.name),
        period_totals(period=period),
        reports.concentration_curves(period=period.name),
    )


@login_required
@require_GET
def concentration(request):
    require_role(request.user, MANAGER, FINANCE)
    period = core_pages.chosen_period(request)
    context = {"periods": period_list(), "period": period}
    if period is None:
        return render(request, "accounting/concentration.html", context)
    figures, context["totals"], curves = period_figures_get("concentration", period)
    table = _concentration_figures(figures)
    points = [
        {"customer_share": x, "revenue_share": r, "profit_share": p}
        for x, r, p in zip(
            CURVE_POINTS,
            _curve_at(curves["pareto"], "revenue_share", CURVE_POINTS),
            _curve_at(curves["whale"], "profit_share", CURVE_POINTS),
            strict=True,
        )
    ]
    if fmt := pages.export_format(request):
        if request.GET.get("table") == "curve":
            return table_response(rows=points, columns=CURVE_COLUMNS, filename=f"curves-{period.name}", fmt=fmt)
        return table_response(
            rows=table, columns=CONCENTRATION_COLUMNS, filename=f"concentration-{period.name}", fmt=fmt
        )
    datasets = [
        {
            "label": _("Cumulative revenue share (Pareto)"),
            "data": [
                {"x": round(p["customer_share"] * 100, 2), "y": round(p["revenue_share"] * 100, 2)}
                for p in curves["pareto"]
            ],
            "borderColor": "#0b5cad",
            "backgroundColor": "#0b5cad",
            "pointRadius": 0,
        }
    ]
    if curves["whale"]:
        datasets.append(
            {
                "label": _("Cumulative profit share (whale curve)"),
                "data": [
                    {"x": round(p["customer_share"] * 100, 2), "y": round(p["profit_share"] * 100, 2)}
                    for p in curves["whale"]
                ],
                "borderColor": "#067647",
                "backgroundColor": "#067647",
                "pointRadius": 0,
            }
        )
    chart_json = pages.chart(
        "line",
        [],
        datasets,
        {
            "parsing": True,
            "scales": {
                "x": {"type": "linear", "min": 0, "max": 100, "title": {"display": True, "text": _("% of customers")}},
                "y": {"beginAtZero": True, "title": {"display": True, "text": "%"}},
            },
        },
    )
    context.update(
        figures=figures,
        table=table,
        points=points,
        has_whale=bool(curves["whale"]),
        chart_json=chart_json,
        export_query=pages.query_string(period=period.name),
        curve_query=pages.query_string(period=period.name, table="curve"),
    )
    return render(request, "accounting/concentration.html", context)
