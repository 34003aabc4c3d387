"""Every page of every role at 100,000 customers, and the customer list's exports.

    .venv/bin/python bench/bench_pages.py [--runs 5] [--role manager] [--only /path/] [--fresh] [--small]

Targets (PostgreSQL, never asserted in tests): every page p95 < 300 ms at 100,000 customers with a
number of queries that does not grow with the customers; exports stream: first byte < 1 s, the
customer list of 100,000 rows as XLSX < 5 s.

The database ``bench_pages`` is built once and reused while its row counts match (``--fresh``
rebuilds it): the seeded data of ``_common.dataset_generate`` (100,000 customers, 1,000,000 order
lines in 2025 and 200,000 in 2024 — fewer than bench_recompute's 5,000,000: the pages read the
stored per-customer results, not the lines — 200,000 visits, 150,000 invoices, 10 cost pools),
an organisation of 2 teams × 50 pairs owning 1,000 customers each, a manager of the first team
(50,000 customers), a finance user and a rep of the first pair (1,000 customers); then every stage
runs once (pyramid of both periods, profit, value, sales force) so the stored results exist.

Each role's pages come from ``tests.role_pages.pages_of`` (the URLconf, not a hand list) and are
requested in-process with ``django.test.Client``, ``--runs`` times after one warm-up; the table
gives p50/p95 and the queries of one request (``CaptureQueriesContext``), slowest first, with a
floor measured in the same run: one page of 50 stored rows and a full count of the period's rows.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c  # noqa: E402

ORG_TEAMS, ORG_PAIRS_PER_TEAM = 2, 50
PASSWORD = "bench-pages"


def sizes(small: bool) -> dict:
    if small:
        return {"customers": 10_000, "lines": {2024: 20_000, 2025: 100_000}, "visits": 20_000, "invoices": 15_000}
    return {"customers": 100_000, "lines": {2024: 200_000, 2025: 1_000_000}, "visits": 200_000, "invoices": 150_000}


def ensure_data(args, size: dict) -> None:
    from customers.models import Customer, CustomerPeriod, OrderLine

    if not args.fresh:
        try:
            if (
                Customer.objects.count() == size["customers"]
                and OrderLine.objects.count() == sum(size["lines"].values())
                and CustomerPeriod.objects.exists()
            ):
                print("reusing the generated data", flush=True)
                return
        except Exception:  # noqa: BLE001 - no tables yet
            pass
    from django.db import connection

    connection.close()
    c.database_create(args.db, args.name)
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    started = time.perf_counter()
    data = c.dataset_generate(
        customers=size["customers"], lines=size["lines"], visits=size["visits"], invoices=size["invoices"]
    )
    organisation_generate(data["customer_ids"])
    print(f"data generated in {time.perf_counter() - started:.1f} s", flush=True)
    started = time.perf_counter()
    stages_run(list(data["period_ids"].values()))
    print(f"stages run in {time.perf_counter() - started:.1f} s", flush=True)


def organisation_generate(customer_ids) -> None:
    """Teams, pairs owning the customers, and the three users the pages are requested as."""
    import numpy as np
    import pandas as pd
    from django.contrib.auth.models import Group, User

    from customers.models import PortfolioAssignment, RepPair, SalesRep, Team

    groups = {name: Group.objects.get_or_create(name=name)[0] for name in ("rep", "manager", "finance")}
    manager = User.objects.create_user("bench_manager", password=PASSWORD)
    manager.groups.add(groups["manager"])
    finance = User.objects.create_user("bench_finance", password=PASSWORD)
    finance.groups.add(groups["finance"])
    rep_user = User.objects.create_user("bench_rep", password=PASSWORD)
    rep_user.groups.add(groups["rep"])
    pairs = []
    for t in range(ORG_TEAMS):
        team, _ = Team.objects.get_or_create(name=f"Team {t + 1}")
        if t == 0:
            team.manager = manager
            team.save()
        for p in range(ORG_PAIRS_PER_TEAM):
            code = f"T{t + 1}P{p + 1:02d}"
            outside = SalesRep.objects.create(
                code=f"{code}-O",
                name=f"Outside {code}",
                kind="outside",
                team=team,
                user=rep_user if (t, p) == (0, 0) else None,
            )
            inside = SalesRep.objects.create(code=f"{code}-I", name=f"Inside {code}", kind="inside", team=team)
            pairs.append(RepPair.objects.create(code=code, team=team, outside_rep=outside, inside_rep=inside))
    pair_ids = np.array([p.id for p in pairs], dtype=np.int64)
    owner = pair_ids[(np.asarray(customer_ids) - 1) * len(pair_ids) // len(customer_ids)]
    with c.fast_load():
        c.load_frame(
            PortfolioAssignment._meta.db_table,
            pd.DataFrame({"customer_id": customer_ids, "pair_id": owner, "start": "2023-01-01"}),
        )
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute(
                "UPDATE customers_customer SET pair_id = a.pair_id FROM "
                f"{PortfolioAssignment._meta.db_table} a WHERE a.customer_id = customers_customer.id"
            )


def stages_run(period_ids: list[int]) -> None:
    """The stored facts from the generated rows, then every stage of every period once, in-process
    (eager Celery: the chain follows the events)."""
    from django.db import transaction

    from salesforce_tasks.services.visits import visit_facts_rebuild

    try:  # the order facts (issue 17) where this tree keeps them; older trees read the lines
        from customers.facts import order_facts_rebuild
    except ImportError:
        order_facts_rebuild = None
    with transaction.atomic():
        if order_facts_rebuild is not None:
            order_facts_rebuild(period_ids=period_ids)
        visit_facts_rebuild(period_ids=period_ids)

    from config.eventbus import request_stage

    for stage in ("pyramid",):
        with transaction.atomic():
            request_stage(period_ids=period_ids, stage=stage)
    from django.db import connection

    from customers.models import Computation

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")  # the stages' rows: as autovacuum would have it after a while
    for row in Computation.objects.order_by("period_id", "stage"):
        print(f"  computation {row}", flush=True)


def floor(period_id: int, runs: int) -> dict[str, float]:
    from django.db import connection

    out = {}
    sqls = {
        "floor: 50 stored rows": (
            "SELECT cp.customer_id, cp.level, cp.rank, cp.revenue, c.name FROM customers_customerperiod cp "
            "JOIN customers_customer c ON c.id = cp.customer_id WHERE cp.period_id = %s ORDER BY cp.rank LIMIT 50"
        ),
        "floor: count(*) of the period": "SELECT count(*) FROM customers_customerperiod WHERE period_id = %s",
    }
    for label, sql in sqls.items():
        times = []
        for _ in range(runs + 1):
            started = time.perf_counter()
            with connection.cursor() as cur:
                cur.execute(sql, [period_id])
                cur.fetchall()
            times.append(time.perf_counter() - started)
        out[label] = times[1:]
    return out


def page_timings(client, path: str, runs: int) -> tuple[list[float], int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    queries = len(captured.captured_queries)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path)
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)
        times.append(time.perf_counter() - started)
    return times, queries, response.status_code


def export_timings(client, path: str, runs: int) -> list[tuple[float, float, int]]:
    """(first byte s, whole body s, bytes) per run."""
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path)
        if getattr(response, "streaming", False):
            chunks = iter(response.streaming_content)
            first = next(chunks, b"")
            first_at = time.perf_counter() - started
            size = len(first) + sum(len(chunk) for chunk in chunks)
        else:
            first_at = time.perf_counter() - started
            size = len(response.content)
        out.append((first_at, time.perf_counter() - started, size))
        response.close()
    return out


def login(role: str):
    from django.contrib.auth.models import User
    from django.test import Client

    client = Client()
    client.force_login(User.objects.get(username=f"bench_{role}"))
    return client


def after_recompute(period, roles: list[str], args) -> None:
    """The first view of every page after each recompute, with the period figures built ahead as the
    value task does (``period_figures_warm``, timed apart: it runs in a worker, not in the request)."""
    from django.utils import timezone

    from customers.figures_cache import period_figures_warm
    from customers.models import Computation
    from tests.role_pages import pages_of

    clients = {role: login(role) for role in roles}
    paths = {role: pages_of(client) for role, client in clients.items()}
    if args.only:
        paths = {role: [p for p in ps if p.startswith(tuple(args.only))] for role, ps in paths.items()}
    warm_times: list[float] = []
    times: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.runs):
        Computation.objects.filter(period=period, stage="value").update(computed_at=timezone.now())
        started = time.perf_counter()
        period_figures_warm(period_id=period.id)
        warm_times.append(time.perf_counter() - started)
        for role, client in clients.items():
            for path in paths[role]:
                started = time.perf_counter()
                client.get(path)
                times.setdefault((path, role), []).append(time.perf_counter() - started)
    print(
        f"  the value task's warm of the period figures: p50 {c.median(warm_times):.2f} s, "
        f"runs {', '.join(f'{t:.2f}' for t in warm_times)}",
        flush=True,
    )
    rows = [
        (path, role, f"{c.median(ts) * 1000:.0f}", f"{c.percentile(ts, 95) * 1000:.0f}")
        for (path, role), ts in times.items()
    ]
    rows.sort(key=lambda r: -float(r[3]))
    print(c.fmt_table(rows, ("first view after a recompute", "role", "p50 ms", "p95 ms")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--small", action="store_true", help="smoke size: 10,000 customers, 120,000 lines")
    parser.add_argument("--runs", type=int, default=5, help="timed requests per page (after one warm-up)")
    parser.add_argument("--role", action="append", choices=["rep", "manager", "finance"], help="only these roles")
    parser.add_argument("--only", action="append", help="only pages whose path starts with this")
    parser.add_argument("--no-exports", action="store_true")
    parser.add_argument("--exports-only", action="store_true", help="the floor and the exports, no pages")
    parser.add_argument("--export-runs", type=int, default=2)
    parser.add_argument("--profile", help="cProfile one request of this path (as --role's first role) and stop")
    parser.add_argument(
        "--no-cache", action="store_true", help="a dummy cache: every request computes its figures (the 'before')"
    )
    parser.add_argument(
        "--after-recompute",
        action="store_true",
        help="each run: a recompute (new version), the value task's warm of the period figures (timed), "
        "then the first view of every page",
    )
    parser.add_argument("--fresh", action="store_true", help="rebuild the database even if it is there")
    args = parser.parse_args()
    args.name = "bench_pages_small" if args.small else "bench_pages"
    size = sizes(args.small)

    if args.db == "postgres":
        import psycopg  # the database may not exist yet: create it empty so Django can connect

        with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [args.name]).fetchone():
                conn.execute(f'CREATE DATABASE "{args.name}"')
    c.django_setup(args.db, args.name, migrate=True)
    ensure_data(args, size)
    c.celery_quiet()

    from django.conf import settings
    from django.test.utils import setup_test_environment

    from customers.models import Period
    from tests.role_pages import pages_of

    setup_test_environment()  # the test client's response.context and template signals
    logging.getLogger("django.request").setLevel(logging.ERROR)  # the 403s and 405s of the page lister
    if args.no_cache:
        from django.test.utils import override_settings

        override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}).enable()
    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    period = Period.objects.order_by("-name").first()
    roles = args.role or ["rep", "manager", "finance"]

    if args.profile:
        import cProfile
        import pstats

        client = login(roles[0])
        client.get(args.profile)
        if args.after_recompute:  # profile the first view after a recompute, the figures built ahead
            from django.utils import timezone

            from customers.figures_cache import period_figures_warm
            from customers.models import Computation

            Computation.objects.filter(period=period, stage="value").update(computed_at=timezone.now())
            period_figures_warm(period_id=period.id)
        profiler = cProfile.Profile()
        profiler.enable()
        client.get(args.profile)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
        return

    print(
        f"# bench_pages — {args.db}, period {period.name}, {size['customers']:,} customers, "
        f"{args.runs} runs per page; {c.machine()}",
        flush=True,
    )
    rows = []
    for label, times in floor(period.id, args.runs).items():
        p50, p95 = c.median(times), c.percentile(times, 95)
        rows.append((label, "", f"{p50 * 1000:.1f}", f"{p95 * 1000:.1f}", 1, ""))
        print(f"  {label:69} p50 {p50 * 1000:7.1f} ms  p95 {p95 * 1000:7.1f} ms", flush=True)
    if args.after_recompute:
        after_recompute(period, roles, args)
        return
    for role in [] if args.exports_only else roles:
        client = login(role)
        paths = pages_of(client)  # also the warm-up: every page once
        if args.only:
            paths = [p for p in paths if p.startswith(tuple(args.only))]
        for path in paths:
            times, queries, status = page_timings(client, path, args.runs)
            p50, p95 = c.median(times), c.percentile(times, 95)
            rows.append((path, role, f"{p50 * 1000:.0f}", f"{p95 * 1000:.0f}", queries, status))
            print(
                f"  {role:8} {path:60} p50 {p50 * 1000:7.0f} ms  p95 {p95 * 1000:7.0f} ms  {queries:4} queries",
                flush=True,
            )
    rows.sort(key=lambda r: -float(r[3]))
    print()
    print(c.fmt_table(rows, ("page", "role", "p50 ms", "p95 ms", "queries", "status")))

    if not args.no_exports:
        client = login("finance")
        export_rows = []
        for fmt in ("csv", "xlsx"):
            path = f"/customers/?period={period.name}&format={fmt}"
            runs = export_timings(client, path, args.export_runs)
            export_rows.append(
                (
                    f"customer list {fmt} (finance, {size['customers']:,} rows)",
                    " / ".join(f"{r[0]:.2f}" for r in runs),
                    " / ".join(f"{r[1]:.2f}" for r in runs),
                    f"{runs[-1][2]:,}",
                )
            )
        print(c.fmt_table(export_rows, ("export", "first byte s (runs)", "whole s (runs)", "bytes")))


if __name__ == "__main__":
    main()
