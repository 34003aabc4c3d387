"""Pages of the scenarios app: value segments, segment targets, growth scenarios and survey answers.

Every view parses its input, checks the role, calls a selector or service and renders a full page, or a
partial of the same template when htmx asks for one (``HX-Target`` names the section).
"""

from __future__ import annotations

import math

import numpy as np
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from accounting.selectors import period_totals
from config import pages
from config.export import table_response
from config.roles import FINANCE, MANAGER, REP, has_role, require_role
from customers import pages as core_pages
from customers.models import Level, Period
from customers.policy import customer_scope, customer_scope_ids
from customers.selectors import period_get, period_list

from . import reports, selectors, services, valuation
from .forms import CopyScenarioForm, ScenarioForm, SegmentTargetsForm, SurveyResponseForm, ValueSettingsForm
from .models import Scenario, Segment, SegmentTarget

PAGE_SIZE = 50
MAX_SCATTER_POINTS = 1500
MAX_COMPARED = 6
SEGMENT_COLOURS = {
    "partners": "#067647",
    "vulnerable": "#b54708",
    "under_earning": "#0b5cad",
    "low_low": "#98a2b3",
    "unmeasured": "#c2c8d2",
}
#: The 2 x 2 cards in the order they sit under the chart (y = product value up, x = customer value right).
QUADRANT_ORDER = ("under_earning", "partners", "low_low", "vulnerable")
LEVEL_COLOURS = {"top": "#1a4d8f", "big": "#2f7ed8", "medium": "#7fb3ea", "small": "#a9c9ee", "inactive": "#d0d5dd"}
BUILT_IN_COLOURS = {"Do nothing": "#98a2b3", "Conservative": "#0b5cad", "Ambitious": "#067647"}
SCENARIO_COLOURS = ("#b54708", "#7a5af8", "#c11574", "#0e9384", "#344054")
MONEY_KEYS = ("revenue", "gross_margin", "cost_to_serve", "profit", "npv")


# --- small shared helpers -----------------------------------------------------------------------


_chosen_period = core_pages.chosen_period
_export_format = pages.export_format
_wants_partial = pages.wants_partial
_query = pages.query_string
_chart = pages.chart


def _axis(title: str, **extra) -> dict:
    return {"title": {"display": True, "text": title}, **extra}


def _segment_labels() -> dict[str, str]:
    return {k: str(v) for k, v in Segment.choices}


# --- segments -----------------------------------------------------------------------------------

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
                rows=[_segment_customer_row(r) for r in qs.iterator(chunk_size=2000)],
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
    overview = selectors.segment_overview(period=period)
    rows = [{**r, "colour": SEGMENT_COLOURS[r["segment"]]} for r in reports.segment_rows(overview["summary"])]
    if fmt:
        return table_response(rows=rows, columns=SUMMARY_COLUMNS, filename=f"segments-{period.name}", fmt=fmt)
    quadrants, unmeasured = _quadrants(rows, period, segment)
    chart_json, at_edge = _scatter_json(overview)
    context.update(
        overview=overview,
        rows=rows,
        quadrants=quadrants,
        unmeasured=unmeasured,
        total=_summary_total(rows),
        totals=period_totals(period=period),
        clv_threshold=overview["clv_threshold_cents"] / 100,
        chart_json=chart_json,
        at_edge=at_edge,
        plotted=min(int((overview["frame"]["product_value"].notna()).sum()), MAX_SCATTER_POINTS),
        measured=int(overview["frame"]["product_value"].notna().sum()),
        export_query=_query(period=period.name),
    )
    if target == "segment-figures":
        return render(request, "scenarios/segments.html#figures", context)
    context.update(_explanation_context(period))
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


# --- segment targets ------------------------------------------------------------------------------

TARGET_COLUMNS = [
    ("label", gettext_lazy("Segment")),
    ("metric_label", gettext_lazy("Metric")),
    ("actual", gettext_lazy("Actual")),
    ("target", gettext_lazy("Target")),
    ("met", gettext_lazy("Met")),
    ("numerator", gettext_lazy("Numerator")),
    ("denominator", gettext_lazy("Denominator")),
]


