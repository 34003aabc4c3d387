"""Pages of the sales organisation: teams, reps, pairs and invitations; periods; waiting for me;
history. Mounted at /sales/organisation/ (namespace "salesforce:organisation").

Each view checks the role (``roles_required``), looks its object up through ``customers.policy``
(404 outside the scope), calls a service or selector and renders the page or, for htmx, a partial.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from config.roles import FINANCE, MANAGER, ROLE_LABELS, ROLES
from customers import policy
from customers.models import Period

from .. import scopes
from .. import services as sales_services
from ..actions.services import action_transition
from ..models import Action, RepPair, SalesRep
from ..views.common import roles_required
from . import periods, selectors, services
from .forms import (
    DeactivateForm,
    HistoryFilterForm,
    InviteForm,
    PairForm,
    RepForm,
    TeamForm,
    TeamManagerForm,
    UserInviteForm,
    UserRolesForm,
    YearOpenForm,
)


def _form_errors(form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form's fields (unknown keys on the form as a whole)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _form_post(form, write, *, done: str) -> str | bool:
    """The shape of a form post on the team page: bind, call the service ``write(cleaned_data)``,
    put its ValidationError on the form; True (and the ``done`` message, formatted with the
    cleaned data) when it wrote, False when the form is to be shown again with its errors."""
    if not form.is_valid():
        return False
    try:
        write(form.cleaned_data)
    except ValidationError as exc:
        _form_errors(form, exc)
        return False
    return done % form.cleaned_data


# --- teams, reps, pairs -----------------------------------------------------------------------


@login_required
@roles_required(MANAGER)
@require_http_methods(["GET", "POST"])
def teams(request):
    """The manager's teams; a new team."""
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            team = services.team_create(name=form.cleaned_data["name"], acting_user=request.user)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Team %(team)s created.") % {"team": team.name})
            return redirect("salesforce:organisation:team", team_id=team.pk)
    teams = policy.organisation_teams(request.user).prefetch_related("reps", "pairs")
    user_form = UserInviteForm() if policy.may_manage_users(request.user) else None
    return render(
        request, "salesforce_tasks/organisation/teams.html", {"teams": teams, "form": form, "user_form": user_form}
    )


def _team_page(request, team, **forms):
    reps = list(SalesRep.objects.filter(team=team).select_related("user").order_by("-active", "name"))
    pairs = list(
        RepPair.objects.filter(team=team).select_related("outside_rep", "inside_rep").order_by("-active", "code")
    )
    other_pairs = RepPair.objects.filter(team__in=policy.organisation_teams(request.user), active=True)
    context = {
        "team": team,
        "reps": reps,
        "pairs": pairs,
        "rep_form": forms.get("rep_form") or RepForm(),
        "pair_form": forms.get("pair_form") or PairForm(team=team),
        "invite_forms": {
            rep.pk: forms.get(f"invite_{rep.pk}") or InviteForm(initial={"username": rep.code}) for rep in reps
        },
        "deactivate_form": forms.get("deactivate_form") or DeactivateForm(pairs=other_pairs),
        "manager_form": (
            forms.get("manager_form") or TeamManagerForm(initial={"manager": team.manager_id})
            if policy.may_manage_users(request.user)
            else None
        ),
    }
    return render(request, "salesforce_tasks/organisation/team.html", context)


@login_required
@roles_required(MANAGER)
@require_http_methods(["GET"])
def team(request, team_id: int):
    return _team_page(request, policy.team_for_update(request.user, team_id))


@login_required
@roles_required(MANAGER)
@require_POST
def rep_new(request, team_id: int):
    team = policy.team_for_update(request.user, team_id)
    form = RepForm(request.POST)
    done = _form_post(
        form,
        lambda data: services.rep_create(team=team, acting_user=request.user, **data),
        done=_("Rep %(name)s added."),
    )
    if done:
        messages.success(request, done)
        return redirect("salesforce:organisation:team", team_id=team.pk)
    return _team_page(request, team, rep_form=form)


@login_required
@roles_required(MANAGER)
@require_POST
def pair_new(request, team_id: int):
    team = policy.team_for_update(request.user, team_id)
    form = PairForm(request.POST, team=team)
    done = _form_post(
        form,
        lambda data: services.pair_create(team=team, acting_user=request.user, **data),
        done=_("Pair %(code)s created."),
    )
    if done:
        messages.success(request, done)
        return redirect("salesforce:organisation:team", team_id=team.pk)
    return _team_page(request, team, pair_form=form)


