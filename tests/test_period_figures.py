"""Period figures written at stage time (issue 17): the value stage's task builds every page's
period figures ahead, a page then reads them without computing, and while a recompute of the
period is under way a page shows the last figures built instead of recomputing on the request."""

from __future__ import annotations

import datetime
import time

import pytest
from django.core.cache import cache
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from customers import figures_cache
from customers.models import Computation
from scenarios import tasks as scenario_tasks

PAGES = {
    "kpi_summary": "customers:dashboard",
    "pyramid_report": "customers:pyramid",
    "migration_report": "customers:migration",
    "retention_report": "customers:retention",
    "retention_history": "customers:retention",
    "profit_overview": "accounting:profit",
    "concentration": "accounting:concentration",
    "segments": "scenarios:segments",
    "value_explanation": "scenarios:segments",
    "segment_target_report": "scenarios:segment_targets",
}


@pytest.fixture
def counted(monkeypatch):
    """Every registered period figure, counting its builds per name."""
    calls: dict[str, int] = {}
    for name, compute in list(figures_cache.PERIOD_FIGURES.items()):

        def counting(period, _name=name, _compute=compute):
            calls[_name] = calls.get(_name, 0) + 1
            return _compute(period)

        monkeypatch.setitem(figures_cache.PERIOD_FIGURES, name, counting)
    return calls


def _recomputed(period) -> None:
    """As a stage run leaves it: a new ``computed_at`` (the stored figures changed)."""
    Computation.objects.filter(period=period, stage="pyramid").update(computed_at=timezone.now())


def test_every_page_with_period_figures_is_registered():
    assert set(figures_cache.PERIOD_FIGURES) == set(PAGES)


def test_warm_builds_every_figure_in_every_language_and_the_pages_then_build_none(
    small_dataset, client, finance_user, counted
):
    period = small_dataset[2025]
    built = figures_cache.period_figures_warm(period_id=period.pk)
    per_language = [f"{name}:{lang}" for name in PAGES for lang in ("nl", "en")]
    assert sorted(built) == sorted([*figures_cache.PERIOD_FRAMES, *per_language])
    assert counted == dict.fromkeys(PAGES, 2)
    assert figures_cache.period_figures_warm(period_id=period.pk) == []  # already built: nothing again
    client.force_login(finance_user)
    for url in sorted(set(PAGES.values())):
        assert client.get(reverse(url), {"period": period.name}).status_code == 200
    assert counted == dict.fromkeys(PAGES, 2), "a page computed figures the warm had built"


def test_the_value_task_warms_only_with_a_broker(small_dataset, settings, counted, monkeypatch):
    period = small_dataset[2025]
    sent = []
    monkeypatch.setattr(scenario_tasks.warm_period_figures, "delay", lambda period_id: sent.append(period_id))
    Computation.objects.filter(period=period, stage="value").update(requested=F("requested") + 1)
    scenario_tasks.recompute_value(period.pk)
    assert sent == []  # eager (no broker): the pages build their figures when asked
    settings.CELERY_TASK_ALWAYS_EAGER = False
    Computation.objects.filter(period=period, stage="value").update(requested=F("requested") + 1)
    scenario_tasks.recompute_value(period.pk)
    assert sent == [period.pk]
    scenario_tasks.recompute_value(period.pk)  # nothing dirty: no run, no warm
    assert sent == [period.pk]


def test_a_request_alone_keeps_the_figures_and_a_recompute_renews_them(small_dataset, counted):
    period = small_dataset[2025]
    first = figures_cache.period_figures_get("kpi_summary", period)
    Computation.objects.filter(period=period).update(requested=F("requested") + 1)
    assert figures_cache.period_figures_get("kpi_summary", period) == first
    assert counted["kpi_summary"] == 1  # a requested recompute changes no stored figure yet
    Computation.objects.filter(period=period).update(computed=F("requested"))
    _recomputed(period)
    figures_cache.period_figures_get("kpi_summary", period)
    assert counted["kpi_summary"] == 2


