"""Celery tasks of the accounting app: thin shells around services."""

from celery import shared_task

from config.eventbus import run_stage

from . import services


@shared_task(name="accounting.tasks.recompute_profit", acks_late=True, ignore_result=True)
def recompute_profit(period_id: int) -> int:
    return run_stage(period_id=period_id, stage="profit", compute=services.profit_store)
