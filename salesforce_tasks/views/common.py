"""What every page of the sales-force workflow shares: the role check (``roles_required``, readable by
the permission test through the ``required_roles`` attribute), the period asked for, exports, charts.
"""

from __future__ import annotations

import json
from decimal import Decimal
from functools import wraps
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _

from config.export import EXPORT_FORMATS, table_response
from config.roles import FINANCE, MANAGER, REP, require_role
from customers import policy

from .. import selectors

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


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
