"""The one page of a customer: overview with its level history, and the tabs other apps fill."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from config.export import table_response
from config.roles import ALL_ROLES, FINANCE, MANAGER, REP, user_roles
from customers.policy import customer_scope

from .. import selectors
from .levels import _chart, _export_format, _query, level_labels

HISTORY_COLUMNS = [
    ("period", gettext_lazy("Period")),
    ("level", gettext_lazy("Level")),
    ("rank", gettext_lazy("Rank")),
    ("revenue", gettext_lazy("Revenue")),
    ("gross_margin", gettext_lazy("Gross margin")),
    ("orders", gettext_lazy("Orders")),
    ("order_lines", gettext_lazy("Order lines")),
]


def _history_rows(customer) -> list[dict]:
    return [
        {
            "period": h["period__name"],
            "level": h["level"],
            "rank": h["rank"],
            "revenue": h["revenue"],
            "gross_margin": h["gross_margin"],
            "orders": h["orders"],
            "order_lines": h["order_lines"],
        }
        for h in selectors.level_history(customer=customer)
    ]


#: The tabs of the one customer page: key, label, who sees it, and the partial each one loads.
#: Every partial stays in its own app (views there scope the customer again); this page only
#: names them, so the customers app imports nothing from the apps above it.
CUSTOMER_TABS = (
    {"key": "overview", "label": gettext_lazy("Overview"), "roles": ALL_ROLES},
    {
        "key": "profit",
        "label": gettext_lazy("Profit"),
        "roles": (REP, MANAGER, FINANCE),
        "url": "accounting:customer_waterfall",
        "panel": "customer-profit",
        "swap": "innerHTML",
        "trigger": "load, figuresUpdated from:body",
    },
    {
        "key": "sales",
        "label": gettext_lazy("Sales and target"),
        "roles": ALL_ROLES,
        "url": "salesforce:customer",
        "panel": "sales-panel",
        "swap": "innerHTML",
    },
    {
        "key": "visits",
        "label": gettext_lazy("Visits"),
        "roles": ALL_ROLES,
        "url": "salesforce:visits",
        "query": "customer",
        "panel": "visit-table",
        "swap": "innerHTML",
    },
    {
        "key": "actions",
        "label": gettext_lazy("Actions"),
        "roles": (REP, MANAGER),
        "url": "actions:board",
        "query": "customer",
        "panel": "action-list",
        "swap": "outerHTML",
    },
)


def customer_tabs(*, user, customer_id: int) -> list[dict]:
    """The tabs this user may open on a customer's page, with the URL of each tab's partial."""
    roles = user_roles(user)
    tabs = []
    for tab in CUSTOMER_TABS:
        if not roles & set(tab["roles"]):
            continue
        entry = {"trigger": "load", **tab, "label": str(tab["label"])}
        if "url" in tab:
            try:
                if tab.get("query"):
                    entry["partial_url"] = f"{reverse(tab['url'])}?{tab['query']}={customer_id}&"
                else:
                    entry["partial_url"] = f"{reverse(tab['url'], args=[customer_id])}?"
            except NoReverseMatch:  # that app is not installed
                continue
        tabs.append(entry)
    return tabs


def customer_page_url(customer_id: int, *, tab: str = "overview", period: str | None = None) -> str:
    """The one page of a customer, opened on a tab (old customer URLs redirect here)."""
    query = _query(tab=tab if tab != "overview" else None, period=period)
    url = reverse("customers:detail", args=[customer_id])
    return f"{url}?{query}" if query else url


@login_required
@require_GET
def customer_detail(request, pk: int):
    """The one page of a customer: overview here, profit, sales and target, visits and actions
    as tabs whose panels load the partial of the app that owns them."""
    customer = get_object_or_404(customer_scope(request.user).select_related("pair"), pk=pk)
    tabs = customer_tabs(user=request.user, customer_id=customer.pk)
    by_key = {t["key"]: t for t in tabs}
    tab = request.GET.get("tab") or "overview"
    if tab not in by_key:
        raise Http404(_("This customer page has no tab '%(tab)s'.") % {"tab": tab})
    period_name = request.GET.get("period") or ""
    # The period the tabs show: the asked one, else the default one (as the tabs' partials pick it).
    shown_period = selectors.period_get(name=period_name)
    if period_name and shown_period is None:
        raise Http404(_("Unknown period %(name)s.") % {"name": period_name})
    history = _history_rows(customer)
    if fmt := _export_format(request):
        return table_response(
            rows=history, columns=HISTORY_COLUMNS, filename=f"customer-{customer.external_id}", fmt=fmt
        )
    current = history[-1] if history else None
    for t in tabs:
        t["href"] = customer_page_url(customer.pk, tab=t["key"], period=period_name or None)
    active = by_key[tab]
    context = {
        "customer": customer,
        "tabs": tabs,
        "tab": active,
        "panel_url": active.get("partial_url", "") + _query(period=period_name or None),
        "period_name": period_name,
        "shown_period": shown_period,
        "current": current,
        "current_level_label": level_labels().get(current["level"], current["level"]) if current else "",
    }
    if tab == "overview":
        labels = level_labels()
        context["history"] = list(reversed(history))
        context["chart_json"] = _chart(
            "bar",
            [f"{h['period']} · {labels.get(h['level'], h['level'])}" for h in history],
            [
                {
                    "label": _("Revenue"),
                    "data": [float(h["revenue"]) for h in history],
                    "backgroundColor": "#2f7ed8",
                },
                {
                    "label": _("Gross margin"),
                    "data": [float(h["gross_margin"]) for h in history],
                    "backgroundColor": "#067647",
                },
            ],
        )
    return render(request, "customers/detail.html", context)
