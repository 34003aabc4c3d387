"""Pages of the sales-force workflow: the rep's start page, visits, targets, bonus and the roll-up.

Each view: login, role check (``roles_required``, readable by the permission test through the
``required_roles`` attribute), parse input, call a selector or service, render the page or, for
htmx requests, one of its partials.
"""

from __future__ import annotations

import json
from decimal import Decimal
from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from config.export import EXPORT_FORMATS, table_response
from config.money import as_float_euros
from config.roles import FINANCE, MANAGER, REP, require_role, user_roles
from customers import policy

from . import bonus, selectors, services
from .forms import (
    BonusKpiForm,
    CompareForm,
    CustomerTargetForm,
    EstimateForm,
    ReassignForm,
    TeamTargetForm,
    VisitForm,
    VisitNormsForm,
)
from .models import BonusKpi, CustomerTarget, RepPair, TeamTarget, Visit

ALL_ROLES = (REP, MANAGER, FINANCE)
SESSION_LAST_CUSTOMER = "salesforce_last_customer"
SESSION_LAST_KIND = "salesforce_last_kind"
PORTFOLIO_ROWS = 15
PAGE_SIZE = 100


def roles_required(*roles: str):
    """Raise PermissionDenied (403) unless the user has one of ``roles``; the roles are kept on the view."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            require_role(request.user, *roles)
            return view(request, *args, **kwargs)

        wrapper.required_roles = roles
        return wrapper

    return decorator


# --- helpers ----------------------------------------------------------------------------------


def _period(request, *, param: str = "period"):
    """The requested period (404 when unknown), or the default one (None when there is no data)."""
    name = request.GET.get(param) or request.POST.get(param)
    period = selectors.period_resolve(name=name)
    if period is None and name:
        raise Http404(_("Unknown period '%(name)s'.") % {"name": name})
    return period


def _export(request, *, rows: list[dict], columns: list[tuple[str, str]], filename: str):
    fmt = request.GET.get("format")
    if fmt in EXPORT_FORMATS:
        return table_response(rows=rows, columns=columns, filename=filename, fmt=fmt)
    return None


def _no_data(request, title: str):
    return render(request, "salesforce_tasks/no_data.html", {"title": title})


def _customer_page(customer_id: int, *, tab: str, period: str | None = None) -> str:
    """The one customer page (customers app), opened on one of its tabs."""
    query = urlencode({k: v for k, v in (("tab", tab), ("period", period)) if v})
    return f"{reverse('customers:detail', args=[customer_id])}?{query}"


def _scoped_customer(request, customer_id: int):
    return get_object_or_404(policy.customer_scope(request.user), pk=customer_id)


def _form_errors(form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form so it re-renders inline."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def _euros(cents) -> Decimal | None:
    if cents is None:
        return None
    try:
        return Decimal(int(cents)).scaleb(-2)
    except (TypeError, ValueError):
        return None


def _chart(labels, datasets, *, kind="bar", stacked=False, links: list[str] | None = None) -> str:
    """A Chart.js config; ``links`` (one URL per label) makes a bar open its page (static/js/app.js)."""
    config = {
        "type": kind,
        "data": {"labels": labels, "datasets": datasets},
        "options": {"responsive": True, "plugins": {"legend": {"position": "bottom"}}},
    }
    if links is not None:
        config["links"] = links
    if stacked:
        config["options"]["scales"] = {"x": {"stacked": True}, "y": {"stacked": True}}
    return json.dumps(config)


# --- the rep's start page ---------------------------------------------------------------------


@login_required
@roles_required(REP)
@require_GET
@vary_on_headers("HX-Request")
def rep_home(request):
    rep = policy.rep_for_user(request.user)
    period = _period(request)
    if period is None:
        return _no_data(request, _("My portfolio"))
    if rep is None:
        return render(request, "salesforce_tasks/rep_home.html", {"rep": None, "period": period})
    pp = selectors.period_portfolio(period=period)
    customer_ids = list(policy.customer_scope(request.user).values_list("id", flat=True))
    frame = selectors.portfolio_rows(pp=pp, customer_ids=customer_ids)

    show_all = request.GET.get("portfolio") == "all"
    customers = [
        {
            "id": int(r.customer_id),
            "name": r.name,
            "external_id": r.external_id,
            "level": r.level,
            "revenue": _euros(r.revenue_cents),
            "profit": _euros(r.profit_cents),
            "target_revenue": _euros(r.target_revenue_cents)
            if r.target_revenue_cents == r.target_revenue_cents
            else None,
            "target_level": r.target_level if isinstance(r.target_level, str) else "",
            "progress": None
            if r.revenue_progress != r.revenue_progress
            else Decimal(str(round(r.revenue_progress, 4))),
            "progress_bar": min(100, int(round(r.revenue_progress * 100)))
            if r.revenue_progress == r.revenue_progress
            else 0,
            "visits": int(r.visits),
        }
        for r in frame.itertuples(index=False)
    ]
    if request.htmx and request.GET.get("portfolio"):
        return render(
            request,
            "salesforce_tasks/rep_home.html#portfolio",
            {"customers": customers, "show_all": show_all, "period": period, "portfolio_rows": PORTFOLIO_ROWS},
        )

    today = timezone.localdate()
    plan = selectors.visit_plan_rows(frame=frame, today=today)
    due = plan[plan["status"].isin(["overdue", "due_soon"])].head(10)
    plan_rows = [
        {
            "id": int(r.customer_id),
            "name": r.name,
            "level": r.level,
            "status": r.status,
            "next_due": r.next_due,
            "days_overdue": int(r.days_overdue),
            "last_visit": None if r.last_visit != r.last_visit else r.last_visit.date(),
        }
        for r in due.itertuples(index=False)
    ]
    counts = plan["status"].value_counts().to_dict() if len(plan) else {}

    overview = selectors.bonus_overview(period=period, user=request.user, pp=pp, with_drivers=True)
    mine = next((row for row in overview["reps"] if row["rep_id"] == rep.id), None)
    pair_bonus = next((b for b in overview["pairs"] if mine and b.subject_id == mine["pair_id"]), None)
    _hide_other_portfolios(
        [s for s in (pair_bonus, mine["own"] if mine else None) if s is not None], allowed=set(customer_ids)
    )

    previous = pp.previous
    monthly = selectors.monthly_revenue(
        customer_ids=customer_ids, periods=[p for p in (period, previous) if p is not None]
    )
    targets = selectors.monthly_target_cents(period=period, customer_ids=customer_ids)
    labels = selectors.month_labels(period)
    actual = monthly[period.id]
    last_year = monthly[previous.id] if previous else [0] * 12
    months = [
        {
            "label": labels[i],
            "actual": _euros(actual[i]),
            "target": _euros(targets[i]),
            "last_year": _euros(last_year[i]) if previous else None,
        }
        for i in range(12)
    ]
    datasets = [
        {
            "type": "bar",
            "label": _("Actual"),
            "data": [as_float_euros(v) for v in actual],
            "backgroundColor": "#2f7ed8",
        },
        {
            "type": "line",
            "label": _("Target"),
            "data": [as_float_euros(v) for v in targets],
            "borderColor": "#067647",
            "backgroundColor": "#067647",
        },
    ]
    if previous:
        datasets.append(
            {
                "type": "line",
                "label": _("Last year"),
                "data": [as_float_euros(v) for v in last_year],
                "borderColor": "#98a2b3",
                "backgroundColor": "#98a2b3",
                "borderDash": [4, 4],
            }
        )
    visits = list(selectors.visit_list(user=request.user, rep=rep)[:8])
    period_visits = [v for v in visits if v.period_id == period.id]
    context = {
        "rep": rep,
        "period": period,
        "periods": selectors.period_names(),
        "pairs": list(
            policy.pairs_for_user(request.user)
            .filter(id__in=[p for p in pp.pairs["pair_id"]])
            .select_related("outside_rep", "inside_rep", "team")
        ),
        "totals": {
            "customers": len(customers),
            "active": int((frame["revenue_cents"] > 0).sum()),
            "revenue": _euros(int(frame["revenue_cents"].sum())),
            "profit": _euros(int(frame["profit_cents"].sum())),
            "loss_making": int((frame["profit_cents"] < 0).sum()),
            "visits": int(frame["visits"].sum()),
            "minutes": int(frame["visit_minutes"].sum()),
            "target_revenue": _euros(sum(targets)) if any(targets) else None,
            "target_customers": int(frame["target_revenue_cents"].notna().sum()),
            "ytd_target": _euros(sum(targets)),
        },
        "profit_computed": bool(pp.results["profit_computed"].all()) if len(pp.results) else False,
        "customers": customers,
        "show_all": show_all,
        "portfolio_rows": PORTFOLIO_ROWS,
        "plan": plan_rows,
        "plan_counts": {"overdue": counts.get("overdue", 0), "due_soon": counts.get("due_soon", 0)},
        "mine": mine,
        "pair_bonus": pair_bonus,
        "months": months,
        "chart_json": _chart(labels, datasets),
        "visits": visits,
        "period_visit_count": len(period_visits),
        "has_previous": previous is not None,
    }
    return render(request, "salesforce_tasks/rep_home.html", context)


def _hide_other_portfolios(subjects, *, allowed: set[int]) -> None:
    """A KPI may be driven by a customer that has since moved out of the rep's scope: keep its
    contribution, not its name."""
    for subject in subjects:
        for line in subject.lines:
            line.drivers = [
                d
                if d["customer_id"] in allowed
                else {**d, "customer_id": None, "name": _("A customer now in another portfolio")}
                for d in line.drivers
            ]


# --- visits -----------------------------------------------------------------------------------


def _picks(request, selected_id: int | None, query: str = "") -> list:
    picks = selectors.customer_search(user=request.user, query=query) if query else []
    if selected_id:
        chosen = policy.customer_scope(request.user).filter(pk=selected_id).first()
        if chosen is not None:
            picks = [chosen] + [c for c in picks if c.pk != chosen.pk]
    return picks


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


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
    rows = [
        {
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
        for v in (qs if request.GET.get("format") in EXPORT_FORMATS else qs[:5000])
    ]
    export = _export(request, rows=rows, columns=[(k, _(label)) for k, label in VISIT_COLUMNS], filename="visits")
    if export:
        return export
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "mine_only": mine_only,
        "rep": rep,
        "period": period,
        "periods": selectors.period_names(),
        "total_minutes": sum(r["minutes"] for r in rows),
        "count": len(rows),
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


# --- visit effectiveness and norms --------------------------------------------------------------

EFFECTIVENESS_COLUMNS = [
    ("external_id", gettext_lazy("Customer id")),
    ("name", gettext_lazy("Customer")),
    ("level", gettext_lazy("Level")),
    ("visits", gettext_lazy("Visits")),
    ("visit_minutes", gettext_lazy("Minutes")),
    ("revenue", gettext_lazy("Revenue")),
    ("profit", gettext_lazy("Profit")),
    ("revenue_per_hour", gettext_lazy("Revenue per visit hour")),
    ("profit_per_hour", gettext_lazy("Profit per visit hour")),
    ("flag", gettext_lazy("Flag")),
    ("reason", gettext_lazy("Reason")),
]


def _service_reason(r) -> str:
    """Why a customer is flagged, in the page's language with its numbers formatted."""
    from customers.models import Level
    from customers.templatetags.kw import money, number

    level = str(dict(Level.choices).get(r.level, r.level or "–")).lower()
    parts = []
    if r.over_served:
        parts.append(
            _(
                "Over-served: %(minutes)s visit minutes, more than 2× the median of %(median)s of the level "
                "%(level)s, while profit is %(profit)s."
            )
            % {
                "minutes": number(r.visit_minutes),
                "median": number(r.median_minutes),
                "level": level,
                "profit": money(_euros(r.profit_cents)),
            }
        )
    if r.under_served:
        who = _("%(level)s customer") % {"level": level} if r.level in ("top", "big") else _("high-value customer")
        if r.days_since != r.days_since:  # NaN: never visited
            parts.append(_("Under-served: %(who)s never visited.") % {"who": who})
        else:
            parts.append(
                _("Under-served: %(who)s not visited for %(days)s days (limit %(limit)s).")
                % {"who": who, "days": number(r.days_since), "limit": number(r.under_limit_days)}
            )
    return " ".join(parts)


