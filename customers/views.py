"""Pages of the customers app: dashboard, pyramid, migration, retention, 80/20, list, detail, import.

Every view parses its input, checks the role, calls a report builder or selector and renders a full
page, or a partial of the same template when htmx asks for one (``HX-Target`` names the section).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.dates import MONTHS
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from config import pages
from config.export import table_response
from config.intake import IMPORT_KINDS, ImportFailed, Layout, run_import
from config.roles import ALL_ROLES, FINANCE, MANAGER, REP, has_role, require_role, user_roles
from customers import policy
from customers.policy import customer_scope, customer_scope_ids

from . import pages as core_pages
from . import reports, selectors
from .models import Level, Period, PyramidSchemeKind
from .pyramid import ALL_LEVELS, LEVELS_ACTIVE, MIGRATION_FROM
from .services import pyramid_settings_update

PAGE_SIZE = 50
LEVEL_COLOURS = {
    "top": "#1a4d8f",
    "big": "#2f7ed8",
    "medium": "#7fb3ea",
    "small": "#a9c9ee",
    "inactive": "#98a2b3",
    "prospect": "#c2c8d2",
    "suspect": "#dde1e7",
}
#: Sort keys of the customer list page (a leading "-" sorts descending).
LIST_SORTS = ("name", "external_id", "level", "revenue", "gross_margin", "profit")


def level_labels() -> dict[str, str]:
    return {**{k: str(v) for k, v in Level.choices}, "new": _("New")}


# --- small shared helpers -----------------------------------------------------------------------


_chosen_period = core_pages.chosen_period
_export_format = pages.export_format
_wants_partial = pages.wants_partial
_query = pages.query_string
_chart = pages.chart


def _pct_axis(title: str) -> dict:
    return {"beginAtZero": True, "title": {"display": True, "text": title}}


def level_customers_url(*, period: str, level: str) -> str:
    """The customer list of one pyramid level in a period (where a level or a bar leads)."""
    return f"{reverse('customers:list')}?{_query(period=period, level=level)}"


def _tiers(levels: list[dict]) -> list[dict]:
    """The pyramid drawn top to bottom: active levels as growing tiers, then the base levels."""
    labels = level_labels()
    return [
        {
            **row,
            "label": labels[row["level"]],
            "css": row["level"] if row["level"] in LEVELS_ACTIVE else f"other {row['level']}",
        }
        for row in levels
    ]


# --- dashboard --------------------------------------------------------------------------------------


@login_required
@require_GET
@vary_on_headers("HX-Request")
def dashboard(request):
    require_role(request.user, MANAGER, FINANCE)
    period = _chosen_period(request)
    context = {"periods": selectors.period_list(), "period": period}
    if period is not None:
        kpis = reports.kpi_summary(period=period.name)
        context.update(kpis=kpis, tiers=_tiers(kpis["levels"]))
    if _wants_partial(request) == "dashboard-figures":
        return render(request, "customers/dashboard.html#figures", context)
    return render(request, "customers/dashboard.html", context)


# --- pyramid ----------------------------------------------------------------------------------------


class PyramidSettingsForm(forms.Form):
    scheme = forms.ChoiceField(label=gettext_lazy("Scheme"), choices=PyramidSchemeKind.choices)
    top_share = forms.DecimalField(
        label=gettext_lazy("Top share %"), min_value=0, max_value=100, max_digits=5, decimal_places=2
    )
    big_share = forms.DecimalField(
        label=gettext_lazy("Big share %"), min_value=0, max_value=100, max_digits=5, decimal_places=2
    )
    medium_share = forms.DecimalField(
        label=gettext_lazy("Medium share %"), min_value=0, max_value=100, max_digits=5, decimal_places=2
    )
    top_threshold = forms.DecimalField(
        label=gettext_lazy("Top threshold €"), required=False, min_value=0, max_digits=16, decimal_places=2
    )
    big_threshold = forms.DecimalField(
        label=gettext_lazy("Big threshold €"), required=False, min_value=0, max_digits=16, decimal_places=2
    )
    medium_threshold = forms.DecimalField(
        label=gettext_lazy("Medium threshold €"), required=False, min_value=0, max_digits=16, decimal_places=2
    )
    fiscal_year_start_month = forms.TypedChoiceField(
        label=gettext_lazy("Fiscal year starts in"), choices=sorted(MONTHS.items()), coerce=int
    )

    SHARE_FIELDS = ("top_share", "big_share", "medium_share")
    THRESHOLD_FIELDS = ("top_threshold", "big_threshold", "medium_threshold")

    def __init__(self, *args, read_only: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.disabled = read_only

    @classmethod
    def initial_from(cls, obj) -> dict:
        return {name: getattr(obj, name) for name in cls.base_fields}

    def add_service_errors(self, exc: ValidationError) -> None:
        """Show a service's ValidationError inline: next to its field, or above the form."""
        if hasattr(exc, "error_dict"):
            for field, errors in exc.error_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        else:
            self.add_error(None, exc)


