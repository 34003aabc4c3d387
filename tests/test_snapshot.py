"""``config.snapshot``: inside ``snapshot_reads()`` a ``read_once`` reader runs once per arguments and
hands out copies; outside it runs every time; the period figures built with it equal those built
without it."""

from __future__ import annotations

import pandas as pd
from django.core.cache import cache

from config.snapshot import read_once, snapshot_reads
from customers import figures_cache

calls: list[tuple] = []


@read_once
def _reader(*, period_id: int, fields: tuple = ()) -> pd.DataFrame:
    calls.append((period_id, fields))
    return pd.DataFrame({"customer_id": [1, 2], "period": [period_id, period_id]})


def test_read_once_inside_a_snapshot_and_copies_out():
    calls.clear()
    _reader(period_id=1)
    _reader(period_id=1)
    assert len(calls) == 2  # outside: every call reads
    with snapshot_reads():
        first = _reader(period_id=1)
        first["added"] = 1  # a caller's change does not reach the next caller
        second = _reader(period_id=1)
        _reader(period_id=2)
        _reader(period_id=1, fields=("name",))
    assert "added" not in second.columns
    assert calls[2:] == [(1, ()), (2, ()), (1, ("name",))]
    _reader(period_id=1)
    assert len(calls) == 6  # the memo ends with the block


def test_period_figures_built_in_one_snapshot_equal_those_built_one_by_one(small_dataset, settings):
    period = small_dataset[2025]
    figures_cache.period_figures_warm(period_id=period.pk)
    version = figures_cache.figures_version()
    for name, compute in figures_cache.PERIOD_FIGURES.items():
        warmed = cache.get(figures_cache._cache_key(name, figures_cache._figures_key(name, period.pk), version))
        assert repr(warmed) == repr(compute(period)), name