def _target_rows(report: dict) -> list[dict]:
    labels = _segment_labels()
    metric_labels = {k: str(v) for k, v in SegmentTarget.Metric.choices}
    rows = []
    for row in report["rows"]:
        cells = [
            {**m, "share": m["metric"] in services.SHARE_METRICS, "metric_label": metric_labels[m["metric"]]}
            for m in row["metrics"]
        ]
        rows.append({"segment": row["segment"], "label": labels[row["segment"]], "cells": cells})
    return rows


def _targets_context(request, period: Period, form=None, saved: bool = False) -> dict:
    can_edit = has_role(request.user, MANAGER)
    report = selectors.segment_target_report(period=period)
    if form is None:
        form = SegmentTargetsForm(
            initial=SegmentTargetsForm.initial_from(selectors.segment_targets(period=period)), read_only=not can_edit
        )
    return {
        "report": report,
        "target_rows": _target_rows(report),
        "metrics": [{"metric": k, "label": v} for k, v in SegmentTarget.Metric.choices],
        "form": form,
        "grid": form.grid(),
        "can_edit": can_edit,
        "saved": saved,
        "export_query": _query(period=period.name),
    }


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def segment_targets(request):
    require_role(request.user, MANAGER, FINANCE)
    period = _chosen_period(request)
    context = {"periods": period_list(), "period": period}
    if period is None:
        return render(request, "scenarios/targets.html", context)
    form, saved = None, False
    if request.method == "POST":
        if not has_role(request.user, MANAGER):
            raise PermissionDenied(_("Only managers can set segment targets."))
        form = SegmentTargetsForm(request.POST)
        if form.is_valid():
            try:
                services.segment_targets_update(period=period, targets=form.targets(), acting_user=request.user)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                saved, form = True, None
                if _wants_partial(request) is None:
                    messages.success(request, _("Targets saved."))
                    return redirect(f"{request.path}?{_query(period=period.name)}")
    context.update(_targets_context(request, period, form, saved))
    if fmt := _export_format(request):
        rows = [
            {**cell, "label": row["label"]}
            for row in context["target_rows"]
            for cell in row["cells"]  # one row per segment and metric
        ]
        return table_response(rows=rows, columns=TARGET_COLUMNS, filename=f"segment-targets-{period.name}", fmt=fmt)
    if _wants_partial(request) == "targets":
        return render(request, "scenarios/targets.html#targets", context)
    status = 400 if form is not None and form.errors else 200
    return render(request, "scenarios/targets.html", context, status=status)


# --- scenarios ------------------------------------------------------------------------------------

COMPARISON_COLUMNS = [
    ("scenario", gettext_lazy("Scenario")),
    ("year", gettext_lazy("Year")),
    ("period", gettext_lazy("Period")),
    ("customers_top", gettext_lazy("Top")),
    ("customers_big", gettext_lazy("Big")),
    ("customers_medium", gettext_lazy("Medium")),
    ("customers_small", gettext_lazy("Small")),
    ("customers_inactive", gettext_lazy("Inactive")),
    ("customers_active", gettext_lazy("Active customers")),
    ("revenue", gettext_lazy("Revenue")),
    ("gross_margin", gettext_lazy("Gross margin")),
    ("cost_to_serve", gettext_lazy("Cost to serve")),
    ("profit", gettext_lazy("Profit")),
    ("discounted_profit", gettext_lazy("Discounted profit")),
    ("npv", gettext_lazy("NPV of profit")),
]
PLAN_COLUMNS = [
    ("year", gettext_lazy("Year")),
    ("period", gettext_lazy("Period")),
    ("plan_revenue", gettext_lazy("Plan revenue")),
    ("actual_revenue", gettext_lazy("Actual revenue")),
    ("plan_profit", gettext_lazy("Plan profit")),
    ("actual_profit", gettext_lazy("Actual profit")),
    ("plan_customers", gettext_lazy("Plan active customers")),
    ("actual_customers", gettext_lazy("Actual active customers")),
]


def _lever_summary(levers: dict) -> str:
    points = levers.get("retention_change_points", {})
    values = {float(v) for v in points.values()} or {0.0}
    retention = (
        f"{values.pop():+g}"
        if len(values) == 1
        else "/".join(f"{float(points.get(lvl, 0)):+g}" for lvl in valuation.ACTIVE)
    )
    return _(
        "retention %(r)s pts · upward %(u)+g pts · acquisition %(a)+g %% · spend %(s)+g %% · cost to serve %(c)+g %%"
    ) % {
        "r": retention,
        "u": levers.get("upward_migration_points", 0),
        "a": round(levers.get("acquisition_growth", 0) * 100, 2),
        "s": round(levers.get("spend_growth", 0) * 100, 2),
        "c": round(levers.get("cost_to_serve_change", 0) * 100, 2),
    }