@login_required
@roles_required(MANAGER)
@require_POST
def rep_invite(request, rep_id: int):
    rep = policy.rep_for_update(request.user, rep_id)
    form = InviteForm(request.POST)
    done = _form_post(
        form,
        lambda data: services.user_invite(
            username=data["username"],
            email=data["email"],
            name=rep.name,
            role="rep",
            rep=rep,
            acting_user=request.user,
            site_url=request.build_absolute_uri("/"),
        ),
        done=_("Invitation sent to %(email)s."),
    )
    if done:
        messages.success(request, done)
        return redirect("salesforce:organisation:team", team_id=rep.team_id)
    return _team_page(request, rep.team, **{f"invite_{rep.pk}": form})


@login_required
@roles_required(MANAGER)
@require_POST
def rep_deactivate(request, rep_id: int):
    rep = policy.rep_for_update(request.user, rep_id)
    pairs = RepPair.objects.filter(team__in=policy.organisation_teams(request.user), active=True)
    form = DeactivateForm(request.POST, pairs=pairs)
    if form.is_valid():
        try:
            moved = services.rep_deactivate(
                rep=rep,
                handover_pair=form.cleaned_data["handover_pair"],
                on=form.cleaned_data["on"],
                acting_user=request.user,
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(rep)s is deactivated; %(n)s customer(s) handed to pair %(pair)s.")
                % {"rep": rep.name, "n": moved, "pair": form.cleaned_data["handover_pair"].code},
            )
            return redirect("salesforce:organisation:team", team_id=rep.team_id)
    return _team_page(request, rep.team, deactivate_form=form)


@login_required
@roles_required(MANAGER)
@require_POST
def user_invite(request):
    """Administrators invite managers and finance (and reps without a rep record)."""
    if not policy.may_manage_users(request.user):
        raise Http404(_("Not found."))
    form = UserInviteForm(request.POST)
    if form.is_valid():
        try:
            services.user_invite(
                acting_user=request.user, site_url=request.build_absolute_uri("/"), **form.cleaned_data
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]})
            return redirect("salesforce:organisation:teams")
    teams = policy.organisation_teams(request.user)
    return render(
        request, "salesforce_tasks/organisation/teams.html", {"teams": teams, "form": TeamForm(), "user_form": form}
    )


@login_required
@roles_required(MANAGER)
@require_POST
def team_manager(request, team_id: int):
    """Administrators: change who manages a team (recorded in the team's history)."""
    team = policy.team_for_update(request.user, team_id)
    if not policy.may_manage_users(request.user):
        raise Http404(_("Not found."))
    form = TeamManagerForm(request.POST)
    if form.is_valid():
        try:
            services.team_update(team=team, manager=form.cleaned_data["manager"], acting_user=request.user)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(user)s now manages team %(team)s.")
                % {"user": form.cleaned_data["manager"].username, "team": team.name},
            )
            return redirect("salesforce:organisation:team", team_id=team.pk)
    return _team_page(request, team, manager_form=form)


# --- users and their roles --------------------------------------------------------------------


def _users_page(request, forms=None, status=200):
    grantable = policy.grantable_roles(request.user)
    users = list(policy.role_change_scope(request.user).prefetch_related("groups").order_by("username"))
    forms = forms or {}
    rows = [
        {
            "user": u,
            "roles": [ROLE_LABELS[name] for name in sorted(g.name for g in u.groups.all() if g.name in ROLE_LABELS)],
            "form": forms.get(u.pk)
            or UserRolesForm(
                initial={"roles": [g.name for g in u.groups.all() if g.name in grantable]},
                grantable=grantable,
                auto_id=f"u{u.pk}_%s",
            ),
        }
        for u in users
    ]
    context = {"rows": rows, "grantable": [ROLE_LABELS[r] for r in grantable]}
    return render(request, "salesforce_tasks/organisation/users.html", context, status=status)


@login_required
@roles_required(MANAGER)
@require_http_methods(["GET"])
def users(request):
    """Users and their roles: administrators everyone, a manager the reps of their teams (rep role only)."""
    return _users_page(request)


