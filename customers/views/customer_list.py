"""The customer list: one period's customers, filtered by level and name, sorted, paged, exported."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from config.export import table_response
from customers.policy import customer_scope_ids

from .. import selectors
from ..models import Level
from .levels import LIST_SORTS, PAGE_SIZE, _chosen_period, _export_format, _query, _wants_partial


def _row_dict(row) -> dict:
    """One stored customer row of a period as the list pages and their exports show it."""
    return {
        "id": row.customer_id,
        "external_id": row.customer.external_id,
        "name": row.customer.name,
        "status": row.customer.status,
        "level": row.level,
        "rank": row.rank,
        "revenue": row.revenue,
        "gross_margin": row.gross_margin,
        "allocated_cost": row.allocated_cost,
        "profit": row.profit,
    }


#: The export's fields of a ``customer_period_list`` row, read as values (no model instances).
_EXPORT_FIELDS = {
    "external_id": "customer__external_id",
    "name": "customer__name",
    "status": "customer__status",
    "level": "level",
    "rank": "rank",
    "revenue": "revenue",
    "gross_margin": "gross_margin",
    "allocated_cost": "allocated_cost",
    "profit": "profit",
}


def _export_rows(qs):
    """The rows of ``_row_dict`` for an export, read lazily in chunks while the download streams."""
    keys, fields = list(_EXPORT_FIELDS), list(_EXPORT_FIELDS.values())
    for values in qs.values_list(*fields).iterator(chunk_size=5000):
        yield dict(zip(keys, values, strict=True))


LIST_COLUMNS = [
    ("external_id", gettext_lazy("Customer id")),
    ("name", gettext_lazy("Name")),
    ("status", gettext_lazy("Status")),
    ("level", gettext_lazy("Level")),
    ("rank", gettext_lazy("Rank")),
    ("revenue", gettext_lazy("Revenue")),
    ("gross_margin", gettext_lazy("Gross margin")),
    ("allocated_cost", gettext_lazy("Allocated cost")),
    ("profit", gettext_lazy("Profit")),
]


def _list_params(request) -> dict:
    level = request.GET.get("level", "")
    sort = request.GET.get("sort", "level")
    return {
        "level": level if level in Level.values else "",
        "q": request.GET.get("q", "").strip()[:100],
        "sort": sort if sort.lstrip("-") in LIST_SORTS else "level",
    }


@login_required
@require_GET
@vary_on_headers("HX-Request")
def customer_list(request):
    period = _chosen_period(request)
    params = _list_params(request)
    context = {"periods": selectors.period_list(), "period": period, "params": params, "levels": Level.choices}
    if period is not None:
        qs = selectors.customer_period_list(
            period=period,
            scope_ids=customer_scope_ids(request.user),
            level=params["level"] or None,
            search=params["q"] or None,
            ordering=params["sort"],
        )
        if fmt := _export_format(request):
            return table_response(
                rows=_export_rows(qs),
                columns=LIST_COLUMNS,
                filename=f"customers-{period.name}",
                fmt=fmt,
            )
        page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
        query = {"period": period.name, "level": params["level"], "q": params["q"]}
        context.update(
            page=page,
            sort_links=_sort_links(query, params["sort"]),
            page_query=_query(**query, sort=params["sort"]),
        )
    if _wants_partial(request) is not None:
        return render(request, "customers/list.html#table", context)
    return render(request, "customers/list.html", context)


def _sort_links(query: dict, current: str) -> dict[str, dict]:
    """Per column: the query string that sorts by it (toggling direction) and the arrow to show."""
    links = {}
    for key in LIST_SORTS:
        active = current.lstrip("-") == key
        descending = current.startswith("-")
        default_desc = key in ("revenue", "gross_margin", "profit")
        if active:
            target = key if descending else f"-{key}"
        else:
            target = f"-{key}" if default_desc else key
        links[key] = {
            "query": urlencode({**query, "sort": target}),
            "arrow": ("↓" if descending else "↑") if active else "",
            "aria": ("descending" if descending else "ascending") if active else "none",
        }
    return links
