"""The cost pools page (finance): pools, interest rate, create, edit, preview, delete, history, revert."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from config.export import table_response
from config.roles import FINANCE, MANAGER, has_role, require_role
from customers import policy
from customers.models import Period
from customers.selectors import period_list
from customers.templatetags.kw import number

from .. import selectors, services
from ..forms import CostPoolForm, InterestRateForm, customer_options
from ..models import CostPool
from .shared import _export_format, _level_label, _period
from .why import _pool_parameters


def _pools_context(request, period: Period, *, rate_form: InterestRateForm | None = None) -> dict:
    overview = selectors.pool_overview(period=period)
    for row in overview["rows"]:
        row["parameters"] = _pool_parameters(row["pool"])
    rate = selectors.interest_rate(period=period)
    return {
        "period": period,
        "periods": period_list(),
        "overview": overview,
        "interest_rate": rate,
        "rate_form": rate_form or InterestRateForm(initial={"interest_rate": rate}),
        "can_edit": has_role(request.user, FINANCE),
    }


POOL_EXPORT_COLUMNS = [
    ("name", gettext_lazy("Pool")),
    ("amount", gettext_lazy("Amount")),
    ("nature", gettext_lazy("Nature")),
    ("key", gettext_lazy("Allocation key")),
    ("parameters", gettext_lazy("Parameters")),
    ("allocated", gettext_lazy("Allocated")),
    ("unused", gettext_lazy("Unused capacity")),
    ("unallocated", gettext_lazy("Unallocated")),
    ("warning", gettext_lazy("Warning")),
]


@login_required
@require_GET
@vary_on_headers("HX-Request")
def pools(request):
    """The cost pools of a period: amounts, keys, what was allocated, unused and unallocated."""
    require_role(request.user, FINANCE, MANAGER)
    period = _period(request)
    context = _pools_context(request, period)
    try:
        fmt = _export_format(request)
    except ValueError:
        return HttpResponseBadRequest(_("Unknown format: use csv or xlsx."))
    if fmt:
        rows = [
            {
                "name": r["pool"].name,
                "amount": r["pool"].amount,
                "nature": r["pool"].get_nature_display(),
                "key": r["pool"].get_key_display(),
                "parameters": r["parameters"],
                "allocated": r["result"].allocated if r["result"] else None,
                "unused": r["result"].unused if r["result"] else None,
                "unallocated": r["result"].unallocated if r["result"] else None,
                "warning": r["result"].warning if r["result"] else "",
            }
            for r in context["overview"]["rows"]
        ]
        return table_response(rows=rows, columns=POOL_EXPORT_COLUMNS, filename=f"cost-pools-{period.name}", fmt=fmt)
    template = "accounting/pools.html#pools_table" if request.htmx else "accounting/pools.html"
    return render(request, template, context)


@login_required
@require_POST
def interest_rate_update(request):
    """Finance sets the period's yearly interest rate for the financing cost of late payment."""
    require_role(request.user, FINANCE)
    period = _period(request, source=request.POST)
    form = InterestRateForm(request.POST)
    if form.is_valid():
        try:
            services.period_finance_update(
                period=period, interest_rate=form.cleaned_data["interest_rate"], acting_user=request.user
            )
        except ValidationError as exc:
            form.add_error("interest_rate", exc)
    if form.errors:
        return render(request, "accounting/pools.html", _pools_context(request, period, rate_form=form), status=400)
    messages.success(
        request,
        _("Interest rate for %(period)s set to %(rate)s %%; the figures are being recomputed.")
        % {"period": period.name, "rate": number(form.cleaned_data["interest_rate"], 3)},
    )
    return redirect(f"{reverse('accounting:pools')}?period={period.name}")


def _pool_form_context(form: CostPoolForm, period: Period, pool: CostPool | None, preview=None) -> dict:
    return {"form": form, "period": period, "pool": pool, "preview": preview}


def _pool_from_post(request) -> CostPool | None:
    pk = request.POST.get("pool")
    if not pk:
        return None
    if not str(pk).isdigit():
        raise Http404(_("Unknown cost pool."))
    return get_object_or_404(CostPool.objects.select_related("period", "customer"), pk=int(pk))


def _pool_save(request, form: CostPoolForm, period: Period, pool: CostPool | None):
    if form.is_valid():
        try:
            if pool is None:
                pool = services.cost_pool_create(period=period, acting_user=request.user, **form.pool_values())
                messages.success(request, _("Cost pool '%(name)s' created.") % {"name": pool.name})
            else:
                pool = services.cost_pool_update(pool=pool, acting_user=request.user, **form.pool_values())
                messages.success(request, _("Cost pool '%(name)s' saved.") % {"name": pool.name})
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect(f"{reverse('accounting:pools')}?period={period.name}")
    return render(request, "accounting/pool_form.html", _pool_form_context(form, period, pool))


