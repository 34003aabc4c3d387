"""The segments page: the 2 x 2 of customer value and product value, its customers and settings."""

from __future__ import annotations

import math

import numpy as np
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from accounting.selectors import period_totals
from config.export import table_response
from config.roles import FINANCE, MANAGER, has_role, require_role
from customers.figures_cache import period_figures, period_figures_get
from customers.models import Level, Period
from customers.policy import customer_scope_ids
from customers.selectors import period_list

from .. import reports, selectors, services, valuation
from ..forms import ValueSettingsForm
from ..models import Segment
from .charts import (
    MAX_SCATTER_POINTS,
    PAGE_SIZE,
    QUADRANT_ORDER,
    SEGMENT_COLOURS,
    _axis,
    _chart,
    _chosen_period,
    _export_format,
    _query,
    _segment_labels,
    _wants_partial,
)

SUMMARY_COLUMNS = [
    ("label", gettext_lazy("Segment")),
    ("customers", gettext_lazy("Customers")),
    ("revenue", gettext_lazy("Revenue")),
    ("profit", gettext_lazy("Profit")),
    ("clv", gettext_lazy("Customer value (CLV)")),
    ("strategy", gettext_lazy("Strategy")),
]
SEGMENT_CUSTOMER_COLUMNS = [
    ("external_id", gettext_lazy("Customer id")),
    ("name", gettext_lazy("Name")),
    ("level", gettext_lazy("Level")),
    ("revenue", gettext_lazy("Revenue")),
    ("profit", gettext_lazy("Profit")),
    ("clv", gettext_lazy("Customer value (CLV)")),
    ("product_value", gettext_lazy("Product value")),
]


def _nice(value: float, up: bool) -> float:
    """Round an axis bound outward to two significant digits (118,198.2 -> 120,000)."""
    if value == 0:
        return 0.0
    step = 10 ** (math.floor(math.log10(abs(value))) - 1)
    return float((math.ceil if up else math.floor)(value / step) * step)


def _scatter_json(overview: dict) -> tuple[str, int]:
    """Chart.js scatter: one dataset per measured segment, plus the two threshold lines.

    The x axis spans the 2nd to 98th percentile of customer value (and the threshold), so a few very
    large or loss-making customers do not squeeze everyone else into one column; customers beyond it
    are drawn at its edge as triangles. Returns the chart JSON and the number of customers at an edge.
    """
    frame = overview["frame"]
    measured = frame[frame["product_value"].notna()]
    if len(measured) > MAX_SCATTER_POINTS:
        measured = measured.sample(n=MAX_SCATTER_POINTS, random_state=0)
    clv_t = overview["clv_threshold_cents"] / 100
    pv_t = overview["product_value_threshold"]
    euros = measured["clv_cents"].to_numpy(dtype="float64") / 100
    if len(euros):
        lo, hi = np.percentile(euros, [2, 98])
    else:
        lo, hi = clv_t - 1, clv_t + 1
    lo, hi = min(lo, clv_t), max(hi, clv_t)
    pad = (hi - lo) * 0.05 or 1.0
    x_min, x_max = _nice(lo - pad, up=False), _nice(hi + pad, up=True)
    labels = _segment_labels()
    datasets = []
    for segment in ("partners", "vulnerable", "under_earning", "low_low"):
        rows = measured[measured["segment"] == segment]
        xs = rows["clv_cents"].to_numpy(dtype="float64") / 100
        beyond = (xs < x_min) | (xs > x_max)
        datasets.append(
            {
                "label": labels[segment],
                "data": [
                    {"x": round(float(x), 2), "y": float(y)}
                    for x, y in zip(np.clip(xs, x_min, x_max), rows["product_value"], strict=True)
                ],
                "pointStyle": ["triangle" if b else "circle" for b in beyond],
                "pointRadius": [6 if b else 4 for b in beyond],
                "backgroundColor": SEGMENT_COLOURS[segment] + "99",
                "borderColor": SEGMENT_COLOURS[segment],
                "borderWidth": 1,
            }
        )
    line = {
        "type": "line",
        "borderColor": "#1d2330",
        "backgroundColor": "#1d2330",
        "borderWidth": 1.5,
        "borderDash": [6, 4],
        "pointRadius": 0,
        "pointStyle": "line",
    }
    datasets.append(
        {**line, "label": _("Customer value threshold"), "data": [{"x": clv_t, "y": 0}, {"x": clv_t, "y": 10}]}
    )
    datasets.append(
        {**line, "label": _("Product value threshold"), "data": [{"x": x_min, "y": pv_t}, {"x": x_max, "y": pv_t}]}
    )
    options = {
        "scales": {
            "x": _axis(_("Customer value (CLV) €"), type="linear", min=x_min, max=x_max),
            "y": _axis(_("Product value (0-10)"), min=0, max=10),
        },
        "plugins": {"legend": {"position": "bottom", "labels": {"usePointStyle": True}}},
    }
    edge = int(((euros < x_min) | (euros > x_max)).sum())
    return _chart("scatter", [], datasets, options), edge


