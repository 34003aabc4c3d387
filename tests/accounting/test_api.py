"""Accounting API: cost pools (finance writes through the services), invoices, profit, waterfall."""

from decimal import Decimal

from accounting.models import CostPool, PoolResult
from config.eventbus import drain
from customers.models import Customer
from tests.conftest import client_for

POOLS = "/api/v1/cost-pools/"


def pk_of(external_id: str) -> int:
    return Customer.objects.get(external_id=external_id).pk


# --- cost pools -------------------------------------------------------------------------------


def test_cost_pools_read_roles(small_dataset, finance_user, manager_user, rep_user):
    for user in (finance_user, manager_user):
        response = client_for(user).get(POOLS, {"period": 2025})
        assert response.status_code == 200
        assert [p["name"] for p in response.json()["results"]] == ["Handling", "Sales"]
    sales = response.json()["results"][1]
    assert sales["period"] == 2025 and sales["key"] == "per_customer"
    assert sales["result"]["allocated"] == "900.00" and sales["result"]["warning"] == ""
    assert client_for(rep_user).get(POOLS).status_code == 403


def test_cost_pools_period_filter_rejects_unknown_periods(small_dataset, finance_user):
    api = client_for(finance_user)
    assert api.get(POOLS, {"period": 1999}).status_code == 400
    assert "Unknown period" in str(api.get(POOLS, {"period": 1999}).json())
    assert api.get(POOLS, {"period": "abc"}).status_code == 400
    assert len(api.get(POOLS).json()["results"]) == 3


def test_finance_creates_updates_and_deletes_through_the_services(small_dataset, finance_user):
    api = client_for(finance_user)
    response = api.post(
        POOLS, {"period": 2025, "name": "Claims", "amount": "50.00", "key": "direct", "customer": "C5"}, format="json"
    )
    assert response.status_code == 201, response.json()
    pool = CostPool.objects.get(pk=response.json()["id"])
    assert pool.customer.external_id == "C5"
    assert pool.history.get().history_user == finance_user
    drain()  # the CostsChanged event made the profit stage dirty
    assert PoolResult.objects.get(pool=pool).allocated == Decimal("50.00")
    response = api.patch(f"{POOLS}{pool.pk}/", {"amount": "80"}, format="json")
    assert response.status_code == 200 and response.json()["amount"] == "80.00"
    assert pool.history.count() == 2
    history = api.get(f"{POOLS}{pool.pk}/history/").json()
    assert history[0]["changes"] == [{"field": "amount", "old": "50.00", "new": "80.00"}]
    reverted = api.post(f"{POOLS}{pool.pk}/revert/", {"history_id": history[1]["history_id"]}, format="json")
    assert reverted.status_code == 200 and reverted.json()["amount"] == "50.00"
    assert api.delete(f"{POOLS}{pool.pk}/").status_code == 204
    assert list(
        CostPool.history.filter(id=pool.pk).values_list("history_type", flat=True).order_by("history_date")
    ) == [
        "+",
        "~",
        "~",
        "-",
    ]


def test_validation_errors_are_400_with_field_messages(small_dataset, finance_user):
    api = client_for(finance_user)
    base = {"period": 2025, "amount": "10", "key": "orders"}
    cases = [
        ({**base, "name": "Sales"}, "name"),
        ({**base, "name": "Warehouse", "key": "time_driven"}, "capacity_minutes"),
        ({**base, "name": "Claims", "key": "direct"}, "customer"),
        ({**base, "name": "Transport", "customer": "C1"}, "customer"),
        ({**base, "name": "Negative", "amount": "-1"}, "amount"),
        ({**base, "name": "Unknown", "key": "by_weight"}, "key"),
        ({**base, "name": "Elsewhere", "period": 1999}, "period"),
        ({**base, "name": "Nobody", "key": "direct", "customer": "C99"}, "customer"),
    ]
    for body, field in cases:
        response = api.post(POOLS, body, format="json")
        assert response.status_code == 400, body
        assert field in response.json(), (body, response.json())
    sales = CostPool.objects.get(period=small_dataset[2025], name="Sales")
    response = api.patch(f"{POOLS}{sales.pk}/", {"period": 2024}, format="json")
    assert response.status_code == 400 and "period" in response.json()
    assert CostPool.objects.count() == 3


