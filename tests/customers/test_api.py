"""The customers API: roles, scope, filters, report dispatch and errors."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from customers.models import Customer
from tests.conftest import client_for

ENDPOINTS = [
    ("get", "/api/v1/periods/"),
    ("get", "/api/v1/customers/"),
    ("get", "/api/v1/customers/1/"),
    ("get", "/api/v1/reports/pyramid/"),
    ("get", "/api/v1/reports/migration/"),
    ("get", "/api/v1/reports/retention/"),
    ("get", "/api/v1/reports/concentration/"),
    ("post", "/api/v1/imports/customers/"),
]


@pytest.fixture
def rep_pair(rep_user):
    from salesforce_tasks.models import RepPair, SalesRep, Team

    team = Team.objects.create(name="North")
    outside = SalesRep.objects.create(code="R1", name="Rita", kind="outside", team=team, user=rep_user)
    inside = SalesRep.objects.create(code="R2", name="Ivo", kind="inside", team=team)
    pair = RepPair.objects.create(code="P1", team=team, outside_rep=outside, inside_rep=inside)
    Customer.objects.filter(external_id__in=["C1", "C2"]).update(pair=pair)
    return pair


@pytest.mark.parametrize("method,url", ENDPOINTS)
def test_anonymous_is_refused_everywhere(api, small_dataset, method, url):
    response = getattr(api, method)(url)
    assert response.status_code in (401, 403)


def test_user_without_role_is_refused(small_dataset):
    from tests.conftest import make_user

    client = client_for(make_user("nobody", None))
    for method, url in ENDPOINTS:
        assert getattr(client, method)(url).status_code == 403, url


def test_periods_list(small_dataset, rep_user):
    response = client_for(rep_user).get("/api/v1/periods/")
    assert response.status_code == 200
    assert [p["name"] for p in response.json()["results"]] == [2024, 2025]


def test_customers_list_with_stored_figures(small_dataset, finance_user):
    response = client_for(finance_user).get("/api/v1/customers/", {"period": 2025, "ordering": "-revenue"})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 5
    first = body["results"][0]
    assert first["external_id"] == "C1" and first["level"] == "top" and first["period"] == 2025
    assert Decimal(first["revenue"]) == Decimal("2000.00")
    assert Decimal(first["gross_margin"]) == Decimal("1000.00")
    assert Decimal(first["allocated_cost"]) == Decimal("375.00")
    assert Decimal(first["profit"]) == Decimal("615.14")
    by_id = {r["external_id"]: r for r in body["results"]}
    # A non-active customer carries no cost: its profit is its margin.
    assert Decimal(by_id["C2"]["profit"]) == Decimal("-20.00") and Decimal(by_id["C2"]["allocated_cost"]) == 0


def test_customers_list_profit_is_null_before_profit_is_computed(small_dataset, finance_user):
    from customers.models import CustomerProfit

    CustomerProfit.objects.all().delete()
    body = client_for(finance_user).get("/api/v1/customers/").json()
    assert {r["profit"] for r in body["results"]} == {None}


def test_customers_list_filter_search_ordering(small_dataset, manager_user, finance_user):
    client = client_for(finance_user)
    small = client.get("/api/v1/customers/", {"period": 2025, "level": "small", "ordering": "external_id"}).json()
    assert [r["external_id"] for r in small["results"]] == ["C4", "C5"]
    found = client.get("/api/v1/customers/", {"search": "gamma"}).json()
    assert [r["external_id"] for r in found["results"]] == ["C3"]
    by_2024 = client.get("/api/v1/customers/", {"period": 2024, "ordering": "-revenue"}).json()
    assert [r["external_id"] for r in by_2024["results"]][:3] == ["C1", "C5", "C2"]


@pytest.mark.parametrize(
    "params,field",
    [
        ({"period": 1999}, "period"),
        ({"period": "x"}, "period"),
        ({"level": "vip"}, "level"),
        ({"ordering": "pw"}, "ordering"),
    ],
)
def test_customers_list_bad_parameters_are_400(small_dataset, finance_user, params, field):
    response = client_for(finance_user).get("/api/v1/customers/", params)
    assert response.status_code == 400
    assert field in response.json()


def test_unknown_period_message_lists_the_known_ones(small_dataset, finance_user):
    body = client_for(finance_user).get("/api/v1/customers/", {"period": 1999}).json()
    assert "Known periods: 2024, 2025" in body["period"][0]


def test_customers_are_scoped_for_reps(small_dataset, rep_user, rep_pair):
    client = client_for(rep_user)
    body = client.get("/api/v1/customers/").json()
    assert sorted(r["external_id"] for r in body["results"]) == ["C1", "C2"]
    c1, c4 = Customer.objects.get(external_id="C1"), Customer.objects.get(external_id="C4")
    assert client.get(f"/api/v1/customers/{c1.pk}/").status_code == 200
    assert client.get(f"/api/v1/customers/{c4.pk}/").status_code == 404


def test_customer_detail_with_level_history(small_dataset, finance_user, rep_pair):
    c1 = Customer.objects.get(external_id="C1")
    body = client_for(finance_user).get(reverse("customers-api-detail", args=[c1.pk])).json()
    assert body["external_id"] == "C1" and body["name"] == "Alpha BV" and body["pair"] == "P1"
    assert [(h["period"], h["level"]) for h in body["level_history"]] == [(2024, "top"), (2025, "top")]
    assert Decimal(body["level_history"][0]["revenue"]) == Decimal("1500.00")
    c4 = Customer.objects.get(external_id="C4")
    assert client_for(finance_user).get(reverse("customers-api-detail", args=[c4.pk])).json()["pair"] is None


@pytest.mark.parametrize("kind", ["pyramid", "migration", "retention", "concentration"])
def test_reports_for_managers(small_dataset, manager_user, kind):
    response = client_for(manager_user).get(f"/api/v1/reports/{kind}/", {"period": 2025})
    assert response.status_code == 200
    assert response.json()["period"] == 2025


def test_every_registered_report_kind_dispatches(small_dataset, finance_user):
    from config import reports as registry

    client = client_for(finance_user)
    for name in registry.kinds():
        response = client.get(f"/api/v1/reports/{name}/", {"period": 2025})
        assert response.status_code in (200, 400), name


def test_report_errors(small_dataset, manager_user, rep_user):
    client = client_for(manager_user)
    assert client.get("/api/v1/reports/horoscope/").status_code == 404
    unknown = client.get("/api/v1/reports/pyramid/", {"period": 1999})
    assert unknown.status_code == 400 and "Unknown period '1999'" in unknown.json()["detail"]
    first = client.get("/api/v1/reports/migration/", {"period": 2024})
    assert first.status_code == 400 and "first period" in first.json()["detail"]
    assert client_for(rep_user).get("/api/v1/reports/pyramid/").status_code == 403


def test_report_api_and_page_export_hold_the_same_numbers(client, small_dataset, manager_user):
    data = client_for(manager_user).get("/api/v1/reports/pyramid/", {"period": 2025}).json()
    client.force_login(manager_user)
    page = client.get(reverse("customers:pyramid"), {"period": 2025, "format": "csv"})
    rows = list(csv.reader(io.StringIO(page.content.decode("utf-8-sig"))))[1:]
    assert [float(r[2]) for r in rows] == [lvl["revenue"] for lvl in data["levels"]]
    assert [int(r[1]) for r in rows] == [lvl["customers"] for lvl in data["levels"]]


def test_schema_describes_the_endpoints(small_dataset, manager_user):
    response = client_for(manager_user).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ["/api/v1/periods/", "/api/v1/customers/", "/api/v1/customers/{id}/"]:
        assert path in paths
    assert "/api/v1/reports/{kind}/" in paths and "/api/v1/imports/{kind}/" in paths