@login_required
@roles_required(*ALL_ROLES)
@require_GET
@vary_on_headers("HX-Request")
def effectiveness(request):
    period = _period(request)
    if period is None:
        return _no_data(request, _("Visit effectiveness"))
    flag = request.GET.get("flag", "flagged")
    if flag not in ("flagged", "over", "under", "all"):
        return HttpResponseBadRequest(_("Unknown filter: use flagged, over, under or all."))
    data = selectors.visit_effectiveness(period=period, user=request.user)
    frame = data["customers"]
    if flag == "over":
        frame = frame[frame["over_served"]]
    elif flag == "under":
        frame = frame[frame["under_served"]]
    elif flag == "flagged":
        frame = frame[frame["over_served"] | frame["under_served"]]
    frame = frame.sort_values(["visit_minutes", "profit_cents"], ascending=[False, True], kind="stable")
    rows = [
        {
            "customer_pk": int(r.customer_id),
            "external_id": r.external_id,
            "name": r.name,
            "level": r.level,
            "visits": int(r.visits),
            "visit_minutes": int(r.visit_minutes),
            "revenue": _euros(r.revenue_cents),
            "profit": _euros(r.profit_cents),
            "revenue_per_hour": None
            if r.revenue_per_hour_cents != r.revenue_per_hour_cents
            else _euros(round(r.revenue_per_hour_cents)),
            "profit_per_hour": None
            if r.profit_per_hour_cents != r.profit_per_hour_cents
            else _euros(round(r.profit_per_hour_cents)),
            "flag": " ".join(
                ([_("over-served")] if r.over_served else []) + ([_("under-served")] if r.under_served else [])
            ),
            "over_served": bool(r.over_served),
            "under_served": bool(r.under_served),
            "reason": _service_reason(r),
        }
        for r in frame.itertuples(index=False)
    ]
    table = request.GET.get("table", "customers")
    if table == "reps":
        export = _export(
            request,
            rows=data["reps"],
            columns=[
                ("rep", _("Rep")),
                ("pair", _("Pair")),
                ("visits", _("Visits")),
                ("visit_minutes", _("Minutes")),
                ("visited_customers", _("Customers visited")),
                ("revenue", _("Credited revenue")),
                ("profit", _("Credited profit")),
                ("revenue_per_hour", _("Revenue per visit hour")),
                ("profit_per_hour", _("Profit per visit hour")),
            ],
            filename=f"visit-effectiveness-reps-{period.name}",
        )
    else:
        export = _export(
            request,
            rows=rows,
            columns=[(k, str(label)) for k, label in EFFECTIVENESS_COLUMNS],
            filename=f"visit-effectiveness-{period.name}",
        )
    if export:
        return export
    all_customers = data["customers"]
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "period": period,
        "periods": selectors.period_names(),
        "flag": flag,
        "page": page,
        "reps": data["reps"],
        "today": data["today"],
        "counts": {
            "customers": len(all_customers),
            "over": int(all_customers["over_served"].sum()) if len(all_customers) else 0,
            "under": int(all_customers["under_served"].sum()) if len(all_customers) else 0,
            "minutes": int(all_customers["visit_minutes"].sum()) if len(all_customers) else 0,
        },
        "is_manager": MANAGER in user_roles(request.user),
    }
    if request.htmx:
        return render(request, "salesforce_tasks/effectiveness.html#customers", context)
    return render(request, "salesforce_tasks/effectiveness.html", context)


