"""Whose history a reader sees (``customers.policy.HISTORY_RULES``): a manager the records of their
teams, never cost pools or periods (finance's); finance every business record."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from accounting.models import CostPool
from accounting.services import cost_pool_update
from customers.models import Customer, Period
from salesforce_tasks.organisation import selectors
from salesforce_tasks.organisation.periods import year_close
from tests.salesforce_tasks.test_services import build_sales_force

pytestmark = pytest.mark.django_db


@pytest.fixture
def changed(small_dataset, rep_user, manager_user, finance_user):
    sf = build_sales_force(rep_user=rep_user, manager_user=manager_user)
    pool = CostPool.objects.filter(period=small_dataset[2025]).order_by("pk").first()
    cost_pool_update(pool=pool, amount=pool.amount + Decimal("1"), acting_user=finance_user)
    year_close(name=2024, acting_user=finance_user)
    for ext in ("C1", "C4"):  # C1 is North's (manager_user), C4 South's (manager2)
        customer = Customer.objects.get(external_id=ext)
        customer.city = "Elders"
        customer._history_user = finance_user
        customer.save()
    return sf, pool


def _client(user):
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def test_a_manager_sees_the_history_of_their_teams_records_only(changed, manager_user):
    sf, pool = changed
    rows = selectors.history_log(user=manager_user)
    kinds = {r["kind"] for r in rows}
    assert "customer" in kinds and not kinds & {"cost_pool", "period"}
    customers = {r["id"] for r in rows if r["kind"] == "customer"}
    assert Customer.objects.get(external_id="C1").pk in customers
    assert Customer.objects.get(external_id="C4").pk not in customers
    assert {"cost_pool", "period"}.isdisjoint(code for code, _label in selectors.history_kinds_for(manager_user))
    client = _client(manager_user)
    period = Period.objects.get(name=2024)
    url = reverse("salesforce:organisation:record_history", args=["period", period.pk])
    assert client.get(url).status_code == 404
    url = reverse("salesforce:organisation:record_history", args=["cost_pool", pool.pk])
    assert client.get(url).status_code == 404
    log = client.get(reverse("salesforce:organisation:history"), {"kind": "period"}).content.decode()
    assert f"/history/period/{period.pk}/" not in log


def test_finance_sees_cost_pool_and_period_history(changed, finance_user):
    _sf, pool = changed
    kinds = {r["kind"] for r in selectors.history_log(user=finance_user)}
    assert {"cost_pool", "period", "customer"} <= kinds
    client = _client(finance_user)
    period = Period.objects.get(name=2024)
    page = client.get(reverse("salesforce:organisation:record_history", args=["period", period.pk]))
    assert page.status_code == 200 and "finance1" in page.content.decode()
    url = reverse("salesforce:organisation:record_history", args=["cost_pool", pool.pk])
    assert client.get(url).status_code == 200
