"""The profit page (managers): profit by level, the whale curve, the loss-making customers."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from config.export import table_response
from config.money import to_decimal
from config.roles import FINANCE, MANAGER, require_role
from customers.figures_cache import period_figures, period_figures_get
from customers.models import Period
from customers.policy import customer_scope_ids
from customers.selectors import period_list

from .. import selectors
from .shared import _chart, _export_format, _level_label, _period, customer_url, level_customers_url

LOSSMAKING_PER_PAGE = 25
LEVEL_COLORS = {
    "top": "#1a4d8f",
    "big": "#2f7ed8",
    "medium": "#7fb3ea",
    "small": "#9fc3ea",
    "inactive": "#98a2b3",
    "prospect": "#d0d5dd",
    "suspect": "#e4e7ec",
}


LEVEL_EXPORT_COLUMNS = [
    ("level", gettext_lazy("Level")),
    ("customers", gettext_lazy("Customers")),
    ("revenue", gettext_lazy("Revenue")),
    ("gross_margin", gettext_lazy("Gross margin")),
    ("allocated", gettext_lazy("Allocated cost")),
    ("financing", gettext_lazy("Financing cost")),
    ("profit", gettext_lazy("Profit")),
    ("avg_profit", gettext_lazy("Average profit per customer")),
]
CUSTOMER_EXPORT_COLUMNS = [
    ("customer_id", gettext_lazy("Customer id")),
    ("name", gettext_lazy("Name")),
    ("level", gettext_lazy("Level")),
    ("revenue", gettext_lazy("Revenue")),
    ("gross_margin", gettext_lazy("Gross margin")),
    ("allocated", gettext_lazy("Allocated cost")),
    ("financing", gettext_lazy("Financing cost")),
    ("profit", gettext_lazy("Profit")),
]


def _level_rows(overview: dict) -> list[dict]:
    """The level table as the page shows it and the export writes it (euros)."""
    rows = []
    for r in [*overview["levels"], {**overview["total"], "level": "total", "avg_profit_cents": None}]:
        rows.append(
            {
                "level": _("Total") if r["level"] == "total" else _level_label(r["level"]),
                "level_code": r["level"],
                "customers": r["customers"],
                "revenue": to_decimal(r["revenue_cents"]),
                "gross_margin": to_decimal(r["gross_margin_cents"]),
                "allocated": to_decimal(r["allocated_cents"]),
                "financing": to_decimal(r["financing_cents"]),
                "profit": to_decimal(r["profit_cents"]),
                "avg_profit": to_decimal(r["avg_profit_cents"]),
            }
        )
    total = overview["total"]
    if total["allocated_cents"] is not None and total["financing_cents"] is not None:
        rows[-1]["cost_to_serve"] = to_decimal(total["allocated_cents"] + total["financing_cents"])
    return rows


def _levels_chart(levels: list[dict], *, period: str) -> str:
    """Margin, cost to serve and profit per level; a bar opens the customers of its level."""
    shown = [r for r in levels if r["level_code"] in ("top", "big", "medium", "small", "inactive")]
    shown = [r for r in shown if r["level_code"] != "inactive" or r["profit"]]

    def euros(value) -> float | None:
        return None if value is None else float(value)

    costs = [None if r["allocated"] is None else euros(r["allocated"] + (r["financing"] or 0)) for r in shown]
    return _chart(
        {
            "type": "bar",
            "data": {
                "labels": [r["level"] for r in shown],
                "datasets": [
                    {
                        "label": _("Gross margin"),
                        "data": [euros(r["gross_margin"]) for r in shown],
                        "backgroundColor": "#7fb3ea",
                    },
                    {"label": _("Cost to serve"), "data": costs, "backgroundColor": "#f97066"},
                    {"label": _("Profit"), "data": [euros(r["profit"]) for r in shown], "backgroundColor": "#1a4d8f"},
                ],
            },
            "options": {
                "plugins": {"legend": {"position": "bottom"}},
                "scales": {"y": {"title": {"display": True, "text": "€"}}},
            },
            "links": [level_customers_url(period=period, level=r["level_code"]) for r in shown],
        }
    )


def _whale_chart(curve) -> str:
    points = [
        {"x": round(x * 100, 2), "y": round(y * 100, 2)}
        for x, y in zip(curve["customer_share"], curve["profit_share"], strict=True)
    ]
    return _chart(
        {
            "type": "line",
            "data": {
                "datasets": [
                    {
                        "label": _("Cumulative share of profit (%)"),
                        "data": points,
                        "borderColor": "#1a4d8f",
                        "pointRadius": 0,
                        "borderWidth": 2,
                    },
                    {
                        "label": _("Total profit (100 %)"),
                        "data": [{"x": 0, "y": 100}, {"x": 100, "y": 100}],
                        "borderColor": "#98a2b3",
                        "borderDash": [6, 4],
                        "pointRadius": 0,
                        "borderWidth": 1,
                    },
                ]
            },
            "options": {
                "plugins": {"legend": {"position": "bottom"}},
                "scales": {
                    "x": {
                        "type": "linear",
                        "min": 0,
                        "max": 100,
                        "title": {"display": True, "text": _("Customers, most profitable first (%)")},
                    },
                    "y": {"title": {"display": True, "text": _("Cumulative profit (% of total)")}},
                },
            },
        }
    )


def _whale_table(curve) -> list[dict]:
    """The curve at every 10 % of customers (the numbers behind the chart)."""
    rows = []
    xs, ys = list(curve["customer_share"]), list(curve["profit_share"])
    for decile in range(1, 11):
        target = decile / 10
        i = min(range(len(xs)), key=lambda j: abs(xs[j] - target))
        rows.append({"customers": xs[i], "profit": ys[i]})
    return rows


def _lossmaking_context(request, period: Period) -> dict:
    qs = selectors.lossmaking_customers(period=period, scope_ids=customer_scope_ids(request.user))
    page = Paginator(qs, LOSSMAKING_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    for row in page.object_list:
        row.url = customer_url(row.customer_id, period=period.name)
    return {"period": period, "page": page}


@period_figures("profit_overview")
def _profit_overview(period: Period) -> dict:
    return selectors.profit_overview(period=period)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def profit(request):
    """Profit per pyramid level, the whale curve and the loss-making customers of a period."""
    require_role(request.user, MANAGER, FINANCE)
    period = _period(request)
    try:
        fmt = _export_format(request)
    except ValueError:
        return HttpResponseBadRequest(_("Unknown format: use csv or xlsx."))
    table = request.GET.get("table", "customers")
    if fmt and table == "customers":
        data = selectors.customer_profit_table(period=period, scope_ids=customer_scope_ids(request.user))
        columns = CUSTOMER_EXPORT_COLUMNS + [(f"pool_{p['id']}", p["name"]) for p in data["pools"]]
        rows = ({**r, "level": _level_label(r["level"])} for r in data["rows"])
        return table_response(rows=rows, columns=columns, filename=f"customer-profit-{period.name}", fmt=fmt)
    overview = period_figures_get("profit_overview", period)
    levels = _level_rows(overview)
    if fmt and table == "levels":
        return table_response(
            rows=levels, columns=LEVEL_EXPORT_COLUMNS, filename=f"profit-by-level-{period.name}", fmt=fmt
        )
    if fmt:
        return HttpResponseBadRequest(_("Unknown table: use customers or levels."))
    curve = overview["whale"]
    has_curve = curve is not None and len(curve) > 0
    context = {
        "period": period,
        "periods": period_list(),
        "overview": overview,
        "levels": levels[:-1],
        "total": levels[-1],
        "c": overview["concentration"],
        "levels_chart": _levels_chart(levels[:-1], period=period.name),
        "whale_chart": _whale_chart(curve) if has_curve else None,
        "whale_table": _whale_table(curve) if has_curve else [],
        **_lossmaking_context(request, period),
    }
    template = "accounting/profit.html#figures" if request.htmx else "accounting/profit.html"
    return render(request, template, context)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def profit_lossmaking(request):
    """The loss-making customers of a period (those you may see), the largest loss first."""
    require_role(request.user, MANAGER, FINANCE)
    period = _period(request)
    context = {"periods": period_list(), **_lossmaking_context(request, period)}
    template = "accounting/profit.html#lossmaking" if request.htmx else "accounting/lossmaking.html"
    return render(request, template, context)
