"""The stage chain runs in one task when the worker consumes the next stage's queue (issue 17,
``config.eventbus`` point 5); with the queues split over workers, the next stage is sent."""

import pytest
from celery.app.task import Task
from django.db.models import F

from config import eventbus
from customers.models import Computation
from customers.services import LineInput, order_upsert

ALL_QUEUES = {"customers", "accounting", "scenarios", "salesforce", "default"}


def _sent(monkeypatch) -> list:
    """Record every task sent through the broker instead of running it."""
    sent = []
    monkeypatch.setattr(Task, "apply_async", lambda self, args=None, **kw: sent.append((self.name, args[0])))
    return sent


def _change_an_order(small_dataset, monkeypatch):
    """Change an order (committed); the task its commit sends is recorded, not run."""
    from customers.models import Order

    sent = _sent(monkeypatch)

    order = Order.objects.filter(period=small_dataset[2025]).order_by("external_id").first()
    line = order.lines.order_by("line_no").first()
    order_upsert(
        external_id=order.external_id,
        customer=order.customer,
        date=order.date,
        lines=[LineInput(amount=line.amount + 10, cost=line.cost, quantity=line.quantity)],
    )
    assert ("customers.tasks.recompute_pyramid", order.period_id) in sent
    sent.clear()
    return order.period_id, sent


@pytest.mark.django_db(transaction=True)
def test_one_worker_on_every_queue_runs_the_chain(small_dataset, monkeypatch):
    period_id, sent = _change_an_order(small_dataset, monkeypatch)
    monkeypatch.setattr(eventbus, "consumed_queues", set(ALL_QUEUES))
    from customers.tasks import recompute_pyramid

    recompute_pyramid.run(period_id)
    assert sent == []  # nothing went through the broker
    assert Computation.objects.get(period_id=period_id, stage="pyramid").runs >= 1
    dirty = Computation.objects.filter(period_id=period_id).exclude(computed=F("requested"))
    assert list(dirty.values_list("stage", flat=True)) == []


@pytest.mark.django_db(transaction=True)
def test_a_worker_on_its_own_queue_sends_the_next_stage(small_dataset, monkeypatch):
    period_id, sent = _change_an_order(small_dataset, monkeypatch)
    monkeypatch.setattr(eventbus, "consumed_queues", {"customers"})
    from customers.tasks import recompute_pyramid

    recompute_pyramid.run(period_id)
    assert ("accounting.tasks.recompute_profit", period_id) in sent
    profit = Computation.objects.get(period_id=period_id, stage="profit")
    assert profit.computed < profit.requested  # left to the accounting worker


@pytest.mark.django_db(transaction=True)
def test_a_stream_of_requests_does_not_starve_the_next_stages(small_dataset, monkeypatch):
    """Requests keep arriving while the pyramid recomputes: the chain still runs profit and value after
    one pyramid run and hands the rest of the pyramid to the broker, instead of looping on the pyramid
    while it stays dirty (at a steady 20 orders/s that loop never ended and value waited minutes)."""
    import accounting.services
    import customers.services
    from customers.events import OrdersChanged

    period_id, sent = _change_an_order(small_dataset, monkeypatch)
    monkeypatch.setattr(eventbus, "consumed_queues", set(ALL_QUEUES))
    calls = []
    more_requests = [5]  # five orders commit while the pyramid recomputes

    def pyramid_store(pid, _real=customers.services.pyramid_store):
        calls.append("pyramid")
        _real(pid)
        if more_requests[0]:
            more_requests[0] -= 1
            eventbus.publish(OrdersChanged(period_ids=(pid,)))

    def profit_store(pid, _real=accounting.services.profit_store):
        calls.append("profit")
        _real(pid)

    monkeypatch.setattr(customers.services, "pyramid_store", pyramid_store)
    monkeypatch.setattr(accounting.services, "profit_store", profit_store)
    from customers.tasks import recompute_pyramid

    recompute_pyramid.run(period_id)
    assert calls[:2] == ["pyramid", "profit"]
    assert ("customers.tasks.recompute_pyramid", period_id) in sent  # the rest of the pyramid: any worker
    value = Computation.objects.get(period_id=period_id, stage="value")
    assert value.runs >= 1
