"""Every write of the accounting app: cost pools, invoices, interest rate and stored profit."""

from __future__ import annotations

import gzip
import threading
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from config.bulk import replace_rows
from config.dates import date_window_reason, outside_date_window
from config.eventbus import publish
from config.intake import ErrorList, Layout, parse_date, parse_money_cents, parse_number, read_chunks, too_long
from config.money import sum_cents
from customers import policy
from customers.models import Customer, CustomerProfit, Period, PeriodCosts
from customers.period_services import (
    add_closed_period_errors,
    closed_period_message,
    closed_period_names,
    period_writable,
)
from customers.services import ImportResult, periods_for_write, periods_outside_window

from . import allocation, selectors
from .events import CostsChanged, InvoicesChanged, ProfitRecomputed
from .models import AllocationKey, CostPool, Invoice, Nature, PeriodFinance, PoolResult, ProfitSnapshot

SNAPSHOTS_KEPT = 2
#: The stored profit rows as ``config.bulk.replace_rows`` writes them: column -> kind.
PROFIT_COLUMNS = {
    "customer_id": "int",
    "level": "str",
    "revenue": "money",
    "gross_margin": "money",
    "allocated": "money",
    "financing": "money",
    "profit": "money",
    "orders": "int",
    "order_lines": "int",
    "visits": "int",
    "visit_minutes": "int",
    "by_pool": "json_text",
}


# --- the computation --------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfitComputation:
    drivers: pd.DataFrame
    pools: pd.DataFrame
    result: allocation.AllocationResult
    financing: pd.DataFrame
    profit: pd.DataFrame


def profit_compute(*, period: Period, pools: pd.DataFrame | None = None) -> ProfitComputation:
    """Allocate the period's pools (or the given ones, for a preview) and compute profit."""
    drivers = selectors.drivers_frame(period=period)
    pools = selectors.pools_frame(period=period) if pools is None else pools
    result = allocation.allocate_pools(drivers, pools)
    financing = allocation.financing_cost(
        selectors.invoices_frame(period=period),
        yearly_rate=Decimal(selectors.interest_rate(period=period)) / 100,
        as_of=timezone.localdate(),
    )
    profit = allocation.customer_profit(drivers, result, financing)
    return ProfitComputation(drivers, pools, result, financing, profit)


def _gz(frame: pd.DataFrame) -> bytes:
    return gzip.compress(frame.to_csv(index=False).encode(), compresslevel=1)


def profit_store(period_id: int) -> int:
    """Recompute a period's customer profit and replace the stored rows in bulk."""
    period = Period.objects.get(pk=period_id)
    comp = profit_compute(period=period)
    profit = comp.profit.merge(
        comp.drivers[["customer_id", "level", "orders", "order_lines", "visits", "visit_minutes"]],
        on="customer_id",
        how="left",
    )
    profit["by_pool"] = _by_pool(comp.result.allocations, profit["customer_id"])
    profit = profit.rename(
        columns={
            "revenue_cents": "revenue",
            "gross_margin_cents": "gross_margin",
            "allocated_cents": "allocated",
            "financing_cost_cents": "financing",
            "profit_cents": "profit",
        }
    )
    profit["level"] = profit["level"].fillna("inactive")
    profit[["orders", "order_lines", "visits", "visit_minutes"]] = (
        profit[["orders", "order_lines", "visits", "visit_minutes"]].fillna(0).astype("int64")
    )
    with transaction.atomic():
        replace_rows(
            CustomerProfit,
            where={"period_id": period.id},
            frame=profit,
            columns=PROFIT_COLUMNS,
        )
        _pool_results_store(period, comp.result.pools)
        ProfitSnapshot.objects.create(
            period=period, drivers=_gz(comp.drivers), pools=_gz(comp.pools), financing=_gz(comp.financing)
        )
        keep = list(ProfitSnapshot.objects.filter(period=period).values_list("id", flat=True)[:SNAPSHOTS_KEPT])
        ProfitSnapshot.objects.filter(period=period).exclude(id__in=keep).delete()
        publish(ProfitRecomputed(period_ids=(period.id,)))
    return len(profit)