def _projection(scenario: Scenario) -> dict:
    """A scenario's projection data (``reports.scenario_projection_data``) or its error message."""
    try:
        return reports.scenario_projection_data(scenario)
    except ValueError as exc:
        return {"id": scenario.pk, "scenario": scenario.name, "error": str(exc), "years": []}


def _year_labels(years: list[dict]) -> list[str]:
    return [f"{y['period']}" if y["year"] else f"{y['period']} ({_('now')})" for y in years]


def _levels_chart(years: list[dict]) -> str:
    datasets = [
        {
            "label": str(Level(level).label),
            "data": [y[f"customers_{level}"] for y in years],
            "backgroundColor": LEVEL_COLOURS[level],
            "stack": "customers",
        }
        for level in valuation.ACTIVE
    ]
    options = {
        "scales": {"x": {"stacked": True}, "y": _axis(_("Customers"), stacked=True, beginAtZero=True)},
        "plugins": {"legend": {"position": "bottom"}},
    }
    return _chart("bar", _year_labels(years), datasets, options)


def _periods(projections: list[dict]) -> list[int]:
    """Every period any compared projection covers: scenarios from different base periods line up."""
    return sorted({y["period"] for p in projections for y in p["years"]})


def _by_period(projection: dict, periods: list[int], key: str, money: bool = False) -> list:
    values = {y["period"]: y[key] for y in projection["years"]}
    return [_thousands(values.get(n)) if money else values.get(n) for n in periods]


def _comparison_chart(projections: list[dict], key: str, title: str) -> str:
    periods = _periods(projections)
    datasets = [
        {
            "label": p["scenario"],
            "data": _by_period(p, periods, key),
            "borderColor": p["colour"],
            "backgroundColor": p["colour"],
            "tension": 0.2,
            **({"borderDash": [6, 4]} if p.get("built_in") and p["scenario"] == "Do nothing" else {}),
        }
        for p in projections
    ]
    options = {"scales": {"y": _axis(title)}, "plugins": {"legend": {"position": "bottom"}}}
    return _chart("line", [str(n) for n in periods], datasets, options)


def _thousands(euros: float | None) -> float | None:
    return None if euros is None else round(euros / 1000)


def _with_thousands(years: list[dict]) -> list[dict]:
    """Projection rows with ``<money>_k`` (euros in thousands) for the compact tables."""
    return [{**y, **{f"{k}_k": _thousands(y[k]) for k in MONEY_KEYS}} for y in years]


def _scenario_sort_key(scenario: Scenario) -> tuple:
    """Built-ins first, from doing nothing to ambitious; then the others by name."""
    names = list(services.BUILT_IN_NAMES)
    if scenario.built_in and scenario.name in names:
        return (0, names.index(scenario.name), "")
    return (1, 0, scenario.name.lower())


def _colours(scenarios: list[Scenario]) -> dict[int, str]:
    colours, i = {}, 0
    for s in scenarios:
        if s.built_in and s.name in BUILT_IN_COLOURS:
            colours[s.pk] = BUILT_IN_COLOURS[s.name]
        else:
            colours[s.pk] = SCENARIO_COLOURS[i % len(SCENARIO_COLOURS)]
            i += 1
    return colours


def _comparison(projections: list[dict], key: str, title: str, axis: str, *, money: bool) -> dict:
    """One figure of the compared scenarios: a line chart and its table (a row per period)."""
    periods = _periods(projections)
    columns = [_by_period(p, periods, key, money) for p in projections]
    rows = [{"label": str(n), "values": [c[i] for c in columns]} for i, n in enumerate(periods)]
    return {"title": title, "chart": _comparison_chart(projections, key, axis), "rows": rows, "money": money}