@login_required
@roles_required(MANAGER)
@require_http_methods(["GET", "POST"])
def visit_norms(request):
    rows = selectors.visit_norm_rows()
    form = VisitNormsForm(request.POST or None, rows=rows)
    if request.method == "POST" and form.is_valid():
        try:
            services.visit_norms_update(norms=form.norms(), acting_user=request.user)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Visit norms saved."))
            return redirect("salesforce:norms")
    return render(request, "salesforce_tasks/norms.html", {"form": form})


# --- targets ----------------------------------------------------------------------------------

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
    roles = user_roles(request.user)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "period": period,
        "periods": selectors.period_names(),
        "page": page,
        "pending": pending,
        "pending_count": sum(1 for r in rows if r["proposed_by_pair"]) if not pending else len(rows),
        "team_rows": team_rows,
        "is_manager": MANAGER in roles or request.user.is_superuser,
        "can_propose": REP in roles,
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


@login_required
@roles_required(MANAGER)
@require_POST
def target_approve(request, target_id: int):
    target = get_object_or_404(
        CustomerTarget.objects.filter(customer__in=policy.customer_scope(request.user)), pk=target_id
    )
    try:
        services.customer_target_approve(target=target, acting_user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Target for %(customer)s approved.") % {"customer": target.customer.name})
    return redirect(reverse("salesforce:targets") + f"?period={target.period.name}&show=pending")


@login_required
@roles_required(REP, MANAGER)
@require_POST
def target_delete(request, target_id: int):
    target = get_object_or_404(
        CustomerTarget.objects.filter(customer__in=policy.customer_scope(request.user)), pk=target_id
    )
    period_name = target.period.name
    services.customer_target_delete(target=target, acting_user=request.user)
    messages.success(request, _("Target deleted."))
    return redirect(reverse("salesforce:targets") + f"?period={period_name}")


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
    period_name = target.period.name
    services.team_target_delete(target=target, acting_user=request.user)
    messages.success(request, _("Team target deleted."))
    return redirect(reverse("salesforce:targets") + f"?period={period_name}")


# --- bonus ------------------------------------------------------------------------------------


@login_required
@roles_required(MANAGER, FINANCE)
@require_GET
@vary_on_headers("HX-Request")
def bonus_page(request):
    period = _period(request)
    if period is None:
        return _no_data(request, _("Bonus"))
    overview = selectors.bonus_overview(period=period, user=request.user)
    rows = [
        {"rep": r["rep"], "pair": r["pair"], "own": r["own_total"], "from_pair": r["from_pair"], "total": r["total"]}
        for r in overview["reps"]
    ]
    table = request.GET.get("table", "reps")
    if table == "kpis":
        kpi_rows = []
        for subject in overview["pairs"]:
            kpi_rows += [_kpi_row(subject, line) for line in subject.lines]
        for r in overview["reps"]:
            if r["own"]:
                kpi_rows += [_kpi_row(r["own"], line) for line in r["own"].lines]
        export = _export(
            request,
            rows=kpi_rows,
            columns=[
                ("subject", _("Pair or rep")),
                ("metric", _("Metric")),
                ("weight", _("Weight (%)")),
                ("threshold", _("Threshold")),
                ("target", _("Target")),
                ("cap", _("Cap")),
                ("actual", _("Actual")),
                ("attainment", _("Attainment")),
                ("base_amount", _("Base bonus")),
                ("amount", _("Bonus")),
            ],
            filename=f"bonus-kpis-{period.name}",
        )
    else:
        export = _export(
            request,
            rows=rows,
            columns=[
                ("rep", _("Rep")),
                ("pair", _("Pair")),
                ("own", _("Own KPIs")),
                ("from_pair", _("Share of pair bonus")),
                ("total", _("Bonus")),
            ],
            filename=f"bonus-{period.name}",
        )
    if export:
        return export
    managed = policy.managed_teams(request.user)
    context = {
        "period": period,
        "periods": selectors.period_names(),
        "overview": overview,
        "total": sum((r["total"] for r in overview["reps"]), Decimal("0.00")),
        "can_edit": managed.exists(),
        "editable_pairs": set(RepPair.objects.filter(team__in=managed).values_list("id", flat=True)),
    }
    return render(request, "salesforce_tasks/bonus.html", context)


def _kpi_row(subject, line) -> dict:
    return {
        "subject": subject.label,
        "metric": line.label,
        "weight": bonus.weight_percent(line.weight),
        "threshold": line.threshold,
        "target": line.target,
        "cap": line.cap,
        "actual": line.actual,
        "attainment": line.attainment,
        "base_amount": line.base_amount,
        "amount": line.amount,
    }


@login_required
@roles_required(MANAGER)
@require_http_methods(["GET", "POST"])
def kpi_edit(request, kpi_id: int | None = None):
    kpi = None
    if kpi_id is not None:
        kpi = get_object_or_404(_managed_kpis(request.user), pk=kpi_id)
    period = kpi.period if kpi else _period(request)
    if period is None:
        return _no_data(request, _("Bonus"))
    if request.method == "POST":
        form = BonusKpiForm(request.POST, user=request.user)
        if form.is_valid():
            data = dict(form.cleaned_data)
            subject = data.pop("subject")
            try:
                services.bonus_kpi_save(kpi=kpi, acting_user=request.user, period=period, **subject, **data)
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("Bonus KPI saved."))
                return redirect(reverse("salesforce:bonus") + f"?period={period.name}")
    else:
        initial = BonusKpiForm.initial_for(kpi) if kpi else {}
        if not kpi and request.GET.get("subject"):
            initial["subject"] = request.GET["subject"]
        form = BonusKpiForm(initial=initial, user=request.user)
    return render(request, "salesforce_tasks/kpi_form.html", {"form": form, "kpi": kpi, "period": period})


