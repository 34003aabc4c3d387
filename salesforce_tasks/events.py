"""Events of the sales-force app. Visits feed the visits/visit_minutes/time_driven keys."""

from dataclasses import dataclass

from config.eventbus import Event, subscribe


@dataclass(frozen=True)
class VisitsChanged(Event):
    """Visits were logged, changed or deleted in these periods."""


subscribe(VisitsChanged, stage="profit", task_name="accounting.tasks.recompute_profit")
