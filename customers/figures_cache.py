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

``requested`` is not part of the version: an order that only asks for a recompute changes no
stored figure yet, so the pages keep their cached figures until a stage has stored new ones.

**Period figures written at stage time.** A page's figures that depend on the period alone (not
on who asks) are registered with ``period_figures`` and read with ``period_figures_get``. When the
last stage of the chain (value) has stored a period, its task calls ``period_figures_warm``: every
registered figure of that period is computed once per language under the new version, so the
first view after a recompute reads a handful of cached values instead of 100,000 stored rows.
While a stage of the period is still dirty (a recompute is requested or running), a page whose
current figures are not built yet shows the last figures built for that period, and the page's
recompute banner says they are being brought up to date, instead of recomputing on the request.
"""

from __future__ import annotations

import contextvars
import hashlib
import logging
import pickle
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import translation

from config.snapshot import snapshot_reads

from .models import Computation, Customer, Period, PortfolioAssignment, RepPair, SalesRep, Team

T = TypeVar("T")
logger = logging.getLogger(__name__)
#: Seconds a cached figure lives at most (a version that stopped changing is dropped by then).
TIMEOUT = 3600
#: The tables whose history the version follows (one id per table: its latest change).
HISTORY_OF = (Customer, Team, SalesRep, RepPair, PortfolioAssignment)


def figures_version() -> str:
    """What the stored figures are now: changes with every stage recompute and customer change."""
    return _version_state()[0]


#: Within one read-only request the version is read once (``FiguresVersionPerRequest``).
_request_state: contextvars.ContextVar[list | None] = contextvars.ContextVar("figures_request_state", default=None)


class FiguresVersionPerRequest:
    """Middleware: a GET or HEAD request reads the figures' version once, however many figures and
    frames it reads (a write may change it, so other methods read it each time)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        token = _request_state.set([])
        try:
            return self.get_response(request)
        finally:
            _request_state.reset(token)


def _version_state() -> tuple[str, frozenset[int]]:
    """(the version, the periods with a stage whose recompute is requested and not done yet)."""
    kept = _request_state.get()
    if kept:
        return kept[0]
    state = _version_state_read()
    if kept is not None:
        kept.append(state)
    return state


def _version_state_read() -> tuple[str, frozenset[int]]:
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
    stored = [(period_id, stage, computed, at) for period_id, stage, _requested, computed, at in stages]
    dirty = frozenset(period_id for period_id, _stage, requested, computed, _at in stages if computed < requested)
    return hashlib.blake2b(repr((stored, histories)).encode(), digest_size=16).hexdigest(), dirty


def _cache_key(name: str, key: tuple, version: str | None = None) -> str:
    raw = repr((name, key, translation.get_language(), figures_version() if version is None else version))
    return "figures:" + name + ":" + hashlib.blake2b(raw.encode(), digest_size=16).hexdigest()


def figures_cached(name: str, compute: Callable[[], T], *, key: tuple = ()) -> T:
    """``compute()``, or what it returned before for the same ``name``, ``key``, language and version."""
    cache_key = _cache_key(name, key)
    value = cache.get(cache_key)
    if value is None:
        with snapshot_reads():  # a frame the figures read twice is read once
            value = compute()
        cache.set(cache_key, value, timeout=TIMEOUT)
    return value


#: name -> compute(period): the page figures that depend on the period alone (``period_figures``).
PERIOD_FIGURES: dict[str, Callable[[Period], object]] = {}
#: name -> depends(): what else the figures depend on, outside the version (``period_figures``).
_DEPENDS: dict[str, Callable[[], object]] = {}


def period_figures(
    name: str, *, depends: Callable[[], object] | None = None
) -> Callable[[Callable[[Period], T]], Callable[[Period], T]]:
    """Register ``compute(period)`` as the period figures ``name`` (a decorator): pages read them with
    ``period_figures_get`` and the value stage's task builds them ahead (``period_figures_warm``).
    ``depends()``: a small value that changes when something else the figures show changes (the
    latest history id of a table outside the version), part of their key."""

    return _registrar(PERIOD_FIGURES, _DEPENDS, name, depends)


def _registrar(
    computes: dict, dependencies: dict, name: str, depends: Callable[[], object] | None
) -> Callable[[Callable[[Period], T]], Callable[[Period], T]]:
    """The decorator of ``period_figures`` and ``period_frames``: ``compute`` (and ``depends``) under ``name``."""

    def register(compute: Callable[[Period], T]) -> Callable[[Period], T]:
        computes[name] = compute
        if depends is not None:
            dependencies[name] = depends
        return compute

    return register


def _figures_key(name: str, period_id: int) -> tuple:
    return (period_id, _DEPENDS[name]()) if name in _DEPENDS else (period_id,)


def _latest_key(name: str, key: tuple) -> str:
    raw = repr((name, key, translation.get_language()))
    return "figures-latest:" + name + ":" + hashlib.blake2b(raw.encode(), digest_size=16).hexdigest()


def period_figures_get(name: str, period: Period):
    """The period figures ``name`` under the current version; built now only when they are missing
    and no recompute of the period is under way (then the last ones built are shown: see above)."""
    version, dirty = _version_state()
    key = _figures_key(name, period.id)
    value = cache.get(_cache_key(name, key, version))
    if value is not None:
        return value
    if period.id in dirty:
        latest = cache.get(_latest_key(name, key))
        if latest is not None:
            return latest
    with snapshot_reads():
        value = PERIOD_FIGURES[name](period)
    _period_figures_store(name, key, version, value)
    return value


