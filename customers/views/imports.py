"""The import page, its example files, and the upload runner the page and the API share."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import render
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from config.export import table_response
from config.intake import IMPORT_KINDS, ImportFailed, Layout, run_import
from config.roles import FINANCE, MANAGER, require_role
from customers import policy

#: Where each import kind keeps its column layout (a kind of a later issue may not have one yet).
IMPORT_LAYOUTS = {
    "customers": "customers.services.CUSTOMER_LAYOUT",
    "orders": "customers.services.ORDER_LAYOUT",
    "costs": "accounting.services.COST_LAYOUT",
    "invoices": "accounting.services.INVOICE_LAYOUT",
    "visits": "salesforce_tasks.services.VISIT_LAYOUT",
    "surveys": "scenarios.services.SURVEY_LAYOUT",
    "organisation": "salesforce_tasks.organisation.services.ORGANISATION_LAYOUT",
}
#: Example values for the downloadable example file, by column name; per-kind values override.
EXAMPLE_VALUES = {
    "external_id": "C1001",
    "name": "Alpha BV",
    "status": "customer",
    "industry": "construction",
    "city": "Utrecht",
    "since": "2024-01-15",
    "order_id": "O1001",
    "customer_id": "C1001",
    "date": "2025-02-01",
    "amount": "1250.00",
    "cost": "800.00",
    "quantity": "2",
    "product": "P1",
    "product_group": "G1",
    "period": "2025",
    "pool": "Sales force",
    "key": "per_customer",
    "nature": "fixed",
    "weight_top": "1",
    "weight_big": "1",
    "weight_medium": "1",
    "weight_small": "1",
    "invoice_id": "I1001",
    "issued": "2025-02-01",
    "due": "2025-03-03",
    "paid": "2025-03-20",
    "minutes": "45",
    "kind": "visit",
    "score": "8",
}
EXAMPLE_OVERRIDES = {
    "costs": {"amount": "90000.00", "customer_id": ""},
    "visits": {"rep": "R1", "outcome": "order expected", "next_step": "send a quote"},
    "surveys": {"date": "2025-03-10", "round": "2025-spring", "comment": "Happy with delivery times"},
    "organisation": {
        "username": "anna",
        "name": "Anna de Vries",
        "email": "anna@example.com",
        "role": "rep",
        "rep_kind": "outside",
        "pair": "N1",
        "team": "Noord",
    },
}
IMPORT_KIND_LABELS = {
    "customers": gettext_lazy("Customers"),
    "orders": gettext_lazy("Orders (one row per order line)"),
    "costs": gettext_lazy("Cost pools"),
    "invoices": gettext_lazy("Invoices"),
    "visits": gettext_lazy("Visits and calls"),
    "surveys": gettext_lazy("Survey scores"),
    "organisation": gettext_lazy("Organisation (one row per person)"),
}


def import_layout(kind: str) -> Layout | None:
    path = IMPORT_LAYOUTS.get(kind)
    if not path:
        return None
    try:
        return import_string(path)
    except ImportError:
        return None


class ImportForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("What is in the file"), choices=[(k, IMPORT_KIND_LABELS.get(k, k)) for k in IMPORT_KINDS]
    )
    file = forms.FileField(
        label=gettext_lazy("File (.csv or .xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,.txt"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.IMPORT_MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise ValidationError(
                _("The file is %(size)s MB; the largest file accepted is %(limit)s MB."),
                params={"size": round(upload.size / 2**20, 1), "limit": round(limit / 2**20, 1)},
            )
        return upload


def run_uploaded_import(*, kind: str, upload, acting_user):
    """Save an uploaded file to a temporary folder under its own name and run the kind's import.

    Raises ``ImportFailed`` (nothing written) or returns the importer's result. Shared by the page
    and the API.
    """
    if not policy.may_import(acting_user, kind):
        raise PermissionDenied(_("Your role may not import this kind of file."))
    # Stored under the user's own file name (in a private directory), so every error names it.
    name = Path(upload.name or "").name.replace("\x00", "") or f"upload-{kind}.csv"
    with tempfile.TemporaryDirectory(prefix="kw-import-") as folder:
        path = Path(folder) / name[-200:]
        with open(path, "wb") as tmp:
            for chunk in upload.chunks():
                tmp.write(chunk)
        return run_import(kind, path, acting_user=acting_user)


def import_result_dict(result) -> dict:
    if hasattr(result, "as_dict"):
        return result.as_dict()
    return {k: v for k, v in vars(result).items() if not k.startswith("_")}


def _kinds_with_layouts(user) -> list[dict]:
    allowed = policy.import_kinds_for(user)
    return [
        {"kind": kind, "label": IMPORT_KIND_LABELS.get(kind, kind), "layout": import_layout(kind)}
        for kind in IMPORT_KINDS
        if kind in allowed
    ]


@login_required
@require_http_methods(["GET", "POST"])
def import_page(request):
    require_role(request.user, MANAGER, FINANCE)
    context = {"kinds": _kinds_with_layouts(request.user), "max_mb": round(settings.IMPORT_MAX_UPLOAD_BYTES / 2**20)}
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            kind = form.cleaned_data["kind"]
            try:
                result = run_uploaded_import(kind=kind, upload=form.cleaned_data["file"], acting_user=request.user)
            except ImportFailed as exc:
                context["failed"] = {"errors": exc.errors, "total": exc.total, "kind": kind}
            else:
                context["result"] = import_result_dict(result)
                form = ImportForm(initial={"kind": kind})
    else:
        form = ImportForm(initial={"kind": request.GET.get("kind", "customers")})
    context["form"] = form
    # A refused file is a bad request, as on the API (the page shows every bad row).
    return render(request, "customers/import.html", context, status=400 if "failed" in context else 200)


@login_required
@require_GET
def import_example(request, kind: str):
    require_role(request.user, MANAGER, FINANCE)
    layout = import_layout(kind)
    if layout is None:
        raise Http404(_("No example for this import kind yet."))
    values = {**EXAMPLE_VALUES, **EXAMPLE_OVERRIDES.get(kind, {})}
    rows = [{col: values.get(col, "") for col in layout.all}]
    return table_response(rows=rows, columns=[(c, c) for c in layout.all], filename=f"example-{kind}", fmt="csv")