def _managed_kpis(user):
    teams = policy.managed_teams(user)
    return BonusKpi.objects.filter(Q(pair__team__in=teams) | Q(rep__team__in=teams)).select_related("period")


@login_required
@roles_required(MANAGER)
@require_POST
def kpi_delete(request, kpi_id: int):
    kpi = get_object_or_404(_managed_kpis(request.user), pk=kpi_id)
    period_name = kpi.period.name
    services.bonus_kpi_delete(kpi=kpi, acting_user=request.user)
    messages.success(request, _("Bonus KPI deleted."))
    return redirect(reverse("salesforce:bonus") + f"?period={period_name}")


@login_required
@roles_required(MANAGER, FINANCE)
@require_GET
@vary_on_headers("HX-Request")
def bonus_compare(request):
    period = _period(request)
    if period is None:
        return _no_data(request, _("Revenue- or profit-based bonus"))
    if "target_pct" in request.GET:
        form = CompareForm(request.GET)
        params = form.cleaned_data if form.is_valid() else None
    else:
        params = {name: field.initial for name, field in CompareForm.base_fields.items()}
        form = CompareForm(initial=params)
    rows = []
    if params is not None:
        rows = selectors.bonus_compare(
            pp=selectors.period_portfolio(period=period),
            user=request.user,
            base_amount=params["base_amount"],
            threshold_pct=params["threshold_pct"],
            target_pct=params["target_pct"],
            cap=params["cap"],
        )
    export = _export(
        request,
        rows=rows,
        columns=[
            ("pair", _("Pair")),
            ("team", _("Team")),
            ("revenue_last", _("Revenue last year")),
            ("revenue", _("Revenue")),
            ("revenue_attainment", _("Revenue attainment")),
            ("revenue_bonus", _("Revenue-based bonus")),
            ("profit_last", _("Profit last year")),
            ("profit", _("Profit")),
            ("profit_attainment", _("Profit attainment")),
            ("profit_bonus", _("Profit-based bonus")),
            ("difference", _("Difference")),
        ],
        filename=f"bonus-revenue-vs-profit-{period.name}",
    )
    if export:
        return export
    context = {
        "period": period,
        "periods": selectors.period_names(),
        "form": form,
        "rows": rows,
        "totals": {
            "revenue_bonus": sum((r["revenue_bonus"] for r in rows), Decimal("0.00")),
            "profit_bonus": sum((r["profit_bonus"] for r in rows), Decimal("0.00")),
        },
        "chart_json": _chart(
            [r["pair"] for r in rows],
            [
                {
                    "label": _("Revenue-based bonus"),
                    "data": [float(r["revenue_bonus"]) for r in rows],
                    "backgroundColor": "#98a2b3",
                },
                {
                    "label": _("Profit-based bonus"),
                    "data": [float(r["profit_bonus"]) for r in rows],
                    "backgroundColor": "#067647",
                },
            ],
        ),
    }
    if request.htmx:
        return render(request, "salesforce_tasks/compare.html#comparison", context)
    return render(request, "salesforce_tasks/compare.html", context)


