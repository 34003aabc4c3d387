"""One customer's profit waterfall: from revenue to profit, pool by pool, and why it changed."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from config.roles import FINANCE, MANAGER, REP, require_role
from customers.policy import customer_scope
from customers.selectors import period_list

from .. import selectors
from ..models import AllocationKey
from .shared import _chart, _level_label, _period, customer_url
from .why import why_text

STEP_LABELS = {
    "revenue": gettext_lazy("Revenue"),
    "cogs": gettext_lazy("Cost of goods sold"),
    "gross_margin": gettext_lazy("Gross margin"),
    "financing": gettext_lazy("Financing cost"),
    "profit": gettext_lazy("Profit"),
}


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