#: The last ``_by_pool`` of this process: its sorted columns and each customer's text. A profit run
#: after one order finds most customers' allocations unchanged and keeps their text (a pure
#: computation's cache: the same numbers give the same text, nothing read from the database).
_by_pool_last: dict = {}
_by_pool_lock = threading.Lock()


def _by_pool(allocations: pd.DataFrame, customer_ids: pd.Series) -> list[str]:
    """Per customer the JSON text of {pool_id: [amount_cents, driver_quantity]}, in the order of
    ``customer_ids`` ("{}" for a customer without allocations).

    Written as text straight from the columns (what ``json.dumps`` of the dict gives: a float as
    its ``repr``): building 100,000 dicts and dumping them one by one was half of the profit stage's
    time. The text is in PostgreSQL's own form of a ``jsonb`` value (pools by id, ``", "`` and
    ``": "``), so ``config.bulk.replace_rows`` finds a customer's unchanged waterfall equal to the
    stored one by its text and does not write it again. When the customers and pools are those of
    the previous call in this process, only the customers whose amounts or quantities changed get a
    new text."""
    if allocations.empty:
        return ["{}"] * len(customer_ids)
    with _by_pool_lock:
        return _by_pool_locked(allocations, customer_ids)


def _by_pool_locked(allocations: pd.DataFrame, customer_ids: pd.Series) -> list[str]:
    customers = allocations["customer_id"].to_numpy(dtype=np.int64)
    pools = allocations["pool_id"].to_numpy(dtype=np.int64)
    order = np.lexsort((pools, customers))  # jsonb orders keys by length, then bytes: by id
    ordered, pools = customers[order], pools[order]
    amounts = allocations["amount_cents"].to_numpy(dtype=np.int64)[order]
    quantities = allocations["driver_quantity"].round(4).to_numpy(dtype=np.float64)[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], len(ordered)]
    last = _by_pool_last
    if last and np.array_equal(last["customers"], ordered) and np.array_equal(last["pools"], pools):
        # quantities compared bit by bit: -0.0 and 0.0 print differently, NaN equals itself
        row_changed = (last["amounts"] != amounts) | (last["quantities"].view(np.int64) != quantities.view(np.int64))
        group_changed = np.logical_or.reduceat(row_changed, starts)  # per customer
        texts = dict(last["texts"])
        texts.update(_by_pool_texts(ordered, pools, amounts, quantities, starts[group_changed], ends[group_changed]))
    else:
        texts = _by_pool_texts(ordered, pools, amounts, quantities, starts, ends)
    _by_pool_last.clear()
    _by_pool_last.update(customers=ordered, pools=pools, amounts=amounts, quantities=quantities, texts=texts)
    return [texts.get(int(c), "{}") for c in customer_ids]


def _by_pool_texts(customers, pools, amounts, quantities, starts, ends) -> dict[int, str]:
    """{customer_id: text} for the customers whose rows (sorted by customer, pool) run from
    ``starts`` to ``ends``."""
    texts = {}
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        pieces = (
            f'"{pool}": [{amount}, {quantity!r}]'
            for pool, amount, quantity in zip(
                pools[a:b].tolist(), amounts[a:b].tolist(), quantities[a:b].tolist(), strict=True
            )
        )
        texts[int(customers[a])] = "{" + ", ".join(pieces) + "}"
    return texts


