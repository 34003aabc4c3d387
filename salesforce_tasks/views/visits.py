"""Visits: log, edit, delete and list them; the customer picker of the visit form."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from config.export import EXPORT_FORMATS
from config.roles import REP, user_roles
from customers import policy

from .. import selectors, services
from ..forms import (
    VisitForm,
)
from ..models import Visit
from .common import (
    ALL_ROLES,
    PAGE_SIZE,
    SESSION_LAST_CUSTOMER,
    SESSION_LAST_KIND,
    _export,
    _form_errors,
    _int_or_none,
    _period,
    _scoped_customer,
    roles_required,
)


def _picks(request, selected_id: int | None, query: str = "") -> list:
    picks = selectors.customer_search(user=request.user, query=query) if query else []
    if selected_id:
        chosen = policy.customer_scope(request.user).filter(pk=selected_id).first()
        if chosen is not None:
            picks = [chosen] + [c for c in picks if c.pk != chosen.pk]
    return picks


@login_required
@roles_required(*ALL_ROLES)
@require_GET
def customer_search(request):
    """Search-as-you-type for the visit form: up to 10 customers of the user's scope as radio buttons."""
    query = request.GET.get("q", "").strip()[:100]
    selected = _int_or_none(request.GET.get("customer"))
    picks = _picks(request, selected, query)
    return render(
        request,
        "salesforce_tasks/visit_form.html#results",
        {"picks": picks, "selected_id": selected, "query": query},
    )


@login_required
@roles_required(REP)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def visit_new(request):
    rep = policy.rep_for_user(request.user)
    if rep is None:
        raise PermissionDenied(_("Your account is not linked to a sales rep: ask a manager to link it."))
    if request.method == "POST":
        form = VisitForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                visit = services.visit_log(
                    rep=rep,
                    customer=data["customer"],
                    date=data["date"],
                    minutes=data["minutes"],
                    kind=data["kind"],
                    outcome=data["outcome"],
                    next_step=data["next_step"],
                    acting_user=request.user,
                )
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                request.session[SESSION_LAST_CUSTOMER] = visit.customer_id
                request.session[SESSION_LAST_KIND] = visit.kind
                return redirect(reverse("salesforce:visit_new") + f"?logged={visit.pk}")
        selected = _int_or_none(request.POST.get("customer"))
    else:
        selected = _int_or_none(request.GET.get("customer")) or request.session.get(SESSION_LAST_CUSTOMER)
        form = VisitForm(
            user=request.user,
            initial={
                "customer": selected,
                "date": timezone.localdate(),
                "kind": request.session.get(SESSION_LAST_KIND, Visit.Kind.VISIT),
            },
        )
    logged = None
    logged_id = _int_or_none(request.GET.get("logged"))
    if logged_id:
        logged = Visit.objects.filter(pk=logged_id, rep=rep).select_related("customer").first()
    context = {
        "form": form,
        "picks": _picks(request, selected),
        "selected_id": selected,
        "query": "",
        "logged": logged,
        "editing": None,
    }
    if request.htmx and request.method == "POST":
        return render(request, "salesforce_tasks/visit_form.html#visit_form", context)
    return render(request, "salesforce_tasks/visit_form.html", context)


def _own_visit(request, visit_id: int) -> Visit:
    visit = get_object_or_404(selectors.visit_list(user=request.user), pk=visit_id)
    if visit.rep.user_id != request.user.id and not request.user.is_superuser:
        raise PermissionDenied(_("You can change only your own visits."))
    return visit


