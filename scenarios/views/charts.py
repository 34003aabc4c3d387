"""Colours, limits and the small chart and page helpers the scenarios pages share."""

from __future__ import annotations

from config import pages
from customers import pages as core_pages

from ..models import Segment

PAGE_SIZE = 50
MAX_SCATTER_POINTS = 1500
MAX_COMPARED = 6
SEGMENT_COLOURS = {
    "partners": "#067647",
    "vulnerable": "#b54708",
    "under_earning": "#0b5cad",
    "low_low": "#98a2b3",
    "unmeasured": "#c2c8d2",
}
#: The 2 x 2 cards in the order they sit under the chart (y = product value up, x = customer value right).
QUADRANT_ORDER = ("under_earning", "partners", "low_low", "vulnerable")
LEVEL_COLOURS = {"top": "#1a4d8f", "big": "#2f7ed8", "medium": "#7fb3ea", "small": "#a9c9ee", "inactive": "#d0d5dd"}
BUILT_IN_COLOURS = {"Do nothing": "#98a2b3", "Conservative": "#0b5cad", "Ambitious": "#067647"}
SCENARIO_COLOURS = ("#b54708", "#7a5af8", "#c11574", "#0e9384", "#344054")
MONEY_KEYS = ("revenue", "gross_margin", "cost_to_serve", "profit", "npv")


# --- small shared helpers -----------------------------------------------------------------------


_chosen_period = core_pages.chosen_period
_export_format = pages.export_format
_wants_partial = pages.wants_partial
_query = pages.query_string
_chart = pages.chart


def _axis(title: str, **extra) -> dict:
    return {"title": {"display": True, "text": title}, **extra}


def _segment_labels() -> dict[str, str]:
    return {k: str(v) for k, v in Segment.choices}
