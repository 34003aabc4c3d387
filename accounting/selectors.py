"""Reads of the accounting app: DataFrames for the allocation and data for pages and reports."""

from __future__ import annotations

import datetime
import gzip
import io
from decimal import Decimal

import pandas as pd
from django.db.models import Count, F

from config.money import cents_sql, sum_cents, to_cents
from customers.facts import customer_facts_frame
from customers.models import Customer, CustomerPeriod, Period

from .models import (
    AllocationKey,
    CostPool,
    CustomerProfit,
    Invoice,
    Nature,
    PeriodFinance,
    PoolResult,
    ProfitSnapshot,
)

DRIVER_COLUMNS = [
    "customer_id",
    "external_id",
    "active",
    "level",
    "revenue_cents",
    "gross_margin_cents",
    "orders",
    "order_lines",
    "visits",
    "visit_minutes",
]
POOL_COLUMNS = [
    "pool_id",
    "name",
    "amount_cents",
    "nature",
    "key",
    "weight_top",
    "weight_big",
    "weight_medium",
    "weight_small",
    "capacity_minutes",
    "minutes_per_order",
    "minutes_per_line",
    "customer_id",
]


def periods_with_costs() -> list[int]:
    return list(CostPool.objects.values_list("period_id", flat=True).distinct())


def interest_rate(*, period: Period):
    finance = PeriodFinance.objects.filter(period=period).first()
    return finance.interest_rate if finance else PeriodFinance._meta.get_field("interest_rate").default


def pools_frame(*, period: Period) -> pd.DataFrame:
    rows = CostPool.objects.filter(period=period).values_list(
        "id",
        "name",
        cents_sql(F("amount")),
        "nature",
        "key",
        "weight_top",
        "weight_big",
        "weight_medium",
        "weight_small",
        "capacity_minutes",
        "minutes_per_order",
        "minutes_per_line",
        "customer_id",
    )
    frame = pd.DataFrame.from_records(list(rows), columns=POOL_COLUMNS)
    for col in (
        "weight_top",
        "weight_big",
        "weight_medium",
        "weight_small",
        "capacity_minutes",
        "minutes_per_order",
        "minutes_per_line",
    ):
        frame[col] = pd.to_numeric(frame[col].astype(object), errors="coerce").astype("float64")
    frame["customer_id"] = frame["customer_id"].astype("Int64")
    return frame.astype({"pool_id": "int64", "amount_cents": "int64"})


def drivers_frame(*, period: Period) -> pd.DataFrame:
    """One row per customer in the period's stored pyramid, with the visit drivers from the core's
    customer-period facts (written by the sales force; 2 queries)."""
    rows = CustomerPeriod.objects.filter(period=period).values_list(
        "customer_id",
        "customer__external_id",
        "level",
        cents_sql(F("revenue")),
        cents_sql(F("gross_margin")),
        "orders",
        "order_lines",
    )
    frame = pd.DataFrame.from_records(
        list(rows),
        columns=["customer_id", "external_id", "level", "revenue_cents", "gross_margin_cents", "orders", "order_lines"],
    )
    frame["active"] = frame["revenue_cents"] > 0
    visits = customer_facts_frame(period=period, columns=("visits", "visit_minutes"))
    frame = frame.merge(visits, on="customer_id", how="left")
    frame[["visits", "visit_minutes"]] = frame[["visits", "visit_minutes"]].fillna(0)
    frame = frame.astype(
        {
            "customer_id": "int64",
            "revenue_cents": "int64",
            "gross_margin_cents": "int64",
            "orders": "int64",
            "order_lines": "int64",
            "visits": "int64",
            "visit_minutes": "int64",
            "active": "bool",
        }
    )
    return frame[DRIVER_COLUMNS]


def invoices_frame(*, period: Period) -> pd.DataFrame:
    return _invoice_rows_frame(Invoice.objects.filter(period=period))