def _scheme_form_context(request, form=None, saved: bool = False) -> dict:
    can_edit = has_role(request.user, MANAGER)
    if form is None:
        form = PyramidSettingsForm(
            initial=PyramidSettingsForm.initial_from(selectors.pyramid_settings_get()), read_only=not can_edit
        )
    return {"form": form, "can_edit": can_edit, "saved": saved}


def _pyramid_rows(report: dict) -> list[dict]:
    labels = level_labels()
    return [{**row, "label": labels[row["level"]]} for row in report["levels"]]


PYRAMID_COLUMNS = [
    ("label", gettext_lazy("Level")),
    ("customers", gettext_lazy("Customers")),
    ("revenue", gettext_lazy("Revenue")),
    ("revenue_share", gettext_lazy("Revenue share")),
    ("gross_margin", gettext_lazy("Gross margin")),
    ("allocated_cost", gettext_lazy("Allocated cost")),
    ("profit", gettext_lazy("Profit")),
    ("avg_revenue", gettext_lazy("Avg revenue")),
    ("avg_profit", gettext_lazy("Avg profit")),
]


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def pyramid_page(request):
    require_role(request.user, MANAGER, FINANCE)
    if request.method == "POST":
        return _pyramid_settings_post(request)
    period = _chosen_period(request)
    context = {"periods": selectors.period_list(), "period": period, **_scheme_form_context(request)}
    if period is not None:
        report = reports.pyramid_report(period=period.name)
        rows = _pyramid_rows(report)
        if fmt := _export_format(request):
            return table_response(rows=rows, columns=PYRAMID_COLUMNS, filename=f"pyramid-{period.name}", fmt=fmt)
        has_profit = any(r["profit"] is not None for r in rows if r["customers"])
        datasets = [
            {"label": _("Revenue"), "data": [r["revenue"] for r in rows], "backgroundColor": "#2f7ed8"},
        ]
        if has_profit:
            datasets.append({"label": _("Profit"), "data": [r["profit"] for r in rows], "backgroundColor": "#067647"})
        context.update(
            rows=rows,
            export_query=_query(period=period.name),
            tiers=_tiers(report["levels"]),
            has_profit=has_profit,
            chart_json=_chart(
                "bar",
                [r["label"] for r in rows],
                datasets,
                links=[level_customers_url(period=period.name, level=r["level"]) for r in rows],
            ),
        )
    target = _wants_partial(request)
    if target == "pyramid-figures":
        return render(request, "customers/pyramid.html#figures", context)
    if target == "scheme-form":
        return render(request, "customers/pyramid.html#scheme_form", context)
    return render(request, "customers/pyramid.html", context)


