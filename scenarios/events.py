"""Events of the scenarios app and the value-segment stage it runs."""

from dataclasses import dataclass

from accounting.events import ProfitRecomputed
from config.eventbus import Event, subscribe


@dataclass(frozen=True)
class SurveysChanged(Event):
    """Survey responses changed: product value and segments move."""


@dataclass(frozen=True)
class ValueSettingsChanged(Event):
    """Horizon, discount rate or segment thresholds changed."""


VALUE_TASK = "scenarios.tasks.recompute_value"
for _event in (ProfitRecomputed, SurveysChanged, ValueSettingsChanged):
    subscribe(_event, stage="value", task_name=VALUE_TASK)
