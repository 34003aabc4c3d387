"""The demo is seeded app by app (settings.DEMO_SEEDERS) through each app's services, and the bulk
services it uses keep the rules of every write: bad frames are refused whole, with the reason."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import numpy as np
import pandas as pd
import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from customers.bulk_services import customers_bulk_create, orders_bulk_create
from customers.demo import demo_load
from customers.models import Customer, Order, OrderLine, Period
from customers.period_services import period_close, period_open


@pytest.fixture
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _customers(*ids: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "external_id": list(ids),
            "name": [f"Klant {i}" for i in ids],
            "status": "customer",
            "industry": "bouw",
            "city": "Zwolle",
            "created": pd.Timestamp("2020-03-01"),
        }
    )


def _orders(customer_ids, *dates: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    orders = pd.DataFrame(
        {
            "external_id": [f"O-{i}" for i in range(len(dates))],
            "customer_id": list(customer_ids),
            "date": pd.to_datetime(list(dates)),
        }
    )
    lines = pd.DataFrame(
        {
            "order": [0, 0, *range(1, len(dates))],
            "line_no": [1, 2, *([1] * (len(dates) - 1))],
            "amount_cents": [12345, -500, *([1000] * (len(dates) - 1))],
            "cost_cents": [10000, -400, *([800] * (len(dates) - 1))],
            "quantity": [3, -1, *([1] * (len(dates) - 1))],
            "product_id": -1,
        }
    )
    return orders, lines


def test_the_seeders_are_the_settings_modules_in_order(db, settings, fast_passwords):
    """Only the seeders the setting names run: with the core's alone, no app above it writes anything."""
    from accounting.models import CostPool, Invoice
    from salesforce_tasks.models import RepPair, Visit

    settings.DEMO_SEEDERS = ["customers.demo"]
    summary = demo_load(customers=20, seed=1)
    assert Customer.objects.count() == 20 and OrderLine.objects.count() == summary.lines > 0
    assert not CostPool.objects.exists() and not Invoice.objects.exists()
    assert not Visit.objects.exists() and not RepPair.objects.exists()
    assert not Customer.objects.filter(pair__isnull=False).exists()  # owners are the sales force's to assign


def test_the_demo_visits_are_the_core_plans_contacts_written_by_the_sales_force(db, fast_passwords):
    from customers.demo_plan import demo_plan
    from salesforce_tasks.models import Visit

    demo_load(customers=40, seed=3)
    contacts = demo_plan(customers=40, seed=3).contacts
    assert Visit.objects.count() == len(contacts)
    assert sorted(Visit.objects.values_list("minutes", flat=True)) == sorted(contacts["minutes"].tolist())


def test_bulk_customers_refuse_a_repeated_or_stored_id_and_write_nothing(db):
    with pytest.raises(ValidationError, match="more than once"):
        customers_bulk_create(customers=_customers("C1", "C2", "C1"))
    assert not Customer.objects.exists()
    customers_bulk_create(customers=_customers("C1"))
    with pytest.raises(ValidationError, match="exists already"):
        customers_bulk_create(customers=_customers("C2", "C1"))
    assert list(Customer.objects.values_list("external_id", flat=True)) == ["C1"]


def test_bulk_orders_lines_take_their_orders_customer_and_period(db):
    ids = customers_bulk_create(customers=_customers("C1", "C2"))
    orders, lines = _orders([ids[0], ids[1]], "2024-05-02", "2025-01-03")
    assert orders_bulk_create(orders=orders, lines=lines) == 3
    first = Order.objects.get(external_id="O-0")
    assert (first.customer_id, first.period.name) == (int(ids[0]), 2024)
    assert sorted(first.lines.values_list("line_no", "amount", "customer_id", "period_id")) == [
        (1, Decimal("123.45"), int(ids[0]), first.period_id),
        (2, Decimal("-5.00"), int(ids[0]), first.period_id),
    ]
    assert OrderLine.objects.get(order__external_id="O-1").period.name == 2025


def test_bulk_orders_refuse_a_closed_period_an_unknown_customer_and_a_date_outside_the_window(db):
    ids = customers_bulk_create(customers=_customers("C1"))
    period_close(period=period_open(name=2024, acting_user=None), acting_user=None)
    orders, lines = _orders([ids[0], ids[0]], "2025-02-03", "2024-06-03")
    with pytest.raises(ValidationError, match="period 2024 is closed"):
        orders_bulk_create(orders=orders, lines=lines)
    orders, lines = _orders([ids[0], 999_999], "2025-02-03", "2025-03-03")
    with pytest.raises(ValidationError, match="unknown customer"):
        orders_bulk_create(orders=orders, lines=lines)
    orders, lines = _orders([ids[0], ids[0]], "2025-02-03", "1999-03-03")
    with pytest.raises(ValidationError, match="rows 1"):
        orders_bulk_create(orders=orders, lines=lines)
    assert not Order.objects.exists() and not OrderLine.objects.exists()
    assert list(Period.objects.values_list("name", flat=True)) == [2024]


def test_portfolio_assign_starts_on_the_given_day_and_refuses_a_customer_that_has_one(db, fast_passwords):
    from salesforce_tasks.models import PortfolioAssignment, RepPair
    from salesforce_tasks.services import portfolio_assign

    demo_load(customers=20, seed=1)  # every customer has its pair from the first demo day
    pair = RepPair.objects.get(code="P1")
    assert set(PortfolioAssignment.objects.values_list("start", flat=True)) == {dt.date(2023, 1, 1)}
    customer = Customer.objects.exclude(pair=pair).first()
    with pytest.raises(ValidationError, match="portfolio already"):
        portfolio_assign(owners={customer.pk: pair.pk}, start=dt.date(2024, 1, 1))
    new = Customer.objects.get(pk=int(customers_bulk_create(customers=_customers("NEW"))[0]))
    assert portfolio_assign(owners={new.pk: pair.pk}, start=dt.date(2024, 1, 1)) == 1
    new.refresh_from_db()
    assert new.pair == pair
    assert list(new.assignments.values_list("pair_id", "start", "end")) == [(pair.pk, dt.date(2024, 1, 1), None)]


def test_load_demo_refuses_a_database_with_the_demos_periods(db):
    period_open(name=2024, acting_user=None)
    with pytest.raises(CommandError, match="Periods exist for the demo years"):
        call_command("load_demo", customers=20, stdout=StringIO())
    assert not Customer.objects.exists()


def test_the_plan_is_the_same_for_the_same_seed_per_app_stream():
    from customers.demo_plan import app_rng

    assert np.array_equal(app_rng(5, "accounting").random(3), app_rng(5, "accounting").random(3))
    assert not np.array_equal(app_rng(5, "accounting").random(3), app_rng(5, "scenarios").random(3))