def _pyramid_settings_post(request):
    if not has_role(request.user, MANAGER):
        raise PermissionDenied(_("Only managers can change the pyramid scheme."))
    form = PyramidSettingsForm(request.POST)
    saved = False
    if form.is_valid():
        try:
            pyramid_settings_update(acting_user=request.user, **form.cleaned_data)
            saved = True
        except ValidationError as exc:
            form.add_service_errors(exc)
    if _wants_partial(request) is not None:
        response = render(request, "customers/pyramid.html#scheme_form", _scheme_form_context(request, form, saved))
        if saved:
            response["HX-Trigger"] = "figuresUpdated"
        return response
    if saved:
        messages.success(request, _("Pyramid settings saved; the levels of every period are being recomputed."))
        return redirect("customers:pyramid")
    period = _chosen_period(request)
    context = {"periods": selectors.period_list(), "period": period, **_scheme_form_context(request, form)}
    return render(request, "customers/pyramid.html", context)


# --- migration --------------------------------------------------------------------------------------


def _migration_matrix(data: dict) -> tuple[list[dict], list[dict]]:
    """Rows (from level) of cells (to level) with heat alpha by share of the row's customers."""
    labels = level_labels()
    cells = {(c["from"], c["to"]): c for c in data["cells"]}
    rows = []
    for src in MIGRATION_FROM:
        row_cells = [cells.get((src, dst), {"customers": 0, "revenue": 0.0}) for dst in ALL_LEVELS]
        total = sum(c["customers"] for c in row_cells)
        rows.append(
            {
                "level": src,
                "label": labels[src],
                "customers": total,
                "revenue": round(sum(c["revenue"] for c in row_cells), 2),
                "cells": [
                    {
                        "from": src,
                        "to": dst,
                        "customers": c["customers"],
                        "revenue": c["revenue"],
                        "share": c["customers"] / total if total else 0.0,
                        "alpha": f"{(0.08 + 0.82 * c['customers'] / total) if total and c['customers'] else 0:.2f}",
                        "dark": bool(total and c["customers"] / total > 0.5),
                    }
                    for dst, c in zip(ALL_LEVELS, row_cells, strict=True)
                ],
            }
        )
    columns = [
        {
            "level": dst,
            "label": labels[dst],
            "customers": sum(r["cells"][i]["customers"] for r in rows),
            "revenue": round(sum(r["cells"][i]["revenue"] for r in rows), 2),
        }
        for i, dst in enumerate(ALL_LEVELS)
    ]
    return rows, columns


CELL_COLUMNS = [
    ("external_id", gettext_lazy("Customer id")),
    ("name", gettext_lazy("Name")),
    ("from_level", gettext_lazy("Level before")),
    ("level", gettext_lazy("Level")),
    ("revenue", gettext_lazy("Revenue")),
    ("gross_margin", gettext_lazy("Gross margin")),
    ("profit", gettext_lazy("Profit")),
]
MIGRATION_COLUMNS = [
    ("previous", gettext_lazy("Previous period")),
    ("period", gettext_lazy("Period")),
    ("from", gettext_lazy("From level")),
    ("to", gettext_lazy("To level")),
    ("customers", gettext_lazy("Customers")),
    ("revenue", gettext_lazy("Revenue")),
]