def _pool_results_store(period: Period, pools: pd.DataFrame) -> None:
    """Replace the period's pool results. The period's pools are locked first, in id order, as
    ``cost_pool_delete`` locks its pool: a pool deleted while this recompute ran is skipped (its
    result would point at nothing), and a delete that comes during the store waits for it and then
    removes the new result with the pool (it used to fail on the foreign key: issue 13)."""
    alive = set(CostPool.objects.select_for_update().filter(period=period).order_by("pk").values_list("pk", flat=True))
    PoolResult.objects.filter(pool__period=period).delete()
    PoolResult.objects.bulk_create(
        [
            PoolResult(
                pool_id=int(r.pool_id),
                allocated=Decimal(int(r.allocated_cents)).scaleb(-2),
                unused=Decimal(int(r.unused_cents)).scaleb(-2),
                unallocated=Decimal(int(r.unallocated_cents)).scaleb(-2),
                driver_total=float(r.driver_total or 0),
                rate=None if pd.isna(r.rate) else float(r.rate),
                demand_minutes=None if pd.isna(r.demand_minutes) else float(r.demand_minutes),
                warning=r.warning or "",
            )
            for r in pools.itertuples(index=False)
            if int(r.pool_id) in alive
        ]
    )
    # What no customer carries, into the core beside the customer profit (customers.profit.period_totals).
    kept = pools[pools["pool_id"].astype("int64").isin(alive)]
    PeriodCosts.objects.update_or_create(
        period=period,
        defaults={
            "pools": _euros(CostPool.objects.filter(pk__in=alive).aggregate(a=sum_cents("amount"))["a"] or 0),
            "unused": _euros(kept["unused_cents"].astype("int64").sum()),
            "unallocated": _euros(kept["unallocated_cents"].astype("int64").sum()),
        },
    )


def _euros(cents) -> Decimal:
    return Decimal(int(cents)).scaleb(-2)


def profit_preview(*, period: Period, pool_values: dict, pool: CostPool | None = None) -> dict:
    """Profit per pyramid level now and with one pool changed (or added), without saving."""
    from customers.pyramid import LEVELS_ACTIVE

    before = profit_compute(period=period)
    pools = before.pools.copy()
    row = _pool_row(pool_values, pool_id=pool.id if pool else -1)
    pools = pools[pools["pool_id"] != row["pool_id"]]
    pools = pd.concat([pools, pd.DataFrame([row])], ignore_index=True)
    after = profit_compute(period=period, pools=pools)

    def by_level(comp: ProfitComputation) -> dict:
        merged = comp.profit.merge(comp.drivers[["customer_id", "level"]], on="customer_id")
        sums = merged.groupby("level")["profit_cents"].sum()
        return {lvl: int(sums.get(lvl, 0)) for lvl in LEVELS_ACTIVE}

    b, a = by_level(before), by_level(after)
    # The period's total profit (customers.profit.period_totals) also holds the customers
    # without net revenue (credit notes): no pool is allocated to them, so the change leaves them as
    # they are, but the total shown is the same total as on every other page.
    outside = selectors.period_totals(period=period)["outside_active"]
    outside_cents = outside["profit_cents"] if outside["profit_cents"] is not None else outside["gross_margin_cents"]
    return {
        "levels": [
            {"level": lvl, "before_cents": b[lvl], "after_cents": a[lvl], "change_cents": a[lvl] - b[lvl]}
            for lvl in LEVELS_ACTIVE
        ],
        "outside_active": {**outside, "profit_cents": outside_cents},
        "total_before_cents": int(before.profit["profit_cents"].sum()) + outside_cents,
        "total_after_cents": int(after.profit["profit_cents"].sum()) + outside_cents,
        "pool": after.result.pools.loc[after.result.pools["pool_id"] == row["pool_id"]].to_dict("records"),
    }


def _pool_row(values: dict, *, pool_id: int) -> dict:
    def num(key, default=None):
        v = values.get(key)
        return default if v in (None, "") else float(v)

    customer = values.get("customer")
    return {
        "pool_id": pool_id,
        "name": values.get("name") or "?",
        "amount_cents": int((Decimal(str(values.get("amount") or 0)) * 100).to_integral_value()),
        "nature": values.get("nature") or "fixed",
        "key": values.get("key"),
        "weight_top": num("weight_top", 1.0),
        "weight_big": num("weight_big", 1.0),
        "weight_medium": num("weight_medium", 1.0),
        "weight_small": num("weight_small", 1.0),
        "capacity_minutes": num("capacity_minutes", float("nan")),
        "minutes_per_order": num("minutes_per_order", 0.0),
        "minutes_per_line": num("minutes_per_line", 0.0),
        "customer_id": pd.NA if customer in (None, "") else int(getattr(customer, "pk", customer)),
    }


# --- cost pools -------------------------------------------------------------------------------

POOL_FIELDS = (
    "name",
    "amount",
    "nature",
    "key",
    "weight_top",
    "weight_big",
    "weight_medium",
    "weight_small",
    "capacity_minutes",
    "minutes_per_order",
    "minutes_per_line",
    "customer",
)


