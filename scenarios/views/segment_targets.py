"""The segment targets page: where finance and managers want each segment to be."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Max
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from config.export import table_response
from config.roles import FINANCE, MANAGER, has_role, require_role
from customers.figures_cache import period_figures, period_figures_get
from customers.models import Period
from customers.selectors import period_list

from .. import selectors, services
from ..forms import SegmentTargetsForm
from ..models import SegmentTarget
from .charts import _chosen_period, _export_format, _query, _segment_labels, _wants_partial

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


def _targets_changed():
    return SegmentTarget.history.aggregate(latest=Max("history_id"))["latest"]


# The targets are part of the report: their latest change is part of its key.
@period_figures("segment_target_report", depends=_targets_changed)
def _segment_target_report(period: Period) -> dict:
    return selectors.segment_target_report(period=period)


def _targets_context(request, period: Period, form=None, saved: bool = False) -> dict:
    can_edit = has_role(request.user, MANAGER)
    report = period_figures_get("segment_target_report", period)
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
