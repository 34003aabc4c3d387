"""An order line's customer and period are copies of its order's, without foreign keys of their own
(``OrderLine.customer``/``period``: ``db_constraint=False``): the order's own foreign keys and
PROTECT still keep a customer or period with orders, hence with lines, from being deleted."""

import pytest
from django.db.models import ProtectedError

from config.intake import run_import
from customers.models import Customer, Order, OrderLine, Period
from tests import dataset


@pytest.fixture
def one_order(db, tmp_path):
    run_import("customers", dataset.write(tmp_path, "c.csv", "external_id;name;status\nC1;A;customer\nC2;B;customer\n"))
    run_import(
        "orders",
        dataset.write(
            tmp_path, "o.csv", "order_id,customer_id,date,amount\nA1,C1,2025-03-01,100\nA1,C1,2025-03-01,5\n"
        ),
    )


def test_a_customer_with_orders_cannot_be_deleted(one_order):
    customer = Customer.objects.get(external_id="C1")
    with pytest.raises(ProtectedError):
        customer.delete()
    assert OrderLine.objects.filter(customer=customer).count() == 2


def test_a_period_with_orders_cannot_be_deleted(one_order):
    period = Period.objects.get(name=2025)
    with pytest.raises(ProtectedError):
        period.delete()
    assert OrderLine.objects.filter(period=period).count() == 2


def test_a_customer_without_orders_is_deleted_and_the_lines_follow_their_order(one_order):
    Customer.objects.get(external_id="C2").delete()
    Order.objects.get(external_id="A1").delete()
    assert OrderLine.objects.count() == 0
    Customer.objects.get(external_id="C1").delete()
    assert not Customer.objects.filter(external_id="C1").exists()
