"""Celery tasks of the scenarios app: thin shells around services."""

from celery import shared_task
from django.conf import settings

from config.eventbus import run_stage
from customers.figures_cache import period_figures_warm

from . import services


@shared_task(name="scenarios.tasks.recompute_value", acks_late=True, ignore_result=True)
def recompute_value(period_id: int) -> int:
    runs = run_stage(period_id=period_id, stage="value", compute=services.customer_value_store)
    if runs and not settings.CELERY_TASK_ALWAYS_EAGER:
        # Value is the last stage: build the pages' figures of the period now, in the background,
        # so the first view reads them (without a broker, the pages build them when asked).
        warm_period_figures.delay(period_id)
    return runs


@shared_task(name="scenarios.tasks.warm_period_figures", acks_late=True, ignore_result=True)
def warm_period_figures(period_id: int) -> int:
    return len(period_figures_warm(period_id=period_id, while_recomputing=False))
