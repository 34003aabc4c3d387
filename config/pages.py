"""Small helpers every page view shares: export format, htmx target, query strings, charts.

The chosen period reads the core: ``customers.pages.chosen_period``.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from config.export import EXPORT_FORMATS


def export_format(request) -> str | None:
    fmt = request.GET.get("format")
    return fmt if fmt in EXPORT_FORMATS else None


def wants_partial(request) -> str | None:
    """The id of the section htmx asks for (None: render the whole page, also on history restore)."""
    htmx = getattr(request, "htmx", None)
    if not htmx or htmx.history_restore_request:
        return None
    return htmx.target or ""


def query_string(**params) -> str:
    """A query string of the non-empty parameters (for export and pagination links)."""
    return urlencode({k: v for k, v in params.items() if v not in (None, "")}, doseq=True)


def chart(
    kind: str, labels: list, datasets: list[dict], options: dict | None = None, links: list[str] | None = None
) -> str:
    """A Chart.js config as JSON for ``<canvas data-chart='...'>``; ``links`` (one URL per label)
    makes a click on a bar open that URL (static/js/app.js)."""
    config = {"type": kind, "data": {"labels": labels, "datasets": datasets}, "options": options or {}}
    if links is not None:
        config["links"] = links
    return json.dumps(config)


def undo_message(request, *, text: str, url: str) -> None:
    """A success message ("Target deleted.") with an Undo button that POSTs to ``url`` (the restore
    view, which checks the user again). The message is HTML rendered here, so it stays safe."""
    from django.contrib import messages
    from django.template.loader import render_to_string

    messages.success(request, render_to_string("partials/undo.html", {"text": text, "url": url}, request=request))