def cost_pool_validate(pool: CostPool) -> None:
    """Model validation plus the key's own rules; errors name the field and say what to do."""
    errors: dict[str, list[str]] = {}
    try:
        pool.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    duplicate = CostPool.objects.filter(period_id=pool.period_id, name=pool.name).exclude(pk=pool.pk).exists()
    if pool.name and duplicate:
        errors.setdefault("name", []).append(
            f"There is already a pool named '{pool.name}' in {pool.period}; choose another name or edit that pool."
        )
    if pool.key == AllocationKey.TIME_DRIVEN and not (pool.capacity_minutes and pool.capacity_minutes > 0):
        errors["capacity_minutes"] = ["A time-driven pool needs its practical capacity in minutes (more than 0)."]
    if pool.key == AllocationKey.DIRECT and not pool.customer_id:
        errors["customer"] = ["A direct pool is booked to one customer: choose the customer."]
    if pool.key != AllocationKey.DIRECT and pool.customer_id:
        errors["customer"] = ["Only a direct pool names a customer; clear the customer or choose the key 'direct'."]
    weights = ("weight_top", "weight_big", "weight_medium", "weight_small")
    for w in weights:
        if getattr(pool, w) is not None and getattr(pool, w) < 0:
            errors[w] = ["Weights cannot be negative."]
    if pool.key == AllocationKey.PER_LEVEL and all(getattr(pool, w) == 0 for w in weights):
        errors["weight_top"] = ["All level weights are 0: give at least one level a weight above 0."]
    for f in ("minutes_per_order", "minutes_per_line"):
        if getattr(pool, f) is not None and getattr(pool, f) < 0:
            errors[f] = ["Minutes cannot be negative."]
    if errors:
        raise ValidationError(errors)


def cost_pool_create(*, period: Period, acting_user, **values) -> CostPool:
    period_writable(period)
    pool = CostPool(period=period, **values)
    cost_pool_validate(pool)
    with transaction.atomic():
        pool._history_user = acting_user
        pool.save()
        publish(CostsChanged(period_ids=(period.id,)))
    return pool


def cost_pool_update(*, pool: CostPool, acting_user, **values) -> CostPool:
    period_writable(pool.period_id)
    for key, value in values.items():
        setattr(pool, key, value)
    cost_pool_validate(pool)
    with transaction.atomic():
        cost_pool_history_baseline(pool=pool)
        pool._history_user = acting_user
        pool.save()
        publish(CostsChanged(period_ids=(pool.period_id,)))
    return pool


def cost_pool_history_baseline(*, pool: CostPool) -> None:
    """A pool loaded in bulk has no history: record its stored values before the first change, so the
    original version is shown and can be restored (the first change showed "– → Revenue")."""
    if pool.pk and not pool.history.exists():
        CostPool.history.bulk_history_create([CostPool.objects.get(pk=pool.pk)], update=False)


def cost_pool_delete(*, pool: CostPool, acting_user) -> None:
    period_writable(pool.period_id)
    with transaction.atomic():
        # Lock the row before Django collects the pool's result rows: a recompute storing results
        # holds this lock (``_pool_results_store``), so no result can appear between the two.
        list(CostPool.objects.select_for_update().filter(pk=pool.pk).values_list("pk", flat=True))
        pool._history_user = acting_user
        period_id = pool.period_id
        pool.delete()
        publish(CostsChanged(period_ids=(period_id,)))


def cost_pool_revert(*, pool: CostPool, history_id: int, acting_user) -> CostPool:
    """Undo: put the pool back to the values of one of its history records."""
    record = pool.history.filter(history_id=history_id).first()
    if record is None:
        raise ValidationError("That history record does not belong to this pool.")
    values = {f: getattr(record, f if f != "customer" else "customer_id") for f in POOL_FIELDS}
    values["customer_id"] = values.pop("customer")
    return cost_pool_update(pool=pool, acting_user=acting_user, **values)