@login_required
@require_GET
@vary_on_headers("HX-Request")
def migration(request):
    require_role(request.user, MANAGER, FINANCE)
    period = _chosen_period(request)
    periods = selectors.period_list()
    context = {"periods": periods[1:], "period": period}
    if period is None:
        return render(request, "customers/migration.html", context)
    try:
        data = reports.migration_report(period=period.name)
    except reports.ReportError as exc:
        context["error"] = str(exc)
        return render(request, "customers/migration.html", context)
    previous = Period.objects.get(name=data["previous"])
    rows, columns = _migration_matrix(data)
    src, dst = request.GET.get("from"), request.GET.get("to")
    cell = None
    if src in MIGRATION_FROM and dst in ALL_LEVELS:
        qs = selectors.migration_cell_customers(
            period=period,
            previous=previous,
            from_level=src,
            to_level=dst,
            scope_ids=customer_scope_ids(request.user),
        )
        cell = {
            "from": src,
            "to": dst,
            "from_label": level_labels()[src],
            "to_label": level_labels()[dst],
            "query": _query(**{"period": period.name, "from": src, "to": dst}),
        }
        fmt = _export_format(request)
        if fmt:
            export_rows = [{**_row_dict(r), "from_level": src} for r in qs.iterator(chunk_size=2000)]
            return table_response(
                rows=export_rows,
                columns=CELL_COLUMNS,
                filename=f"migration-{previous.name}-{period.name}-{src}-{dst}",
                fmt=fmt,
            )
        page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
        cell.update(page=page, in_matrix=next(c for c in rows[MIGRATION_FROM.index(src)]["cells"] if c["to"] == dst))
    elif fmt := _export_format(request):
        return table_response(
            rows=[{"period": data["period"], "previous": data["previous"], **c} for c in data["cells"]],
            columns=MIGRATION_COLUMNS,
            filename=f"migration-{previous.name}-{period.name}",
            fmt=fmt,
        )
    context.update(
        data=data,
        previous=previous,
        rows=rows,
        columns=columns,
        grand={"customers": sum(r["customers"] for r in rows), "revenue": round(sum(r["revenue"] for r in rows), 2)},
        cell=cell,
        export_query=_query(period=period.name),
    )
    if _wants_partial(request) == "cell-customers":
        return render(request, "customers/migration.html#cell_list", context)
    return render(request, "customers/migration.html", context)


def _row_dict(row) -> dict:
    """One stored customer row of a period as the list pages and their exports show it."""
    return {
        "id": row.customer_id,
        "external_id": row.customer.external_id,
        "name": row.customer.name,
        "status": row.customer.status,
        "level": row.level,
        "rank": row.rank,
        "revenue": row.revenue,
        "gross_margin": row.gross_margin,
        "allocated_cost": row.allocated_cost,
        "profit": row.profit,
    }


# --- retention --------------------------------------------------------------------------------------

RETENTION_HISTORY_COLUMNS = [
    ("previous", gettext_lazy("Previous period")),
    ("period", gettext_lazy("Period")),
    ("customers_prev", gettext_lazy("Active customers in previous period")),
    ("customers_retained", gettext_lazy("Retained")),
    ("customer_retention", gettext_lazy("Customer retention")),
    ("revenue_retention", gettext_lazy("Revenue retention")),
    ("existing_revenue_share", gettext_lazy("Existing-customer revenue share")),
]
RETENTION_LEVEL_COLUMNS = [
    ("period", gettext_lazy("Period")),
    ("label", gettext_lazy("Level in previous period")),
    ("customers_prev", gettext_lazy("Customers")),
    ("customers_retained", gettext_lazy("Retained")),
    ("customer_retention", gettext_lazy("Customer retention")),
    ("revenue_retention", gettext_lazy("Revenue retention")),
]


def _pct_or_none(value) -> float | None:
    return None if value is None else round(value * 100, 1)


@login_required
@require_GET
def retention(request):
    require_role(request.user, MANAGER, FINANCE)
    period = _chosen_period(request)
    periods = selectors.period_list()
    context = {"periods": periods[1:], "period": period}
    if period is None:
        return render(request, "customers/retention.html", context)
    history = reports.retention_history()
    current = reports.retention_report(period=period.name)
    labels = level_labels()
    by_level = [{"period": current["period"], "label": labels[r["level"]], **r} for r in current["by_level"]]
    if fmt := _export_format(request):
        if request.GET.get("table") == "levels":
            return table_response(
                rows=by_level, columns=RETENTION_LEVEL_COLUMNS, filename=f"retention-levels-{period.name}", fmt=fmt
            )
        return table_response(rows=history, columns=RETENTION_HISTORY_COLUMNS, filename="retention", fmt=fmt)
    series = (
        ("customer_retention", _("Customer retention"), "#0b5cad"),
        ("revenue_retention", _("Revenue retention"), "#067647"),
        ("existing_revenue_share", _("Existing-customer revenue share"), "#b54708"),
    )
    chart_json = _chart(
        "line",
        [str(h["period"]) for h in history],
        [
            {
                "label": label,
                "data": [_pct_or_none(h[key]) for h in history],
                "borderColor": colour,
                "backgroundColor": colour,
                "tension": 0.2,
            }
            for key, label, colour in series
        ],
        {"scales": {"y": _pct_axis("%")}},
    )
    context.update(
        history=history,
        current=current,
        by_level=by_level,
        chart_json=chart_json,
        export_query=_query(period=period.name),
        levels_query=_query(period=period.name, table="levels"),
    )
    return render(request, "customers/retention.html", context)


