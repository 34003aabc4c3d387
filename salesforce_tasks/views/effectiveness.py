"""Visit effectiveness per customer and the visit norms per level."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from config.roles import MANAGER, user_roles
from customers.figures_cache import figures_cached

from .. import selectors, services
from ..forms import (
    VisitNormsForm,
)
from .common import (
    ALL_ROLES,
    PAGE_SIZE,
    _euros,
    _export,
    _form_errors,
    _no_data,
    _period,
    roles_required,
)

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


#: What a customer row of the page is made of (``_effectiveness_row``).
_ROW_FIELDS = (
    "customer_id",
    "external_id",
    "name",
    "level",
    "visits",
    "visit_minutes",
    "revenue_cents",
    "profit_cents",
    "revenue_per_hour_cents",
    "profit_per_hour_cents",
    "over_served",
    "under_served",
    "median_minutes",
    "days_since",
    "under_limit_days",
)


def _effectiveness_row(r) -> dict:
    return {
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


def _effectiveness_figures(*, period, user, flag: str) -> dict:
    """The customers of ``flag`` (most visit minutes first; the fields of ``_ROW_FIELDS``), reps,
    counts and the reference day: what the page shows, cached (``figures_cached``); the rows
    themselves are written for the page shown (or the export) only."""
    data = selectors.visit_effectiveness(period=period, user=user)
    frame = data["customers"]
    if flag == "over":
        frame = frame[frame["over_served"]]
    elif flag == "under":
        frame = frame[frame["under_served"]]
    elif flag == "flagged":
        frame = frame[frame["over_served"] | frame["under_served"]]
    frame = frame.sort_values(["visit_minutes", "profit_cents"], ascending=[False, True], kind="stable")
    all_customers = data["customers"]
    return {
        "customers": frame[list(_ROW_FIELDS)].reset_index(drop=True),
        "reps": data["reps"],
        "today": data["today"],
        "counts": {
            "customers": len(all_customers),
            "over": int(all_customers["over_served"].sum()) if len(all_customers) else 0,
            "under": int(all_customers["under_served"].sum()) if len(all_customers) else 0,
            "minutes": int(all_customers["visit_minutes"].sum()) if len(all_customers) else 0,
        },
    }


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
    data = figures_cached(
        "visit_effectiveness",
        lambda: _effectiveness_figures(period=period, user=request.user, flag=flag),
        key=(period.id, request.user.pk, tuple(sorted(user_roles(request.user))), flag, timezone.localdate()),
    )
    customers = data["customers"]
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
            rows=(_effectiveness_row(r) for r in customers.itertuples(index=False)),
            columns=[(k, str(label)) for k, label in EFFECTIVENESS_COLUMNS],
            filename=f"visit-effectiveness-{period.name}",
        )
    if export:
        return export
    page = Paginator(range(len(customers)), PAGE_SIZE).get_page(request.GET.get("page"))
    shown = customers.iloc[page.start_index() - 1 : page.end_index()] if len(customers) else customers
    page.object_list = [_effectiveness_row(r) for r in shown.itertuples(index=False)]
    context = {
        "period": period,
        "periods": selectors.period_names(),
        "flag": flag,
        "page": page,
        "reps": data["reps"],
        "today": data["today"],
        "counts": data["counts"],
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
