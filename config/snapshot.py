"""Read a period's stored frames once per snapshot.

Building a page's figures reads whole-period frames (100,000 stored rows at 100,000 customers), and
the figures of several pages read the same ones: the dashboard, the 80/20, the profit and the
segments all join the stored pyramid with the stored profit. Inside ``snapshot_reads()`` a reader
decorated with ``read_once`` runs once per set of arguments; each later call gets a copy of its
frame (callers may add columns to what they get). Outside it a reader simply runs.

Only for readers whose result depends on their arguments and the database alone, and only inside
one transaction whose snapshot does not move (``customers.figures_cache.period_figures_warm``
reads in one repeatable-read transaction on PostgreSQL), so the memo cannot serve stale rows.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import pandas as pd

T = TypeVar("T")

_reads: contextvars.ContextVar[dict | None] = contextvars.ContextVar("snapshot_reads", default=None)


@contextmanager
def snapshot_reads() -> Iterator[None]:
    """Within this block, each ``read_once`` reader runs once per set of arguments."""
    token = _reads.set({})
    try:
        yield
    finally:
        _reads.reset(token)


def read_once(reader: Callable[..., T]) -> Callable[..., T]:
    """Decorate a frame reader so that inside ``snapshot_reads()`` it reads once per arguments."""

    @functools.wraps(reader)
    def wrapper(*args, **kwargs):
        memo = _reads.get()
        if memo is None:
            return reader(*args, **kwargs)
        key = (reader.__module__, reader.__qualname__, args, tuple(sorted(kwargs.items())))
        if key not in memo:
            memo[key] = reader(*args, **kwargs)
        value = memo[key]
        return value.copy() if isinstance(value, pd.DataFrame) else value

    return wrapper
