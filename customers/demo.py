"""The demo: load it app by app, and the customers app's own part of it.

:func:`demo_load` computes the shared plan (``customers.demo_plan``: seeded, pure) and hands it to
every seeder named in the setting ``DEMO_SEEDERS``, in that order, each a module with
``seed(*, plan, progress)`` that writes only its own app's tables, through that app's services::

    DEMO_SEEDERS = ["customers.demo", "accounting.demo", "scenarios.demo", "salesforce_tasks.demo"]

The modules are imported by name at run time (``importlib``), so this core app never imports an
app above it; a seeder may leave data for the ones after it in ``plan.parts``. All seeders write
in one transaction; then every period is recomputed in-process, and each seeder that has
``seed_after_recompute(*, plan, progress)`` runs it (proposed actions need the stored profit for
their what-if).

This module's part (:func:`seed`): the periods (``period_services.period_open``), products,
customers (without owner pair: the sales force assigns portfolios) and orders with their lines
(``bulk_services``).
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass, field
from decimal import Decimal
from types import ModuleType

from django.conf import settings

from .demo_plan import YEARS, DemoPlan, demo_plan, demo_users

__all__ = ["YEARS", "DemoPlan", "DemoSummary", "demo_load", "demo_plan", "demo_seeders", "demo_users", "seed"]


@dataclass
class DemoSummary:
    customers: int
    orders: int
    lines: int
    periods: int
    seconds: float = 0.0
    revenue_by_period: dict[int, Decimal] = field(default_factory=dict)
    recompute_warning: str = ""

    def line(self) -> str:
        revenue = ", ".join(f"{year}: EUR {amount:,.0f}" for year, amount in self.revenue_by_period.items())
        return (
            f"Demo loaded: {self.customers} customers, {self.orders} orders, {self.lines} order lines, "
            f"{self.periods} periods ({revenue}) in {self.seconds:.1f} s."
        )


def seed(*, plan: DemoPlan, progress=None) -> None:
    """Periods, products, customers, orders and lines of the plan; fills ``plan.customer_ids``."""
    from .bulk_services import customers_bulk_create, orders_bulk_create, products_bulk_ensure
    from .period_services import period_open

    for year in YEARS:
        period_open(name=year, acting_user=None)
    product_ids = products_bulk_ensure(products=plan.products[["code", "name", "group"]])
    plan.customer_ids = customers_bulk_create(
        customers=plan.customers[["external_id", "name", "status", "industry", "city", "created"]]
    )
    product_pk = plan.products["code"].map(product_ids).to_numpy()
    orders_bulk_create(
        orders=plan.orders.assign(customer_id=plan.customer_ids[plan.orders["customer"].to_numpy()])[
            ["external_id", "customer_id", "date"]
        ],
        lines=plan.lines.assign(product_id=product_pk[plan.lines["product"].to_numpy()])[
            ["order", "line_no", "amount_cents", "cost_cents", "quantity", "product_id"]
        ],
    )


def demo_seeders() -> list[ModuleType]:
    """The seeder modules of ``settings.DEMO_SEEDERS``, in order (imported by name, never upward)."""
    return [importlib.import_module(name) for name in settings.DEMO_SEEDERS]


def demo_load(*, customers: int = 2000, seed: int = 42, progress=None) -> DemoSummary:
    """Plan the demo, let every seeder write its part, then recompute every period in-process.

    ``progress``: called with one line of text at the start of each step (generate, write,
    recompute) so a command can show where it is; None for silence.

    The recompute of stages whose service is not there yet (AttributeError/ImportError) is
    reported in ``recompute_warning`` and left dirty for later; everything else propagates.
    """
    from django.db import transaction

    from config.eventbus import drain, request_stage

    from .models import Period

    started = time.monotonic()

    def step(number: int, text: str) -> None:
        if progress is not None:
            progress(f"[{number}/3] {text} ({time.monotonic() - started:.0f} s)")

    step(1, f"Generating {customers:,} customers with their orders, costs and visits")
    plan = demo_plan(customers=customers, seed=seed)
    seeders = demo_seeders()
    step(2, f"Writing {len(plan.customers):,} customers and {len(plan.lines):,} order lines")
    with transaction.atomic():
        for module in seeders:
            module.seed(plan=plan, progress=progress)
        all_period_ids = list(Period.objects.values_list("id", flat=True))
        request_stage(period_ids=all_period_ids, stage="pyramid")
    warning = ""
    step(3, f"Recomputing pyramid, profit and customer value of {len(all_period_ids)} periods")
    try:
        drain(timeout=600)
    except (AttributeError, ImportError) as exc:
        warning = (
            f"Recomputation stopped ({type(exc).__name__}: {exc}); the dirty stages run once their service exists."
        )
    with transaction.atomic():
        for module in seeders:
            if hasattr(module, "seed_after_recompute"):
                module.seed_after_recompute(plan=plan, progress=progress)
    revenue = plan.lines.groupby("year")["amount_cents"].sum()
    return DemoSummary(
        customers=len(plan.customers),
        orders=len(plan.orders),
        lines=len(plan.lines),
        periods=len(YEARS),
        seconds=time.monotonic() - started,
        revenue_by_period={int(y): Decimal(int(c)).scaleb(-2) for y, c in revenue.items()},
        recompute_warning=warning,
    )