@login_required
@roles_required(*ALL_ROLES)
@require_GET
def bonus_estimate(request):
    """Live what-if: the bonus effect of a customer's revenue or profit (nothing is saved)."""
    customer_id = _int_or_none(request.GET.get("customer"))
    if customer_id is None:
        return HttpResponseBadRequest(_("Give ?customer=<id>."))
    customer = _scoped_customer(request, customer_id)
    period = _period(request)
    if period is None:
        raise Http404(_("No periods yet: import orders first."))
    form = EstimateForm(request.GET)
    context = {"customer": customer, "period": period, "form": form, "estimate": None}
    if form.is_valid():
        revenue, profit = form.what_if()
        context["estimate"] = _estimate(request, customer=customer, period=period, revenue=revenue, profit=profit)
    return render(request, "salesforce_tasks/customer.html#estimate", context)


def _estimate(request, *, customer, period, revenue: Decimal | None, profit: Decimal | None) -> dict:
    """Before and after for the pair (and, for a rep, the rep) that owns ``customer`` in ``period``.

    A what-if revenue moves gross margin at the customer's current margin rate and profit by the
    same amount (costs held); a what-if profit sets profit directly.
    """
    pp = selectors.period_portfolio(period=period)
    current = pp.results[pp.results["customer_id"] == customer.pk]
    cur = current.iloc[0] if len(current) else None
    revenue_cents = int(cur["revenue_cents"]) if cur is not None else 0
    margin_cents = int(cur["gross_margin_cents"]) if cur is not None else 0
    profit_cents = int(cur["profit_cents"]) if cur is not None else 0
    override = {}
    if revenue is not None:
        new_revenue = int(revenue * 100)
        rate = (margin_cents / revenue_cents) if revenue_cents else 0.0
        new_margin = int(round(new_revenue * rate))
        override.update(
            revenue_cents=new_revenue,
            gross_margin_cents=new_margin,
            profit_cents=profit_cents + new_margin - margin_cents,
        )
    if profit is not None:
        override["profit_cents"] = int(profit * 100)
    weights = pp.weights[pp.weights["customer_id"] == customer.pk]
    pair_id = int(weights.sort_values("weight_in_period").iloc[-1]["pair_id"]) if len(weights) else customer.pair_id
    kpis = selectors.kpis_of(period=period)
    rep = policy.rep_for_user(request.user)
    subjects = []
    if pair_id is not None:
        pair_kpis = [k for k in kpis if k.pair_id == pair_id]
        if pair_kpis:
            subjects.append(("pair", pair_id, pair_kpis))
    rep_ids = set(pp.credits.loc[pp.credits["customer_id"] == customer.pk, "rep_id"])
    for rep_id in sorted(rep_ids):
        if rep is not None and REP in user_roles(request.user) and rep_id != rep.id:
            continue
        rep_kpis = [k for k in kpis if k.rep_id == rep_id]
        if rep_kpis:
            subjects.append(("rep", rep_id, rep_kpis))
    results = []
    for kind, subject_id, subject_kpis in subjects:
        key = {"pair_id": subject_id} if kind == "pair" else {"rep_id": subject_id}
        before = selectors.subject_bonus(pp, subject_kpis, **key)
        after = selectors.subject_bonus(pp, subject_kpis, overrides={customer.pk: override}, **key)
        results.append(
            {
                "label": before.label,
                "kind": kind,
                "lines": [
                    {
                        "label": b.label,
                        "actual_before": b.actual,
                        "actual_after": a.actual,
                        "attainment_before": b.attainment,
                        "attainment_after": a.attainment,
                        "amount_before": b.amount,
                        "amount_after": a.amount,
                    }
                    for b, a in zip(before.lines, after.lines, strict=True)
                ],
                "total_before": before.total,
                "total_after": after.total,
                "difference": after.total - before.total,
            }
        )
    return {
        "revenue": _euros(override.get("revenue_cents", revenue_cents)),
        "profit": _euros(override.get("profit_cents", profit_cents)),
        "changed": bool(override),
        "subjects": results,
    }


