"""Level labels and colours, and the small helpers every page of the customers app shares."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from config import pages

from .. import pages as core_pages
from ..models import Level
from ..pyramid import LEVELS_ACTIVE

PAGE_SIZE = 50
LEVEL_COLOURS = {
    "top": "#1a4d8f",
    "big": "#2f7ed8",
    "medium": "#7fb3ea",
    "small": "#a9c9ee",
    "inactive": "#98a2b3",
    "prospect": "#c2c8d2",
    "suspect": "#dde1e7",
}
#: Sort keys of the customer list page (a leading "-" sorts descending).
LIST_SORTS = ("name", "external_id", "level", "revenue", "gross_margin", "profit")


def level_labels() -> dict[str, str]:
    return {**{k: str(v) for k, v in Level.choices}, "new": _("New")}


# --- small shared helpers -----------------------------------------------------------------------


_chosen_period = core_pages.chosen_period
_export_format = pages.export_format
_wants_partial = pages.wants_partial
_query = pages.query_string
_chart = pages.chart


def _pct_axis(title: str) -> dict:
    return {"beginAtZero": True, "title": {"display": True, "text": title}}


def level_customers_url(*, period: str, level: str) -> str:
    """The customer list of one pyramid level in a period (where a level or a bar leads)."""
    return f"{reverse('customers:list')}?{_query(period=period, level=level)}"


def _tiers(levels: list[dict]) -> list[dict]:
    """The pyramid drawn top to bottom: active levels as growing tiers, then the base levels."""
    labels = level_labels()
    return [
        {
            **row,
            "label": labels[row["level"]],
            "css": row["level"] if row["level"] in LEVELS_ACTIVE else f"other {row['level']}",
        }
        for row in levels
    ]
