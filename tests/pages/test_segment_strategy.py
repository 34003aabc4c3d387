"""Segment strategies are said in the page's language: the texts come from the translation
catalogue, with the pure module's English as their source."""

from __future__ import annotations

from django.utils import translation

from scenarios import reports, valuation
from tests.test_i18n import compiled_catalogues  # noqa: F401  (the fixture)


def test_strategy_texts_are_the_pure_modules_in_english():
    with translation.override("en"):
        assert {k: reports.segment_strategy(k) for k in valuation.SEGMENT_STRATEGY} == valuation.SEGMENT_STRATEGY


def test_strategy_texts_are_dutch_in_dutch(compiled_catalogues):  # noqa: F811
    with translation.override("nl"):
        for segment, english in valuation.SEGMENT_STRATEGY.items():
            dutch = reports.segment_strategy(segment)
            assert dutch and dutch != english, segment
