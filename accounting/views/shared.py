"""What the accounting pages share: the chosen period, the export format, chart JSON, level labels
and the links to the customers app.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _

from config.export import EXPORT_FORMATS
from customers.models import Level, Period
from customers.selectors import period_get


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