def customer_profit_frame(*, period: Period) -> pd.DataFrame:
    """customer_id, level, revenue_cents, gross_margin_cents, allocated_cents, financing_cents, profit_cents, ..."""
    cols = [
        "customer_id",
        "level",
        "revenue_cents",
        "gross_margin_cents",
        "allocated_cents",
        "financing_cents",
        "profit_cents",
        "orders",
        "order_lines",
        "visits",
        "visit_minutes",
    ]
    rows = CustomerProfit.objects.filter(period=period).values_list(
        "customer_id",
        "level",
        cents_sql(F("revenue")),
        cents_sql(F("gross_margin")),
        cents_sql(F("allocated")),
        cents_sql(F("financing")),
        cents_sql(F("profit")),
        "orders",
        "order_lines",
        "visits",
        "visit_minutes",
    )
    frame = pd.DataFrame.from_records(list(rows), columns=cols)
    return frame.astype({c: "int64" for c in cols if c != "level"})


def by_pool_frame(*, period: Period) -> pd.DataFrame:
    """customer_id, pool_id, amount_cents, driver_quantity: every allocation of the period."""
    records = []
    for customer_id, by_pool in CustomerProfit.objects.filter(period=period).values_list("customer_id", "by_pool"):
        for pool_id, (amount, qty) in by_pool.items():
            records.append((customer_id, int(pool_id), amount, qty))
    return pd.DataFrame.from_records(records, columns=["customer_id", "pool_id", "amount_cents", "driver_quantity"])


def pool_list(*, period: Period) -> list[CostPool]:
    return list(CostPool.objects.filter(period=period).select_related("customer", "result").order_by("name"))


def pool_results(*, period: Period) -> list[PoolResult]:
    return list(PoolResult.objects.filter(pool__period=period).select_related("pool"))


def _read_frame(blob: bytes) -> pd.DataFrame:
    # Ids and names stay text: "0012" must not come back as the number 12.
    text_columns = {"external_id": str, "name": str, "level": str, "key": str, "nature": str}
    return pd.read_csv(io.BytesIO(gzip.decompress(bytes(blob))), dtype=text_columns)


def snapshots(*, period: Period, limit: int = 2) -> list[dict]:
    """The inputs of the latest computations of a period, newest first."""
    out = []
    for snap in ProfitSnapshot.objects.filter(period=period)[:limit]:
        out.append(
            {
                "created_at": snap.created_at,
                "drivers": _read_frame(snap.drivers),
                "pools": _read_frame(snap.pools),
                "financing": _read_frame(snap.financing),
            }
        )
    return out


def lossmaking_count(*, period: Period) -> int:
    return CustomerProfit.objects.filter(period=period, profit__lt=0).count()


def profit_totals(*, period: Period) -> dict:
    return CustomerProfit.objects.filter(period=period).aggregate(
        revenue=sum_cents("revenue"),
        gross_margin=sum_cents("gross_margin"),
        allocated=sum_cents("allocated"),
        financing=sum_cents("financing"),
        profit=sum_cents("profit"),
        customers=Count("id"),
    )


# --- the period totals: one source for every page, API and report ---------------------------------