def _quadrants(rows: list[dict], period: Period, current: str | None) -> tuple[list[dict], dict]:
    by_segment = {r["segment"]: r for r in rows}
    cards = []
    for segment in (*QUADRANT_ORDER, "unmeasured"):
        row = by_segment[segment]
        cards.append(
            {
                **row,
                "colour": SEGMENT_COLOURS[segment],
                "query": _query(period=period.name, segment=segment),
                "selected": segment == current,
            }
        )
    return cards[:4], cards[4]


@period_figures("segments")
def _segment_figures(period: Period) -> dict:
    """The segment overview without its per-customer frame, the scatter drawn from it and the
    period's totals: what the page shows, cached until the figures change and built ahead at stage
    time (``period_figures``)."""
    overview = selectors.segment_overview(period=period)
    chart_json, at_edge = _scatter_json(overview)
    measured = int(overview["frame"]["product_value"].notna().sum())
    return {
        "overview": {k: v for k, v in overview.items() if k != "frame"},
        "chart": {
            "chart_json": chart_json,
            "at_edge": at_edge,
            "plotted": min(measured, MAX_SCATTER_POINTS),
            "measured": measured,
            "totals": period_totals(period=period),
        },
    }


@period_figures("value_explanation")
def _explanation_context(period: Period) -> dict:
    ex = selectors.value_explanation(period=period)
    labels = {**{k: str(v) for k, v in Level.choices}}
    matrix = None
    if ex["matrix"] is not None:
        matrix = [
            {
                "level": src,
                "label": labels[src],
                "total": int(ex["counts"].loc[src].sum()),
                "cells": [
                    {
                        "to": dst,
                        "p": float(ex["matrix"].loc[src, dst]),
                        "n": int(ex["counts"].loc[src, dst]),
                        "alpha": f"{0.06 + 0.8 * float(ex['matrix'].loc[src, dst]):.2f}",
                        "dark": float(ex["matrix"].loc[src, dst]) > 0.55,
                    }
                    for dst in valuation.STATES
                ],
            }
            for src in valuation.STATES
        ]
    survival = [
        {
            "level": level,
            "label": labels[level],
            "values": [float(v) for v in ex["survival"].loc[level]],
            "factor": float(ex["factor"][level]),
        }
        for level in valuation.ACTIVE
    ]
    return {
        "explanation": ex,
        "matrix_rows": matrix,
        "matrix_columns": [{"level": s, "label": labels[s]} for s in valuation.STATES],
        "survival_rows": survival,
        "years": list(range(1, ex["horizon"] + 1)),
    }


def _settings_form_context(request, form=None, saved: bool = False) -> dict:
    can_edit = has_role(request.user, MANAGER)
    if form is None:
        form = ValueSettingsForm(
            initial=ValueSettingsForm.initial_from(selectors.value_settings_get()), read_only=not can_edit
        )
    return {"settings_form": form, "can_edit": can_edit, "saved": saved}