def test_only_finance_writes_pools(small_dataset, manager_user, rep_user):
    sales = CostPool.objects.get(period=small_dataset[2025], name="Sales")
    for user in (manager_user, rep_user):
        api = client_for(user)
        assert api.post(POOLS, {"period": 2025, "name": "X", "amount": "1", "key": "orders"}).status_code == 403
        assert api.patch(f"{POOLS}{sales.pk}/", {"amount": "1"}, format="json").status_code == 403
        assert api.delete(f"{POOLS}{sales.pk}/").status_code == 403
    sales.refresh_from_db()
    assert sales.amount == Decimal("900.00") and CostPool.objects.count() == 3


# --- invoices ---------------------------------------------------------------------------------


def test_invoices(small_dataset, finance_user, manager_user, rep_user):
    api = client_for(finance_user)
    data = api.get("/api/v1/invoices/").json()
    assert data["count"] == 2
    only_c1 = api.get("/api/v1/invoices/", {"customer": "C1", "period": 2025}).json()["results"]
    assert [(i["invoice_id"], i["amount"], i["paid"]) for i in only_c1] == [("I1", "2000.00", "2025-04-02")]
    assert [i["invoice_id"] for i in api.get("/api/v1/invoices/", {"open": "true"}).json()["results"]] == ["I2"]
    assert api.get("/api/v1/invoices/", {"period": 1999}).status_code == 400
    assert client_for(manager_user).get("/api/v1/invoices/").json()["count"] == 0  # no team, no customers
    assert client_for(rep_user).get("/api/v1/invoices/").status_code == 403


# --- profit -----------------------------------------------------------------------------------


def test_profit_list(small_dataset, finance_user, rep_user):
    api = client_for(finance_user)
    rows = api.get("/api/v1/profit/", {"period": 2025, "ordering": "-profit"}).json()["results"]
    assert [(r["customer_id"], r["profit"]) for r in rows][0] == ("C1", "615.14")
    assert [r["customer_id"] for r in rows][1:] == ["C4", "C5"]
    small = api.get("/api/v1/profit/", {"period": 2025, "level": "small", "ordering": "revenue"}).json()
    assert small["count"] == 2
    assert api.get("/api/v1/profit/", {"period": 2025, "lossmaking": "true"}).json()["count"] == 2
    assert api.get("/api/v1/profit/", {"period": 1999}).status_code == 400
    assert api.get("/api/v1/profit/", {"level": "huge"}).status_code == 400
    assert client_for(rep_user).get("/api/v1/profit/", {"period": 2025}).json()["count"] == 0


def test_waterfall_api_adds_up(small_dataset, finance_user, rep_user):
    url = f"/api/v1/customers/{pk_of('C1')}/waterfall/"
    data = client_for(finance_user).get(url, {"period": 2025}).json()
    assert (data["revenue"], data["gross_margin"], data["financing"], data["profit"]) == (
        "2000.00",
        "1000.00",
        "9.86",
        "615.14",
    )
    assert Decimal(data["gross_margin"]) - sum(Decimal(p["amount"]) for p in data["pools"]) - Decimal(
        data["financing"]
    ) == Decimal(data["profit"])
    handling = next(p for p in data["pools"] if p["name"] == "Handling")
    assert (handling["driver_quantity"], handling["driver_total"], handling["rate"]) == (1.0, 4.0, 75.0)
    assert data["steps"][-1] == {
        "label": "profit",
        "kind": "total",
        "amount": "615.14",
        "start": "0.00",
        "end": "615.14",
    }
    assert data["invoices"][0]["days_late"] == 30
    assert client_for(rep_user).get(url, {"period": 2025}).status_code == 404
    assert client_for(finance_user).get(url, {"period": 1999}).status_code == 400
    assert client_for(finance_user).get("/api/v1/customers/999999/waterfall/").status_code == 404


def test_profit_change_api(small_dataset, finance_user):
    url = f"/api/v1/customers/{pk_of('C1')}/profit-change/"
    api = client_for(finance_user)
    assert api.get(url, {"period": 2025}).json() == {"available": False, "reason": "one_computation"}
    data = api.get(url, {"period": 2025, "compare": "previous_period"}).json()
    assert data["available"] and data["total_change"] == "215.14"
    parts = ("own_margin", "own_drivers", "pools", "other_customers", "financing")
    assert sum(Decimal(data[p]) for p in parts) == Decimal(data["total_change"])
    assert api.get(url, {"period": 2025, "compare": "sometime"}).status_code == 400


def test_schema_is_served(small_dataset, finance_user):
    response = client_for(finance_user).get("/api/schema/")
    assert response.status_code == 200
    text = response.content.decode()
    for path in ("/api/v1/cost-pools/", "/api/v1/invoices/", "/api/v1/profit/", "/waterfall/", "/profit-change/"):
        assert path in text
