"""A page's figures, cached until the stored figures they are read from change (issue 17).

The aggregate pages (dashboard, pyramid, retention, migration, 80/20, profit, segments) read every
customer's stored row of a period (``CustomerPeriod``, ``CustomerProfit``, ``CustomerValue``) and
reduce it to a few dozen numbers. Those rows change only when a stage recomputes, and every
recompute sets its ``Computation`` row's ``computed`` and ``computed_at`` (``config.eventbus``);
the customers (names, owners) and the organisation (teams, reps, pairs, portfolio assignments: who
is credited with a customer) change through their history. So the reduced figures are cached under
a version made of every ``Computation`` row (period, stage, requested, computed, computed_at) and
the latest history id of each of those tables: two small queries per page, and the figures are
recomputed only after something they depend on changed. ``computed_at`` makes the version unique per
recompute, so a new database (a test, another tenant on the same cache) never meets old figures.

Only figures that depend on nothing else belong here: a caller passes in ``key`` whatever else
the result depends on (the period, the user's scope, a filter). The language is part of the key
(labels are translated when the figures are built).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache
from django.db import connection
from django.utils import translation

from .models import Computation, Customer, PortfolioAssignment, RepPair, SalesRep, Team

T = TypeVar("T")
#: Seconds a cached figure lives at most (a version that stopped changing is dropped by then).
TIMEOUT = 3600
#: The tables whose history the version follows (one id per table: its latest change).
HISTORY_OF = (Customer, Team, SalesRep, RepPair, PortfolioAssignment)


def figures_version() -> str:
    """What the stored figures are now: changes with every stage request, recompute and customer change."""
    stages = list(
        Computation.objects.order_by("period_id", "stage").values_list(
            "period_id", "stage", "requested", "computed", "computed_at"
        )
    )
    latest = ", ".join(
        f"(SELECT MAX(history_id) FROM {connection.ops.quote_name(model.history.model._meta.db_table)})"
        for model in HISTORY_OF
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {latest}")
        histories = cursor.fetchone()
    return hashlib.blake2b(repr((stages, histories)).encode(), digest_size=16).hexdigest()


def _cache_key(name: str, key: tuple) -> str:
    raw = repr((name, key, translation.get_language(), figures_version()))
    return "figures:" + name + ":" + hashlib.blake2b(raw.encode(), digest_size=16).hexdigest()


def figures_cached(name: str, compute: Callable[[], T], *, key: tuple = ()) -> T:
    """``compute()``, or what it returned before for the same ``name``, ``key``, language and version."""
    cache_key = _cache_key(name, key)
    value = cache.get(cache_key)
    if value is None:
        value = compute()
        cache.set(cache_key, value, timeout=TIMEOUT)
    return value


_memo: OrderedDict[str, object] = OrderedDict()
_memo_lock = threading.Lock()
#: Large figures this process keeps (the newest ones).
MEMO_SIZE = 4


def figures_memo(name: str, compute: Callable[[], T], *, key: tuple = ()) -> T:
    """As ``figures_cached``, but kept in this process, unpickled: for frames of a whole period
    (100,000 rows with texts take longer to unpickle than to compute a page from). The caller
    must not change what it gets (filter and merge into new frames, never assign into it)."""
    cache_key = _cache_key(name, key)
    with _memo_lock:
        if cache_key in _memo:
            _memo.move_to_end(cache_key)
            return _memo[cache_key]
    value = compute()
    with _memo_lock:
        _memo[cache_key] = value
        while len(_memo) > MEMO_SIZE:
            _memo.popitem(last=False)
    return value


def memo_clear() -> None:
    """Forget what ``figures_memo`` keeps (tests: a new database may repeat an old version)."""
    with _memo_lock:
        _memo.clear()