def _segment_customer_row(r) -> dict:
    return {
        "id": r.customer_id,
        "external_id": r.customer.external_id,
        "name": r.customer.name,
        "level": r.level,
        "revenue": r.revenue,
        "profit": r.profit,
        "clv": r.clv,
        "product_value": r.product_value,
    }


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def segments(request):
    require_role(request.user, MANAGER, FINANCE)
    if request.method == "POST":
        return _settings_post(request)
    period = _chosen_period(request)
    segment = request.GET.get("segment")
    segment = segment if segment in Segment.values else None
    context = {"periods": period_list(), "period": period, "segment": segment, **_settings_form_context(request)}
    target = _wants_partial(request)
    if target == "settings-form":
        return render(request, "scenarios/segments.html#settings_form", context)
    if period is None:
        return render(request, "scenarios/segments.html", context)
    fmt = _export_format(request)
    scope_ids = customer_scope_ids(request.user)
    if segment is not None:
        qs = selectors.segment_customer_list(period=period, segment=segment, scope_ids=scope_ids)
        if fmt:
            return table_response(
                rows=(_segment_customer_row(r) for r in qs.iterator(chunk_size=2000)),
                columns=SEGMENT_CUSTOMER_COLUMNS,
                filename=f"segment-{segment}-{period.name}",
                fmt=fmt,
            )
        page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
        context["segment_page"] = page
        context["segment_total"] = (
            page.paginator.count
            if scope_ids is None
            else selectors.segment_customer_list(period=period, segment=segment).count()
        )
        context["segment_label"] = _segment_labels()[segment]
        context["segment_query"] = _query(period=period.name, segment=segment)
        context["segment_strategy"] = reports.segment_strategy(segment)
        if target == "segment-customers":
            return render(request, "scenarios/segments.html#segment_customers", context)
    figures = period_figures_get("segments", period)
    overview = figures["overview"]
    rows = [{**r, "colour": SEGMENT_COLOURS[r["segment"]]} for r in reports.segment_rows(overview["summary"])]
    if fmt:
        return table_response(rows=rows, columns=SUMMARY_COLUMNS, filename=f"segments-{period.name}", fmt=fmt)
    quadrants, unmeasured = _quadrants(rows, period, segment)
    context.update(figures["chart"])
    context.update(
        overview=overview,
        rows=rows,
        quadrants=quadrants,
        unmeasured=unmeasured,
        total=_summary_total(rows),
        clv_threshold=overview["clv_threshold_cents"] / 100,
        export_query=_query(period=period.name),
    )
    if target == "segment-figures":
        return render(request, "scenarios/segments.html#figures", context)
    context.update(period_figures_get("value_explanation", period))
    return render(request, "scenarios/segments.html", context)


def _summary_total(rows: list[dict]) -> dict:
    return {
        "customers": sum(r["customers"] for r in rows),
        "revenue": round(sum(r["revenue"] or 0 for r in rows), 2),
        "profit": round(sum(r["profit"] or 0 for r in rows), 2),
        "clv": round(sum(r["clv"] or 0 for r in rows), 2),
    }


def _settings_post(request):
    if not has_role(request.user, MANAGER):
        raise PermissionDenied(_("Only managers can change the value settings."))
    form = ValueSettingsForm(request.POST)
    saved = False
    if form.is_valid():
        try:
            services.value_settings_update(acting_user=request.user, **form.cleaned_data)
            saved = True
        except ValidationError as exc:
            form.add_service_errors(exc)
    if _wants_partial(request) is not None:
        response = render(
            request, "scenarios/segments.html#settings_form", _settings_form_context(request, form, saved)
        )
        if saved:
            response["HX-Trigger"] = "figuresUpdated"
        return response
    if saved:
        messages.success(request, _("Value settings saved; customer values and segments are being recomputed."))
        return redirect("scenarios:segments")
    context = {"periods": period_list(), "period": _chosen_period(request), **_settings_form_context(request, form)}
    return render(request, "scenarios/segments.html", context, status=400)
