"""Time a growth-scenario projection for 100,000 customers (target: under 1 s).

    .venv/bin/python bench/bench_scenarios.py [--customers 100000] [--repeat 7]

Generates the frames ``projection.baseline_from_frames`` reads from the database (the levels of the
base period and the one before, and the base period's figures per customer), then times
``baseline_from_frames`` + ``project`` for each built-in scenario. Pure pandas/numpy: no database.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scenarios import projection  # noqa: E402
from scenarios.valuation import ACTIVE  # noqa: E402

LEVELS = np.array(["top", "big", "medium", "small", "inactive", "prospect", "suspect"])


def frames(customers: int, seed: int = 42) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """levels_prev, levels_cur, cur_figures for ``customers`` customers (about 8 % churn, 8 % new)."""
    rng = np.random.default_rng(seed)
    ids = np.arange(1, customers + 1, dtype=np.int64)
    prev = rng.choice(LEVELS, size=customers, p=[0.01, 0.04, 0.15, 0.55, 0.08, 0.12, 0.05])
    # Next year: most stay, some move one level, about 8 % of the actives churn, prospects convert.
    step = rng.choice([-1, 0, 1], size=customers, p=[0.1, 0.8, 0.1])
    position = pd.Series(prev).map({level: i for i, level in enumerate(ACTIVE)}).fillna(0).to_numpy(dtype=np.int64)
    index = np.clip(position + step, 0, 3)
    cur = np.where(np.isin(prev, ACTIVE), LEVELS[:4][index], prev)
    churn = np.isin(prev, ACTIVE) & (rng.random(customers) < 0.08)
    cur = np.where(churn, "inactive", cur)
    convert = np.isin(prev, ["prospect", "suspect"]) & (rng.random(customers) < 0.4)
    cur = np.where(convert, rng.choice(["medium", "small"], size=customers, p=[0.2, 0.8]), cur)
    levels_prev = pd.DataFrame({"customer_id": ids, "level": prev})
    levels_cur = pd.DataFrame({"customer_id": ids, "level": cur})
    revenue = np.round(rng.lognormal(9.5, 1.3, customers) * 100).astype(np.int64)
    revenue[~np.isin(cur, ACTIVE)] = 0
    margin = (revenue * rng.uniform(0.15, 0.4, customers)).astype(np.int64)
    allocated = (margin * rng.uniform(0.5, 0.9, customers)).astype(np.int64)
    figures = pd.DataFrame(
        {
            "customer_id": ids,
            "level": cur,
            "revenue_cents": revenue,
            "gross_margin_cents": margin,
            "allocated_cents": allocated,
        }
    )
    return levels_prev, levels_cur, figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    started = time.perf_counter()
    levels_prev, levels_cur, figures = frames(args.customers)
    print(f"frames for {args.customers:,} customers generated in {time.perf_counter() - started:.3f} s")

    worst = 0.0
    for name, levers in projection.BUILT_IN.items():
        base_times, project_times, totals = [], [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            baseline = projection.baseline_from_frames(levels_prev, levels_cur, figures)
            t1 = time.perf_counter()
            result = projection.project(baseline, levers)
            t2 = time.perf_counter()
            base_times.append(t1 - t0)
            project_times.append(t2 - t1)
            totals.append(t2 - t0)
        worst = max(worst, max(totals))
        last = result.iloc[-1]
        print(
            f"{name:>13}: baseline_from_frames median {statistics.median(base_times) * 1000:7.1f} ms, "
            f"project median {statistics.median(project_times) * 1000:6.2f} ms, "
            f"total median {statistics.median(totals) * 1000:7.1f} ms (best {min(totals) * 1000:.1f} ms, "
            f"worst {max(totals) * 1000:.1f} ms); year {int(last.year)}: "
            f"{last.customers_active:,.0f} active, revenue EUR {last.revenue_cents / 100:,.0f}"
        )
    print(f"slowest projection {worst * 1000:.1f} ms; target < 1000 ms: {'met' if worst < 1 else 'NOT met'}")


if __name__ == "__main__":
    main()