# --- concentration ----------------------------------------------------------------------------------

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


@login_required
@require_GET
def concentration(request):
    require_role(request.user, MANAGER, FINANCE)
    period = _chosen_period(request)
    context = {"periods": selectors.period_list(), "period": period}
    if period is None:
        return render(request, "customers/concentration.html", context)
    figures = reports.concentration_report(period=period.name)
    from accounting.selectors import period_totals  # the one source of a period's totals

    context["totals"] = period_totals(period=period)
    curves = reports.concentration_curves(period=period.name)
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
    if fmt := _export_format(request):
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
    chart_json = _chart(
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
        export_query=_query(period=period.name),
        curve_query=_query(period=period.name, table="curve"),
    )
    return render(request, "customers/concentration.html", context)


# --- customer list ----------------------------------------------------------------------------------

LIST_COLUMNS = [
    ("external_id", gettext_lazy("Customer id")),
    ("name", gettext_lazy("Name")),
    ("status", gettext_lazy("Status")),
    ("level", gettext_lazy("Level")),
    ("rank", gettext_lazy("Rank")),
    ("revenue", gettext_lazy("Revenue")),
    ("gross_margin", gettext_lazy("Gross margin")),
    ("allocated_cost", gettext_lazy("Allocated cost")),
    ("profit", gettext_lazy("Profit")),
]


def _list_params(request) -> dict:
    level = request.GET.get("level", "")
    sort = request.GET.get("sort", "level")
    return {
        "level": level if level in Level.values else "",
        "q": request.GET.get("q", "").strip()[:100],
        "sort": sort if sort.lstrip("-") in LIST_SORTS else "level",
    }


@login_required
@require_GET
@vary_on_headers("HX-Request")
def customer_list(request):
    period = _chosen_period(request)
    params = _list_params(request)
    context = {"periods": selectors.period_list(), "period": period, "params": params, "levels": Level.choices}
    if period is not None:
        qs = selectors.customer_period_list(
            period=period,
            scope_ids=customer_scope_ids(request.user),
            level=params["level"] or None,
            search=params["q"] or None,
            ordering=params["sort"],
        )
        if fmt := _export_format(request):
            return table_response(
                rows=[_row_dict(r) for r in qs.iterator(chunk_size=2000)],
                columns=LIST_COLUMNS,
                filename=f"customers-{period.name}",
                fmt=fmt,
            )
        page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
        query = {"period": period.name, "level": params["level"], "q": params["q"]}
        context.update(
            page=page,
            sort_links=_sort_links(query, params["sort"]),
            page_query=_query(**query, sort=params["sort"]),
        )
    if _wants_partial(request) is not None:
        return render(request, "customers/list.html#table", context)
    return render(request, "customers/list.html", context)


def _sort_links(query: dict, current: str) -> dict[str, dict]:
    """Per column: the query string that sorts by it (toggling direction) and the arrow to show."""
    links = {}
    for key in LIST_SORTS:
        active = current.lstrip("-") == key
        descending = current.startswith("-")
        default_desc = key in ("revenue", "gross_margin", "profit")
        if active:
            target = key if descending else f"-{key}"
        else:
            target = f"-{key}" if default_desc else key
        links[key] = {
            "query": urlencode({**query, "sort": target}),
            "arrow": ("↓" if descending else "↑") if active else "",
            "aria": ("descending" if descending else "ascending") if active else "none",
        }
    return links


