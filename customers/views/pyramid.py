"""The pyramid page: levels of a period, their chart and export, and the pyramid scheme's form."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.dates import MONTHS
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from config.export import table_response
from config.roles import FINANCE, MANAGER, has_role, require_role

from .. import reports, selectors
from ..figures_cache import period_figures, period_figures_get
from ..models import PyramidSchemeKind
from ..services import pyramid_settings_update
from .levels import (
    _chart,
    _chosen_period,
    _export_format,
    _query,
    _tiers,
    _wants_partial,
    level_customers_url,
    level_labels,
)


class PyramidSettingsForm(forms.Form):
    scheme = forms.ChoiceField(label=gettext_lazy("Scheme"), choices=PyramidSchemeKind.choices)
    top_share = forms.DecimalField(
        label=gettext_lazy("Top share %"), min_value=0, max_value=100, max_digits=5, decimal_places=2
    )
    big_share = forms.DecimalField(
        label=gettext_lazy("Big share %"), min_value=0, max_value=100, max_digits=5, decimal_places=2
    )
    medium_share = forms.DecimalField(
        label=gettext_lazy("Medium share %"), min_value=0, max_value=100, max_digits=5, decimal_places=2
    )
    top_threshold = forms.DecimalField(
        label=gettext_lazy("Top threshold €"), required=False, min_value=0, max_digits=16, decimal_places=2
    )
    big_threshold = forms.DecimalField(
        label=gettext_lazy("Big threshold €"), required=False, min_value=0, max_digits=16, decimal_places=2
    )
    medium_threshold = forms.DecimalField(
        label=gettext_lazy("Medium threshold €"), required=False, min_value=0, max_digits=16, decimal_places=2
    )
    fiscal_year_start_month = forms.TypedChoiceField(
        label=gettext_lazy("Fiscal year starts in"), choices=sorted(MONTHS.items()), coerce=int
    )

    SHARE_FIELDS = ("top_share", "big_share", "medium_share")
    THRESHOLD_FIELDS = ("top_threshold", "big_threshold", "medium_threshold")

    def __init__(self, *args, read_only: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.disabled = read_only

    @classmethod
    def initial_from(cls, obj) -> dict:
        return {name: getattr(obj, name) for name in cls.base_fields}

    def add_service_errors(self, exc: ValidationError) -> None:
        """Show a service's ValidationError inline: next to its field, or above the form."""
        if hasattr(exc, "error_dict"):
            for field, errors in exc.error_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        else:
            self.add_error(None, exc)


def _scheme_form_context(request, form=None, saved: bool = False) -> dict:
    can_edit = has_role(request.user, MANAGER)
    if form is None:
        form = PyramidSettingsForm(
            initial=PyramidSettingsForm.initial_from(selectors.pyramid_settings_get()), read_only=not can_edit
        )
    return {"form": form, "can_edit": can_edit, "saved": saved}


def _pyramid_rows(report: dict) -> list[dict]:
    labels = level_labels()
    return [{**row, "label": labels[row["level"]]} for row in report["levels"]]


PYRAMID_COLUMNS = [
    ("label", gettext_lazy("Level")),
    ("customers", gettext_lazy("Customers")),
    ("revenue", gettext_lazy("Revenue")),
    ("revenue_share", gettext_lazy("Revenue share")),
    ("gross_margin", gettext_lazy("Gross margin")),
    ("allocated_cost", gettext_lazy("Allocated cost")),
    ("profit", gettext_lazy("Profit")),
    ("avg_revenue", gettext_lazy("Avg revenue")),
    ("avg_profit", gettext_lazy("Avg profit")),
]


@period_figures("pyramid_report")
def _pyramid_report(period):
    return reports.pyramid_report(period=period.name)


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def pyramid_page(request):
    require_role(request.user, MANAGER, FINANCE)
    if request.method == "POST":
        return _pyramid_settings_post(request)
    period = _chosen_period(request)
    context = {"periods": selectors.period_list(), "period": period, **_scheme_form_context(request)}
    if period is not None:
        report = period_figures_get("pyramid_report", period)
        rows = _pyramid_rows(report)
        if fmt := _export_format(request):
            return table_response(rows=rows, columns=PYRAMID_COLUMNS, filename=f"pyramid-{period.name}", fmt=fmt)
        has_profit = any(r["profit"] is not None for r in rows if r["customers"])
        datasets = [
            {"label": _("Revenue"), "data": [r["revenue"] for r in rows], "backgroundColor": "#2f7ed8"},
        ]
        if has_profit:
            datasets.append({"label": _("Profit"), "data": [r["profit"] for r in rows], "backgroundColor": "#067647"})
        context.update(
            rows=rows,
            export_query=_query(period=period.name),
            tiers=_tiers(report["levels"]),
            has_profit=has_profit,
            chart_json=_chart(
                "bar",
                [r["label"] for r in rows],
                datasets,
                links=[level_customers_url(period=period.name, level=r["level"]) for r in rows],
            ),
        )
    target = _wants_partial(request)
    if target == "pyramid-figures":
        return render(request, "customers/pyramid.html#figures", context)
    if target == "scheme-form":
        return render(request, "customers/pyramid.html#scheme_form", context)
    return render(request, "customers/pyramid.html", context)


def _pyramid_settings_post(request):
    if not has_role(request.user, MANAGER):
        raise PermissionDenied(_("Only managers can change the pyramid scheme."))
    form = PyramidSettingsForm(request.POST)
    saved = False
    if form.is_valid():
        try:
            pyramid_settings_update(acting_user=request.user, **form.cleaned_data)
            saved = True
        except ValidationError as exc:
            form.add_service_errors(exc)
    if _wants_partial(request) is not None:
        response = render(request, "customers/pyramid.html#scheme_form", _scheme_form_context(request, form, saved))
        if saved:
            response["HX-Trigger"] = "figuresUpdated"
        return response
    if saved:
        messages.success(request, _("Pyramid settings saved; the levels of every period are being recomputed."))
        return redirect("customers:pyramid")
    period = _chosen_period(request)
    context = {"periods": selectors.period_list(), "period": period, **_scheme_form_context(request, form)}
    return render(request, "customers/pyramid.html", context)
