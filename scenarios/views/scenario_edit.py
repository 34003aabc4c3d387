"""One scenario: edit its levers with a live projection, copy it, make it the plan, delete it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from config.export import table_response
from config.roles import FINANCE, MANAGER, has_role, require_role
from customers.models import Period
from customers.selectors import period_get

from .. import selectors, services
from ..forms import CopyScenarioForm, ScenarioForm
from ..models import Scenario
from .charts import _axis, _chart, _export_format
from .scenarios import COMPARISON_COLUMNS, _levels_chart, _with_thousands, _year_labels


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