def period_totals(*, period: Period, frame: pd.DataFrame | None = None) -> dict:
    """The totals of a period that every page, API and report shows (3 queries, or 1 with ``frame``).

    Every figure is in integer cents and comes from the stored figures of the period (the pyramid
    joined with the stored profit, ``customers.reports.stored_with_profit``; pass that frame when
    the caller already read it):

    - the period's totals over every customer with figures in the period: ``revenue_cents``,
      ``gross_margin_cents`` (net of credit notes, whoever the customer), ``allocated_cents``,
      ``financing_cents``, ``cost_to_serve_cents`` (allocated + financing) and ``profit_cents``
      (Σ customer profit: a customer outside the allocation keeps its gross margin as profit);
      ``customers``: the active customers (net revenue > 0). Cost and profit are None while
      profit is not computed (``computed`` False).
    - ``active``: the same figures over the active customers only, the base of the 80/20 figures,
      the whale curve, the segments and the scenarios' actuals (costs are allocated over them).
    - ``outside_active``: the difference (customers with figures but no net revenue, e.g. only
      credit notes): ``customers`` (those with any revenue or margin), ``revenue_cents``,
      ``gross_margin_cents``, ``profit_cents``. ``base_differs`` is True when it is not zero:
      a page on the active base must then say so next to its figure.
    - ``pools_cents``, ``unused_cents`` and ``unallocated_cents``: the cost pools of the period
      and what of them is in no customer's profit (time-driven unused capacity, pools without a
      driver), so ``profit_cents - unused_cents - unallocated_cents`` is the result after every pool.
    """
    from customers.reports import stored_with_profit

    frame = stored_with_profit(period) if frame is None else frame
    active_mask = frame["revenue_cents"] > 0
    computed = bool(len(frame)) and bool(frame["profit_cents"].notna().any())

    def sums(part: pd.DataFrame) -> dict:
        out = {
            "customers": int((part["revenue_cents"] > 0).sum()),
            "revenue_cents": int(part["revenue_cents"].astype("int64").sum()),
            "gross_margin_cents": int(part["gross_margin_cents"].astype("int64").sum()),
            "allocated_cents": None,
            "financing_cents": None,
            "cost_to_serve_cents": None,
            "profit_cents": None,
        }
        if computed:
            allocated = _sum_or_none(part["allocated_cost_cents"])
            financing = _sum_or_none(part["financing_cost_cents"])
            profit = _sum_or_none(part["profit_cents"])
            if None not in (allocated, financing, profit):
                out.update(
                    allocated_cents=allocated,
                    financing_cents=financing,
                    cost_to_serve_cents=allocated + financing,
                    profit_cents=profit,
                )
        return out

    total = sums(frame)
    active = sums(frame[active_mask])
    rest = frame[~active_mask]
    moving = rest[(rest["revenue_cents"] != 0) | (rest["gross_margin_cents"] != 0)]
    outside = {
        "customers": len(moving),
        "revenue_cents": total["revenue_cents"] - active["revenue_cents"],
        "gross_margin_cents": total["gross_margin_cents"] - active["gross_margin_cents"],
        "profit_cents": (
            None
            if total["profit_cents"] is None or active["profit_cents"] is None
            else total["profit_cents"] - active["profit_cents"]
        ),
    }
    results = PoolResult.objects.filter(pool__period=period).aggregate(
        unused=sum_cents("unused"), unallocated=sum_cents("unallocated")
    )
    pools = CostPool.objects.filter(period=period).aggregate(amount=sum_cents("amount"))
    return {
        "period": period,
        "computed": computed and total["profit_cents"] is not None,
        **total,
        "active": active,
        "outside_active": outside,
        "base_differs": bool(outside["customers"]),
        "pools_cents": int(pools["amount"] or 0),
        "unused_cents": int(results["unused"] or 0),
        "unallocated_cents": int(results["unallocated"] or 0),
    }


# --- pages, API and reports -------------------------------------------------------------------


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
    from .services import POOL_FIELDS

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


def customer_profit_table(*, period: Period, scope_ids=None) -> dict:
    """One row per customer with a stored profit, by external id, with a column per pool (2 queries).

    Returns pools: [{id, name, key}] by name, and rows: customer_pk, customer_id (external id),
    name, level, revenue, gross_margin, allocated, financing, profit (Decimal euros) and
    ``pool_<id>`` (Decimal euros, 0 when the customer carries none of the pool).
    """
    pools = list(CostPool.objects.filter(period=period).order_by("name").values("id", "name", "key"))
    qs = CustomerProfit.objects.filter(period=period)
    if scope_ids is not None:
        qs = qs.filter(customer_id__in=scope_ids)
    values = qs.order_by("customer__external_id").values_list(
        "customer_id",
        "customer__external_id",
        "customer__name",
        "level",
        "revenue",
        "gross_margin",
        "allocated",
        "financing",
        "profit",
        "by_pool",
    )
    rows = []
    for pk, ext, name, level, revenue, margin, allocated, financing, profit, by_pool in values:
        row = {
            "customer_pk": pk,
            "customer_id": ext,
            "name": name,
            "level": level,
            "revenue": revenue,
            "gross_margin": margin,
            "allocated": allocated,
            "financing": financing,
            "profit": profit,
        }
        for pool in pools:
            amount = (by_pool or {}).get(str(pool["id"]))
            row[f"pool_{pool['id']}"] = Decimal(int(amount[0]) if amount else 0).scaleb(-2)
        rows.append(row)
    return {"pools": pools, "rows": rows}


