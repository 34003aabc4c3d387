"""Reads of the cost pools for pages, API and reports: overview, one pool, its history."""

from __future__ import annotations

from decimal import Decimal

from customers.models import Customer, Period

from ..models import AllocationKey, CostPool, Nature
from .frames import pool_list


def pool_overview(*, period: Period) -> dict:
    """The pools of a period with their last allocation result, and totals that reconcile (1 query).

    Σ amount = Σ allocated + Σ unused + Σ unallocated holds to the cent once every pool has a
    result of the current computation; ``computed`` is False while a pool has none yet.
    """
    pools = pool_list(period=period)
    rows = [{"pool": p, "result": p.result if hasattr(p, "result") else None} for p in pools]
    zero = Decimal("0.00")
    results = [r["result"] for r in rows if r["result"] is not None]
    totals = {
        "amount": sum((p.amount for p in pools), zero),
        "allocated": sum((r.allocated for r in results), zero),
        "unused": sum((r.unused for r in results), zero),
        "unallocated": sum((r.unallocated for r in results), zero),
    }
    totals["accounted"] = totals["allocated"] + totals["unused"] + totals["unallocated"]
    computed = len(results) == len(rows)
    return {
        "rows": rows,
        "totals": totals,
        "computed": computed,
        "reconciles": computed and totals["accounted"] == totals["amount"],
        "warnings": sum(1 for r in results if r.warning),
    }


def pool_get(*, pk: int) -> CostPool | None:
    return CostPool.objects.select_related("period", "customer").filter(pk=pk).first()


def pool_history(*, pool: CostPool) -> list[dict]:
    """Every saved version of a pool, newest first, with what changed against the version before.

    Each entry: record, user, date, type ("+" created, "~" changed), current (the newest), and
    changes: [{field, label, old, new}] with display values (choices as labels, the customer by
    name). Three queries, whatever the number of versions.
    """
    from ..services import POOL_FIELDS

    records = list(pool.history.select_related("history_user").order_by("-history_date", "-history_id"))
    customer_ids = {r.customer_id for r in records if r.customer_id}
    customers = {c.pk: str(c) for c in Customer.objects.filter(pk__in=customer_ids)}
    choices = {"key": dict(AllocationKey.choices), "nature": dict(Nature.choices)}

    def shown(field: str, value):
        if value is None or value == "":
            return None
        if field == "customer":
            return customers.get(value, f"#{value}")
        if field in choices:
            return str(choices[field].get(value, value))
        return value

    entries = []
    for i, record in enumerate(records):
        previous = records[i + 1] if i + 1 < len(records) else None
        if previous is None:
            pairs = [(f, None, getattr(record, "customer_id" if f == "customer" else f)) for f in POOL_FIELDS]
            pairs = [(f, old, new) for f, old, new in pairs if new not in (None, "")]
        else:
            delta = record.diff_against(previous, included_fields=list(POOL_FIELDS))
            pairs = [(c.field, c.old, c.new) for c in delta.changes]
        entries.append(
            {
                "record": record,
                "user": record.history_user,
                "date": record.history_date,
                "type": record.history_type,
                "current": i == 0,
                "changes": [
                    {
                        "field": f,
                        "label": CostPool._meta.get_field(f).verbose_name,
                        "old": shown(f, old),
                        "new": shown(f, new),
                    }
                    for f, old, new in pairs
                ],
            }
        )
    return entries