@login_required
@roles_required(REP)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def visit_edit(request, visit_id: int):
    visit = _own_visit(request, visit_id)
    if request.method == "POST":
        form = VisitForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                services.visit_update(visit=visit, acting_user=request.user, **form.cleaned_data)
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("Visit saved."))
                return redirect("salesforce:visits")
        selected = _int_or_none(request.POST.get("customer"))
    else:
        form = VisitForm(
            user=request.user,
            initial={
                "customer": visit.customer_id,
                "date": visit.date,
                "minutes": visit.minutes,
                "kind": visit.kind,
                "outcome": visit.outcome,
                "next_step": visit.next_step,
            },
        )
        selected = visit.customer_id
    context = {
        "form": form,
        "picks": _picks(request, selected),
        "selected_id": selected,
        "query": "",
        "editing": visit,
        "logged": None,
    }
    if request.htmx and request.method == "POST":
        return render(request, "salesforce_tasks/visit_form.html#visit_form", context)
    return render(request, "salesforce_tasks/visit_form.html", context)


@login_required
@roles_required(REP)
@require_POST
def visit_delete(request, visit_id: int):
    visit = _own_visit(request, visit_id)
    services.visit_delete(visit=visit, acting_user=request.user)
    messages.success(request, _("Visit deleted."))
    return redirect("salesforce:visits")


VISIT_COLUMNS = [
    ("date", "Date"),
    ("rep", "Rep"),
    ("customer_id", "Customer id"),
    ("customer", "Customer"),
    ("kind", "Kind"),
    ("minutes", "Minutes"),
    ("outcome", "Outcome"),
    ("next_step", "Next step"),
]


#: Visits the list page shows at most (the newest); an export has them all.
VISITS_SHOWN = 5000


def _visit_row(v: Visit) -> dict:
    return {
        "id": v.id,
        "date": v.date,
        "rep": v.rep.name,
        "rep_user_id": v.rep.user_id,
        "customer_pk": v.customer_id,
        "customer_id": v.customer.external_id,
        "customer": v.customer.name,
        "kind": v.get_kind_display(),
        "minutes": v.minutes,
        "outcome": v.outcome,
        "next_step": v.next_step,
    }


@login_required
@roles_required(*ALL_ROLES)
@require_GET
@vary_on_headers("HX-Request")
def visit_list(request):
    """Visits in the user's scope; a rep sees their own unless ?who=pair.

    ``?customer=<id>`` lists one customer's visits (everyone's in scope): the visits tab of the
    customer page."""
    rep = policy.rep_for_user(request.user)
    customer = None
    if request.GET.get("customer"):
        try:
            customer = _scoped_customer(request, int(request.GET["customer"]))
        except ValueError:
            raise Http404(_("Choose a customer.")) from None
    mine_only = (
        customer is None and rep is not None and REP in user_roles(request.user) and request.GET.get("who") != "pair"
    )
    qs = selectors.visit_list(user=request.user, rep=rep if mine_only else None, customer=customer)
    period = _period(request) if request.GET.get("period") else None
    if period is not None:
        qs = qs.filter(period=period)
    if request.GET.get("format") in EXPORT_FORMATS:
        rows = (_visit_row(v) for v in qs.iterator(chunk_size=2000))
        return _export(request, rows=rows, columns=[(k, _(label)) for k, label in VISIT_COLUMNS], filename="visits")
    shown = qs[:VISITS_SHOWN]  # the page lists the newest ones; count and minutes are theirs
    totals = shown.aggregate(count=Count("id"), minutes=Sum("minutes"))
    paginator = Paginator(shown, PAGE_SIZE)
    paginator.count = totals["count"]  # counted with the minutes: one query less
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = [_visit_row(v) for v in page.object_list]
    context = {
        "page": page,
        "mine_only": mine_only,
        "rep": rep,
        "period": period,
        "periods": selectors.period_names(),
        "total_minutes": totals["minutes"] or 0,
        "count": totals["count"],
        "customer": customer,
        "user_is_rep": REP in user_roles(request.user),
        "base_query": urlencode(
            {
                k: v
                for k, v in (
                    ("customer", customer.pk if customer else None),
                    ("period", period.name if period else None),
                    ("who", "pair" if not mine_only and rep and customer is None else None),
                )
                if v
            }
        ),
    }
    if request.htmx:
        return render(request, "salesforce_tasks/visit_list.html#table", context)
    return render(request, "salesforce_tasks/visit_list.html", context)