# --- roll-up per rep and pair -------------------------------------------------------------------

ROLLUP_COLUMNS = [
    ("revenue", "Revenue"),
    ("gross_margin", "Gross margin"),
    ("margin_pct", "Margin %"),
    ("allocated", "Cost to serve"),
    ("profit", "Profit"),
    ("customers", "Customers"),
    ("loss_making_customers", "Loss-making customers"),
]


@login_required
@roles_required(MANAGER, FINANCE)
@require_GET
@vary_on_headers("HX-Request")
def reps(request):
    period = _period(request)
    if period is None:
        return _no_data(request, _("Customer profit per rep"))
    data = selectors.rep_results(period=period, user=request.user)
    table = request.GET.get("table", "pairs")
    money = [(k, _(label)) for k, label in ROLLUP_COLUMNS]
    if table == "reps":
        export = _export(
            request,
            rows=data["reps"],
            columns=[("team", _("Team")), ("pair", _("Pair")), ("rep", _("Rep")), ("role", _("Role")), *money],
            filename=f"profit-per-rep-{period.name}",
        )
    elif table == "teams":
        rows = list(data["teams"])
        if data["unassigned"] and data["unassigned"]["customers"]:
            rows.append({"team": _("Not in a portfolio"), **data["unassigned"]})
        if data["company"]:
            rows.append({"team": _("Company"), **data["company"]})
        export = _export(
            request, rows=rows, columns=[("team", _("Team")), *money], filename=f"profit-per-team-{period.name}"
        )
    else:
        export = _export(
            request,
            rows=data["pairs"],
            columns=[
                ("team", _("Team")),
                ("pair", _("Pair")),
                ("outside_rep", _("Outside rep")),
                ("inside_rep", _("Inside rep")),
                ("outside_share", _("Outside rep credit %")),
                *money,
            ],
            filename=f"profit-per-pair-{period.name}",
        )
    if export:
        return export
    chart = _chart(
        [p["pair"] for p in data["pairs"]],
        [
            {"label": _("Revenue"), "data": [float(p["revenue"]) for p in data["pairs"]], "backgroundColor": "#7fb3ea"},
            {"label": _("Profit"), "data": [float(p["profit"]) for p in data["pairs"]], "backgroundColor": "#067647"},
        ],
        links=[f"{reverse('salesforce:pair', args=[p['pair_id']])}?period={period.name}" for p in data["pairs"]],
    )
    context = {"period": period, "periods": selectors.period_names(), "data": data, "chart_json": chart}
    return render(request, "salesforce_tasks/reps.html", context)


