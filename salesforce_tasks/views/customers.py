"""One customer's sales tab and its reassignment to another pair."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from config.roles import MANAGER, REP, user_roles

from .. import selectors, services
from ..forms import (
    EstimateForm,
    ReassignForm,
)
from .common import (
    ALL_ROLES,
    _customer_page,
    _no_data,
    _period,
    _scoped_customer,
    roles_required,
)


@login_required
@roles_required(*ALL_ROLES)
@require_GET
@vary_on_headers("HX-Request")
def customer_sales(request, customer_id: int):
    """The customer's sales section: owner, target, visits and the live bonus estimator.

    It is the "sales" tab of the one customer page, which loads it with ``hx-get``; a plain GET
    (an old link or bookmark) is sent to that page, on this tab."""
    customer = _scoped_customer(request, customer_id)
    if not request.htmx:
        return redirect(_customer_page(customer.pk, tab="sales", period=request.GET.get("period")))
    period = _period(request)
    if period is None:
        return _no_data(request, customer.name)
    pp = selectors.period_portfolio(period=period)
    current = pp.results[pp.results["customer_id"] == customer.pk]
    visits = list(selectors.visit_list(user=request.user, customer=customer)[:10])
    history = list(customer.assignments.select_related("pair").order_by("-start")[:10])
    roles = user_roles(request.user)
    context = {
        "customer": customer,
        "period": period,
        "periods": selectors.period_names(),
        "current": current.iloc[0].to_dict() if len(current) else None,
        "target": selectors.customer_target_get(customer=customer, period=period),
        "visits": visits,
        "history": history,
        "form": EstimateForm(),
        "estimate": None,
        "can_reassign": MANAGER in roles or request.user.is_superuser,
        "can_target": bool(roles & {REP, MANAGER}),
        "is_rep": REP in roles,
        "reassign_form": ReassignForm(user=request.user, initial={"pair": customer.pair_id}),
    }
    return render(request, "salesforce_tasks/customer.html", context)


@login_required
@roles_required(MANAGER)
@require_POST
def customer_reassign(request, customer_id: int):
    customer = _scoped_customer(request, customer_id)
    form = ReassignForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            services.customer_reassign(customer=customer, pair=form.cleaned_data["pair"], acting_user=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                _("%(customer)s now belongs to pair %(pair)s.")
                % {"customer": customer.name, "pair": form.cleaned_data["pair"].code},
            )
    else:
        messages.error(request, _("Choose a pair of your teams."))
    back = request.POST.get("next")
    if back and back.startswith("/") and not back.startswith("//"):
        return redirect(back)
    return redirect(_customer_page(customer.pk, tab="sales"))
