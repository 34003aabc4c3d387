"""Bonus: KPIs and their results, the comparison of pairs and the estimate of one deal."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from config.roles import FINANCE, MANAGER, REP, user_roles
from customers import policy
from customers.figures_cache import figures_cached

from .. import bonus, selectors, services
from ..forms import (
    BonusKpiForm,
    CompareForm,
    EstimateForm,
)
from ..models import BonusKpi, RepPair
from .common import (
    ALL_ROLES,
    _chart,
    _euros,
    _export,
    _form_errors,
    _int_or_none,
    _no_data,
    _period,
    _scoped_customer,
    roles_required,
)


@login_required
@roles_required(MANAGER, FINANCE)
@require_GET
@vary_on_headers("HX-Request")
def bonus_page(request):
    period = _period(request)
    if period is None:
        return _no_data(request, _("Bonus"))
    overview = selectors.bonus_overview(period=period, user=request.user)
    rows = [
        {"rep": r["rep"], "pair": r["pair"], "own": r["own_total"], "from_pair": r["from_pair"], "total": r["total"]}
        for r in overview["reps"]
    ]
    table = request.GET.get("table", "reps")
    if table == "kpis":
        kpi_rows = []
        for subject in overview["pairs"]:
            kpi_rows += [_kpi_row(subject, line) for line in subject.lines]
        for r in overview["reps"]:
            if r["own"]:
                kpi_rows += [_kpi_row(r["own"], line) for line in r["own"].lines]
        export = _export(
            request,
            rows=kpi_rows,
            columns=[
                ("subject", _("Pair or rep")),
                ("metric", _("Metric")),
                ("weight", _("Weight (%)")),
                ("threshold", _("Threshold")),
                ("target", _("Target")),
                ("cap", _("Cap")),
                ("actual", _("Actual")),
                ("attainment", _("Attainment")),
                ("base_amount", _("Base bonus")),
                ("amount", _("Bonus")),
            ],
            filename=f"bonus-kpis-{period.name}",
        )
    else:
        export = _export(
            request,
            rows=rows,
            columns=[
                ("rep", _("Rep")),
                ("pair", _("Pair")),
                ("own", _("Own KPIs")),
                ("from_pair", _("Share of pair bonus")),
                ("total", _("Bonus")),
            ],
            filename=f"bonus-{period.name}",
        )
    if export:
        return export
    managed = policy.managed_teams(request.user)
    context = {
        "period": period,
        "periods": selectors.period_names(),
        "overview": overview,
        "total": sum((r["total"] for r in overview["reps"]), Decimal("0.00")),
        "can_edit": managed.exists(),
        "editable_pairs": set(RepPair.objects.filter(team__in=managed).values_list("id", flat=True)),
    }
    return render(request, "salesforce_tasks/bonus.html", context)


def _kpi_row(subject, line) -> dict:
    return {
        "subject": subject.label,
        "metric": line.label,
        "weight": bonus.weight_percent(line.weight),
        "threshold": line.threshold,
        "target": line.target,
        "cap": line.cap,
        "actual": line.actual,
        "attainment": line.attainment,
        "base_amount": line.base_amount,
        "amount": line.amount,
    }


@login_required
@roles_required(MANAGER)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def kpi_edit(request, kpi_id: int | None = None):
    """The KPI form. htmx asks it, as the manager types, for the subject's weights after this save
    (``#weights``: flagged when they do not add up to 100 %)."""
    kpi = None
    if kpi_id is not None:
        kpi = get_object_or_404(_managed_kpis(request.user), pk=kpi_id)
    period = kpi.period if kpi else _period(request)
    if period is None:
        return _no_data(request, _("Bonus"))
    if request.htmx and request.method == "GET" and "weight" in request.GET:
        form = BonusKpiForm(request.GET, user=request.user)
        context = {"kpi": kpi, "period": period, "weights": _weights_after_save(form, kpi=kpi, period=period)}
        return render(request, "salesforce_tasks/kpi_form.html#weights", context)
    if request.method == "POST":
        form = BonusKpiForm(request.POST, user=request.user)
        if form.is_valid():
            data = dict(form.cleaned_data)
            subject = data.pop("subject")
            try:
                saved = services.bonus_kpi_save(kpi=kpi, acting_user=request.user, period=period, **subject, **data)
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("Bonus KPI saved."))
                weights = _weights_after_save(form, kpi=saved, period=period)
                if weights and not weights["adds_up"]:
                    messages.warning(request, weights["message"])
                return redirect(reverse("salesforce:bonus") + f"?period={period.name}")
    else:
        initial = BonusKpiForm.initial_for(kpi) if kpi else {}
        if not kpi and request.GET.get("subject"):
            initial["subject"] = request.GET["subject"]
        form = BonusKpiForm(initial=initial, user=request.user)
    context = {"form": form, "kpi": kpi, "period": period, "weights": _weights_after_save(form, kpi=kpi, period=period)}
    return render(request, "salesforce_tasks/kpi_form.html", context)


