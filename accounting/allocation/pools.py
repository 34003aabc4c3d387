"""The cost pools: their problems in words, and their defaults."""

from __future__ import annotations

import math

import pandas as pd

from .frames import _POOL_DEFAULTS, _POOL_REQUIRED, _WEIGHT_COLUMNS, KEYS, NATURES


def validate_pools(pools: pd.DataFrame) -> list[str]:
    """Human-readable problems with the pools; an empty list when they can be allocated."""
    missing = [c for c in _POOL_REQUIRED if c not in pools.columns]
    if missing:
        return [f"The cost pools lack the column(s) {', '.join(missing)}."]
    problems: list[str] = []
    duplicated = pools["pool_id"][pools["pool_id"].duplicated()].unique()
    if len(duplicated):
        problems.append(f"Pool id(s) {', '.join(map(str, duplicated))} occur more than once.")
    p = _with_pool_defaults(pools)
    for pool in p.itertuples(index=False):
        label = _pool_label(pool)
        if pool.key not in KEYS:
            problems.append(f"{label}: unknown allocation key {pool.key!r}; use one of {', '.join(KEYS)}.")
        if pool.nature not in NATURES:
            problems.append(f"{label}: unknown nature {pool.nature!r}; use fixed or variable.")
        amount = pool.amount_cents
        if pd.isna(amount) or amount != int(amount):
            problems.append(f"{label}: the amount must be a whole number of cents.")
        elif amount < 0:
            problems.append(f"{label}: the amount is negative; a cost pool is 0 or more.")
        if pool.key == "per_level":
            weights = [getattr(pool, c) for c in _WEIGHT_COLUMNS]
            if any(not math.isfinite(w) or w < 0 for w in weights):
                problems.append(f"{label}: level weights must be numbers of 0 or more.")
            elif not any(weights):
                problems.append(f"{label}: all level weights are 0; give at least one level a weight.")
        if pool.key == "time_driven":
            capacity = pool.capacity_minutes
            if pd.isna(capacity) or not math.isfinite(capacity) or capacity <= 0:
                problems.append(f"{label}: a time-driven pool needs a practical capacity in minutes above 0.")
            per_order, per_line = pool.minutes_per_order, pool.minutes_per_line
            if not (math.isfinite(per_order) and math.isfinite(per_line)) or per_order < 0 or per_line < 0:
                problems.append(f"{label}: minutes per order and per line must be numbers of 0 or more.")
        if pool.key == "direct" and pd.isna(pool.customer_id):
            problems.append(f"{label}: a direct pool needs the customer it is booked to.")
    return problems


def _with_pool_defaults(pools: pd.DataFrame) -> pd.DataFrame:
    p = pools.copy()
    for column, default in _POOL_DEFAULTS.items():
        if column not in p.columns:
            p[column] = default
        elif column != "name":
            p[column] = pd.to_numeric(p[column], errors="coerce").astype(float)
            if not math.isnan(default):
                p[column] = p[column].fillna(default)
    p["name"] = p["name"].fillna("").astype(str)
    if "customer_id" not in p.columns:
        p["customer_id"] = pd.NA
    p["customer_id"] = pd.to_numeric(p["customer_id"], errors="coerce").astype("Int64")
    return p


def _pool_label(pool) -> str:
    return f"Pool {pool.name!r} (id {pool.pool_id})" if pool.name else f"Pool {pool.pool_id}"
