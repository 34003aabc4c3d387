"""Bonus KPI rules of issue 14: weights in percent at the edges, one KPI per metric per rep or pair
and period, and weights that do not add up to 100 % flagged in the form and the KPI table."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from salesforce_tasks import services
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


# --- 2. one KPI per metric for a rep or pair and period ---------------------------------------


def test_the_database_refuses_a_second_kpi_of_a_metric_for_a_rep_or_pair(sales_force):  # noqa: F811
    common = {"period": sales_force.p2025, "metric": "revenue", "weight": D("0.5"), "threshold": 0, "target": 1}
    common["base_amount"] = D("1")
    BonusKpi.objects.create(pair=sales_force.pair_a, **common)
    BonusKpi.objects.create(rep=sales_force.pair_a.outside_rep, **common)  # a rep's own KPI: another subject
    BonusKpi.objects.create(pair=sales_force.pair_b, **common)
    BonusKpi.objects.create(pair=sales_force.pair_a, **{**common, "metric": "gross_margin"})
    for subject in ({"pair": sales_force.pair_a}, {"rep": sales_force.pair_a.outside_rep}):
        with pytest.raises(IntegrityError), transaction.atomic():
            BonusKpi.objects.create(**subject, **common)
    assert BonusKpi.objects.count() == 4


def test_the_form_refuses_a_second_kpi_of_a_metric_on_the_metric_field(manager_client, sales_force):  # noqa: F811
    assert manager_client.post("/sales/bonus/kpis/new/?period=2025", kpi_post(sales_force)).status_code == 302
    response = manager_client.post("/sales/bonus/kpis/new/?period=2025", kpi_post(sales_force, weight="80"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "A already has a KPI on Revenue in 2025: change that KPI, or choose another metric." in html
    assert BonusKpi.objects.count() == 1
    kpi = BonusKpi.objects.get()  # changing the KPI itself keeps its metric
    response = manager_client.post(f"/sales/bonus/kpis/{kpi.pk}/", kpi_post(sales_force, weight="100"))
    assert response.status_code == 302
    kpi.refresh_from_db()
    assert kpi.weight == D("1")


def test_the_api_refuses_a_second_kpi_of_a_metric_naming_the_field(sales_force):  # noqa: F811
    api = client_for(sales_force.manager2)
    assert api.post("/api/v1/bonus-kpis/", api_payload(), format="json").status_code == 201
    response = api.post("/api/v1/bonus-kpis/", api_payload(weight="80"), format="json")
    assert response.status_code == 400
    assert response.json()["metric"] == [
        "S already has a KPI on Revenue in 2025: change that KPI, or choose another metric."
    ]
    other = api.post("/api/v1/bonus-kpis/", api_payload(metric="gross_margin"), format="json").json()
    response = api.patch(f"/api/v1/bonus-kpis/{other['id']}/", {"metric": "revenue"}, format="json")
    assert response.status_code == 400 and "metric" in response.json()
    assert sorted(BonusKpi.objects.values_list("metric", flat=True)) == ["gross_margin", "revenue"]


def test_the_service_refuses_a_duplicate_for_a_rep(sales_force):  # noqa: F811
    values = {
        "period": sales_force.p2025,
        "rep": sales_force.s_out,
        "metric": "revenue",
        "weight": D("1"),
        "threshold": D("0"),
        "target": D("1"),
        "cap": D("1"),
        "base_amount": D("1"),
    }
    services.bonus_kpi_save(acting_user=sales_force.manager2, **values)
    with pytest.raises(services.ValidationError) as refused:
        services.bonus_kpi_save(acting_user=sales_force.manager2, **values)
    assert "S-OUT already has a KPI on Revenue in 2025" in refused.value.message_dict["metric"][0]


BEFORE = [("salesforce_tasks", "0005_organisation_in_core")]
RULE = [("salesforce_tasks", "0006_bonuskpi_one_per_metric")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_the_migration_refuses_existing_duplicates_and_names_them():
    latest = [key for key in MigrationExecutor(connection).loader.graph.leaf_nodes() if key[0] == "salesforce_tasks"]
    old = _migrate(BEFORE)
    Team = old.get_model("customers", "Team")
    SalesRep = old.get_model("customers", "SalesRep")
    RepPair = old.get_model("customers", "RepPair")
    Period = old.get_model("customers", "Period")
    Kpi = old.get_model("salesforce_tasks", "BonusKpi")
    team = Team.objects.create(name="North")
    out = SalesRep.objects.create(code="o", name="Out", kind="outside", team=team)
    ins = SalesRep.objects.create(code="i", name="In", kind="inside", team=team)
    pair = RepPair.objects.create(code="P1", team=team, outside_rep=out, inside_rep=ins)
    period = Period.objects.create(name=2025, start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31))
    common = {"period": period, "weight": D("0.5"), "threshold": 0, "target": 1, "base_amount": 1}
    first = Kpi.objects.create(pair=pair, metric="revenue", **common)
    second = Kpi.objects.create(pair=pair, metric="revenue", **common)
    Kpi.objects.create(rep=out, metric="revenue", **common)  # another subject: no duplicate
    with pytest.raises(RuntimeError) as refused:
        _migrate(RULE)
    assert f"2025, pair P1, revenue: KPIs {first.pk}, {second.pk}" in str(refused.value)
    assert "rep o," not in str(refused.value)  # the rep's own KPI of that metric is no duplicate
    assert Kpi.objects.count() == 3  # nothing removed
    Kpi.objects.filter(pk=second.pk).delete()
    new = _migrate(latest)
    assert new.get_model("salesforce_tasks", "BonusKpi").objects.count() == 2


# --- 3. weights that do not add up to 100 % are flagged ----------------------------------------


def test_the_form_says_live_what_the_weights_add_up_to_after_this_save(manager_client, sales_force):  # noqa: F811
    manager_client.post("/sales/bonus/kpis/new/?period=2025", kpi_post(sales_force, weight="60"))
    kpi = BonusKpi.objects.get()
    subject = f"pair:{sales_force.pair_a.pk}"
    live = manager_client.get(
        "/sales/bonus/kpis/new/", {"period": "2025", "subject": subject, "weight": "20"}, HTTP_HX_REQUEST="true"
    )
    html = live.content.decode()
    assert live.status_code == 200 and "<form" not in html and html.startswith('<p class="kpi-weights-message')
    assert "The weights of A in 2025 add up to 80 % after this save, not 100 %" in html
    assert "warning-box" in html and live["Vary"].count("HX-Request") == 1
    html = manager_client.get(
        "/sales/bonus/kpis/new/", {"period": "2025", "subject": subject, "weight": "40"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "add up to 100 % after this save." in html and "warning-box" not in html
    # changing the KPI itself: its stored 60 % is replaced by the typed weight, not added to it
    html = manager_client.get(
        f"/sales/bonus/kpis/{kpi.pk}/", {"subject": subject, "weight": "100"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "add up to 100 % after this save." in html
    html = manager_client.get(f"/sales/bonus/kpis/{kpi.pk}/").content.decode()  # the full form, as opened
    assert "add up to 60 % after this save, not 100 %" in html and 'hx-include="#id_subject, #id_weight"' in html
    html = manager_client.get(
        "/sales/bonus/kpis/new/", {"period": "2025", "subject": subject, "weight": "abc"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert html.strip() == ""  # nothing to say until the weight is a number
    assert BonusKpi.objects.count() == 1  # the live check never writes


def test_saving_weights_that_do_not_add_up_warns_and_the_table_marks_the_subject(manager_client, sales_force):  # noqa: F811
    response = manager_client.post(
        "/sales/bonus/kpis/new/?period=2025", kpi_post(sales_force, weight="60"), follow=True
    )
    html = response.content.decode()
    assert "The weights of A in 2025 add up to 60 % after this save, not 100 %" in html
    assert html.count("kpi-weights-off") == 1 and "weights 60 %, not 100 %" in html
    manager_client.post("/sales/bonus/kpis/new/?period=2025", kpi_post(sales_force, metric="gross_margin", weight="40"))
    html = manager_client.get("/sales/bonus/?period=2025").content.decode()
    assert "kpi-weights-off" not in html  # 60 % + 40 %


def test_the_kpi_table_marks_each_rep_or_pair_whose_weights_are_off(client, sales_force):  # noqa: F811
    from tests.salesforce_tasks.test_services import set_south_kpis

    set_south_kpis(sales_force)  # pair S: 40 % + 60 % + 20 %; rep S-OUT: 100 %
    client.force_login(sales_force.manager2)
    html = client.get("/sales/bonus/?period=2025").content.decode()
    assert html.count("kpi-weights-off") == 1 and "weights 120 %, not 100 %" in html
    html = client.get("/sales/bonus/?period=2025", HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert "gewichten 120 %, niet 100 %" in html
