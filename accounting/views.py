"""Pages of customer based accounting: cost pools (finance), profit (managers), the customer waterfall.

Every view parses input, checks the role, calls a selector or service and renders a full page
or, for htmx, the partial named in its template (``"accounting/page.html#partial"``).
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from config.export import EXPORT_FORMATS, table_response
from config.money import to_decimal
from config.roles import FINANCE, MANAGER, REP, has_role, require_role
from customers.models import Level, Period
from customers.policy import customer_scope, customer_scope_ids
from customers.selectors import period_get, period_list
from customers.templatetags.kw import money, number

from . import selectors, services
from .forms import CostPoolForm, InterestRateForm, customer_options
from .models import AllocationKey, CostPool

LOSSMAKING_PER_PAGE = 25
LEVEL_COLORS = {
    "top": "#1a4d8f",
    "big": "#2f7ed8",
    "medium": "#7fb3ea",
    "small": "#9fc3ea",
    "inactive": "#98a2b3",
    "prospect": "#d0d5dd",
    "suspect": "#e4e7ec",
}
STEP_LABELS = {
    "revenue": gettext_lazy("Revenue"),
    "cogs": gettext_lazy("Cost of goods sold"),
    "gross_margin": gettext_lazy("Gross margin"),
    "financing": gettext_lazy("Financing cost"),
    "profit": gettext_lazy("Profit"),
}


# --- helpers ----------------------------------------------------------------------------------


def _period(request, *, source=None) -> Period:
    """The period named by ?period= (or the POSTed one); the latest when none is given."""
    name = (source if source is not None else request.GET).get("period")
    period = period_get(name=name)
    if period is None:
        if name:
            raise Http404(_("Unknown period '%(name)s'.") % {"name": name})
        raise Http404(_("There are no periods yet: import orders first."))
    return period


def _export_format(request) -> str | None:
    fmt = request.GET.get("format")
    if fmt in (None, ""):
        return None
    if fmt not in EXPORT_FORMATS:
        raise ValueError(fmt)
    return fmt


def _chart(config: dict) -> str:
    return json.dumps(config, separators=(",", ":"), default=str)


def _level_label(level: str) -> str:
    return str(dict(Level.choices).get(level, level))


def level_customers_url(*, period: str, level: str) -> str:
    """The customer list (customers app) of one pyramid level in a period."""
    return f"{reverse('customers:list')}?{urlencode({'period': period, 'level': level})}"


def customer_url(pk: int, *, period: str | None = None) -> str:
    """The one customer page (customers app), opened on its profit tab."""
    query = urlencode({k: v for k, v in (("tab", "profit"), ("period", period)) if v})
    return f"{reverse('customers:detail', args=[pk])}?{query}"


def _rate_text(rate: float | None) -> str:
    if rate is None:
        return "–"
    return money(rate, 2 if abs(rate) >= 1 else 4)


def why_text(pool: dict, drivers: dict) -> str:
    """One line that says why the customer carries this amount of the pool."""
    key, qty, total, rate = pool["key"], pool["quantity"], pool["driver_total"], pool["rate"]
    if key is None:
        return _("This pool was deleted after the last computation.")
    if key == AllocationKey.DIRECT:
        return _("Booked directly to this customer.")
    if total is None:
        return _("The pool has not been allocated yet.")
    fmt = {
        "qty": number(qty, 0 if float(qty).is_integer() else 2),
        "total": number(total, 0 if float(total).is_integer() else 2),
        "rate": _rate_text(rate),
    }
    if key == AllocationKey.PER_CUSTOMER:
        return _("%(qty)s of %(total)s active customers × %(rate)s per customer") % fmt
    if key == AllocationKey.PER_LEVEL:
        return _("level weight %(qty)s of a total weight of %(total)s × %(rate)s per weight unit") % fmt
    if key == AllocationKey.REVENUE:
        fmt.update(qty=money(qty), total=money(total))
        return _("%(qty)s revenue of %(total)s × %(rate)s per euro of revenue") % fmt
    if key == AllocationKey.TIME_DRIVEN:
        fmt.update(
            a=number(pool["minutes_per_order"], 2),
            b=number(pool["minutes_per_line"], 2),
            orders=number(drivers["orders"]),
            lines=number(drivers["order_lines"]),
            visit=number(drivers["visit_minutes"]),
            capacity=number(pool["capacity_minutes"]),
        )
        return (
            _(
                "%(qty)s min (%(a)s × %(orders)s orders + %(b)s × %(lines)s lines + %(visit)s visit minutes) "
                "× %(rate)s per minute; all customers demand %(total)s of a capacity of %(capacity)s min"
            )
            % fmt
        )
    many = qty != 1
    units = {
        AllocationKey.ORDERS: (_("order"), _("orders")),
        AllocationKey.ORDER_LINES: (_("order line"), _("order lines")),
        AllocationKey.VISITS: (_("visit"), _("visits")),
        AllocationKey.VISIT_MINUTES: (_("minute"), _("visit and call minutes")),
    }
    one, several = units.get(key, (key, key))
    fmt.update(units=several if many else one, unit=one)
    return _("%(qty)s %(units)s of %(total)s × %(rate)s per %(unit)s") % fmt


def _pool_parameters(pool: CostPool) -> str:
    if pool.key == AllocationKey.PER_LEVEL:
        return _("weights top %(top)s · big %(big)s · medium %(medium)s · small %(small)s") % {
            "top": number(pool.weight_top, 2),
            "big": number(pool.weight_big, 2),
            "medium": number(pool.weight_medium, 2),
            "small": number(pool.weight_small, 2),
        }
    if pool.key == AllocationKey.TIME_DRIVEN:
        return _("capacity %(capacity)s min · %(a)s min/order · %(b)s min/line") % {
            "capacity": number(pool.capacity_minutes),
            "a": number(pool.minutes_per_order, 2),
            "b": number(pool.minutes_per_line, 2),
        }
    if pool.key == AllocationKey.DIRECT:
        return "→ " + (str(pool.customer) if pool.customer_id else "?")
    return ""


# --- cost pools -------------------------------------------------------------------------------


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
    """Every change of a pool: who, when, old → new; finance can go back to any version."""
    require_role(request.user, FINANCE, MANAGER)
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


# --- profit -----------------------------------------------------------------------------------

LEVEL_EXPORT_COLUMNS = [
    ("level", gettext_lazy("Level")),
    ("customers", gettext_lazy("Customers")),
    ("revenue", gettext_lazy("Revenue")),
    ("gross_margin", gettext_lazy("Gross margin")),
    ("allocated", gettext_lazy("Allocated cost")),
    ("financing", gettext_lazy("Financing cost")),
    ("profit", gettext_lazy("Profit")),
    ("avg_profit", gettext_lazy("Average profit per customer")),
]
CUSTOMER_EXPORT_COLUMNS = [
    ("customer_id", gettext_lazy("Customer id")),
    ("name", gettext_lazy("Name")),
    ("level", gettext_lazy("Level")),
    ("revenue", gettext_lazy("Revenue")),
    ("gross_margin", gettext_lazy("Gross margin")),
    ("allocated", gettext_lazy("Allocated cost")),
    ("financing", gettext_lazy("Financing cost")),
    ("profit", gettext_lazy("Profit")),
]


def _level_rows(overview: dict) -> list[dict]:
    """The level table as the page shows it and the export writes it (euros)."""
    rows = []
    for r in [*overview["levels"], {**overview["total"], "level": "total", "avg_profit_cents": None}]:
        rows.append(
            {
                "level": _("Total") if r["level"] == "total" else _level_label(r["level"]),
                "level_code": r["level"],
                "customers": r["customers"],
                "revenue": to_decimal(r["revenue_cents"]),
                "gross_margin": to_decimal(r["gross_margin_cents"]),
                "allocated": to_decimal(r["allocated_cents"]),
                "financing": to_decimal(r["financing_cents"]),
                "profit": to_decimal(r["profit_cents"]),
                "avg_profit": to_decimal(r["avg_profit_cents"]),
            }
        )
    total = overview["total"]
    if total["allocated_cents"] is not None and total["financing_cents"] is not None:
        rows[-1]["cost_to_serve"] = to_decimal(total["allocated_cents"] + total["financing_cents"])
    return rows


def _levels_chart(levels: list[dict], *, period: str) -> str:
    """Margin, cost to serve and profit per level; a bar opens the customers of its level."""
    shown = [r for r in levels if r["level_code"] in ("top", "big", "medium", "small", "inactive")]
    shown = [r for r in shown if r["level_code"] != "inactive" or r["profit"]]

    def euros(value) -> float | None:
        return None if value is None else float(value)

    costs = [None if r["allocated"] is None else euros(r["allocated"] + (r["financing"] or 0)) for r in shown]
    return _chart(
        {
            "type": "bar",
            "data": {
                "labels": [r["level"] for r in shown],
                "datasets": [
                    {
                        "label": _("Gross margin"),
                        "data": [euros(r["gross_margin"]) for r in shown],
                        "backgroundColor": "#7fb3ea",
                    },
                    {"label": _("Cost to serve"), "data": costs, "backgroundColor": "#f97066"},
                    {"label": _("Profit"), "data": [euros(r["profit"]) for r in shown], "backgroundColor": "#1a4d8f"},
                ],
            },
            "options": {
                "plugins": {"legend": {"position": "bottom"}},
                "scales": {"y": {"title": {"display": True, "text": "€"}}},
            },
            "links": [level_customers_url(period=period, level=r["level_code"]) for r in shown],
        }
    )


def _whale_chart(curve) -> str:
    points = [
        {"x": round(x * 100, 2), "y": round(y * 100, 2)}
        for x, y in zip(curve["customer_share"], curve["profit_share"], strict=True)
    ]
    return _chart(
        {
            "type": "line",
            "data": {
                "datasets": [
                    {
                        "label": _("Cumulative share of profit (%)"),
                        "data": points,
                        "borderColor": "#1a4d8f",
                        "pointRadius": 0,
                        "borderWidth": 2,
                    },
                    {
                        "label": _("Total profit (100 %)"),
                        "data": [{"x": 0, "y": 100}, {"x": 100, "y": 100}],
                        "borderColor": "#98a2b3",
                        "borderDash": [6, 4],
                        "pointRadius": 0,
                        "borderWidth": 1,
                    },
                ]
            },
            "options": {
                "plugins": {"legend": {"position": "bottom"}},
                "scales": {
                    "x": {
                        "type": "linear",
                        "min": 0,
                        "max": 100,
                        "title": {"display": True, "text": _("Customers, most profitable first (%)")},
                    },
                    "y": {"title": {"display": True, "text": _("Cumulative profit (% of total)")}},
                },
            },
        }
    )


def _whale_table(curve) -> list[dict]:
    """The curve at every 10 % of customers (the numbers behind the chart)."""
    rows = []
    xs, ys = list(curve["customer_share"]), list(curve["profit_share"])
    for decile in range(1, 11):
        target = decile / 10
        i = min(range(len(xs)), key=lambda j: abs(xs[j] - target))
        rows.append({"customers": xs[i], "profit": ys[i]})
    return rows


def _lossmaking_context(request, period: Period) -> dict:
    qs = selectors.lossmaking_customers(period=period, scope_ids=customer_scope_ids(request.user))
    page = Paginator(qs, LOSSMAKING_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    for row in page.object_list:
        row.url = customer_url(row.customer_id, period=period.name)
    return {"period": period, "page": page}


@login_required
@require_GET
@vary_on_headers("HX-Request")
def profit(request):
    """Profit per pyramid level, the whale curve and the loss-making customers of a period."""
    require_role(request.user, MANAGER, FINANCE)
    period = _period(request)
    try:
        fmt = _export_format(request)
    except ValueError:
        return HttpResponseBadRequest(_("Unknown format: use csv or xlsx."))
    table = request.GET.get("table", "customers")
    if fmt and table == "customers":
        data = selectors.customer_profit_table(period=period, scope_ids=customer_scope_ids(request.user))
        columns = CUSTOMER_EXPORT_COLUMNS + [(f"pool_{p['id']}", p["name"]) for p in data["pools"]]
        rows = [{**r, "level": _level_label(r["level"])} for r in data["rows"]]
        return table_response(rows=rows, columns=columns, filename=f"customer-profit-{period.name}", fmt=fmt)
    overview = selectors.profit_overview(period=period)
    levels = _level_rows(overview)
    if fmt and table == "levels":
        return table_response(
            rows=levels, columns=LEVEL_EXPORT_COLUMNS, filename=f"profit-by-level-{period.name}", fmt=fmt
        )
    if fmt:
        return HttpResponseBadRequest(_("Unknown table: use customers or levels."))
    curve = overview["whale"]
    has_curve = curve is not None and len(curve) > 0
    context = {
        "period": period,
        "periods": period_list(),
        "overview": overview,
        "levels": levels[:-1],
        "total": levels[-1],
        "c": overview["concentration"],
        "levels_chart": _levels_chart(levels[:-1], period=period.name),
        "whale_chart": _whale_chart(curve) if has_curve else None,
        "whale_table": _whale_table(curve) if has_curve else [],
        **_lossmaking_context(request, period),
    }
    template = "accounting/profit.html#figures" if request.htmx else "accounting/profit.html"
    return render(request, template, context)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def profit_lossmaking(request):
    """The loss-making customers of a period (those you may see), the largest loss first."""
    require_role(request.user, MANAGER, FINANCE)
    period = _period(request)
    context = {"periods": period_list(), **_lossmaking_context(request, period)}
    template = "accounting/profit.html#lossmaking" if request.htmx else "accounting/lossmaking.html"
    return render(request, template, context)


# --- one customer -----------------------------------------------------------------------------


def _waterfall_chart(steps: list[dict]) -> str:
    colors = []
    for s in steps:
        if s["kind"] == "total":
            colors.append("#1a4d8f" if s["amount_cents"] >= 0 else "#b42318")
        else:
            colors.append("#f97066" if s["amount_cents"] < 0 else "#32d583")
    return _chart(
        {
            "type": "bar",
            "data": {
                "labels": [s["title"] for s in steps],
                "datasets": [
                    {
                        "label": "€",
                        "data": [[s["start_cents"] / 100, s["end_cents"] / 100] for s in steps],
                        "backgroundColor": colors,
                        "borderSkipped": False,
                    }
                ],
            },
            "options": {
                "plugins": {"legend": {"display": False}},
                "scales": {"y": {"title": {"display": True, "text": "€"}}},
            },
        }
    )


CAUSES = [
    ("own_margin_cents", gettext_lazy("Own revenue and margin")),
    ("own_drivers_cents", gettext_lazy("Own drivers (orders, lines, visits, level)")),
    ("pools_cents", gettext_lazy("Pool amounts and keys")),
    ("other_customers_cents", gettext_lazy("Other customers' drivers")),
    ("financing_cents", gettext_lazy("Financing cost of late payment")),
]
CHANGE_REASONS = {
    "first_period": gettext_lazy("This is the first period: there is no previous period to compare with."),
    "not_computed": gettext_lazy("Profit has not been computed for both periods yet."),
    "one_computation": gettext_lazy(
        "Profit of this period has been computed once so far: nothing to compare with yet. "
        "Compare with the previous period instead."
    ),
    "not_in_pyramid": gettext_lazy("The customer is in neither computation."),
}


def _change_context(change: dict) -> dict:
    if not change["available"]:
        return {**change, "message": CHANGE_REASONS[change["reason"]]}
    rows = [{"label": label, "cents": change[key]} for key, label in CAUSES]
    return {**change, "rows": rows}


@login_required
@require_GET
@vary_on_headers("HX-Request")
def customer_waterfall(request, pk: int):
    """One customer's P&L from revenue to profit, pool by pool with the drivers used, and why it changed."""
    require_role(request.user, REP, MANAGER, FINANCE)
    customer = get_object_or_404(customer_scope(request.user), pk=pk)
    period = _period(request)
    asked = request.GET.get("compare")
    compare = asked or "snapshots"
    if compare not in ("snapshots", "previous_period"):
        return HttpResponseBadRequest(_("Unknown comparison: use snapshots or previous_period."))
    if not request.htmx:
        # The waterfall is the profit tab of the one customer page; old links and bookmarks land there.
        return redirect(customer_url(customer.pk, period=request.GET.get("period")))
    data = selectors.customer_waterfall(customer=customer, period=period)
    for pool in data["pools"]:
        pool["why"] = why_text(pool, data["drivers"])
        pool["key_label"] = dict(AllocationKey.choices).get(pool["key"], "–")
    for pool, step in zip(data["pools"], data["steps"][3:-2], strict=True):
        pool["running_cents"] = step["end_cents"]
        pool["signed_cents"] = -pool["amount_cents"]
    for step in data["steps"]:
        step["title"] = str(STEP_LABELS.get(step["label"], step["label"])) if step["kind"] != "pool" else step["label"]
    change = selectors.profit_change(customer=customer, period=period, compare=compare)
    if not asked and change.get("reason") == "one_computation":
        # Nothing to compare within the period yet: the previous period says more than nothing.
        fallback = selectors.profit_change(customer=customer, period=period, compare="previous_period")
        if fallback["available"]:
            compare, change = "previous_period", {**fallback, "fell_back": True}
    change = _change_context(change)
    context = {
        "w": data,
        "customer": customer,
        "period": period,
        "periods": period_list(),
        "chart": _waterfall_chart(data["steps"]),
        "change": change,
        "compare": compare,
        "level_label": _level_label(data["level"]) if data["level"] else "–",
        "financing_signed": -data["financing"],
    }
    template = "accounting/waterfall.html#waterfall" if request.htmx else "accounting/waterfall.html"
    return render(request, template, context)