def _weights_after_save(form: BonusKpiForm, *, kpi: BonusKpi | None, period) -> dict | None:
    """The sum of the subject's KPI weights in the period once this KPI is saved with the typed
    weight (the stored one on a form just opened), or None while subject or weight is missing."""
    if form.is_bound:
        typed = form.subject_and_weight()
    elif kpi is not None:
        typed = ({"rep": kpi.rep, "pair": kpi.pair}, kpi.weight)
    else:
        typed = None
    if typed is None:
        return None
    subject, weight = typed
    total = selectors.kpi_weight_total(
        period=period,
        weight=weight,
        rep_id=subject["rep"].pk if subject["rep"] else None,
        pair_id=subject["pair"].pk if subject["pair"] else None,
        kpi_id=kpi.pk if kpi else None,
    )
    adds_up = bonus.weights_add_up([total])
    names = {"subject": subject["pair"].code if subject["pair"] else subject["rep"].name, "period": period.name}
    names["percent"] = formats.number_format(bonus.weight_percent(total).normalize(), use_l10n=True)
    if adds_up:
        message = _("The weights of %(subject)s in %(period)s add up to 100 %% after this save.") % names
    else:
        message = (
            _(
                "The weights of %(subject)s in %(period)s add up to %(percent)s %% after this save, not 100 %%: "
                "with every KPI at 100 %% attainment the bonus is %(percent)s %% of the base."
            )
            % names
        )
    return {"percent": bonus.weight_percent(total), "adds_up": adds_up, "message": message}


def _managed_kpis(user):
    teams = policy.managed_teams(user)
    return BonusKpi.objects.filter(Q(pair__team__in=teams) | Q(rep__team__in=teams)).select_related("period")


@login_required
@roles_required(MANAGER)
@require_POST
def kpi_delete(request, kpi_id: int):
    kpi = get_object_or_404(_managed_kpis(request.user), pk=kpi_id)
    period_name = kpi.period.name
    services.bonus_kpi_delete(kpi=kpi, acting_user=request.user)
    messages.success(request, _("Bonus KPI deleted."))
    return redirect(reverse("salesforce:bonus") + f"?period={period_name}")


@login_required
@roles_required(MANAGER, FINANCE)
@require_GET
@vary_on_headers("HX-Request")
def bonus_compare(request):
    period = _period(request)
    if period is None:
        return _no_data(request, _("Revenue- or profit-based bonus"))
    if "target_pct" in request.GET:
        form = CompareForm(request.GET)
        params = form.cleaned_data if form.is_valid() else None
    else:
        params = {name: field.initial for name, field in CompareForm.base_fields.items()}
        form = CompareForm(initial=params)
    rows = []
    if params is not None:
        rows = figures_cached(
            "bonus_compare",
            lambda: selectors.bonus_compare(
                pp=selectors.period_portfolio(period=period),
                user=request.user,
                base_amount=params["base_amount"],
                threshold_pct=params["threshold_pct"],
                target_pct=params["target_pct"],
                cap=params["cap"],
            ),
            key=(period.id, request.user.pk, tuple(sorted(user_roles(request.user))), sorted(params.items())),
        )
    export = _export(
        request,
        rows=rows,
        columns=[
            ("pair", _("Pair")),
            ("team", _("Team")),
            ("revenue_last", _("Revenue last year")),
            ("revenue", _("Revenue")),
            ("revenue_attainment", _("Revenue attainment")),
            ("revenue_bonus", _("Revenue-based bonus")),
            ("profit_last", _("Profit last year")),
            ("profit", _("Profit")),
            ("profit_attainment", _("Profit attainment")),
            ("profit_bonus", _("Profit-based bonus")),
            ("difference", _("Difference")),
        ],
        filename=f"bonus-revenue-vs-profit-{period.name}",
    )
    if export:
        return export
    context = {
        "period": period,
        "periods": selectors.period_names(),
        "form": form,
        "rows": rows,
        "totals": {
            "revenue_bonus": sum((r["revenue_bonus"] for r in rows), Decimal("0.00")),
            "profit_bonus": sum((r["profit_bonus"] for r in rows), Decimal("0.00")),
        },
        "chart_json": _chart(
            [r["pair"] for r in rows],
            [
                {
                    "label": _("Revenue-based bonus"),
                    "data": [float(r["revenue_bonus"]) for r in rows],
                    "backgroundColor": "#98a2b3",
                },
                {
                    "label": _("Profit-based bonus"),
                    "data": [float(r["profit_bonus"]) for r in rows],
                    "backgroundColor": "#067647",
                },
            ],
        ),
    }
    if request.htmx:
        return render(request, "salesforce_tasks/compare.html#comparison", context)
    return render(request, "salesforce_tasks/compare.html", context)