def customer_profit_queryset(*, period: Period, scope_ids=None):
    """The stored profit rows of a period with their customer, for lists and the API."""
    qs = CustomerProfit.objects.filter(period=period).select_related("customer")
    if scope_ids is not None:
        qs = qs.filter(customer_id__in=scope_ids)
    return qs


def lossmaking_customers(*, period: Period, scope_ids=None):
    """Loss-making customers of a period, the largest loss first (ties by external id)."""
    return (
        customer_profit_queryset(period=period, scope_ids=scope_ids)
        .filter(profit__lt=0)
        .order_by("profit", "customer__external_id")
    )


def profit_overview(*, period: Period, curve_points: int = 100) -> dict:
    """Profit per pyramid level, the whale curve and its figures for one period (2 queries).

    levels: one dict per level (the four active ones always, the others when they hold a
    customer): level, customers, revenue_cents, gross_margin_cents, allocated_cents,
    financing_cents, profit_cents, avg_profit_cents; total: the same summed. computed is False
    when accounting has not run for the period (cost figures are then None). whale: the curve
    points (customer_share, profit_share) and concentration: customers.pyramid.concentration.
    """
    from customers import pyramid
    from customers.reports import stored_with_profit

    frame = stored_with_profit(period)
    computed = bool(len(frame)) and not frame["profit_cents"].isna().all()
    money = ["revenue_cents", "gross_margin_cents", "allocated_cost_cents", "financing_cost_cents", "profit_cents"]
    levels = []
    for level in pyramid.ALL_LEVELS:
        part = frame[frame["level"] == level]
        if not len(part) and level not in pyramid.LEVELS_ACTIVE:
            continue
        sums = {c: _sum_or_none(part[c]) for c in money}
        levels.append(
            {
                "level": level,
                "customers": len(part),
                "revenue_cents": sums["revenue_cents"] or 0,
                "gross_margin_cents": sums["gross_margin_cents"] or 0,
                "allocated_cents": sums["allocated_cost_cents"],
                "financing_cents": sums["financing_cost_cents"],
                "profit_cents": sums["profit_cents"],
                "avg_profit_cents": (
                    None if sums["profit_cents"] is None or not len(part) else round(sums["profit_cents"] / len(part))
                ),
            }
        )
    totals = period_totals(period=period, frame=frame)
    keys = ["revenue_cents", "gross_margin_cents", "allocated_cents", "financing_cents", "profit_cents"]
    total = {"customers": sum(r["customers"] for r in levels), **{k: totals[k] for k in keys}}
    subset = frame[["customer_id", "external_id", "revenue_cents", "allocated_cost_cents", "profit_cents"]]
    return {
        "levels": levels,
        "total": total,
        "totals": totals,
        "computed": computed,
        "whale": pyramid.whale_curve(subset, points=curve_points) if computed else None,
        "concentration": pyramid.concentration(subset),
    }


def _sum_or_none(values: pd.Series) -> int | None:
    if values.isna().any():
        return None
    return int(values.astype("int64").sum())


def _invoice_rows_frame(qs) -> pd.DataFrame:
    rows = qs.values_list("customer_id", "external_id", cents_sql(F("amount")), "due", "paid")
    frame = pd.DataFrame.from_records(list(rows), columns=["customer_id", "invoice_id", "amount_cents", "due", "paid"])
    frame["due"] = pd.to_datetime(frame["due"])
    frame["paid"] = pd.to_datetime(frame["paid"])
    return frame.astype({"customer_id": "int64", "amount_cents": "int64"})


def computed_on(*, period: Period) -> datetime.date:
    """The day the stored profit of a period was computed (open invoices count up to it)."""
    from django.utils import timezone

    latest = ProfitSnapshot.objects.filter(period=period).values_list("created_at", flat=True).first()
    return timezone.localdate(latest) if latest else timezone.localdate()