def period_finance_update(*, period: Period, interest_rate: Decimal, acting_user) -> PeriodFinance:
    period_writable(period, field="interest_rate")
    finance = PeriodFinance.objects.filter(period=period).first() or PeriodFinance(period=period)
    finance.interest_rate = interest_rate
    finance.full_clean()
    if finance.interest_rate > 100:
        raise ValidationError(
            {"interest_rate": ["The yearly interest rate is a percentage of at most 100 (6 for 6 %)."]}
        )
    with transaction.atomic():
        finance._history_user = acting_user
        finance.save()
        publish(CostsChanged(period_ids=(period.id,)))
    return finance


# --- imports ----------------------------------------------------------------------------------

COST_LAYOUT = Layout(
    ("period", "pool", "amount", "key"),
    (
        "nature",
        "weight_top",
        "weight_big",
        "weight_medium",
        "weight_small",
        "capacity_minutes",
        "minutes_per_order",
        "minutes_per_line",
        "customer_id",
    ),
)
INVOICE_LAYOUT = Layout(("customer_id", "invoice_id", "amount", "issued", "due"), ("paid",))


def cost_pools_import(*, path: str | Path, acting_user=None, progress=None) -> ImportResult:
    """Upsert cost pools by (period, pool name); all or nothing. Finance only."""
    policy.import_scope(acting_user, "costs")
    customers = dict(Customer.objects.values_list("external_id", "id"))
    errors = ErrorList()
    frames = []
    closed = {str(name) for name in closed_period_names()}
    for chunk in read_chunks(path, COST_LAYOUT):
        errors.add_mask(
            chunk,
            ~chunk["period"].str.fullmatch(r"\d{4}"),
            "period",
            "write the period as the fiscal year in which it starts, e.g. 2024",
        )
        names = {int(p) for p in chunk["period"] if p.isdigit()}
        for name in periods_outside_window(names=names):
            errors.add_mask(chunk, chunk["period"] == str(name), "period", date_window_reason())
        errors.add_mask(chunk, chunk["pool"] == "", "pool", "missing pool name")
        errors.add_mask(chunk, too_long(chunk["pool"], 100), "pool", "longer than 100 characters")
        amount, bad = parse_money_cents(chunk["amount"])
        errors.add_mask(chunk, bad, "amount", "not a number; write amounts like 12500.00 or 12500,00")
        errors.add_mask(chunk, ~bad & (amount < 0), "amount", "a cost pool cannot be negative")
        key = chunk["key"].str.lower()
        errors.add_mask(
            chunk,
            ~key.isin(AllocationKey.values),
            "key",
            "unknown allocation key; use one of " + ", ".join(AllocationKey.values),
        )
        nature = chunk["nature"].str.lower().replace("", Nature.FIXED)
        errors.add_mask(chunk, ~nature.isin(Nature.values), "nature", "use fixed or variable")
        parsed = {"amount_cents": amount, "key": key, "nature": nature}
        for col in ("weight_top", "weight_big", "weight_medium", "weight_small"):
            val, bad = parse_number(chunk[col], default=1.0)
            errors.add_mask(chunk, bad | (val < 0), col, "a weight is a number of 0 or more")
            parsed[col] = val
        for col in ("capacity_minutes", "minutes_per_order", "minutes_per_line"):
            val, bad = parse_number(chunk[col], default=0.0)
            errors.add_mask(chunk, bad | (val < 0), col, "minutes are a number of 0 or more")
            parsed[col] = val
        errors.add_mask(
            chunk,
            (key == "time_driven") & (parsed["capacity_minutes"] <= 0),
            "capacity_minutes",
            "a time_driven pool needs its practical capacity in minutes",
        )
        cust = chunk["customer_id"].map(customers)
        errors.add_mask(
            chunk,
            (key == "direct") & (chunk["customer_id"] == ""),
            "customer_id",
            "a direct pool needs the customer it is booked to",
        )
        errors.add_mask(chunk, (chunk["customer_id"] != "") & cust.isna(), "customer_id", "unknown customer")
        errors.add_mask(
            chunk,
            (key != "direct") & (chunk["customer_id"] != ""),
            "customer_id",
            "only a direct pool names a customer; leave it empty or use key direct",
        )
        dup = chunk.duplicated(["period", "pool"], keep=False)
        errors.add_mask(chunk, dup, "pool", "the same pool appears twice for this period")
        frames.append(chunk.assign(customer_pk=cust, **parsed))
    data = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    stored = _stored_pools(data)
    if closed and len(data):
        # A row equal to the stored pool is unchanged, also in a closed period; any other row of a
        # closed period is a row error naming it.
        writes = pd.Series(
            [_pool_write_needed(r, stored) for r in data.itertuples(index=False)], index=data.index, dtype=bool
        )
        for name in sorted(closed & set(data["period"])):
            errors.add_mask(data, writes & (data["period"] == name), "period", closed_period_message(name))
    errors.raise_if_any()
    result = ImportResult("costs")
    with transaction.atomic():
        changes = []
        for r in data.itertuples(index=False):
            result.rows += 1
            if not _pool_write_needed(r, stored):
                result.unchanged += 1
                continue
            changes.append((r, _pool_values(r), stored.get((int(r.period), r.pool))))
        period_ids = periods_for_write(names={int(r.period) for r, _v, _p in changes})
        for r, values, pool in changes:
            if pool is None:
                pool = CostPool(period_id=period_ids[int(r.period)], name=r.pool)
            for k, v in values.items():
                setattr(pool, k, v)
            pool._history_user = acting_user
            pool.save()
            known = (int(r.period), r.pool) in stored
            result.created += not known
            result.updated += known
        if result.created or result.updated:
            publish(CostsChanged(period_ids=tuple(period_ids.values())))
        result.periods = sorted({int(p) for p in data["period"].unique()}) if len(data) else []
    return result


