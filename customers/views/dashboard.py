"""The dashboard: the period's key figures and the pyramid's tiers."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from config.roles import FINANCE, MANAGER, require_role

from .. import reports, selectors
from ..figures_cache import period_figures, period_figures_get
from .levels import _chosen_period, _tiers, _wants_partial


@period_figures("kpi_summary")
def _kpi_summary(period):
    return reports.kpi_summary(period=period.name)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def dashboard(request):
    require_role(request.user, MANAGER, FINANCE)
    period = _chosen_period(request)
    context = {"periods": selectors.period_list(), "period": period}
    if period is not None:
        kpis = period_figures_get("kpi_summary", period)
        context.update(kpis=kpis, tiers=_tiers(kpis["levels"]))
    if _wants_partial(request) == "dashboard-figures":
        return render(request, "customers/dashboard.html#figures", context)
    return render(request, "customers/dashboard.html", context)
