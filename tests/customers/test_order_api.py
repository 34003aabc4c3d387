from decimal import Decimal

import pytest

from customers.models import CustomerProfit, Order
from tests.conftest import client_for


def test_post_order_recomputes_profit(small_dataset, finance_user, django_capture_on_commit_callbacks):
    client = client_for(finance_user)
    before = CustomerProfit.objects.get(period=small_dataset[2025], customer__external_id="C4").profit
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/orders/",
            {
                "order_id": "O9",
                "customer_id": "C4",
                "date": "2025-09-01",
                "lines": [{"amount": "100.00", "cost": "40.00"}],
            },
            format="json",
        )
    assert response.status_code == 201, response.content
    assert response.json()["period"] == 2025
    after = CustomerProfit.objects.get(period=small_dataset[2025], customer__external_id="C4").profit
    # +60 margin; one more order moves the 'Handling' (orders key) share: C4 now 2 of 5 orders.
    assert after - before == Decimal("60") - (Decimal("120.00") - Decimal("75.00"))


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"order_id": "X", "customer_id": "NOPE", "date": "2025-01-01", "lines": [{"amount": "1"}]}, "customer_id"),
        ({"order_id": "X", "customer_id": "C1", "date": "2025-13-01", "lines": [{"amount": "1"}]}, "date"),
        ({"order_id": "X", "customer_id": "C1", "date": "2025-01-01", "lines": []}, "lines"),
        ({"order_id": "X", "customer_id": "C1", "date": "2025-01-01", "lines": [{"amount": "abc"}]}, "lines"),
    ],
)
def test_bad_orders_are_rejected_and_write_nothing(small_dataset, finance_user, payload, field):
    count = Order.objects.count()
    response = client_for(finance_user).post("/api/v1/orders/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Order.objects.count() == count


def test_anonymous_cannot_post_orders(api, small_dataset):
    assert api.post("/api/v1/orders/", {}, format="json").status_code in (401, 403)