def _pool_values(r) -> dict:
    """The stored fields of a checked cost-pool import row."""
    return dict(
        amount=Decimal(int(r.amount_cents)).scaleb(-2),
        key=r.key,
        nature=r.nature,
        weight_top=Decimal(str(r.weight_top)),
        weight_big=Decimal(str(r.weight_big)),
        weight_medium=Decimal(str(r.weight_medium)),
        weight_small=Decimal(str(r.weight_small)),
        capacity_minutes=Decimal(str(r.capacity_minutes)) if r.key == "time_driven" else None,
        minutes_per_order=Decimal(str(r.minutes_per_order)),
        minutes_per_line=Decimal(str(r.minutes_per_line)),
        customer_id=None if pd.isna(r.customer_pk) else int(r.customer_pk),
    )


def _stored_pools(data: pd.DataFrame) -> dict[tuple[int, str], CostPool]:
    """{(period name, pool name): pool} of the pools the rows name (one query)."""
    if not len(data):
        return {}
    names = {int(p) for p in data["period"].unique() if str(p).isdigit()}
    pools = CostPool.objects.filter(period__name__in=names, name__in=set(data["pool"])).select_related("period")
    return {(pool.period.name, pool.name): pool for pool in pools}


def _pool_write_needed(r, stored: dict) -> bool:
    """False when the row equals its stored pool (an unchanged row), True otherwise."""
    pool = stored.get((int(r.period), r.pool)) if str(r.period).isdigit() else None
    if pool is None:
        return True
    try:
        values = _pool_values(r)
    except (ValueError, TypeError, ArithmeticError):  # a row with errors of its own
        return True
    return not all(getattr(pool, k) == v for k, v in values.items())


