"""Customer targets (proposed by the pair, approved by the manager) and team targets."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from config.pages import undo_message
from config.roles import MANAGER, REP, user_roles
from customers import policy

from .. import scopes, selectors, services
from ..forms import (
    CustomerTargetForm,
    TeamTargetForm,
)
from ..models import CustomerTarget, TeamTarget
from .common import (
    ALL_ROLES,
    PAGE_SIZE,
    _export,
    _form_errors,
    _no_data,
    _period,
    _scoped_customer,
    roles_required,
)

TARGET_COLUMNS = [
    ("external_id", "Customer id"),
    ("customer", "Customer"),
    ("level", "Level"),
    ("target_level", "Target level"),
    ("revenue", "Revenue"),
    ("target_revenue", "Target revenue"),
    ("revenue_progress", "Revenue progress"),
    ("profit", "Profit"),
    ("target_profit", "Target profit"),
    ("profit_progress", "Profit progress"),
    ("proposed_by_pair", "Proposed, awaiting approval"),
    ("proposal_level", "Proposed target level"),
    ("proposal_revenue", "Proposed target revenue"),
    ("proposal_profit", "Proposed target profit"),
]


@login_required
@roles_required(*ALL_ROLES)
@require_GET
@vary_on_headers("HX-Request")
def targets(request):
    period = _period(request)
    if period is None:
        return _no_data(request, _("Targets"))
    pending = request.GET.get("show") == "pending"
    rows = selectors.customer_target_rows(period=period, user=request.user, pending_only=pending)
    table = request.GET.get("table", "customers")
    team_rows = selectors.team_target_rows(period=period, user=request.user)
    if table == "teams":
        export = _export(
            request,
            rows=[{**r, "team": r["team_name"], "kind": r["label"]} for r in team_rows],
            columns=[
                ("team", _("Team")),
                ("kind", _("Target")),
                ("target", _("Target value")),
                ("actual", _("Actual")),
                ("progress", _("Progress")),
            ],
            filename=f"team-targets-{period.name}",
        )
    else:
        export = _export(
            request,
            rows=rows,
            columns=[(k, _(label)) for k, label in TARGET_COLUMNS],
            filename=f"customer-targets-{period.name}",
        )
    if export:
        return export
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        **_target_row_context(request, period),
        "periods": selectors.period_names(),
        "page": page,
        "pending": pending,
        "pending_count": sum(1 for r in rows if r["proposed_by_pair"] or r["proposal_pending"])
        if not pending
        else len(rows),
        "team_rows": team_rows,
        "team_form": TeamTargetForm(user=request.user) if policy.managed_teams(request.user).exists() else None,
    }
    if request.htmx:
        return render(request, "salesforce_tasks/targets.html#customer_targets", context)
    return render(request, "salesforce_tasks/targets.html", context)


@login_required
@roles_required(REP, MANAGER)
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def target_edit(request, customer_id: int):
    customer = _scoped_customer(request, customer_id)
    period = _period(request)
    if period is None:
        return _no_data(request, _("Targets"))
    target = selectors.customer_target_get(customer=customer, period=period)
    labels = selectors.month_labels(period)
    if request.method == "POST":
        form = CustomerTargetForm(request.POST, month_labels=labels)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.customer_target_set(
                    customer=customer,
                    period=period,
                    acting_user=request.user,
                    target_level=data["target_level"],
                    target_revenue=data["target_revenue"],
                    target_profit=data["target_profit"],
                    seasonality=data["seasonality"],
                )
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                manager = MANAGER in user_roles(request.user) or request.user.is_superuser
                messages.success(request, _("Target saved.") if manager else _("Target proposed to your manager."))
                return redirect(reverse("salesforce:targets") + f"?period={period.name}")
    else:
        form = CustomerTargetForm(initial=CustomerTargetForm.initial_for(target), month_labels=labels)
    pp = selectors.period_portfolio(period=period)
    current = pp.results[pp.results["customer_id"] == customer.pk]
    context = {
        "customer": customer,
        "period": period,
        "periods": selectors.period_names(),
        "target": target,
        "form": form,
        "current": current.iloc[0].to_dict() if len(current) else None,
        "is_manager": MANAGER in user_roles(request.user) or request.user.is_superuser,
    }
    return render(request, "salesforce_tasks/target_form.html", context)


def _target_row_context(request, period) -> dict:
    """What a row of the customer targets table needs besides the row: who may do what on it."""
    roles = user_roles(request.user)
    decidable, _actions = scopes.decision_scope(request.user)
    return {
        "period": period,
        "is_manager": MANAGER in roles or request.user.is_superuser,
        "can_propose": REP in roles,
        "decidable": set(decidable.filter(period=period).values_list("id", flat=True)),
    }


@login_required
@roles_required(MANAGER)
@require_POST
@vary_on_headers("HX-Request")
def target_approve(request, target_id: int):
    """A manager approves a proposed target, or the proposed change beside an approved one."""
    return _target_decide(request, target_id, approve=True)


@login_required
@roles_required(MANAGER)
@require_POST
@vary_on_headers("HX-Request")
def target_reject(request, target_id: int):
    """A manager rejects a proposal: a proposed change is dropped (the approved values stay), a
    proposed new target is removed."""
    return _target_decide(request, target_id, approve=False)


def _target_decide(request, target_id: int, *, approve: bool):
    """Decide on one target; htmx gets its row of the targets table back (or a row saying it went)."""
    target = scopes.customer_target_for_update(request.user, target_id)  # 404 outside the user's scope
    period, customer = target.period, target.customer
    names = {"customer": customer.name}
    error = done = ""
    try:
        if approve:
            services.customer_target_approve(target=target, acting_user=request.user)
            done = _("Target for %(customer)s approved.") % names
        else:
            kept = services.customer_target_reject(target=target, acting_user=request.user)
            done = (
                _("Proposed change for %(customer)s rejected; the approved target stays.")
                if kept
                else _("Proposed target for %(customer)s rejected and removed.")
            ) % names
    except ValidationError as exc:
        error = " ".join(exc.messages)
    if not request.htmx:
        if error:
            messages.error(request, error)
        else:
            messages.success(request, done)
        return redirect(reverse("salesforce:targets") + f"?period={period.name}&show=pending")
    rows = selectors.customer_target_rows(period=period, user=request.user, target_ids=[target_id])
    context = {
        **_target_row_context(request, period),
        "r": rows[0] if rows else None,
        "customer": customer,
        "decision": error or done,
        "decision_failed": bool(error),
    }
    return render(request, "salesforce_tasks/targets.html#target_row", context)


@login_required
@roles_required(REP, MANAGER)
@require_POST
def target_delete(request, target_id: int):
    target = get_object_or_404(
        CustomerTarget.objects.filter(customer__in=policy.customer_scope(request.user)), pk=target_id
    )
    period_name, pk = target.period.name, target.pk
    services.customer_target_delete(target=target, acting_user=request.user)
    deleted = CustomerTarget.history.filter(id=pk, history_type="-").latest("history_id")
    undo_message(
        request, text=_("Target deleted."), url=reverse("salesforce:target_restore", args=[deleted.history_id])
    )
    return redirect(reverse("salesforce:targets") + f"?period={period_name}")


@login_required
@roles_required(REP, MANAGER)
@require_POST
def target_restore(request, history_id: int):
    """The Undo after a delete: the deleted target comes back (scoped like the delete)."""
    deleted = get_object_or_404(
        CustomerTarget.history.filter(history_type="-", customer__in=policy.customer_scope(request.user)),
        history_id=history_id,
    )
    try:
        target = services.customer_target_restore(deleted=deleted, acting_user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Target for %(customer)s restored.") % {"customer": target.customer.name})
    return redirect(reverse("salesforce:targets") + f"?period={deleted.period.name}")


@login_required
@roles_required(MANAGER)
@require_POST
def team_target_save(request):
    period = _period(request)
    if period is None:
        raise Http404(_("No periods yet: import orders first."))
    form = TeamTargetForm(request.POST, user=request.user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.team_target_set(
                team=data["team"], period=period, kind=data["kind"], target=data["target"], acting_user=request.user
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Team target saved."))
    else:
        messages.error(request, " ".join(f"{k}: {', '.join(v)}" for k, v in form.errors.items()))
    return redirect(reverse("salesforce:targets") + f"?period={period.name}")


@login_required
@roles_required(MANAGER)
@require_POST
def team_target_delete(request, team_target_id: int):
    target = get_object_or_404(
        TeamTarget.objects.filter(team__in=policy.managed_teams(request.user)), pk=team_target_id
    )
    period_name, pk = target.period.name, target.pk
    services.team_target_delete(target=target, acting_user=request.user)
    deleted = TeamTarget.history.filter(id=pk, history_type="-").latest("history_id")
    undo_message(
        request,
        text=_("Team target deleted."),
        url=reverse("salesforce:team_target_restore", args=[deleted.history_id]),
    )
    return redirect(reverse("salesforce:targets") + f"?period={period_name}")


@login_required
@roles_required(MANAGER)
@require_POST
def team_target_restore(request, history_id: int):
    """The Undo after a remove: the team target comes back (the team's managers only, like the remove)."""
    deleted = get_object_or_404(
        TeamTarget.history.filter(history_type="-", team__in=policy.managed_teams(request.user)),
        history_id=history_id,
    )
    try:
        services.team_target_restore(deleted=deleted, acting_user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Team target restored."))
    return redirect(reverse("salesforce:targets") + f"?period={deleted.period.name}")
