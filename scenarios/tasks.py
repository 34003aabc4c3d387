"""Celery tasks of the scenarios app: thin shells around services."""

from celery import shared_task

from config.eventbus import run_stage

from . import services


@shared_task(name="scenarios.tasks.recompute_value", acks_late=True, ignore_result=True)
def recompute_value(period_id: int) -> int:
    return run_stage(period_id=period_id, stage="value", compute=services.customer_value_store)