# --- customer detail --------------------------------------------------------------------------------

HISTORY_COLUMNS = [
    ("period", gettext_lazy("Period")),
    ("level", gettext_lazy("Level")),
    ("rank", gettext_lazy("Rank")),
    ("revenue", gettext_lazy("Revenue")),
    ("gross_margin", gettext_lazy("Gross margin")),
    ("orders", gettext_lazy("Orders")),
    ("order_lines", gettext_lazy("Order lines")),
]


def _history_rows(customer) -> list[dict]:
    return [
        {
            "period": h["period__name"],
            "level": h["level"],
            "rank": h["rank"],
            "revenue": h["revenue"],
            "gross_margin": h["gross_margin"],
            "orders": h["orders"],
            "order_lines": h["order_lines"],
        }
        for h in selectors.level_history(customer=customer)
    ]


#: The tabs of the one customer page: key, label, who sees it, and the partial each one loads.
#: Every partial stays in its own app (views there scope the customer again); this page only
#: names them, so the customers app imports nothing from the apps above it.
CUSTOMER_TABS = (
    {"key": "overview", "label": gettext_lazy("Overview"), "roles": ALL_ROLES},
    {
        "key": "profit",
        "label": gettext_lazy("Profit"),
        "roles": (REP, MANAGER, FINANCE),
        "url": "accounting:customer_waterfall",
        "panel": "customer-profit",
        "swap": "innerHTML",
        "trigger": "load, figuresUpdated from:body",
    },
    {
        "key": "sales",
        "label": gettext_lazy("Sales and target"),
        "roles": ALL_ROLES,
        "url": "salesforce:customer",
        "panel": "sales-panel",
        "swap": "innerHTML",
    },
    {
        "key": "visits",
        "label": gettext_lazy("Visits"),
        "roles": ALL_ROLES,
        "url": "salesforce:visits",
        "query": "customer",
        "panel": "visit-table",
        "swap": "innerHTML",
    },
    {
        "key": "actions",
        "label": gettext_lazy("Actions"),
        "roles": (REP, MANAGER),
        "url": "actions:board",
        "query": "customer",
        "panel": "action-list",
        "swap": "outerHTML",
    },
)


def customer_tabs(*, user, customer_id: int) -> list[dict]:
    """The tabs this user may open on a customer's page, with the URL of each tab's partial."""
    roles = user_roles(user)
    tabs = []
    for tab in CUSTOMER_TABS:
        if not roles & set(tab["roles"]):
            continue
        entry = {"trigger": "load", **tab, "label": str(tab["label"])}
        if "url" in tab:
            try:
                if tab.get("query"):
                    entry["partial_url"] = f"{reverse(tab['url'])}?{tab['query']}={customer_id}&"
                else:
                    entry["partial_url"] = f"{reverse(tab['url'], args=[customer_id])}?"
            except NoReverseMatch:  # that app is not installed
                continue
        tabs.append(entry)
    return tabs


def customer_page_url(customer_id: int, *, tab: str = "overview", period: str | None = None) -> str:
    """The one page of a customer, opened on a tab (old customer URLs redirect here)."""
    query = _query(tab=tab if tab != "overview" else None, period=period)
    url = reverse("customers:detail", args=[customer_id])
    return f"{url}?{query}" if query else url