@login_required
@roles_required(MANAGER, FINANCE)
@require_GET
@vary_on_headers("HX-Request")
def pair_detail(request, pair_id: int):
    pair = get_object_or_404(
        policy.pairs_for_user(request.user).select_related("team", "outside_rep", "inside_rep"), pk=pair_id
    )
    period = _period(request)
    if period is None:
        return _no_data(request, str(pair))
    pp = selectors.period_portfolio(period=period)
    rows = selectors.pair_customers(pp=pp, pair_id=pair.pk)
    export = _export(
        request,
        rows=rows,
        columns=[
            ("external_id", _("Customer id")),
            ("name", _("Customer")),
            ("level", _("Level")),
            ("weight_in_period", _("Share of period")),
            ("outside_share", _("Outside rep credit %")),
            ("revenue", _("Revenue")),
            ("gross_margin", _("Gross margin")),
            ("allocated", _("Cost to serve")),
            ("profit", _("Profit")),
        ],
        filename=f"pair-{pair.code}-{period.name}",
    )
    if export:
        return export
    data = selectors.rep_results(period=period, user=request.user, pp=pp)
    totals = next((p for p in data["pairs"] if p["pair_id"] == pair.pk), None)
    only = request.GET.get("only")
    shown = [r for r in rows if r["loss_making"]] if only == "loss" else rows
    page = Paginator(shown, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "pair": pair,
        "period": period,
        "periods": selectors.period_names(),
        "page": page,
        "only": only,
        "totals": totals,
        "reps": [r for r in data["reps"] if r["pair_id"] == pair.pk],
        "can_reassign": MANAGER in user_roles(request.user) or request.user.is_superuser,
        "pair_choices": list(policy.pairs_for_user(request.user).order_by("code")),
    }
    if request.htmx:
        return render(request, "salesforce_tasks/pair.html#customers", context)
    return render(request, "salesforce_tasks/pair.html", context)


# --- one customer -------------------------------------------------------------------------------


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
