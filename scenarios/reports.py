"""Report kinds of the scenarios app: ``segments`` (the 2 x 2 value segmentation of a period) and
``scenario`` (a growth scenario's five-year projection).

The builders serve the ``report`` command, the API and the pages. Money in euros, shares as fractions.
"""

from __future__ import annotations

import numpy as np
from django.utils.translation import gettext_lazy

from config.money import as_float_euros
from config.reports import ReportKind, register
from customers.reports import ReportError, period_or_error

from . import selectors
from .models import Scenario, Segment


def _share(value) -> float | None:
    return None if value is None or np.isnan(value) else round(float(value), 4)


#: The strategy of each segment in the active language; the English source is the pure module's
#: ``valuation.SEGMENT_STRATEGY`` (a test keeps the two the same).
SEGMENT_STRATEGY_TEXT = {
    "partners": gettext_lazy("Bind and integrate: deepen the relationship and make working together hard to replace."),
    "vulnerable": gettext_lazy("Add value before a competitor does: find out what they miss and improve the offer."),
    "under_earning": gettext_lazy("Raise price, up-sell and cross-sell, or move them to a cheaper service model."),
    "low_low": gettext_lazy("Serve efficiently (inside sales, self-service) or part ways."),
    "unmeasured": gettext_lazy("Survey them: without a product value score the right strategy is unknown."),
}


def segment_strategy(segment: str) -> str:
    return str(SEGMENT_STRATEGY_TEXT[segment])


def segment_rows(summary) -> list[dict]:
    """``valuation.segment_summary`` as JSON-ready rows with labels and strategies (euros)."""
    labels = dict(Segment.choices)
    return [
        {
            "segment": r.segment,
            "label": str(labels[r.segment]),
            "customers": int(r.customers),
            "revenue": as_float_euros(r.revenue_cents),
            "profit": as_float_euros(r.profit_cents),
            "clv": as_float_euros(r.clv_cents),
            "strategy": segment_strategy(r.segment),
        }
        for r in summary.itertuples(index=False)
    ]


def segments_report(*, period=None, scope_ids=None) -> dict:
    """The value segments of the active customers of a period, with thresholds and targets."""
    period = period_or_error(period)
    overview = selectors.segment_overview(period=period, scope_ids=scope_ids)
    targets = selectors.segment_target_report(period=period) if scope_ids is None else None
    data = {
        "period": period.name,
        "computed": overview["computed"],
        "clv_threshold": as_float_euros(overview["clv_threshold_cents"]),
        "clv_threshold_is_median": overview["clv_threshold_is_median"],
        "product_value_threshold": overview["product_value_threshold"],
        "active_customers": int(overview["summary"]["customers"].sum()),
        "segments": segment_rows(overview["summary"]),
    }
    if targets is not None:
        data["previous"] = targets["previous"]
        by_segment = {r["segment"]: r["metrics"] for r in targets["rows"]}
        for row in data["segments"]:
            row["targets"] = {
                m["metric"]: {"actual": _share(m["actual"]), "target": m["target"], "met": m["met"]}
                for m in by_segment[row["segment"]]
            }
    return data


def _segment_table(data: dict) -> list[dict]:
    rows = []
    for row in data["segments"]:
        flat = {k: v for k, v in row.items() if k != "targets"}
        for metric, figures in (row.get("targets") or {}).items():
            flat[f"{metric}_actual"] = figures["actual"]
            flat[f"{metric}_target"] = figures["target"]
        rows.append({"period": data["period"], **flat})
    return rows


def scenario_get(name: str | None) -> Scenario:
    """A scenario by name; the plan when ``name`` is empty. ReportError lists the names."""
    qs = Scenario.objects.select_related("base_period")
    scenario = qs.filter(name=name).first() if name else qs.filter(is_plan=True).first()
    if scenario is None:
        known = ", ".join(f"'{s}'" for s in qs.values_list("name", flat=True)) or "none yet: open the Scenarios page"
        what = f"Unknown scenario '{name}'" if name else "No scenario is the plan yet; give --name"
        raise ReportError(f"{what}. Known scenarios: {known}.")
    return scenario


def scenario_projection_data(scenario: Scenario) -> dict:
    """A scenario, its levers and its projection year by year (year 0 = base period)."""
    from django.core.exceptions import ValidationError

    from .services import levers_to_json

    base = selectors.scenario_base_period(scenario)
    if base is None:
        raise ReportError("There are no periods yet: import customers and orders first.")
    levers = selectors.scenario_levers(scenario)
    try:
        frame = selectors.projection_run(period=base, levers=levers)
    except ValidationError as exc:
        raise ReportError(" ".join(exc.messages)) from None
    return {
        "id": scenario.pk,
        "scenario": scenario.name,
        "built_in": scenario.built_in,
        "is_plan": scenario.is_plan,
        "base_period": base.name,
        "base_period_is_latest": scenario.base_period_id is None,
        "levers": levers_to_json(levers),
        "years": selectors.projection_rows(frame, base_name=base.name),
    }


def scenario_report(*, name: str | None = None, period=None) -> dict:
    """``report scenario --name NAME``: the named scenario (the plan without a name). ``period`` is unused."""
    return scenario_projection_data(scenario_get(name))


def _scenario_table(data: dict) -> list[dict]:
    return [{"scenario": data["scenario"], "base_period": data["base_period"], **row} for row in data["years"]]


register(ReportKind("segments", segments_report, _segment_table))
register(ReportKind("scenario", scenario_report, _scenario_table, needs_period=False))
