"""The action board: loss-making customers with suggested actions and their what-if, proposals,
approval and follow-up (htmx; reps and managers)."""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Max
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from config.export import EXPORT_FORMATS, table_response
from config.pages import undo_message
from config.roles import MANAGER, REP, require_role, user_roles
from customers.figures_cache import figures_cached
from customers.models import Customer, Period
from customers.policy import customer_scope
from customers.selectors import period_list

from . import selectors, services, whatif
from .models import Action

TEMPLATE_BOARD = "salesforce_tasks/actions_board.html"
TEMPLATE_PROPOSE = "salesforce_tasks/actions_propose.html"


class ActionForm(forms.Form):
    type = forms.ChoiceField(label=gettext_lazy("Action"), choices=Action.Type.choices)
    parameter = forms.DecimalField(
        label=gettext_lazy("Parameter"), max_digits=16, decimal_places=2, required=False, localize=False
    )
    description = forms.CharField(label=gettext_lazy("Description"), max_length=300, required=False)
    note = forms.CharField(
        label=gettext_lazy("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


def _period_or_404(name) -> Period:
    period = selectors.action_period(name=name)
    if period is None:
        raise Http404(_("Unknown period '%(name)s'.") % {"name": name} if name else _("There are no periods yet."))
    return period


def _customer_or_404(user, pk) -> Customer:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404(_("Choose a customer.")) from None
    return get_object_or_404(customer_scope(user), pk=pk)


def _export_value(value):
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    return value


def _export(rows: list[dict], columns, filename: str, fmt: str):
    rows = [{k: _export_value(v) for k, v in row.items()} for row in rows]
    return table_response(rows=rows, columns=columns, filename=filename, fmt=fmt)


# --------------------------------------------------------------------------- the board


@login_required
@require_GET
@vary_on_headers("HX-Request")
def board(request):
    require_role(request.user, REP, MANAGER)
    period = _period_or_404(request.GET.get("period"))
    state = request.GET.get("state") or ""
    if state not in Action.State.values:
        state = ""
    fmt = request.GET.get("format")
    table = request.GET.get("table", "actions")
    target = request.htmx.target if request.htmx else None

    if fmt in EXPORT_FORMATS:
        if table == "suggestions":
            suggestions = selectors.action_suggestions(user=request.user, period=period, per_page=None)
            rows = selectors.suggestion_rows(suggestions)
            return _export(rows, selectors.SUGGESTION_COLUMNS, f"suggestions-{period.name}", fmt)
        rows = selectors.action_rows(selectors.action_list(user=request.user, period=period, state=state))
        return _export(rows, selectors.ACTION_COLUMNS, f"actions-{period.name}", fmt)

    context = {"period": period, "state": state, **_roles(request.user)}
    if request.GET.get("customer"):
        # One customer's actions, every period: the actions tab of the customer page.
        customer = _customer_or_404(request.user, request.GET["customer"])
        actions = selectors.action_list(user=request.user, state=state).filter(customer=customer)
        context.update(customer=customer, actions=selectors.action_rows(actions), states=Action.State.choices)
        return render(request, f"{TEMPLATE_BOARD}#action_list", context)
    if target != "suggestions":
        context["actions"] = selectors.action_rows(selectors.action_list(user=request.user, period=period, state=state))
        context["states"] = Action.State.choices
    if target == "action-list":
        return render(request, f"{TEMPLATE_BOARD}#action_list", context)
    if target == "action-tiles":
        # The tiles at the top, drawn again after a proposal or a decision (HX-Trigger actionsChanged).
        context["suggestions"] = selectors.action_loss_summary(user=request.user, period=period)
        context["counts"] = selectors.action_counts(user=request.user, period=period)
        return render(request, f"{TEMPLATE_BOARD}#tiles", context)
    context["suggestions"] = figures_cached(
        "action_suggestions",
        lambda: selectors.action_suggestions(user=request.user, period=period, page=request.GET.get("page")),
        # The suggestions show the open actions too: their latest change is part of the key.
        key=(
            period.id,
            request.user.pk,
            tuple(sorted(user_roles(request.user))),
            request.GET.get("page"),
            Action.history.aggregate(latest=Max("history_id"))["latest"],
        ),
    )
    if target == "suggestions":
        return render(request, f"{TEMPLATE_BOARD}#suggestions", context)
    context["periods"] = period_list()
    context["counts"] = selectors.action_counts(user=request.user, period=period)
    return render(request, TEMPLATE_BOARD, context)


def _roles(user) -> dict:
    roles = user_roles(user)
    return {"is_manager": MANAGER in roles, "is_rep": REP in roles}


# --------------------------------------------------------------------------- propose and preview


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def propose(request):
    """The proposal form for one customer: GET draws it (with the suggested parameter of the chosen
    action), POST saves the action with its what-if."""
    require_role(request.user, REP, MANAGER)
    data = request.POST if request.method == "POST" else request.GET
    period = _period_or_404(data.get("period"))
    customer = _customer_or_404(request.user, data.get("customer"))
    inputs = selectors.whatif_inputs(period=period)
    defaults = selectors.action_default_parameters(customer=customer, inputs=inputs)
    saved = None
    if request.method == "POST":
        form = ActionForm(request.POST)
        if form.is_valid():
            try:
                saved = services.action_propose(
                    customer=customer,
                    period=period,
                    action_type=form.cleaned_data["type"],
                    parameter=form.cleaned_data["parameter"],
                    description=form.cleaned_data["description"],
                    note=form.cleaned_data["note"],
                    acting_user=request.user,
                )
            except ValidationError as exc:
                _add_errors(form, exc)
        if saved and not request.htmx:
            messages.success(request, _("Action proposed: %(action)s for %(customer)s.") % _saved_names(saved))
            return redirect(f"{reverse('actions:board')}?period={period.name}")
        if saved:
            form = _initial_form(data.get("type"), None, defaults, changed_type=True)
    else:
        form = _initial_form(data.get("type"), data, defaults, changed_type=data.get("changed") == "type")
    preview = _preview_context(form, customer, period, inputs)
    context = {
        "form": form,
        "customer": customer,
        "period": period,
        "profit": selectors.customer_profit_row(customer=customer, inputs=inputs),
        "parameter_label": selectors.PARAMETER_LABELS.get(_form_type(form), ""),
        "saved": saved,
        **preview,
    }
    template = f"{TEMPLATE_PROPOSE}#propose_form" if request.htmx else TEMPLATE_PROPOSE
    response = render(request, template, context)
    if saved:
        response["HX-Trigger"] = "actionsChanged"
    return response


def _add_errors(form: ActionForm, exc: ValidationError) -> None:
    """The service's errors beside their field, the others above the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def _saved_names(action: Action) -> dict:
    return {"action": action.get_type_display(), "customer": action.customer.name}


def _initial_form(action_type, data, defaults: dict, *, changed_type: bool) -> ActionForm:
    if action_type not in Action.Type.values:
        computed = [t for t in whatif.COMPUTED_TYPES if defaults.get(t) is not None]
        action_type = computed[0] if computed else Action.Type.OTHER
    parameter = None if (changed_type or data is None) else data.get("parameter")
    if parameter in (None, ""):
        parameter = defaults.get(action_type)
    initial = {"type": action_type, "parameter": parameter}
    if data is not None:
        initial.update(description=data.get("description", ""), note=data.get("note", ""))
    return ActionForm(initial=initial)


def _form_type(form: ActionForm) -> str:
    if form.is_bound:
        return form.data.get("type", "")
    return form.initial.get("type", "")


def _preview_context(form: ActionForm, customer: Customer, period: Period, inputs) -> dict:
    """The what-if of the form's action: {'whatif': ..., 'whatif_error': ...}."""
    if form.is_bound:
        if not form.is_valid():
            return {"whatif": None, "whatif_error": _("Correct the form to see the what-if.")}
        action_type, parameter = form.cleaned_data["type"], form.cleaned_data["parameter"]
    else:
        action_type, parameter = form.initial.get("type"), form.initial.get("parameter")
    try:
        effect = selectors.action_whatif_get(
            customer=customer, period=period, action_type=action_type, parameter=parameter, inputs=inputs
        )
    except ValidationError as exc:
        return {"whatif": None, "whatif_error": " ".join(exc.messages), "whatif_type": action_type}
    return {"whatif": effect, "whatif_error": "", "whatif_type": action_type, "whatif_parameter": parameter}


@login_required
@require_POST
def preview(request):
    """The what-if of the form as it is typed: a fragment, nothing is saved."""
    require_role(request.user, REP, MANAGER)
    period = _period_or_404(request.POST.get("period"))
    customer = _customer_or_404(request.user, request.POST.get("customer"))
    inputs = selectors.whatif_inputs(period=period)
    form = ActionForm(request.POST)
    context = {"customer": customer, "period": period, **_preview_context(form, customer, period, inputs)}
    return render(request, f"{TEMPLATE_PROPOSE}#preview", context)


# --------------------------------------------------------------------------- transitions


@login_required
@require_POST
@vary_on_headers("HX-Request")
def transition(request, pk: int):
    """Approve, reject or mark done; the row is drawn again (with the error, if any)."""
    require_role(request.user, REP, MANAGER)
    action = get_object_or_404(selectors.action_list(user=request.user), pk=pk)
    error = ""
    try:
        action = services.action_transition(
            action=action,
            state=request.POST.get("state", ""),
            acting_user=request.user,
            note=request.POST.get("note", "")[:2000],
        )
    except ValidationError as exc:
        error = " ".join(exc.messages)
    if not request.htmx:
        if error:
            messages.error(request, error)
        elif action.state == Action.State.DROPPED:
            undo_message(
                request,
                text=_("Action %(action)s: %(state)s.") % _transition_names(action),
                url=reverse("actions:undo_drop", args=[action.pk]),
            )
        else:
            messages.success(request, _("Action %(action)s: %(state)s.") % _transition_names(action))
        return redirect(f"{reverse('actions:board')}?period={action.period.name}")
    dropped = not error and action.state == Action.State.DROPPED
    return _row_response(request, action, error=error, undo_drop=dropped)


def _row_response(request, action: Action, *, error: str, undo_drop: bool = False):
    """The action's row drawn again; after a drop it carries an Undo button, so then only the tiles and
    suggestions draw themselves again (actionDropped), not the list holding the row."""
    row = selectors.action_rows(selectors.action_list(user=request.user).filter(pk=action.pk))[0]
    context = {"a": row, "row_error": error, "undo_drop": undo_drop, **_roles(request.user)}
    response = render(request, f"{TEMPLATE_BOARD}#action_row", context)
    if not error:
        response["HX-Trigger"] = "actionDropped" if undo_drop else "actionsChanged"
    return response


@login_required
@require_POST
@vary_on_headers("HX-Request")
def undo_drop(request, pk: int):
    """The Undo after a drop: the action gets back its state from before (managers, scoped like the drop)."""
    require_role(request.user, REP, MANAGER)
    action = get_object_or_404(selectors.action_list(user=request.user), pk=pk)
    error = ""
    try:
        action = services.action_undo_drop(action=action, acting_user=request.user)
    except ValidationError as exc:
        error = " ".join(exc.messages)
    if not request.htmx:
        if error:
            messages.error(request, error)
        else:
            messages.success(request, _("Action %(action)s: %(state)s.") % _transition_names(action))
        return redirect(f"{reverse('actions:board')}?period={action.period.name}")
    return _row_response(request, action, error=error)


def _transition_names(action: Action) -> dict:
    return {"action": action.get_type_display(), "state": action.get_state_display()}
