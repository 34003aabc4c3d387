"""The core asks before re-cutting the fiscal years; accounting refuses while cost pools exist.

customers.services sends ``periods_recut_requested``; accounting.events answers it, so the core
imports nothing of accounting (issue 16) and the refusal still holds.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from accounting.models import CostPool
from customers.models import Customer, Order, Period, PyramidSettings
from customers.selectors import pyramid_settings_get
from customers.services import pyramid_settings_update


@pytest.fixture
def one_order(db):
    period = Period.objects.create(name=2024, start=dt.date(2024, 1, 1), end=dt.date(2024, 12, 31))
    customer = Customer.objects.create(external_id="C1", name="One")
    Order.objects.create(external_id="O1", customer=customer, date=dt.date(2024, 3, 1), period=period)
    return period


def test_start_month_change_refused_while_cost_pools_exist(one_order, finance_user):
    CostPool.objects.create(period=one_order, name="Sales", amount=Decimal("100"), key="per_customer")
    with pytest.raises(ValidationError, match="cost pools exist"):
        pyramid_settings_update(acting_user=finance_user, fiscal_year_start_month=4)
    assert pyramid_settings_get().fiscal_year_start_month == 1
    assert list(Period.objects.values_list("name", "start")) == [(2024, dt.date(2024, 1, 1))]


def test_start_month_change_recuts_without_cost_pools(one_order, finance_user):
    pyramid_settings_update(acting_user=finance_user, fiscal_year_start_month=4)
    assert PyramidSettings.objects.get().fiscal_year_start_month == 4
    assert list(Period.objects.values_list("name", "start")) == [(2023, dt.date(2023, 4, 1))]
