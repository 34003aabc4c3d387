"""Celery tasks of the customers app: thin shells around services."""

from celery import shared_task

from config.eventbus import run_stage

from . import services


@shared_task(name="customers.tasks.recompute_pyramid", acks_late=True, ignore_result=True)
def recompute_pyramid(period_id: int) -> int:
    return run_stage(period_id=period_id, stage="pyramid", compute=services.pyramid_store)
