"""Bonus KPI rules of issue 14: weights in percent at the edges, one KPI per metric per rep or pair
and period, and weights that do not add up to 100 % flagged in the form and the KPI table."""

from decimal import Decimal

import pytest

from salesforce_tasks.models import BonusKpi
from tests.conftest import client_for
from tests.salesforce_tasks.test_services import sales_force  # noqa: F401  (fixture)

D = Decimal


def kpi_post(sales_force, **overrides) -> dict:  # noqa: F811
    return {
        "period": "2025",
        "subject": f"pair:{sales_force.pair_a.pk}",
        "metric": "revenue",
        "weight": "20",
        "threshold": "0",
        "target": "1000",
        "cap": "1.5",
        "base_amount": "1000",
        **overrides,
    }


def api_payload(**overrides) -> dict:
    return {
        "period": 2025,
        "pair": "S",
        "metric": "revenue",
        "weight": "20",
        "threshold": "0",
        "target": "1000",
        "cap": "1.5",
        "base_amount": "1000.00",
        **overrides,
    }


@pytest.fixture
def manager_client(client, manager_user, sales_force):  # noqa: F811
    client.force_login(manager_user)
    return client


# --- 1. weights in percent --------------------------------------------------------------------


def test_kpi_form_takes_and_shows_the_weight_in_percent(manager_client, sales_force):  # noqa: F811
    response = manager_client.post("/sales/bonus/kpis/new/?period=2025", kpi_post(sales_force, weight="20"))
    assert response.status_code == 302
    kpi = BonusKpi.objects.get()
    assert kpi.weight == D("0.2")
    html = manager_client.get(f"/sales/bonus/kpis/{kpi.pk}/").content.decode()
    assert 'name="weight" value="20.00"' in html
    assert "Weight (%)" in html
    response = manager_client.post(
        "/sales/bonus/kpis/new/?period=2025", kpi_post(sales_force, metric="gross_margin", weight="120")
    )
    assert response.status_code == 200 and "less than or equal to 100" in response.content.decode()
    assert BonusKpi.objects.count() == 1


def test_kpi_api_takes_and_answers_the_weight_in_percent(sales_force):  # noqa: F811
    api = client_for(sales_force.manager2)
    response = api.post("/api/v1/bonus-kpis/", api_payload(weight="20"), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["weight"] == "20.00"
    assert BonusKpi.objects.get().weight == D("0.2")
    response = api.post("/api/v1/bonus-kpis/", api_payload(metric="gross_margin", weight="150"), format="json")
    assert response.status_code == 400 and "0 to 100" in response.json()["weight"][0]
    assert BonusKpi.objects.count() == 1
    lines = client_for(sales_force.manager2).get("/api/v1/bonus/?period=2025").json()["pairs"][0]["lines"]
    assert [line["weight"] for line in lines] == ["20.00"]
