"""API of the scenarios app and the report commands built on the same builders."""

import csv
import io
import json
from decimal import Decimal

from django.core.management import call_command

from customers.models import Customer
from scenarios import services
from scenarios.models import Scenario, SegmentTarget, SurveyResponse
from tests.conftest import client_for
from tests.scenarios.test_services import rep_with_customers, segment_setup


def test_segments_endpoint_is_scoped_and_validates_the_period(
    small_dataset, finance_user, tmp_path, django_capture_on_commit_callbacks
):
    segment_setup(small_dataset, tmp_path, django_capture_on_commit_callbacks)
    data = client_for(finance_user).get("/api/v1/segments/?period=2025").json()
    assert data["period"] == 2025 and data["clv_threshold"] == "0.01"
    assert {r["segment"]: r["customers"] for r in data["segments"]} == {
        "partners": 1,
        "vulnerable": 0,
        "under_earning": 1,
        "low_low": 0,
        "unmeasured": 1,
    }
    partners = data["segments"][0]
    assert partners["revenue"] == "2000.00" and partners["profit"] == "615.14"
    rep = rep_with_customers("rep5", "C5")
    mine = client_for(rep).get("/api/v1/segments/?period=2025").json()
    assert {r["segment"]: r["customers"] for r in mine["segments"] if r["customers"]} == {"under_earning": 1}
    bad = client_for(finance_user).get("/api/v1/segments/?period=1999")
    assert bad.status_code == 400 and "2024, 2025" in json.dumps(bad.json())


def test_customer_values_list_paginates_filters_and_scopes(
    small_dataset, finance_user, tmp_path, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    segment_setup(small_dataset, tmp_path, django_capture_on_commit_callbacks)
    client = client_for(finance_user)
    with django_assert_max_num_queries(6):
        data = client.get("/api/v1/customer-values/?period=2025").json()
    assert data["count"] == 5
    assert data["results"][0]["customer_id"] == "C1"  # highest CLV first
    assert data["results"][0]["product_value"] == "9.00"
    only = client.get("/api/v1/customer-values/?period=2025&segment=unmeasured&ordering=customer__external_id")
    assert [r["customer_id"] for r in only.json()["results"]] == ["C3", "C4"]
    rep = rep_with_customers("rep6", "C2")
    assert [r["customer_id"] for r in client_for(rep).get("/api/v1/customer-values/").json()["results"]] == ["C2"]


def test_segment_targets_are_set_by_managers_and_compared(small_dataset, manager_user, finance_user, rep_user):
    body = {"period": 2025, "segment": "partners", "metric": "customer_retention", "target": "0.85"}
    assert client_for(finance_user).post("/api/v1/segment-targets/", body, format="json").status_code == 403
    assert client_for(rep_user).get("/api/v1/segment-targets/").status_code == 403
    client = client_for(manager_user)
    first = client.post("/api/v1/segment-targets/", body, format="json")
    assert first.status_code == 201, first.content
    again = client.post("/api/v1/segment-targets/", {**body, "target": "0.9"}, format="json")
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]  # upsert
    assert SegmentTarget.objects.get().target == Decimal("0.9000")
    bad = client.post("/api/v1/segment-targets/", {**body, "target": "90"}, format="json")
    assert bad.status_code == 400 and "target" in bad.json()
    listed = client_for(finance_user).get("/api/v1/segment-targets/?period=2025").json()
    assert listed["count"] == 1
    actuals = client_for(finance_user).get("/api/v1/segment-targets/actuals/?period=2025").json()
    assert actuals["previous"] == 2024 and len(actuals["segments"]) == 5
    partners = next(s for s in actuals["segments"] if s["segment"] == "partners")
    assert {m["metric"] for m in partners["metrics"]} == {
        "revenue_retention",
        "customer_retention",
        "acquisition",
        "profitability",
    }
    assert client.delete(f"/api/v1/segment-targets/{first.json()['id']}/").status_code == 204
    assert not SegmentTarget.objects.exists()


