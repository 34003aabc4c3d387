"""Events of the accounting app and the profit stage it runs."""

from dataclasses import dataclass

from config.eventbus import Event, subscribe
from customers.events import PyramidRecomputed


@dataclass(frozen=True)
class CostsChanged(Event):
    """Cost pools, their keys or the period's interest rate changed."""


@dataclass(frozen=True)
class InvoicesChanged(Event):
    """Invoices changed: the financing cost of late payment moves."""


@dataclass(frozen=True)
class ProfitRecomputed(Event):
    """A period's customer profit was rewritten."""


PROFIT_TASK = "accounting.tasks.recompute_profit"
for _event in (PyramidRecomputed, CostsChanged, InvoicesChanged):
    subscribe(_event, stage="profit", task_name=PROFIT_TASK)
