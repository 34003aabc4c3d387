"""The accounting app's part of the demo: invoices, cost pools and the interest rate.

``seed(*, plan, progress)`` (run by ``customers.demo.demo_load``, see ``settings.DEMO_SEEDERS``)
plans this app's data from the shared core plan with its own random stream, writes it through
this app's services (the invoices import, ``cost_pool_create``, ``period_finance_update``) and
passes up, as data for the seeders after it, the pools (``plan.parts["accounting"]``) and each
customer's estimated profit (``plan.facts["estimated_profit_cents"]``).

The cost to serve is about 60-80 % of gross margin, so many small customers who order often or
are visited a lot lose money.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

from customers.demo_plan import CENTS_PER_100_EUR, LAST_YEAR, YEARS, DemoPlan, app_rng, csv_file

CTS_RATIO = {2023: 0.76, 2024: 0.77, 2025: 0.79}  # cost to serve / gross margin
LOGISTICS_CAPACITY = {2023: 1.10, 2024: 1.10, 2025: 0.96}  # practical capacity / demand
MINUTES_PER_ORDER = 12
MINUTES_PER_LINE = 2
# name, share of the spread pools, key, nature
POOLS: tuple[tuple[str, float, str, str], ...] = (
    ("Buitendienst", 0.26, "visit_minutes", "fixed"),
    ("Binnendienst", 0.15, "orders", "fixed"),
    ("Orderverwerking", 0.12, "order_lines", "variable"),
    ("Logistiek", 0.25, "time_driven", "variable"),
    ("Marketing", 0.05, "per_level", "fixed"),
    ("Klantenservice", 0.05, "per_customer", "fixed"),
    ("Debiteurenbeheer", 0.12, "revenue", "variable"),
)
LEVEL_WEIGHTS = {"top": 4, "big": 3, "medium": 2, "small": 1}
INTEREST_RATE = Decimal("6")


@dataclass
class AccountingPlan:
    """invoices: external_id, customer (position), order, amount_cents, issued, due, paid (NaT when open), year
    pools: year, name, amount_cents, nature, key, weight_top..weight_small, capacity_minutes,
        minutes_per_order, minutes_per_line, customer (position or -1)
    facts: the core plan's facts with ``estimated_profit_cents``
    """

    invoices: pd.DataFrame
    pools: pd.DataFrame
    facts: pd.DataFrame


def accounting_plan(plan: DemoPlan) -> AccountingPlan:
    """This app's frames for the plan. Pure: the same plan gives the same frames."""
    rng = app_rng(plan.seed, "accounting")
    invoices = _invoices(rng, plan.customers, plan.orders, plan.lines)
    pools = _pools(rng, plan.customers, plan.facts)
    return AccountingPlan(invoices=invoices, pools=pools, facts=_with_estimated_profit(plan.facts, pools))


def seed(*, plan: DemoPlan, progress=None) -> None:
    """Write the invoices (the invoices import), the pools with their first history version and the
    interest rate of every demo period; leave the pools and the estimated profit in the plan."""
    from customers.models import Period

    from .services import cost_pool_create, invoices_import, period_finance_update

    part = accounting_plan(plan)
    inv = part.invoices
    rows = pd.DataFrame(
        {
            "customer_id": plan.customers["external_id"].to_numpy()[inv["customer"].to_numpy()],
            "invoice_id": inv["external_id"],
            "amount": _decimal_text(inv["amount_cents"]),
            "issued": pd.to_datetime(inv["issued"]).dt.strftime("%Y-%m-%d"),
            "due": pd.to_datetime(inv["due"]).dt.strftime("%Y-%m-%d"),
            "paid": pd.to_datetime(inv["paid"]).dt.strftime("%Y-%m-%d").fillna(""),
        }
    )
    with csv_file(rows) as path:
        invoices_import(path=path, acting_user=None)
    periods = {p.name: p for p in Period.objects.filter(name__in=YEARS)}
    for p in part.pools.itertuples(index=False):
        cost_pool_create(
            period=periods[p.year],
            acting_user=None,
            name=p.name,
            amount=Decimal(int(p.amount_cents)).scaleb(-2),
            nature=p.nature,
            key=p.key,
            weight_top=Decimal(str(p.weight_top)),
            weight_big=Decimal(str(p.weight_big)),
            weight_medium=Decimal(str(p.weight_medium)),
            weight_small=Decimal(str(p.weight_small)),
            capacity_minutes=None if pd.isna(p.capacity_minutes) else Decimal(int(p.capacity_minutes)),
            minutes_per_order=Decimal(str(p.minutes_per_order)),
            minutes_per_line=Decimal(str(p.minutes_per_line)),
            customer_id=None if p.customer < 0 else int(plan.customer_ids[p.customer]),
        )
    for period in periods.values():
        period_finance_update(period=period, interest_rate=INTEREST_RATE, acting_user=None)
    plan.parts["accounting"] = part
    plan.facts = part.facts


def _decimal_text(cents: pd.Series) -> list[str]:
    return [str(Decimal(int(c)).scaleb(-2)) for c in cents.tolist()]