def invoices_import(*, path: str | Path, acting_user=None, progress=None) -> ImportResult:
    """Upsert invoices by invoice_id; all or nothing."""
    from customers.selectors import pyramid_settings_get
    from customers.services import fiscal_year_of

    scope = policy.import_scope(acting_user, "invoices")
    customers = scope.customers()
    errors, seen = ErrorList(), set()
    for chunk in read_chunks(path, INVOICE_LAYOUT):
        _validate_invoices(chunk, errors, customers, seen)
        errors.add_mask(
            chunk,
            chunk["invoice_id"].isin(scope.foreign_keys(Invoice.objects.all(), chunk["invoice_id"])),
            "invoice_id",
            "this invoice id is an invoice of a customer outside your teams; you may not change it",
        )
    errors.raise_if_any()
    start_month = pyramid_settings_get().fiscal_year_start_month
    result = ImportResult("invoices")
    touched: set[int] = set()
    with transaction.atomic():
        fields = ("customer_id", "amount", "issued", "due", "paid", "period_id")
        for chunk in read_chunks(path, INVOICE_LAYOUT):
            chunk = _validate_invoices(chunk, ErrorList(), customers, set())
            fy = fiscal_year_of(chunk["issued_d"], start_month)
            stored = {
                row[0]: row[1:]
                for row in Invoice.objects.filter(external_id__in=list(chunk["invoice_id"])).values_list(
                    "external_id", *fields
                )
            }
            # Rows equal to what is stored are unchanged, also in a closed period: only the rows that
            # write go through the choke point (their new period and the one they leave).
            known = dict(Period.objects.filter(name__in=set(fy.unique().tolist())).values_list("name", "id"))
            objs = [
                Invoice(
                    external_id=r.invoice_id,
                    customer_id=int(r.customer_pk),
                    amount=Decimal(int(r.amount_cents)).scaleb(-2),
                    issued=r.issued_d.date(),
                    due=r.due_d.date(),
                    paid=None if pd.isna(r.paid_d) else r.paid_d.date(),
                    period_id=known.get(int(y)),
                )
                for r, y in zip(chunk.itertuples(index=False), fy, strict=True)
            ]
            new = sum(o.external_id not in stored for o in objs)
            writes = [
                (o, int(y))
                for o, y in zip(objs, fy, strict=True)
                if stored.get(o.external_id) != tuple(getattr(o, f) for f in fields)
            ]
            left = {stored[o.external_id][-1] for o, _y in writes if o.external_id in stored}
            period_ids = periods_for_write(
                names={y for _o, y in writes} | set(Period.objects.filter(id__in=left).values_list("name", flat=True))
            )
            objs = []
            for o, y in writes:
                o.period_id = period_ids[y]
                objs.append(o)
            touched.update(left)
            result.rows += len(chunk)
            result.created += new
            result.updated += len(objs) - new
            result.unchanged += len(chunk) - len(objs)
            if not objs:
                continue
            Invoice.objects.bulk_create(
                objs,
                batch_size=2000,
                update_conflicts=True,
                unique_fields=["external_id"],
                update_fields=["customer", "amount", "issued", "due", "paid", "period"],
            )
            touched.update(period_ids.values())
        if result.created or result.updated:
            publish(InvoicesChanged(period_ids=tuple(touched)))
        result.periods = sorted(Period.objects.filter(id__in=touched).values_list("name", flat=True))
    return result


def _validate_invoices(chunk: pd.DataFrame, errors: ErrorList, customers: dict, seen: set) -> pd.DataFrame:
    cust = chunk["customer_id"].map(customers)
    errors.add_mask(chunk, cust.isna(), "customer_id", "unknown customer; import the customer first")
    errors.add_mask(chunk, chunk["invoice_id"] == "", "invoice_id", "missing invoice id")
    errors.add_mask(chunk, too_long(chunk["invoice_id"], 64), "invoice_id", "longer than 64 characters")
    dup = chunk["invoice_id"].duplicated(keep=False) | chunk["invoice_id"].isin(seen)
    errors.add_mask(chunk, dup & (chunk["invoice_id"] != ""), "invoice_id", "the invoice id appears twice in the file")
    seen.update(chunk["invoice_id"])
    amount, bad = parse_money_cents(chunk["amount"])
    errors.add_mask(chunk, bad, "amount", "not a number; write amounts like 1234.56 or 1234,56")
    issued, bad_i = parse_date(chunk["issued"])
    errors.add_mask(chunk, bad_i, "issued", "not a date; write it as YYYY-MM-DD")
    due, bad_d = parse_date(chunk["due"])
    errors.add_mask(chunk, bad_d, "due", "not a date; write it as YYYY-MM-DD")
    errors.add_mask(chunk, ~bad_i & ~bad_d & (due < issued), "due", "the due date is before the issue date")
    paid, bad_p = parse_date(chunk["paid"], required=False)
    errors.add_mask(chunk, bad_p, "paid", "not a date; write it as YYYY-MM-DD or leave it empty while open")
    for column, parsed, bad_parse in (("issued", issued, bad_i), ("due", due, bad_d), ("paid", paid, bad_p)):
        errors.add_mask(chunk, ~bad_parse & outside_date_window(parsed), column, date_window_reason())
    chunk = chunk.assign(customer_pk=cust, amount_cents=amount, issued_d=issued, due_d=due, paid_d=paid)
    _closed_invoice_errors(chunk, errors, valid=~bad_i & cust.notna() & ~bad & ~bad_d & ~bad_p)
    return chunk