def _period_figures_store(name: str, key: tuple, version: str, value) -> None:
    cache.set_many({_cache_key(name, key, version): value, _latest_key(name, key): value}, timeout=TIMEOUT)


#: Seconds between two builds ahead of a period while its recompute goes on (a steady stream of
#: orders): the pages show the last figures built, at most this much older than the chain.
WARM_INTERVAL_WHILE_RECOMPUTING = 30.0


def _warmed_key(period_id: int) -> str:
    return f"figures-warmed:{period_id}"


def period_figures_warm(*, period_id: int, while_recomputing: bool = True) -> list[str]:
    """Build every registered period figure of the period, in every language, under the current
    version (the ones already built are kept); returns the names built. Read in one transaction
    (a repeatable-read snapshot on PostgreSQL) so the figures agree with each other.

    ``while_recomputing=False`` (the value task): when a new recompute of the period is already
    under way and the last build is less than ``WARM_INTERVAL_WHILE_RECOMPUTING`` old, build
    nothing; the next value run sends the next build. Under a steady stream of orders this keeps
    the builds from doubling the workers' load, and the pages at most that much behind."""
    period = Period.objects.filter(pk=period_id).first()
    if period is None:
        return []
    if not while_recomputing and period_id in _version_state()[1]:
        last = cache.get(_warmed_key(period_id))
        if last is not None and time.time() - last < WARM_INTERVAL_WHILE_RECOMPUTING:
            return []
    built = []
    snapshot = connection.vendor == "postgresql" and not connection.in_atomic_block
    with transaction.atomic(), snapshot_reads():  # one snapshot: each whole-period frame read once
        if snapshot:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        version = figures_version()
        for name, compute in PERIOD_FRAMES.items():  # in registration order: a later frame may read an earlier one
            stamp = _frame_stamp(name, version)
            slot = cache.get(_frame_slot(name, period_id))
            if slot is None or slot[0] != stamp:
                value = compute(period)
                _period_frame_store(name, period_id, stamp, value)
                _memo_put((name, period_id, stamp), value)
                built.append(name)
        for language, _label in settings.LANGUAGES:
            with translation.override(language):
                for name, compute in PERIOD_FIGURES.items():
                    key = _figures_key(name, period_id)
                    if cache.get(_cache_key(name, key, version)) is not None:
                        continue
                    try:
                        with transaction.atomic():  # a figure that fails leaves the snapshot usable
                            value = compute(period)
                    except Exception as exc:  # noqa: BLE001 - the page builds it when asked, and says why not
                        logger.info("Period figures %s of period %s not built ahead: %r", name, period_id, exc)
                        continue
                    _period_figures_store(name, key, version, value)
                    built.append(f"{name}:{language}")
    cache.set(_warmed_key(period_id), time.time(), timeout=TIMEOUT)
    return built


#: name -> compute(period): whole-period frames several pages start from (``period_frames``).
PERIOD_FRAMES: dict[str, Callable[[Period], object]] = {}
_memo: OrderedDict[tuple, object] = OrderedDict()
_memo_lock = threading.Lock()
#: Period frames this process keeps (the newest ones).
MEMO_SIZE = 4


_FRAME_DEPENDS: dict[str, Callable[[], object]] = {}


def period_frames(
    name: str, *, depends: Callable[[], object] | None = None
) -> Callable[[Callable[[Period], T]], Callable[[Period], T]]:
    """Register ``compute(period)`` as the period frame ``name`` (a decorator): read with
    ``period_frames_get``, built ahead by ``period_figures_warm`` like the period figures.
    ``depends()`` as for ``period_figures`` (e.g. today's date, for figures that count days)."""

    return _registrar(PERIOD_FRAMES, _FRAME_DEPENDS, name, depends)


def _frame_stamp(name: str, version: str) -> tuple:
    return (version, _FRAME_DEPENDS[name]()) if name in _FRAME_DEPENDS else (version,)


def _frame_slot(name: str, period_id: int) -> str:
    # One slot per frame and period, overwritten by each version: a stream of recomputes cannot
    # fill the cache with 100,000-row frames.
    return f"frames:{name}:{period_id}"


def period_frames_get(name: str, period: Period):
    """The period frame ``name`` under the current version: kept in this process (unpickled), else
    read from the shared cache where the warm (or another process) left it, else built and left
    there. Always the current version (no "last built" while a recompute runs: selectors behind
    the API and the bonus read it too). The caller must not change what it gets (filter and merge
    into new frames, never assign into it)."""
    stamp = _frame_stamp(name, figures_version())
    memo_key = (name, period.id, stamp)
    with _memo_lock:
        if memo_key in _memo:
            _memo.move_to_end(memo_key)
            return _memo[memo_key]
    slot = cache.get(_frame_slot(name, period.id))
    if slot is not None and slot[0] == stamp:
        value = pickle.loads(zlib.decompress(slot[1]))
    else:
        with snapshot_reads():
            value = PERIOD_FRAMES[name](period)
        _period_frame_store(name, period.id, stamp, value)
    _memo_put(memo_key, value)
    return value


def _memo_put(memo_key: tuple, value) -> None:
    with _memo_lock:
        _memo[memo_key] = value
        while len(_memo) > MEMO_SIZE:
            _memo.popitem(last=False)


def _period_frame_store(name: str, period_id: int, stamp: tuple, value) -> None:
    packed = zlib.compress(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), 1)
    cache.set(_frame_slot(name, period_id), (stamp, packed), timeout=TIMEOUT)


def memo_clear() -> None:
    """Forget the period frames this process keeps (tests: a new database may repeat an old version)."""
    with _memo_lock:
        _memo.clear()
