"""The default period is the latest with orders; a period without orders says so (issue 14).

One visit logged in a year without orders created that period, which became every page's default:
the dashboard opened on "2026" with all zeros, profit "not computed yet", pools "none for 2026".
"""

import datetime as dt

import pytest
from django.urls import reverse

from customers import selectors
from customers.models import Period
from salesforce_tasks import selectors as sales_selectors
from salesforce_tasks.actions import selectors as action_selectors

PAGES = [
    "customers:dashboard",
    "customers:pyramid",
    "accounting:concentration",
    "accounting:pools",
    "accounting:profit",
    "scenarios:segments",
    "actions:board",
]


@pytest.fixture
def empty_2026(small_dataset):
    return Period.objects.create(name=2026, start=dt.date(2026, 1, 1), end=dt.date(2026, 12, 31))


def test_every_default_is_the_latest_period_with_orders(empty_2026):
    assert selectors.period_default().name == 2025
    assert selectors.period_get().name == 2025
    assert sales_selectors.default_period().name == 2025
    assert action_selectors.action_period().name == 2025
    assert selectors.period_get(name=2026) == empty_2026
    assert not selectors.period_has_orders(empty_2026) and selectors.period_has_orders(selectors.period_get())


@pytest.mark.parametrize("page", PAGES)
def test_pages_open_on_the_period_with_orders_and_name_an_empty_one(client, empty_2026, manager_user, page):
    client.force_login(manager_user, backend="django.contrib.auth.backends.ModelBackend")
    html = client.get(reverse(page)).content.decode()
    assert "period-without-orders" not in html
    html = client.get(reverse(page), {"period": "2026"}).content.decode()
    assert 'id="period-without-orders"' in html and "No orders in 2026" in html
