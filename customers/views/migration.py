"""The migration page: how customers moved between levels year on year, and the customers of a cell."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from config.export import table_response
from config.roles import FINANCE, MANAGER, require_role
from customers.policy import customer_scope_ids

from .. import reports, selectors
from ..figures_cache import period_figures, period_figures_get
from ..models import Period
from ..pyramid import ALL_LEVELS, MIGRATION_FROM
from .customer_list import _row_dict
from .levels import PAGE_SIZE, _chosen_period, _export_format, _query, _wants_partial, level_labels


def _migration_matrix(data: dict) -> tuple[list[dict], list[dict]]:
    """Rows (from level) of cells (to level) with heat alpha by share of the row's customers."""
    labels = level_labels()
    cells = {(c["from"], c["to"]): c for c in data["cells"]}
    rows = []
    for src in MIGRATION_FROM:
        row_cells = [cells.get((src, dst), {"customers": 0, "revenue": 0.0}) for dst in ALL_LEVELS]
        total = sum(c["customers"] for c in row_cells)
        rows.append(
            {
                "level": src,
                "label": labels[src],
                "customers": total,
                "revenue": round(sum(c["revenue"] for c in row_cells), 2),
                "cells": [
                    {
                        "from": src,
                        "to": dst,
                        "to_label": labels[dst],
                        "customers": c["customers"],
                        "revenue": c["revenue"],
                        "share": c["customers"] / total if total else 0.0,
                        "alpha": f"{(0.08 + 0.82 * c['customers'] / total) if total and c['customers'] else 0:.2f}",
                        "dark": bool(total and c["customers"] / total > 0.5),
                    }
                    for dst, c in zip(ALL_LEVELS, row_cells, strict=True)
                ],
            }
        )
    columns = [
        {
            "level": dst,
            "label": labels[dst],
            "customers": sum(r["cells"][i]["customers"] for r in rows),
            "revenue": round(sum(r["cells"][i]["revenue"] for r in rows), 2),
        }
        for i, dst in enumerate(ALL_LEVELS)
    ]
    return rows, columns


CELL_COLUMNS = [
    ("external_id", gettext_lazy("Customer id")),
    ("name", gettext_lazy("Name")),
    ("from_level", gettext_lazy("Level before")),
    ("level", gettext_lazy("Level")),
    ("revenue", gettext_lazy("Revenue")),
    ("gross_margin", gettext_lazy("Gross margin")),
    ("profit", gettext_lazy("Profit")),
]
MIGRATION_COLUMNS = [
    ("previous", gettext_lazy("Previous period")),
    ("period", gettext_lazy("Period")),
    ("from", gettext_lazy("From level")),
    ("to", gettext_lazy("To level")),
    ("customers", gettext_lazy("Customers")),
    ("revenue", gettext_lazy("Revenue")),
]


@period_figures("migration_report")
def _migration_report(period):
    return reports.migration_report(period=period.name)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def migration(request):
    require_role(request.user, MANAGER, FINANCE)
    period = _chosen_period(request)
    periods = selectors.period_list()
    context = {"periods": periods[1:], "period": period}
    if period is None:
        return render(request, "customers/migration.html", context)
    try:
        data = period_figures_get("migration_report", period)
    except reports.ReportError as exc:
        context["error"] = str(exc)
        return render(request, "customers/migration.html", context)
    previous = Period.objects.get(name=data["previous"])
    rows, columns = _migration_matrix(data)
    src, dst = request.GET.get("from"), request.GET.get("to")
    cell = None
    if src in MIGRATION_FROM and dst in ALL_LEVELS:
        qs = selectors.migration_cell_customers(
            period=period,
            previous=previous,
            from_level=src,
            to_level=dst,
            scope_ids=customer_scope_ids(request.user),
        )
        cell = {
            "from": src,
            "to": dst,
            "from_label": level_labels()[src],
            "to_label": level_labels()[dst],
            "query": _query(**{"period": period.name, "from": src, "to": dst}),
        }
        fmt = _export_format(request)
        if fmt:
            export_rows = ({**_row_dict(r), "from_level": src} for r in qs.iterator(chunk_size=2000))
            return table_response(
                rows=export_rows,
                columns=CELL_COLUMNS,
                filename=f"migration-{previous.name}-{period.name}-{src}-{dst}",
                fmt=fmt,
            )
        page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
        cell.update(page=page, in_matrix=next(c for c in rows[MIGRATION_FROM.index(src)]["cells"] if c["to"] == dst))
    elif fmt := _export_format(request):
        return table_response(
            rows=[{"period": data["period"], "previous": data["previous"], **c} for c in data["cells"]],
            columns=MIGRATION_COLUMNS,
            filename=f"migration-{previous.name}-{period.name}",
            fmt=fmt,
        )
    context.update(
        data=data,
        previous=previous,
        rows=rows,
        columns=columns,
        grand={"customers": sum(r["customers"] for r in rows), "revenue": round(sum(r["revenue"] for r in rows), 2)},
        cell=cell,
        export_query=_query(period=period.name),
    )
    if _wants_partial(request) == "cell-customers":
        return render(request, "customers/migration.html#cell_list", context)
    return render(request, "customers/migration.html", context)