def _plan_context(plan: Scenario | None) -> dict:
    if plan is None:
        return {"plan": None}
    data = _projection(plan)
    if data.get("error"):
        return {"plan": plan, "plan_error": data["error"]}
    actual = selectors.actual_figures(names=[y["period"] for y in data["years"]])
    rows = []
    for y in data["years"]:
        a = actual.get(y["period"], {})
        rows.append(
            {
                "year": y["year"],
                "period": y["period"],
                "plan_revenue": y["revenue"],
                "actual_revenue": a.get("revenue"),
                "plan_profit": y["profit"],
                "actual_profit": a.get("profit"),
                "plan_customers": y["customers_active"],
                "actual_customers": a.get("active_customers"),
                "base_differs": a.get("base_differs", False),
                "total_revenue": a.get("total_revenue"),
                "total_profit": a.get("total_profit"),
                "revenue_gap": None if a.get("revenue") is None else round(a["revenue"] - y["revenue"], 2),
                "profit_gap": None
                if a.get("profit") is None or y["profit"] is None
                else round(a["profit"] - y["profit"], 2),
            }
        )
    series = (
        ("plan_revenue", _("Plan revenue"), "#0b5cad", True),
        ("actual_revenue", _("Actual revenue"), "#0b5cad", False),
        ("plan_profit", _("Plan profit"), "#067647", True),
        ("actual_profit", _("Actual profit"), "#067647", False),
    )
    chart = _chart(
        "line",
        [str(r["period"]) for r in rows],
        [
            {
                "label": label,
                "data": [r[key] for r in rows],
                "borderColor": colour,
                "backgroundColor": colour,
                "spanGaps": False,
                **({"borderDash": [6, 4]} if dashed else {"borderWidth": 3}),
            }
            for key, label, colour, dashed in series
        ],
        {"scales": {"y": _axis("€")}, "plugins": {"legend": {"position": "bottom"}}},
    )
    return {"plan": plan, "plan_data": data, "plan_rows": rows, "plan_chart": chart}


def _compared_ids(request, scenarios: list[Scenario]) -> list[int]:
    known = [s.pk for s in scenarios]
    chosen = []
    for value in request.GET.getlist("compare"):
        try:
            pk = int(value)
        except ValueError:
            continue
        if pk in known and pk not in chosen:
            chosen.append(pk)
    if not chosen:
        chosen = [s.pk for s in scenarios if s.built_in] or known[:3]
        plan = next((s.pk for s in scenarios if s.is_plan), None)
        if plan is not None and plan not in chosen:
            chosen.append(plan)
    order = {s.pk: i for i, s in enumerate(scenarios)}
    return sorted(chosen[:MAX_COMPARED], key=order.get)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def scenarios(request):
    require_role(request.user, MANAGER, FINANCE)
    services.scenarios_builtin_ensure()
    all_scenarios = sorted(selectors.scenario_list(), key=_scenario_sort_key)
    compared = _compared_ids(request, all_scenarios)
    by_id = {s.pk: s for s in all_scenarios}
    projections = [_projection(by_id[pk]) for pk in compared]
    ok = [p for p in projections if not p.get("error")]
    fmt = _export_format(request)
    if fmt and request.GET.get("table") == "plan":
        plan_ctx = _plan_context(selectors.scenario_plan())
        return table_response(
            rows=plan_ctx.get("plan_rows", []), columns=PLAN_COLUMNS, filename="plan-vs-actual", fmt=fmt
        )
    if fmt:
        rows = [{"scenario": p["scenario"], **y} for p in ok for y in p["years"]]
        return table_response(rows=rows, columns=COMPARISON_COLUMNS, filename="scenarios", fmt=fmt)
    colours = _colours(all_scenarios)
    for p in projections:
        p["colour"] = colours[p["id"]]
        if not p.get("error"):
            p["levels_chart"] = _levels_chart(p["years"])
            p["last"] = p["years"][-1]
            p["rows"] = _with_thousands(p["years"])
    context = {
        "scenarios": [
            {"obj": s, "summary": _lever_summary(s.levers or {}), "compared": s.pk in compared} for s in all_scenarios
        ],
        "projections": projections,
        "compare_query": _query(compare=compared),
        "can_edit": has_role(request.user, MANAGER),
        "has_periods": period_get() is not None,
    }
    if ok:
        context["compared_ok"] = ok
        context["comparisons"] = [
            _comparison(ok, "revenue", _("Revenue"), "€", money=True),
            _comparison(ok, "profit", _("Profit"), "€", money=True),
            _comparison(ok, "customers_active", _("Active customers"), _("Customers"), money=False),
        ]
        context["comparison_rows"] = [
            {"label": row["label"], "groups": [c["rows"][i]["values"] for c in context["comparisons"]]}
            for i, row in enumerate(context["comparisons"][0]["rows"])
        ]
    context.update(_plan_context(selectors.scenario_plan()))
    return render(request, "scenarios/scenarios.html", context)


