"""Survey answers: one customer's scores entered by hand."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from config.roles import MANAGER, REP, require_role
from customers.policy import customer_scope, customer_scope_ids

from .. import selectors, services
from ..forms import SurveyResponseForm
from .charts import _query


@login_required
@require_http_methods(["GET", "POST"])
def survey_new(request):
    """A rep (or manager) records one survey answer for a customer in their portfolio."""
    require_role(request.user, REP, MANAGER)
    customers = customer_scope(request.user)
    saved = None
    if request.method == "POST":
        form = SurveyResponseForm(request.POST, customers=customers)
        if form.is_valid():
            try:
                saved = services.survey_response_record(acting_user=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(
                    request,
                    _("Saved: %(customer)s scored %(score)s in round %(round)s. Segments are being recomputed.")
                    % {"customer": saved.customer.name, "score": saved.score, "round": saved.round},
                )
                return redirect(f"{request.path}?{_query(customer=saved.customer_id)}")
    else:
        initial = {}
        customer_id = request.GET.get("customer")
        if customer_id and customer_id.isdigit() and customers.filter(pk=int(customer_id)).exists():
            initial["customer"] = int(customer_id)
        form = SurveyResponseForm(initial=initial, customers=customers)
    recent = selectors.survey_response_list(scope_ids=customer_scope_ids(request.user))
    page = Paginator(recent, 20).get_page(request.GET.get("page"))
    status = 400 if form.errors else 200
    # The customer picker searches as you type; only the chosen customer (if any) is drawn.
    chosen = str(form["customer"].value() or "")
    picks = list(customers.filter(pk=int(chosen))) if chosen.isdigit() else []
    context = {"form": form, "page": page, "picks": picks}
    return render(request, "scenarios/survey_new.html", context, status=status)