@login_required
@require_GET
def customer_detail(request, pk: int):
    """The one page of a customer: overview here, profit, sales and target, visits and actions
    as tabs whose panels load the partial of the app that owns them."""
    customer = get_object_or_404(customer_scope(request.user).select_related("pair"), pk=pk)
    tabs = customer_tabs(user=request.user, customer_id=customer.pk)
    by_key = {t["key"]: t for t in tabs}
    tab = request.GET.get("tab") or "overview"
    if tab not in by_key:
        raise Http404(_("This customer page has no tab '%(tab)s'.") % {"tab": tab})
    period_name = request.GET.get("period") or ""
    if period_name and selectors.period_get(name=period_name) is None:
        raise Http404(_("Unknown period %(name)s.") % {"name": period_name})
    history = _history_rows(customer)
    if fmt := _export_format(request):
        return table_response(
            rows=history, columns=HISTORY_COLUMNS, filename=f"customer-{customer.external_id}", fmt=fmt
        )
    current = history[-1] if history else None
    for t in tabs:
        t["href"] = customer_page_url(customer.pk, tab=t["key"], period=period_name or None)
    active = by_key[tab]
    context = {
        "customer": customer,
        "tabs": tabs,
        "tab": active,
        "panel_url": active.get("partial_url", "") + _query(period=period_name or None),
        "period_name": period_name,
        "current": current,
        "current_level_label": level_labels().get(current["level"], current["level"]) if current else "",
    }
    if tab == "overview":
        labels = level_labels()
        context["history"] = list(reversed(history))
        context["chart_json"] = _chart(
            "bar",
            [f"{h['period']} · {labels.get(h['level'], h['level'])}" for h in history],
            [
                {
                    "label": _("Revenue"),
                    "data": [float(h["revenue"]) for h in history],
                    "backgroundColor": "#2f7ed8",
                },
                {
                    "label": _("Gross margin"),
                    "data": [float(h["gross_margin"]) for h in history],
                    "backgroundColor": "#067647",
                },
            ],
        )
    return render(request, "customers/detail.html", context)


# --- import -----------------------------------------------------------------------------------------

#: Where each import kind keeps its column layout (a kind of a later issue may not have one yet).
IMPORT_LAYOUTS = {
    "customers": "customers.services.CUSTOMER_LAYOUT",
    "orders": "customers.services.ORDER_LAYOUT",
    "costs": "accounting.services.COST_LAYOUT",
    "invoices": "accounting.services.INVOICE_LAYOUT",
    "visits": "salesforce_tasks.services.VISIT_LAYOUT",
    "surveys": "scenarios.services.SURVEY_LAYOUT",
    "organisation": "salesforce_tasks.organisation.services.ORGANISATION_LAYOUT",
}
#: Example values for the downloadable example file, by column name; per-kind values override.
EXAMPLE_VALUES = {
    "external_id": "C1001",
    "name": "Alpha BV",
    "status": "customer",
    "industry": "construction",
    "city": "Utrecht",
    "since": "2024-01-15",
    "order_id": "O1001",
    "customer_id": "C1001",
    "date": "2025-02-01",
    "amount": "1250.00",
    "cost": "800.00",
    "quantity": "2",
    "product": "P1",
    "product_group": "G1",
    "period": "2025",
    "pool": "Sales force",
    "key": "per_customer",
    "nature": "fixed",
    "weight_top": "1",
    "weight_big": "1",
    "weight_medium": "1",
    "weight_small": "1",
    "invoice_id": "I1001",
    "issued": "2025-02-01",
    "due": "2025-03-03",
    "paid": "2025-03-20",
    "minutes": "45",
    "kind": "visit",
    "score": "8",
}
EXAMPLE_OVERRIDES = {
    "costs": {"amount": "90000.00", "customer_id": ""},
    "visits": {"rep": "R1", "outcome": "order expected", "next_step": "send a quote"},
    "surveys": {"date": "2025-03-10", "round": "2025-spring", "comment": "Happy with delivery times"},
    "organisation": {
        "username": "anna",
        "name": "Anna de Vries",
        "email": "anna@example.com",
        "role": "rep",
        "rep_kind": "outside",
        "pair": "N1",
        "team": "Noord",
    },
}
IMPORT_KIND_LABELS = {
    "customers": gettext_lazy("Customers"),
    "orders": gettext_lazy("Orders (one row per order line)"),
    "costs": gettext_lazy("Cost pools"),
    "invoices": gettext_lazy("Invoices"),
    "visits": gettext_lazy("Visits and calls"),
    "surveys": gettext_lazy("Survey scores"),
    "organisation": gettext_lazy("Organisation (one row per person)"),
}