def _scenario_form(scenario: Scenario, data=None) -> ScenarioForm:
    levers = services.levers_to_json(selectors.scenario_levers(scenario))
    periods = Period.objects.filter(name__gt=Period.objects.order_by("name").values("name")[:1]).order_by("-name")
    return ScenarioForm(
        data,
        initial=ScenarioForm.initial_from(scenario, levers),
        periods=periods,
        lock_name=scenario.built_in,
        lock_levers=scenario.built_in and scenario.name in services.LOCKED_BUILT_INS,
    )


def _projection_context(scenario: Scenario, base: Period | None, levers) -> dict:
    """Projection of ``levers`` from ``base`` next to "Do nothing", for the edit page and its preview."""
    if base is None:
        return {"projection_error": _("There are no periods yet: import customers and orders first.")}
    try:
        frame = selectors.projection_run(period=base, levers=levers)
        reference = selectors.projection_run(period=base, levers=services.projection.BUILT_IN["do_nothing"])
    except ValidationError as exc:
        return {"projection_error": " ".join(exc.messages)}
    years = selectors.projection_rows(frame, base_name=base.name)
    ref_years = selectors.projection_rows(reference, base_name=base.name)[: len(years)]
    labels = _year_labels(years)
    money_chart = _chart(
        "line",
        labels,
        [
            {
                "label": _("Revenue"),
                "data": [y["revenue"] for y in years],
                "borderColor": "#0b5cad",
                "backgroundColor": "#0b5cad",
                "borderWidth": 3,
            },
            {
                "label": _("Profit"),
                "data": [y["profit"] for y in years],
                "borderColor": "#067647",
                "backgroundColor": "#067647",
                "borderWidth": 3,
            },
            {
                "label": _("Revenue – do nothing"),
                "data": [y["revenue"] for y in ref_years],
                "borderColor": "#0b5cad",
                "backgroundColor": "#0b5cad",
                "borderDash": [6, 4],
                "pointRadius": 0,
            },
            {
                "label": _("Profit – do nothing"),
                "data": [y["profit"] for y in ref_years],
                "borderColor": "#067647",
                "backgroundColor": "#067647",
                "borderDash": [6, 4],
                "pointRadius": 0,
            },
        ],
        {"scales": {"y": _axis("€")}, "plugins": {"legend": {"position": "bottom"}}},
    )
    return {
        "base": base,
        "years": years,
        "rows": _with_thousands(years),
        "last": years[-1],
        "reference_last": ref_years[-1] if ref_years else None,
        "levels_chart": _levels_chart(years),
        "money_chart": money_chart,
    }


def _scenario_page_context(request, scenario: Scenario, form: ScenarioForm, levers=None, base=None) -> dict:
    if levers is None:
        levers = selectors.scenario_levers(scenario)
    if base is None:
        base = selectors.scenario_base_period(scenario)
    return {
        "scenario": scenario,
        "form": form,
        "can_edit": has_role(request.user, MANAGER),
        "levers_locked": scenario.built_in and scenario.name in services.LOCKED_BUILT_INS,
        "copy_form": CopyScenarioForm(),
        **_projection_context(scenario, base, levers),
    }


@login_required
@require_http_methods(["GET", "POST"])
def scenario_edit(request, pk: int):
    require_role(request.user, MANAGER, FINANCE)
    scenario = get_object_or_404(Scenario.objects.select_related("base_period"), pk=pk)
    if request.method == "POST":
        if not has_role(request.user, MANAGER):
            raise PermissionDenied(_("Only managers can change scenarios."))
        form = _scenario_form(scenario, request.POST)
        if form.is_valid():
            try:
                services.scenario_update(
                    scenario=scenario,
                    name=form.cleaned_data["name"],
                    base_period=form.cleaned_data["base_period"],
                    levers=form.levers(),
                    acting_user=request.user,
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("Scenario '%(name)s' saved.") % {"name": scenario.name})
                return redirect("scenarios:scenario", pk=scenario.pk)
        scenario.refresh_from_db()
        return render(
            request, "scenarios/scenario_edit.html", _scenario_page_context(request, scenario, form), status=400
        )
    context = _scenario_page_context(request, scenario, _scenario_form(scenario))
    if fmt := _export_format(request):
        rows = [{"scenario": scenario.name, **y} for y in context.get("years", [])]
        return table_response(rows=rows, columns=COMPARISON_COLUMNS, filename=f"scenario-{scenario.pk}", fmt=fmt)
    return render(request, "scenarios/scenario_edit.html", context)


