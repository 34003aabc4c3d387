"""Events of the accounting app and the profit stage it runs."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.dispatch import receiver
from django.utils.translation import gettext

from config.eventbus import Event, subscribe
from customers.events import PyramidRecomputed, periods_recut_requested


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


@receiver(periods_recut_requested, dispatch_uid="accounting.refuse_recut_with_cost_pools")
def refuse_recut_with_cost_pools(sender, start_month: int, **kwargs) -> None:
    """Cost pools are set per period: a new fiscal year cut would leave them on the wrong periods."""
    from .selectors import periods_with_costs

    if periods_with_costs():
        raise ValidationError(
            gettext(
                "The fiscal year start cannot change while cost pools exist: their periods would no longer "
                "match. Delete the cost pools first, or keep the current start month."
            )
        )