@login_required
@roles_required(MANAGER)
@require_POST
def user_roles(request, user_id: int):
    target = policy.user_for_role_change(request.user, user_id)
    grantable = policy.grantable_roles(request.user)
    form = UserRolesForm(request.POST, grantable=grantable, auto_id=f"u{target.pk}_%s")
    if form.is_valid():
        # Roles the editor may not grant are kept as they are (they are not on the form).
        kept = [g for g in target.groups.filter(name__in=ROLES).values_list("name", flat=True) if g not in grantable]
        try:
            changed = services.user_roles_set(
                user=target, roles=[*kept, *form.cleaned_data["roles"]], acting_user=request.user
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            if changed:
                messages.success(request, _("The roles of %(user)s are changed.") % {"user": target.username})
            else:
                messages.info(request, _("The roles of %(user)s did not change.") % {"user": target.username})
            return redirect("salesforce:organisation:users")
    return _users_page(request, forms={target.pk: form}, status=400)


# --- periods ----------------------------------------------------------------------------------


@login_required
@roles_required(FINANCE)
@require_http_methods(["GET", "POST"])
def periods_page(request):
    names = list(Period.objects.order_by("-name").values_list("name", flat=True))
    form = YearOpenForm(request.POST or None, period_names=names)
    if request.method == "POST" and form.is_valid():
        try:
            opened = periods.year_open(acting_user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(
                request,
                _("Period %(name)s is open: %(pools)s cost pool(s) copied, %(targets)s target(s) rolled.")
                % {"name": opened.period.name, "pools": opened.pools_copied, "targets": opened.targets_rolled},
            )
            return redirect("salesforce:organisation:periods")
    rows = Period.objects.order_by("-name")
    return render(request, "salesforce_tasks/organisation/periods.html", {"periods": rows, "form": form})


@login_required
@roles_required(FINANCE)
@require_POST
def period_state(request, name: int, action: str):
    if not Period.objects.filter(name=name).exists() or action not in ("close", "reopen"):
        raise Http404(_("Unknown period %(name)s.") % {"name": name})
    try:
        if action == "close":
            periods.year_close(name=name, acting_user=request.user)
            messages.success(request, _("Period %(name)s is closed.") % {"name": name})
        else:
            periods.year_reopen(name=name, acting_user=request.user)
            messages.success(request, _("Period %(name)s is open again.") % {"name": name})
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("salesforce:organisation:periods")


# --- waiting for me ---------------------------------------------------------------------------


@login_required
@roles_required(MANAGER)
@vary_on_headers("HX-Request")
@require_http_methods(["GET"])
def waiting(request):
    return render(
        request,
        "salesforce_tasks/organisation/waiting.html",
        {"rows": selectors.waiting_rows(request.user), "counts": selectors.waiting_counts(request.user)},
    )


@login_required
@roles_required(MANAGER)
@require_POST
def decide(request, kind: str, pk: int, decision: str):
    """Approve or reject one proposal inline; htmx swaps the row for the decision (who, when)."""
    if decision not in ("approve", "reject") or kind not in ("target", "action"):
        raise Http404(_("Not found."))
    targets, actions = scopes.decision_scope(request.user)
    obj = (targets if kind == "target" else actions).filter(pk=pk).first()
    if obj is None:
        raise Http404(_("Nothing waiting here for you."))
    error = ""
    try:
        if kind == "target":
            if decision == "approve":
                sales_services.customer_target_approve(target=obj, acting_user=request.user)
            else:
                sales_services.customer_target_reject(target=obj, acting_user=request.user)
        else:
            state = Action.State.AGREED if decision == "approve" else Action.State.DROPPED
            action_transition(action=obj, state=state, acting_user=request.user)
    except ValidationError as exc:
        error = " ".join(exc.messages)
    if not getattr(request, "htmx", False):
        if error:
            messages.error(request, error)
        return redirect("salesforce:organisation:waiting")
    context = {
        "kind": kind,
        "obj": obj,
        "decision": decision,
        "error": error,
        "counts": selectors.waiting_counts(request.user),
        "history_url": reverse("salesforce:organisation:record_history", args=[kind, pk]),
    }
    return render(request, "salesforce_tasks/organisation/partials/decided.html", context)


# --- history ----------------------------------------------------------------------------------


@login_required
@roles_required(MANAGER, FINANCE)
@require_http_methods(["GET"])
def history_log(request):
    form = HistoryFilterForm(request.GET or None, kinds=selectors.history_kinds_for(request.user))
    rows = []
    if form.is_valid() or not request.GET:
        data = form.cleaned_data if request.GET else {}
        rows = selectors.history_log(
            user=request.user,
            kind=data.get("kind") or None,
            username=data.get("user") or "",
            since=data.get("since"),
            until=data.get("until"),
        )
    return render(request, "salesforce_tasks/organisation/history_log.html", {"form": form, "rows": rows})


@login_required
@roles_required(MANAGER, FINANCE)
@require_http_methods(["GET"])
def record_history(request, kind: str, pk: int):
    found = selectors.record_history(user=request.user, kind=kind, pk=pk)
    if found is None:
        raise Http404(_("No such record in your scope."))
    return render(request, "salesforce_tasks/organisation/record_history.html", {"record": found})