@login_required
@require_POST
@vary_on_headers("HX-Request")
def scenario_preview(request, pk: int):
    """The projection of the levers being typed, without saving (htmx partial of the edit page)."""
    require_role(request.user, MANAGER, FINANCE)
    scenario = get_object_or_404(Scenario.objects.select_related("base_period"), pk=pk)
    form = _scenario_form(scenario, request.POST)
    # The lever errors go beside their fields (out of band), the projection says what to correct:
    # a preview never shows the figures of earlier, valid levers under invalid ones.
    context = {"scenario": scenario, "form": form, "lever_errors_oob": True}
    if form.is_valid():
        try:
            levers = services.levers_clean(form.levers())
        except ValidationError as exc:
            context["projection_error"] = " ".join(exc.messages)
        else:
            base = form.cleaned_data["base_period"] or period_get()
            context.update(_projection_context(scenario, base, levers))
            context["preview"] = True
    else:
        context["projection_error"] = _("Correct the highlighted levers to see the projection.")
    return render(request, "scenarios/scenario_edit.html#projection", context)


@login_required
@require_POST
def scenario_copy(request, pk: int):
    require_role(request.user, MANAGER)
    scenario = get_object_or_404(Scenario, pk=pk)
    form = CopyScenarioForm(request.POST)
    name = form.cleaned_data["name"] if form.is_valid() else ""
    try:
        copy = services.scenario_copy(scenario=scenario, name=name, acting_user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("scenarios:scenario", pk=scenario.pk)
    messages.success(request, _("Copied to '%(name)s': change its levers below.") % {"name": copy.name})
    return redirect("scenarios:scenario", pk=copy.pk)


@login_required
@require_POST
def scenario_make_plan(request, pk: int):
    require_role(request.user, MANAGER)
    scenario = get_object_or_404(Scenario, pk=pk)
    services.scenario_make_plan(scenario=scenario, acting_user=request.user)
    messages.success(request, _("'%(name)s' is now the plan.") % {"name": scenario.name})
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = reverse("scenarios:scenarios")
    return redirect(next_url)


@login_required
@require_POST
def scenario_delete(request, pk: int):
    require_role(request.user, MANAGER)
    scenario = get_object_or_404(Scenario, pk=pk)
    try:
        services.scenario_delete(scenario=scenario, acting_user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("scenarios:scenario", pk=scenario.pk)
    messages.success(request, _("Scenario '%(name)s' deleted.") % {"name": scenario.name})
    return redirect("scenarios:scenarios")


# --- survey answers -------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def survey_new(request):
    """A rep (or manager) records one survey answer for a customer in their portfolio."""
    require_role(request.user, REP, MANAGER)
    customers = customer_scope(request.user)
    saved = None
    if request.method == "POST":
        form = SurveyResponseForm(request.POST, customers=customers)
        if form.is_valid():
            try:
                saved = services.survey_response_record(acting_user=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(
                    request,
                    _("Saved: %(customer)s scored %(score)s in round %(round)s. Segments are being recomputed.")
                    % {"customer": saved.customer.name, "score": saved.score, "round": saved.round},
                )
                return redirect(f"{request.path}?{_query(customer=saved.customer_id)}")
    else:
        initial = {}
        customer_id = request.GET.get("customer")
        if customer_id and customer_id.isdigit() and customers.filter(pk=int(customer_id)).exists():
            initial["customer"] = int(customer_id)
        form = SurveyResponseForm(initial=initial, customers=customers)
    recent = selectors.survey_response_list(scope_ids=customer_scope_ids(request.user))
    page = Paginator(recent, 20).get_page(request.GET.get("page"))
    status = 400 if form.errors else 200
    # The customer picker searches as you type; only the chosen customer (if any) is drawn.
    chosen = str(form["customer"].value() or "")
    picks = list(customers.filter(pk=int(chosen))) if chosen.isdigit() else []
    context = {"form": form, "page": page, "picks": picks}
    return render(request, "scenarios/survey_new.html", context, status=status)