def test_while_a_recompute_is_under_way_the_last_figures_are_shown(small_dataset, counted):
    period = small_dataset[2025]
    figures_cache.period_figures_get("pyramid_report", period)
    # The pyramid has been stored again and profit is still to do: the page shows the last figures.
    _recomputed(period)
    Computation.objects.filter(period=period, stage="profit").update(requested=F("requested") + 1)
    figures_cache.period_figures_get("pyramid_report", period)
    assert counted["pyramid_report"] == 1
    # Another period's recompute does not count: this one is current, so its figures are rebuilt.
    Computation.objects.filter(period=period).update(computed=F("requested"))
    other = small_dataset[2024]
    Computation.objects.filter(period=other, stage="profit").update(requested=F("requested") + 1)
    figures_cache.period_figures_get("pyramid_report", period)
    assert counted["pyramid_report"] == 2


def test_a_period_frame_is_built_once_per_version_and_shared_through_the_cache(small_dataset, monkeypatch):
    """The warm (a worker) leaves the portfolio frame in the shared cache; a web process that has
    not kept it reads it from there instead of building it; a recompute builds it anew."""
    from salesforce_tasks.selectors import period_portfolio

    period = small_dataset[2025]
    builds = []
    compute = figures_cache.PERIOD_FRAMES["period_portfolio"]
    monkeypatch.setitem(figures_cache.PERIOD_FRAMES, "period_portfolio", lambda p: builds.append(p.pk) or compute(p))
    figures_cache.period_figures_warm(period_id=period.pk)
    assert builds == [period.pk]
    figures_cache.memo_clear()  # another process: nothing kept in memory
    warmed = period_portfolio(period=period)
    assert builds == [period.pk]
    assert warmed.results.equals(compute(period).results)
    assert period_portfolio(period=period) is warmed  # kept in this process now
    _recomputed(period)
    assert period_portfolio(period=period) is not warmed
    assert builds == [period.pk, period.pk]


def test_a_period_frame_that_counts_days_is_built_again_the_next_day(small_dataset, monkeypatch):
    period = small_dataset[2025]
    builds = []
    compute = figures_cache.PERIOD_FRAMES["service_flags"]
    monkeypatch.setitem(figures_cache.PERIOD_FRAMES, "service_flags", lambda p: builds.append(1) or compute(p))
    today = [datetime.date(2025, 6, 1)]
    monkeypatch.setitem(figures_cache._FRAME_DEPENDS, "service_flags", lambda: today[0])
    figures_cache.period_frames_get("service_flags", period)
    figures_cache.period_frames_get("service_flags", period)
    assert len(builds) == 1
    today[0] = datetime.date(2025, 6, 2)
    figures_cache.period_frames_get("service_flags", period)
    assert len(builds) == 2


def test_while_a_recompute_goes_on_the_value_task_builds_at_most_once_per_interval(small_dataset, counted):
    period = small_dataset[2025]
    assert figures_cache.period_figures_warm(period_id=period.pk, while_recomputing=False)
    _recomputed(period)
    Computation.objects.filter(period=period, stage="pyramid").update(requested=F("requested") + 1)
    # A new recompute is under way and the last build is fresh: nothing now (the next value run sends one).
    assert figures_cache.period_figures_warm(period_id=period.pk, while_recomputing=False) == []
    # ... unless the last build is older than the interval.
    cache.set(figures_cache._warmed_key(period.pk), time.time() - figures_cache.WARM_INTERVAL_WHILE_RECOMPUTING - 1)
    assert figures_cache.period_figures_warm(period_id=period.pk, while_recomputing=False)
    # Nothing under way: always built.
    Computation.objects.filter(period=period).update(computed=F("requested"))
    _recomputed(period)
    assert figures_cache.period_figures_warm(period_id=period.pk, while_recomputing=False)


def test_a_page_reads_the_figures_version_once(small_dataset, client, finance_user):
    """The effectiveness page reads three shared frames and a cached figure: one version read."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(finance_user)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("salesforce:effectiveness"), {"period": 2025}).status_code == 200
    version_reads = [q for q in queries.captured_queries if '"customers_computation"."requested"' in q["sql"]]
    assert len(version_reads) == 1