def customer_waterfall(*, customer: Customer, period: Period) -> dict:
    """The P&L of one customer in a period, from revenue to profit, pool by pool (5 queries).

    Returns the stored figures (cents): revenue, gross_margin, allocated, financing, profit;
    level; drivers (orders, order_lines, visits, visit_minutes); pools: one dict per pool the
    customer carries or has a driver for (pool_id, name, key, nature, amount_cents (the
    customer's share), quantity (its driver quantity), driver_total, rate (euros per driver
    unit), pool_amount_cents, unused_cents, warning, minutes_per_order, minutes_per_line,
    capacity_minutes, weight); invoices: the financing detail per invoice (invoice_id,
    amount_cents, due, paid, days_late, cost in euros); interest_rate (%); as_of; steps: the
    waterfall (label, kind, amount_cents signed, start_cents, end_cents) ending at profit.
    ``computed`` is False when no profit is stored for the customer (then profit = margin).
    """
    from . import allocation

    row = CustomerProfit.objects.filter(period=period, customer=customer).first()
    stored = CustomerPeriod.objects.filter(period=period, customer=customer).first()
    if row is not None:
        figures = {
            "revenue": to_cents(row.revenue),
            "gross_margin": to_cents(row.gross_margin),
            "allocated": to_cents(row.allocated),
            "financing": to_cents(row.financing),
            "profit": to_cents(row.profit),
        }
        level = row.level
        drivers = {k: getattr(row, k) for k in ("orders", "order_lines", "visits", "visit_minutes")}
        by_pool = row.by_pool or {}
    else:
        revenue = to_cents(stored.revenue) if stored else 0
        margin = to_cents(stored.gross_margin) if stored else 0
        figures = {"revenue": revenue, "gross_margin": margin, "allocated": 0, "financing": 0, "profit": margin}
        level = stored.level if stored else None
        drivers = {
            "orders": stored.orders if stored else 0,
            "order_lines": stored.order_lines if stored else 0,
            "visits": 0,
            "visit_minutes": 0,
        }
        by_pool = {}
    pools = {p.id: p for p in CostPool.objects.filter(period=period).select_related("result")}
    lines = []
    for pool_id, (amount_cents, quantity) in by_pool.items():
        pool = pools.get(int(pool_id))
        result = pool.result if pool is not None and hasattr(pool, "result") else None
        lines.append(
            {
                "pool_id": int(pool_id),
                "name": pool.name if pool else None,
                "key": pool.key if pool else None,
                "nature": pool.nature if pool else None,
                "amount_cents": int(amount_cents),
                "quantity": float(quantity),
                "driver_total": result.driver_total if result else None,
                "rate": result.rate if result else None,
                "pool_amount_cents": to_cents(pool.amount) if pool else None,
                "unused_cents": to_cents(result.unused) if result else None,
                "warning": result.warning if result else "",
                "minutes_per_order": pool.minutes_per_order if pool else None,
                "minutes_per_line": pool.minutes_per_line if pool else None,
                "capacity_minutes": pool.capacity_minutes if pool else None,
            }
        )
    lines.sort(key=lambda p: (-p["amount_cents"], p["name"] or ""))
    rate = interest_rate(period=period)
    as_of = computed_on(period=period)
    invoices = _invoice_rows_frame(Invoice.objects.filter(period=period, customer=customer).order_by("due"))
    detail = allocation.financing_cost_detail(invoices, yearly_rate=Decimal(rate) / 100, as_of=as_of)
    detail = detail.assign(due=invoices["due"].dt.date, paid=invoices["paid"].dt.date)
    invoice_rows = [
        {
            "invoice_id": r.invoice_id,
            "amount_cents": int(r.amount_cents),
            "due": r.due,
            "paid": None if pd.isna(r.paid) else r.paid,
            "days_late": int(r.days_late),
            "cost": round(float(r.cost), 2),
        }
        for r in detail.itertuples(index=False)
    ]
    return {
        "customer": customer,
        "period": period,
        "computed": row is not None,
        "level": level,
        "drivers": drivers,
        **figures,
        "pools": lines,
        "invoices": invoice_rows,
        "interest_rate": rate,
        "as_of": as_of,
        "steps": waterfall_steps(figures, lines),
    }