def test_scenarios_crud_and_projection(small_dataset, manager_user, finance_user, rep_user):
    manager, finance = client_for(manager_user), client_for(finance_user)
    assert client_for(rep_user).get("/api/v1/scenarios/").status_code == 403
    listed = finance.get("/api/v1/scenarios/").json()
    assert {s["name"] for s in listed["results"]} == {"Do nothing", "Conservative", "Ambitious"}
    body = {
        "name": "Push",
        "base_period": 2025,
        "levers": {"spend_growth": 0.05, "retention_change_points": {"top": 5}},
    }
    assert finance.post("/api/v1/scenarios/", body, format="json").status_code == 403
    created = manager.post("/api/v1/scenarios/", body, format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["levers"]["retention_change_points"] == {"top": 5.0, "big": 0.0, "medium": 0.0, "small": 0.0}
    projection = finance.get(f"/api/v1/scenarios/{pk}/projection/")
    assert projection.status_code == 200
    data = projection.json()
    assert data["base_period"] == 2025 and [y["year"] for y in data["years"]] == [0, 1, 2, 3, 4, 5]
    assert [y["period"] for y in data["years"]][-1] == 2030
    assert data["years"][0]["revenue"] == "2600.00" and data["years"][0]["customers_active"] == 3.0
    assert set(data["years"][0]) >= {"gross_margin", "cost_to_serve", "profit", "discounted_profit", "npv"}
    patched = manager.patch(f"/api/v1/scenarios/{pk}/", {"levers": {"horizon": 3}}, format="json")
    assert patched.status_code == 200 and patched.json()["levers"]["spend_growth"] == 0.05
    assert len(finance.get(f"/api/v1/scenarios/{pk}/projection/").json()["years"]) == 4
    bad = manager.patch(f"/api/v1/scenarios/{pk}/", {"levers": {"spend_growth": 9}}, format="json")
    assert bad.status_code == 400 and "spend_growth" in bad.json()
    early = manager.patch(f"/api/v1/scenarios/{pk}/", {"base_period": 2024}, format="json")
    assert early.status_code == 400 and "base_period" in early.json()
    assert manager.post(f"/api/v1/scenarios/{pk}/plan/").json()["is_plan"] is True
    copy = manager.post(f"/api/v1/scenarios/{pk}/copy/", {"name": "Push 2"}, format="json")
    assert copy.status_code == 201 and copy.json()["is_plan"] is False
    builtin = Scenario.objects.get(name="Do nothing")
    assert manager.delete(f"/api/v1/scenarios/{builtin.pk}/").status_code == 400
    assert manager.delete(f"/api/v1/scenarios/{pk}/").status_code == 204
    assert finance.get("/api/v1/scenarios/999999/projection/").status_code == 404


def test_surveys_are_created_by_reps_for_their_customers(
    small_dataset, finance_user, django_capture_on_commit_callbacks
):
    rep = rep_with_customers("rep8", "C1")
    client = client_for(rep)
    outside = client.post("/api/v1/surveys/", {"customer_id": "C2", "date": "2025-06-01", "score": "7"}, format="json")
    assert outside.status_code == 400 and "customer_id" in outside.json()
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(
            "/api/v1/surveys/",
            {"customer_id": "C1", "date": "2025-06-01", "score": "7.5", "comment": "ok"},
            format="json",
        )
    assert created.status_code == 201, created.content
    assert created.json() == {
        "id": SurveyResponse.objects.get().pk,
        "customer_id": "C1",
        "customer_name": "Alpha BV",
        "date": "2025-06-01",
        "round": "2025",
        "score": "7.50",
        "comment": "ok",
    }
    too_high = client.post(
        "/api/v1/surveys/", {"customer_id": "C1", "date": "2025-06-01", "score": "11"}, format="json"
    )
    assert too_high.status_code == 400
    SurveyResponse.objects.create(customer=Customer.objects.get(external_id="C2"), date="2025-01-01", score=5)
    assert client.get("/api/v1/surveys/").json()["count"] == 1  # scoped: the rep sees C1's answer only
    assert client_for(finance_user).get("/api/v1/surveys/?customer_id=C2").json()["count"] == 1
    assert client_for(finance_user).post("/api/v1/surveys/", {}, format="json").status_code == 403


# --- report commands ------------------------------------------------------------------------------


def run_report(*args, **options) -> str:
    out = io.StringIO()
    call_command("report", *args, stdout=out, **options)
    return out.getvalue()


def test_report_segments_json_and_csv(small_dataset, tmp_path, django_capture_on_commit_callbacks, capsys):
    segment_setup(small_dataset, tmp_path, django_capture_on_commit_callbacks)
    data = json.loads(run_report("segments", period="2025", format="json"))
    thresholds = "clv_threshold clv_threshold_is_median product_value_threshold"
    assert set(data) == set(f"period previous computed {thresholds} active_customers segments".split())
    assert data["active_customers"] == 3 and data["clv_threshold"] == 0.01
    row = data["segments"][0]
    assert set(row) == {"segment", "label", "customers", "revenue", "profit", "clv", "strategy", "targets"}
    assert row["segment"] == "partners" and row["revenue"] == 2000.0 and row["profit"] == 615.14
    assert row["targets"]["customer_retention"] == {"actual": 1.0, "target": None, "met": None}
    run_report("segments", period="2025", format="csv")  # the command writes CSV to sys.stdout
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["segment"] for r in rows] == ["partners", "vulnerable", "under_earning", "low_low", "unmeasured"]
    assert rows[0]["customer_retention_actual"] == "1.0"


def test_report_scenario_json(small_dataset):
    services.scenarios_builtin_ensure()
    data = json.loads(run_report("scenario", name="Conservative", format="json"))
    assert set(data) == set("id scenario built_in is_plan base_period base_period_is_latest levers years".split())
    assert data["scenario"] == "Conservative" and data["base_period"] == 2025
    assert data["levers"]["spend_growth"] == 0.03
    assert len(data["years"]) == 6 and data["years"][0]["revenue"] == 2600.0
    from django.core.management.base import CommandError

    try:
        run_report("scenario", name="Nope")
    except CommandError as exc:
        assert "Known scenarios" in str(exc) and "'Conservative'" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("an unknown scenario must fail")