@login_required
@require_http_methods(["GET", "POST"])
def pool_create(request):
    """Finance adds a cost pool to a period."""
    require_role(request.user, FINANCE)
    period = _period(request, source=request.POST if request.method == "POST" else request.GET)
    if request.method == "POST":
        return _pool_save(request, CostPoolForm(request.POST, period=period), period, None)
    form = CostPoolForm(period=period)
    return render(request, "accounting/pool_form.html", _pool_form_context(form, period, None))


@login_required
@require_http_methods(["GET", "POST"])
def pool_update(request, pk: int):
    """Finance changes a cost pool (every change is kept in its history)."""
    require_role(request.user, FINANCE)
    pool = get_object_or_404(CostPool.objects.select_related("period", "customer"), pk=pk)
    if request.method == "POST":
        return _pool_save(request, CostPoolForm(request.POST, instance=pool, period=pool.period), pool.period, pool)
    form = CostPoolForm(instance=pool, period=pool.period)
    return render(request, "accounting/pool_form.html", _pool_form_context(form, pool.period, pool))


@login_required
@require_POST
@vary_on_headers("HX-Request")
def pool_validate(request):
    """Live validation: the form re-rendered with its errors and the fields of the chosen key."""
    require_role(request.user, FINANCE)
    pool = _pool_from_post(request)
    period = pool.period if pool else _period(request, source=request.POST)
    form = CostPoolForm(request.POST, instance=pool, period=period)
    form.is_valid()
    template = "accounting/pool_form.html#fields" if request.htmx else "accounting/pool_form.html"
    return render(request, template, _pool_form_context(form, period, pool))


@login_required
@require_POST
@vary_on_headers("HX-Request")
def pool_preview(request):
    """The effect of the form's pool on profit per pyramid level, computed but not saved."""
    require_role(request.user, FINANCE)
    pool = _pool_from_post(request)
    period = pool.period if pool else _period(request, source=request.POST)
    form = CostPoolForm(request.POST, instance=pool, period=period)
    preview = None
    if form.is_valid():
        preview = services.profit_preview(period=period, pool_values=form.pool_values(), pool=pool)
        for row in preview["levels"]:
            row["label"] = _level_label(row["level"])
        preview["result"] = preview["pool"][0] if preview["pool"] else None
        preview["total_change_cents"] = preview["total_after_cents"] - preview["total_before_cents"]
    template = "accounting/pool_form.html#preview" if request.htmx else "accounting/pool_form.html"
    return render(request, template, _pool_form_context(form, period, pool, preview))


@login_required
@require_GET
def pool_customer_options(request):
    """Search-as-you-type for the customer of a direct pool: the <option>s of the matches."""
    require_role(request.user, FINANCE)
    selected = request.GET.get("customer")
    chosen = None
    if selected and selected.isdigit():
        from customers.models import Customer

        chosen = Customer.objects.filter(pk=int(selected)).first()
    options = customer_options(query=request.GET.get("customer_q", ""), selected=chosen)
    return render(request, "accounting/partials/customer_options.html", {"options": options, "selected": chosen})


@login_required
@require_http_methods(["GET", "POST"])
def pool_delete(request, pk: int):
    """Finance deletes a cost pool after confirming (its history is kept)."""
    require_role(request.user, FINANCE)
    pool = get_object_or_404(CostPool.objects.select_related("period", "customer"), pk=pk)
    if request.method == "POST":
        period_name, name = pool.period.name, pool.name
        services.cost_pool_delete(pool=pool, acting_user=request.user)
        messages.success(request, _("Cost pool '%(name)s' deleted.") % {"name": name})
        return redirect(f"{reverse('accounting:pools')}?period={period_name}")
    return render(request, "accounting/pool_delete.html", {"pool": pool, "period": pool.period})


@login_required
@require_GET
def pool_history(request, pk: int):
    """Every change of a pool: who, when, old → new; finance can go back to any version. Who may
    read it is the policy's (``HISTORY_RULES``), as on the history log."""
    if not policy.may_read_history(request.user, "cost_pool"):
        raise PermissionDenied
    pool = get_object_or_404(CostPool.objects.select_related("period", "customer"), pk=pk)
    return render(
        request,
        "accounting/pool_history.html",
        {
            "pool": pool,
            "period": pool.period,
            "entries": selectors.pool_history(pool=pool),
            "can_edit": has_role(request.user, FINANCE),
        },
    )


@login_required
@require_POST
def pool_revert(request, pk: int, history_id: int):
    """Undo: put the pool back to one of its earlier versions (itself a new, recorded change)."""
    require_role(request.user, FINANCE)
    pool = get_object_or_404(CostPool.objects.select_related("period"), pk=pk)
    try:
        services.cost_pool_revert(pool=pool, history_id=history_id, acting_user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Cost pool '%(name)s' is back to the chosen version.") % {"name": pool.name})
    return redirect("accounting:pool_history", pk=pool.pk)
