"""The scenarios page: growth scenarios compared year by year, and the plan."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from config.export import table_response
from config.roles import FINANCE, MANAGER, has_role, require_role
from customers.models import Level
from customers.selectors import period_get

from .. import reports, selectors, services, valuation
from ..models import Scenario
from .charts import (
    BUILT_IN_COLOURS,
    LEVEL_COLOURS,
    MAX_COMPARED,
    MONEY_KEYS,
    SCENARIO_COLOURS,
    _axis,
    _chart,
    _export_format,
    _query,
)

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
