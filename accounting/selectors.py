"""Reads of the accounting app."""

from __future__ import annotations

from .models import CostPool


def periods_with_costs() -> list[int]:
    return list(CostPool.objects.values_list("period_id", flat=True).distinct())
