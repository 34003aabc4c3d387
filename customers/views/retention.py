"""The retention page: customers and revenue kept from one period to the next, overall and by level."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from config.export import table_response
from config.roles import FINANCE, MANAGER, require_role

from .. import reports, selectors
from ..figures_cache import period_figures, period_figures_get
from .levels import _chart, _chosen_period, _export_format, _pct_axis, _query, level_labels

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


@period_figures("retention_report")
def _retention_report(period):
    return reports.retention_report(period=period.name)


@period_figures("retention_history")
def _retention_history(period):
    """Every period's retention (the page's history table: the same whichever period is chosen)."""
    return reports.retention_history()


@login_required
@require_GET
def retention(request):
    require_role(request.user, MANAGER, FINANCE)
    period = _chosen_period(request)
    periods = selectors.period_list()
    context = {"periods": periods[1:], "period": period}
    if period is None:
        return render(request, "customers/retention.html", context)
    history = period_figures_get("retention_history", period)
    current = period_figures_get("retention_report", period)
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