def _closed_invoice_errors(chunk: pd.DataFrame, errors: ErrorList, *, valid: pd.Series) -> None:
    """Rows that would write into a closed period (their issue date's, or the one a stored invoice
    leaves) are row errors naming the period; a row equal to the stored invoice is unchanged and
    accepted, as the orders import does."""
    closed = closed_period_names()
    if not closed:
        return
    unchanged = _invoice_unchanged(chunk)
    add_closed_period_errors(chunk, errors, chunk["issued_d"].where(valid & ~unchanged), "issued")
    left = dict(
        Invoice.objects.filter(external_id__in=list(chunk["invoice_id"]), period__name__in=closed).values_list(
            "external_id", "period__name"
        )
    )
    from customers.selectors import pyramid_settings_get

    issued = chunk["issued_d"]
    start_month = pyramid_settings_get().fiscal_year_start_month
    own = issued.dt.year - (issued.dt.month < start_month).astype("float64")  # NaN where no date
    names = chunk["invoice_id"].map(left)
    leaving = names.notna() & ~unchanged & (own != names)  # staying: reported above
    for name in sorted(set(left.values())):
        errors.add_mask(chunk, leaving & (names == name), "issued", closed_period_message(name))


def _invoice_unchanged(chunk: pd.DataFrame) -> pd.Series:
    """Rows whose customer, amount and dates equal the stored invoice's."""
    stored = {
        row[0]: row[1:]
        for row in Invoice.objects.filter(external_id__in=list(chunk["invoice_id"])).values_list(
            "external_id", "customer_id", "amount", "issued", "due", "paid"
        )
    }
    if not stored:
        return pd.Series(False, index=chunk.index)

    def same(r) -> bool:
        old = stored.get(r.invoice_id)
        if old is None or pd.isna(r.customer_pk) or pd.isna(r.amount_cents) or pd.isna(r.issued_d):
            return False
        paid = None if pd.isna(r.paid_d) else r.paid_d.date()
        due = None if pd.isna(r.due_d) else r.due_d.date()
        new = (int(r.customer_pk), Decimal(int(r.amount_cents)).scaleb(-2), r.issued_d.date(), due, paid)
        return old == new

    return pd.Series([same(r) for r in chunk.itertuples(index=False)], index=chunk.index, dtype=bool)


def cost_pools_copy(*, source: Period, target: Period, acting_user) -> int:
    """Copy the cost pools of ``source`` (keys, weights, time-driven parameters, direct customer) and
    its interest rate into ``target``; pools ``target`` already has by name are left alone. Returns
    the number of pools copied. One transaction, history rows, CostsChanged on commit."""
    period_writable(target)
    if source.pk == target.pk:
        raise ValidationError({"copy_pools_from": ["Copy the pools from another period."]})
    taken = set(CostPool.objects.filter(period=target).values_list("name", flat=True))
    copied = 0
    with transaction.atomic():
        for pool in CostPool.objects.filter(period=source).order_by("name"):
            if pool.name in taken:
                continue
            values = {f: getattr(pool, f) for f in POOL_FIELDS if f != "customer"}
            copy = CostPool(period=target, customer_id=pool.customer_id, **values)
            copy._history_user = acting_user
            copy.save()
            copied += 1
        rate = PeriodFinance.objects.filter(period=source).values_list("interest_rate", flat=True).first()
        if rate is not None and not PeriodFinance.objects.filter(period=target).exists():
            finance = PeriodFinance(period=target, interest_rate=rate)
            finance._history_user = acting_user
            finance.save()
        publish(CostsChanged(period_ids=(target.id,)))
    return copied
