"""The roll-up per rep and pair, and one pair's page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from config.roles import FINANCE, MANAGER, user_roles
from customers import policy
from customers.figures_cache import figures_cached

from .. import selectors
from .common import (
    PAGE_SIZE,
    _chart,
    _export,
    _no_data,
    _period,
    roles_required,
)

ROLLUP_COLUMNS = [
    ("revenue", "Revenue"),
    ("gross_margin", "Gross margin"),
    ("margin_pct", "Margin %"),
    ("allocated", "Cost to serve"),
    ("profit", "Profit"),
    ("customers", "Customers"),
    ("loss_making_customers", "Loss-making customers"),
]


@login_required
@roles_required(MANAGER, FINANCE)
@require_GET
@vary_on_headers("HX-Request")
def reps(request):
    period = _period(request)
    if period is None:
        return _no_data(request, _("Customer profit per rep"))
    data = figures_cached(
        "rep_results",
        lambda: selectors.rep_results(period=period, user=request.user),
        key=(period.id, request.user.pk, tuple(sorted(user_roles(request.user)))),
    )
    table = request.GET.get("table", "pairs")
    money = [(k, _(label)) for k, label in ROLLUP_COLUMNS]
    if table == "reps":
        export = _export(
            request,
            rows=data["reps"],
            columns=[("team", _("Team")), ("pair", _("Pair")), ("rep", _("Rep")), ("role", _("Role")), *money],
            filename=f"profit-per-rep-{period.name}",
        )
    elif table == "teams":
        rows = list(data["teams"])
        if data["unassigned"] and data["unassigned"]["customers"]:
            rows.append({"team": _("Not in a portfolio"), **data["unassigned"]})
        if data["company"]:
            rows.append({"team": _("Company"), **data["company"]})
        export = _export(
            request, rows=rows, columns=[("team", _("Team")), *money], filename=f"profit-per-team-{period.name}"
        )
    else:
        export = _export(
            request,
            rows=data["pairs"],
            columns=[
                ("team", _("Team")),
                ("pair", _("Pair")),
                ("outside_rep", _("Outside rep")),
                ("inside_rep", _("Inside rep")),
                ("outside_share", _("Outside rep credit %")),
                *money,
            ],
            filename=f"profit-per-pair-{period.name}",
        )
    if export:
        return export
    chart = _chart(
        [p["pair"] for p in data["pairs"]],
        [
            {"label": _("Revenue"), "data": [float(p["revenue"]) for p in data["pairs"]], "backgroundColor": "#7fb3ea"},
            {"label": _("Profit"), "data": [float(p["profit"]) for p in data["pairs"]], "backgroundColor": "#067647"},
        ],
        links=[f"{reverse('salesforce:pair', args=[p['pair_id']])}?period={period.name}" for p in data["pairs"]],
    )
    context = {"period": period, "periods": selectors.period_names(), "data": data, "chart_json": chart}
    return render(request, "salesforce_tasks/reps.html", context)


@login_required
@roles_required(MANAGER, FINANCE)
@require_GET
@vary_on_headers("HX-Request")
def pair_detail(request, pair_id: int):
    pair = get_object_or_404(
        policy.pairs_for_user(request.user).select_related("team", "outside_rep", "inside_rep"), pk=pair_id
    )
    period = _period(request)
    if period is None:
        return _no_data(request, str(pair))
    pp = selectors.period_portfolio(period=period)
    rows = selectors.pair_customers(pp=pp, pair_id=pair.pk)
    export = _export(
        request,
        rows=rows,
        columns=[
            ("external_id", _("Customer id")),
            ("name", _("Customer")),
            ("level", _("Level")),
            ("weight_in_period", _("Share of period")),
            ("outside_share", _("Outside rep credit %")),
            ("revenue", _("Revenue")),
            ("gross_margin", _("Gross margin")),
            ("allocated", _("Cost to serve")),
            ("profit", _("Profit")),
        ],
        filename=f"pair-{pair.code}-{period.name}",
    )
    if export:
        return export
    data = selectors.rep_results(period=period, user=request.user, pp=pp)
    totals = next((p for p in data["pairs"] if p["pair_id"] == pair.pk), None)
    only = request.GET.get("only")
    shown = [r for r in rows if r["loss_making"]] if only == "loss" else rows
    page = Paginator(shown, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "pair": pair,
        "period": period,
        "periods": selectors.period_names(),
        "page": page,
        "only": only,
        "totals": totals,
        "reps": [r for r in data["reps"] if r["pair_id"] == pair.pk],
        "can_reassign": MANAGER in user_roles(request.user) or request.user.is_superuser,
        "pair_choices": list(policy.pairs_for_user(request.user).order_by("code")),
    }
    if request.htmx:
        return render(request, "salesforce_tasks/pair.html#customers", context)
    return render(request, "salesforce_tasks/pair.html", context)