def waterfall_steps(figures: dict, pools: list[dict]) -> list[dict]:
    """The bars of a P&L waterfall: revenue, cost of goods, gross margin, each pool, financing, profit."""
    steps = [
        {"label": "revenue", "kind": "total", "amount_cents": figures["revenue"]},
        {"label": "cogs", "kind": "step", "amount_cents": figures["gross_margin"] - figures["revenue"]},
        {"label": "gross_margin", "kind": "total", "amount_cents": figures["gross_margin"]},
    ]
    steps += [
        {"label": p["name"] or f"#{p['pool_id']}", "kind": "pool", "amount_cents": -p["amount_cents"]} for p in pools
    ]
    steps += [
        {"label": "financing", "kind": "step", "amount_cents": -figures["financing"]},
        {"label": "profit", "kind": "total", "amount_cents": figures["profit"]},
    ]
    running = 0
    for step in steps:
        if step["kind"] == "total":
            step["start_cents"], step["end_cents"] = 0, step["amount_cents"]
            running = step["amount_cents"]
        else:
            step["start_cents"], step["end_cents"] = running, running + step["amount_cents"]
            running += step["amount_cents"]
    if steps[-2]["end_cents"] != figures["profit"]:
        raise AssertionError("The waterfall does not add up to the stored profit.")
    return steps


def _pools_matched_by_name(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """The before pools with the pool_id of the after pool of the same name (another period's pools)."""
    by_name = dict(zip(after["name"], after["pool_id"], strict=True))
    unmatched = iter(range(-1, -len(before) - 1, -1))
    ids = [int(by_name[n]) if n in by_name else next(unmatched) for n in before["name"]]
    return before.assign(pool_id=pd.array(ids, dtype="int64"))


def profit_change(*, customer: Customer, period: Period, compare: str = "snapshots") -> dict:
    """Why a customer's profit changed, split into causes that add up to the change.

    compare="snapshots": between the last two computations of the period; "previous_period":
    between the latest computation of the previous period and of this one (pools matched by
    name). Returns available (bool) and reason, or available plus the figures of
    ``accounting.allocation.profit_change_causes`` and before/after labels.
    """
    from . import allocation

    if compare == "previous_period":
        from customers.selectors import period_previous

        previous = period_previous(period)
        if previous is None:
            return {"available": False, "reason": "first_period"}
        after, before = snapshots(period=period, limit=1), snapshots(period=previous, limit=1)
        if not after or not before:
            return {"available": False, "reason": "not_computed"}
        after, before = after[0], before[0]
        before = {**before, "pools": _pools_matched_by_name(before["pools"], after["pools"])}
        labels = (str(previous.name), str(period.name))
    else:
        snaps = snapshots(period=period, limit=2)
        if len(snaps) < 2:
            return {"available": False, "reason": "one_computation"}
        after, before = snaps
        labels = (before["created_at"], after["created_at"])
    in_before = (before["drivers"]["customer_id"] == customer.id).any()
    in_after = (after["drivers"]["customer_id"] == customer.id).any()
    if not (in_before or in_after):
        return {"available": False, "reason": "not_in_pyramid"}

    def financing_of(frame: pd.DataFrame) -> int:
        if frame.empty:
            return 0
        return int(frame.loc[frame["customer_id"] == customer.id, "financing_cost_cents"].sum())

    causes = allocation.profit_change_causes(
        customer_id=customer.id,
        drivers_before=before["drivers"],
        pools_before=before["pools"],
        financing_before_cents=financing_of(before["financing"]),
        drivers_after=after["drivers"],
        pools_after=after["pools"],
        financing_after_cents=financing_of(after["financing"]),
    )
    return {"available": True, "compare": compare, "before": labels[0], "after": labels[1], **causes}