def _invoices(rng: np.random.Generator, cust: pd.DataFrame, orders: pd.DataFrame, lines: pd.DataFrame) -> pd.DataFrame:
    totals = np.bincount(lines["order"], weights=lines["amount_cents"], minlength=len(orders)).astype(np.int64)
    pick = (totals > 0) & (rng.random(len(orders)) < 1 / 3)
    chosen = orders.loc[pick, ["customer", "year", "date"]].reset_index(names="order")
    pay_type = cust["pay_type"].to_numpy()[chosen["customer"]]
    mean_delay = np.array([3.0, 14.0, 40.0])[pay_type]
    delay = np.clip(np.round(rng.exponential(mean_delay)), 0, 90).astype(np.int64)
    open_p = np.array([0.01, 0.04, 0.15])[pay_type]
    is_open = (chosen["year"].to_numpy() == LAST_YEAR) & (rng.random(len(chosen)) < open_p)
    issued = chosen["date"].to_numpy().astype("datetime64[D]")
    due = issued + np.timedelta64(30, "D")
    paid = due + delay.astype("timedelta64[D]")
    seq = chosen.groupby("year").cumcount() + 1
    return pd.DataFrame(
        {
            "external_id": [f"F{y}-{s:06d}" for y, s in zip(chosen["year"], seq, strict=True)],
            "customer": chosen["customer"].to_numpy(),
            "order": chosen["order"].to_numpy(),
            "amount_cents": totals[chosen["order"].to_numpy()],
            "issued": issued,
            "due": due,
            "paid": np.where(is_open, np.datetime64("NaT"), paid),
            "year": chosen["year"].to_numpy(),
        }
    )


def _pools(rng: np.random.Generator, cust: pd.DataFrame, facts: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for year in YEARS:
        f = facts[(facts["year"] == year) & facts["active"]]
        cost_to_serve = CTS_RATIO[year] * f["gross_margin_cents"].sum()
        demand = MINUTES_PER_ORDER * f["orders"].sum() + MINUTES_PER_LINE * f["order_lines"].sum()
        demand += f["visit_minutes"].sum()
        for name, share, key, nature in POOLS:
            amount = int(round(cost_to_serve * share / CENTS_PER_100_EUR)) * CENTS_PER_100_EUR
            row = {"year": year, "name": name, "amount_cents": amount, "nature": nature, "key": key, "customer": -1}
            if key == "per_level":
                row.update({f"weight_{level}": w for level, w in LEVEL_WEIGHTS.items()})
            if key == "time_driven":
                row.update(
                    capacity_minutes=round(demand * LOGISTICS_CAPACITY[year]),
                    minutes_per_order=MINUTES_PER_ORDER,
                    minutes_per_line=MINUTES_PER_LINE,
                )
            rows.append(row)
        # direct pools: a bad-debt write-off on a late payer, special logistics for a big customer
        late = f[(cust["pay_type"].to_numpy()[f["customer"]] == 2) & (f["revenue_cents"] > 1_000_000)]
        debtor = (late if len(late) else f).iloc[int(rng.integers(0, len(late) if len(late) else len(f)))]
        write_off = int(np.clip(debtor["revenue_cents"] * rng.uniform(0.15, 0.4), 150_000, 1_500_000))
        rows.append(
            {
                "year": year,
                "name": f"Afschrijving debiteur {debtor['external_id']}",
                "amount_cents": write_off,
                "nature": "variable",
                "key": "direct",
                "customer": int(debtor["customer"]),
            }
        )
        bigs = f[f["level"].isin(["top", "big"])]
        special = bigs.iloc[int(rng.integers(0, len(bigs)))]
        rows.append(
            {
                "year": year,
                "name": f"Spoedleveringen {special['external_id']}",
                "amount_cents": int(rng.integers(80, 200)) * CENTS_PER_100_EUR,
                "nature": "variable",
                "key": "direct",
                "customer": int(special["customer"]),
            }
        )
    pools = pd.DataFrame(rows)
    for level in LEVEL_WEIGHTS:
        pools[f"weight_{level}"] = pools.get(f"weight_{level}", pd.Series(dtype=float)).fillna(1)
    for col in ("minutes_per_order", "minutes_per_line"):
        pools[col] = pools[col].fillna(0)
    return pools


def _with_estimated_profit(facts: pd.DataFrame, pools: pd.DataFrame) -> pd.DataFrame:
    """A float approximation of DOMAIN section 5 (no financing cost): good enough to pick targets."""
    parts = []
    for year in YEARS:
        f = facts[facts["year"] == year]
        active = f["active"].to_numpy()
        cost = np.zeros(len(f))
        drivers = {
            "per_customer": active.astype(float),
            "revenue": np.maximum(f["revenue_cents"].to_numpy(), 0),
            "orders": f["orders"].to_numpy(),
            "order_lines": f["order_lines"].to_numpy(),
            "visit_minutes": f["visit_minutes"].to_numpy(),
        }
        for pool in pools[pools["year"] == year].itertuples(index=False):
            if pool.key == "direct":
                cost += np.where(f["customer"].to_numpy() == pool.customer, pool.amount_cents, 0)
                continue
            if pool.key == "per_level":
                driver = f["level"].map(LEVEL_WEIGHTS).fillna(0).to_numpy()
            elif pool.key == "time_driven":
                minutes = (
                    pool.minutes_per_order * f["orders"] + pool.minutes_per_line * f["order_lines"] + f["visit_minutes"]
                ).to_numpy()
                driver = np.where(active, minutes, 0)
                cost += pool.amount_cents * driver / max(driver.sum(), pool.capacity_minutes)
                continue
            else:
                driver = drivers[pool.key]
            driver = np.where(active, driver, 0)
            cost += pool.amount_cents * driver / max(driver.sum(), 1)
        parts.append(pd.Series(f["gross_margin_cents"].to_numpy() - cost, index=f.index))
    return facts.assign(estimated_profit_cents=pd.concat(parts).round().astype("int64"))