@login_required
@roles_required(*ALL_ROLES)
@require_GET
def bonus_estimate(request):
    """Live what-if: the bonus effect of a customer's revenue or profit (nothing is saved)."""
    customer_id = _int_or_none(request.GET.get("customer"))
    if customer_id is None:
        return HttpResponseBadRequest(_("Give ?customer=<id>."))
    customer = _scoped_customer(request, customer_id)
    period = _period(request)
    if period is None:
        raise Http404(_("No periods yet: import orders first."))
    form = EstimateForm(request.GET)
    context = {"customer": customer, "period": period, "form": form, "estimate": None}
    if form.is_valid():
        revenue, profit = form.what_if()
        context["estimate"] = _estimate(request, customer=customer, period=period, revenue=revenue, profit=profit)
    return render(request, "salesforce_tasks/customer.html#estimate", context)


def _estimate(request, *, customer, period, revenue: Decimal | None, profit: Decimal | None) -> dict:
    """Before and after for the pair (and, for a rep, the rep) that owns ``customer`` in ``period``.

    A what-if revenue moves gross margin at the customer's current margin rate and profit by the
    same amount (costs held); a what-if profit sets profit directly.
    """
    pp = selectors.period_portfolio(period=period)
    current = pp.results[pp.results["customer_id"] == customer.pk]
    cur = current.iloc[0] if len(current) else None
    revenue_cents = int(cur["revenue_cents"]) if cur is not None else 0
    margin_cents = int(cur["gross_margin_cents"]) if cur is not None else 0
    profit_cents = int(cur["profit_cents"]) if cur is not None else 0
    override = {}
    if revenue is not None:
        new_revenue = int(revenue * 100)
        rate = (margin_cents / revenue_cents) if revenue_cents else 0.0
        new_margin = int(round(new_revenue * rate))
        override.update(
            revenue_cents=new_revenue,
            gross_margin_cents=new_margin,
            profit_cents=profit_cents + new_margin - margin_cents,
        )
    if profit is not None:
        override["profit_cents"] = int(profit * 100)
    weights = pp.weights[pp.weights["customer_id"] == customer.pk]
    pair_id = int(weights.sort_values("weight_in_period").iloc[-1]["pair_id"]) if len(weights) else customer.pair_id
    kpis = selectors.kpis_of(period=period)
    rep = policy.rep_for_user(request.user)
    subjects = []
    if pair_id is not None:
        pair_kpis = [k for k in kpis if k.pair_id == pair_id]
        if pair_kpis:
            subjects.append(("pair", pair_id, pair_kpis))
    rep_ids = set(pp.credits.loc[pp.credits["customer_id"] == customer.pk, "rep_id"])
    for rep_id in sorted(rep_ids):
        if rep is not None and REP in user_roles(request.user) and rep_id != rep.id:
            continue
        rep_kpis = [k for k in kpis if k.rep_id == rep_id]
        if rep_kpis:
            subjects.append(("rep", rep_id, rep_kpis))
    results = []
    for kind, subject_id, subject_kpis in subjects:
        key = {"pair_id": subject_id} if kind == "pair" else {"rep_id": subject_id}
        before = selectors.subject_bonus(pp, subject_kpis, **key)
        after = selectors.subject_bonus(pp, subject_kpis, overrides={customer.pk: override}, **key)
        results.append(
            {
                "label": before.label,
                "kind": kind,
                "lines": [
                    {
                        "label": b.label,
                        "actual_before": b.actual,
                        "actual_after": a.actual,
                        "attainment_before": b.attainment,
                        "attainment_after": a.attainment,
                        "amount_before": b.amount,
                        "amount_after": a.amount,
                    }
                    for b, a in zip(before.lines, after.lines, strict=True)
                ],
                "total_before": before.total,
                "total_after": after.total,
                "difference": after.total - before.total,
            }
        )
    return {
        "revenue": _euros(override.get("revenue_cents", revenue_cents)),
        "profit": _euros(override.get("profit_cents", profit_cents)),
        "changed": bool(override),
        "subjects": results,
    }