def import_layout(kind: str) -> Layout | None:
    path = IMPORT_LAYOUTS.get(kind)
    if not path:
        return None
    try:
        return import_string(path)
    except ImportError:
        return None


class ImportForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("What is in the file"), choices=[(k, IMPORT_KIND_LABELS.get(k, k)) for k in IMPORT_KINDS]
    )
    file = forms.FileField(
        label=gettext_lazy("File (.csv or .xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,.txt"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.IMPORT_MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise ValidationError(
                _("The file is %(size)s MB; the largest file accepted is %(limit)s MB."),
                params={"size": round(upload.size / 2**20, 1), "limit": round(limit / 2**20, 1)},
            )
        return upload


def run_uploaded_import(*, kind: str, upload, acting_user):
    """Save an uploaded file to a temporary folder under its own name and run the kind's import.

    Raises ``ImportFailed`` (nothing written) or returns the importer's result. Shared by the page
    and the API.
    """
    if not policy.may_import(acting_user, kind):
        raise PermissionDenied(_("Your role may not import this kind of file."))
    # Stored under the user's own file name (in a private directory), so every error names it.
    name = Path(upload.name or "").name.replace("\x00", "") or f"upload-{kind}.csv"
    with tempfile.TemporaryDirectory(prefix="kw-import-") as folder:
        path = Path(folder) / name[-200:]
        with open(path, "wb") as tmp:
            for chunk in upload.chunks():
                tmp.write(chunk)
        return run_import(kind, path, acting_user=acting_user)


def import_result_dict(result) -> dict:
    if hasattr(result, "as_dict"):
        return result.as_dict()
    return {k: v for k, v in vars(result).items() if not k.startswith("_")}


def _kinds_with_layouts(user) -> list[dict]:
    allowed = policy.import_kinds_for(user)
    return [
        {"kind": kind, "label": IMPORT_KIND_LABELS.get(kind, kind), "layout": import_layout(kind)}
        for kind in IMPORT_KINDS
        if kind in allowed
    ]


@login_required
@require_http_methods(["GET", "POST"])
def import_page(request):
    require_role(request.user, MANAGER, FINANCE)
    context = {"kinds": _kinds_with_layouts(request.user), "max_mb": round(settings.IMPORT_MAX_UPLOAD_BYTES / 2**20)}
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            kind = form.cleaned_data["kind"]
            try:
                result = run_uploaded_import(kind=kind, upload=form.cleaned_data["file"], acting_user=request.user)
            except ImportFailed as exc:
                context["failed"] = {"errors": exc.errors, "total": exc.total, "kind": kind}
            else:
                context["result"] = import_result_dict(result)
                form = ImportForm(initial={"kind": kind})
    else:
        form = ImportForm(initial={"kind": request.GET.get("kind", "customers")})
    context["form"] = form
    # A refused file is a bad request, as on the API (the page shows every bad row).
    return render(request, "customers/import.html", context, status=400 if "failed" in context else 200)


@login_required
@require_GET
def import_example(request, kind: str):
    require_role(request.user, MANAGER, FINANCE)
    layout = import_layout(kind)
    if layout is None:
        raise Http404(_("No example for this import kind yet."))
    values = {**EXAMPLE_VALUES, **EXAMPLE_OVERRIDES.get(kind, {})}
    rows = [{col: values.get(col, "") for col in layout.all}]
    return table_response(rows=rows, columns=[(c, c) for c in layout.all], filename=f"example-{kind}", fmt="csv")
