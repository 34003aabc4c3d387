"""Events published by the customers app, and the pyramid stage it runs for them."""

from dataclasses import dataclass

from django.dispatch import Signal

from config.eventbus import Event, subscribe

#: Sent (synchronously, inside the writer's transaction) before the fiscal years are re-cut after a
#: change of start month, with ``start_month``. A receiver of a higher app that holds data cut by
#: the current periods vetoes by raising ``ValidationError`` (accounting: cost pools exist). The
#: core so asks without importing the app that answers.
periods_recut_requested = Signal()


@dataclass(frozen=True)
class OrdersChanged(Event):
    """Orders or order lines changed in these periods (and so in every later one)."""


@dataclass(frozen=True)
class CustomersChanged(Event):
    """Customer records (status, owner) changed."""


@dataclass(frozen=True)
class PyramidSettingsChanged(Event):
    """The pyramid scheme or fiscal year changed: every period's levels may move."""


@dataclass(frozen=True)
class PyramidRecomputed(Event):
    """A period's stored levels were rewritten."""


PYRAMID_TASK = "customers.tasks.recompute_pyramid"
for _event in (OrdersChanged, CustomersChanged, PyramidSettingsChanged):
    subscribe(_event, stage="pyramid", task_name=PYRAMID_TASK)
