"""Pages of the scenarios app: roles, partials, forms and exports."""

import json
from decimal import Decimal

import pytest

from scenarios import services
from scenarios.models import Scenario, SegmentTarget, SurveyResponse, ValueSettings
from tests.scenarios.test_services import rep_with_customers, segment_setup

HX = {"HTTP_HX_REQUEST": "true"}


def hx(target: str) -> dict:
    return {**HX, "HTTP_HX_TARGET": target}


@pytest.mark.parametrize("url", ["/scenarios/segments/", "/scenarios/segments/targets/", "/scenarios/"])
def test_manager_and_finance_pages_are_forbidden_for_reps(client, small_dataset, rep_user, url):
    client.force_login(rep_user)
    assert client.get(url).status_code == 403


def test_segments_page_for_a_manager(client, small_dataset, manager_user, tmp_path, django_capture_on_commit_callbacks):
    segment_setup(small_dataset, tmp_path, django_capture_on_commit_callbacks)
    client.force_login(manager_user)
    response = client.get("/scenarios/segments/?period=2025")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="segment-figures"' in html and 'id="settings-form"' in html
    chart = json.loads(response.context["chart_json"])
    assert chart["type"] == "scatter"
    labels = [d["label"] for d in chart["data"]["datasets"]]
    assert labels[-2:] == ["Customer value threshold", "Product value threshold"]
    assert chart["data"]["datasets"][-2]["data"][0]["x"] == 0.01  # the vertical line at the threshold
    counts = {r["segment"]: r["customers"] for r in response.context["rows"]}
    # Active in 2025: C1 partners, C5 under-earning, C4 unmeasured (C2 and C3 have no revenue).
    assert counts == {"partners": 1, "vulnerable": 0, "under_earning": 1, "low_low": 0, "unmeasured": 1}
    assert "Transition matrix" in html
    assert client.get("/scenarios/segments/?period=1999").status_code == 404


def test_segment_quadrant_lists_scoped_customers_as_a_partial(
    client, small_dataset, finance_user, tmp_path, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    segment_setup(small_dataset, tmp_path, django_capture_on_commit_callbacks)
    client.force_login(finance_user)
    with django_assert_max_num_queries(12):
        response = client.get("/scenarios/segments/?period=2025&segment=partners", **hx("segment-customers"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="segment-customers">')
    assert "Alpha BV" in html and "/customers/" in html
    assert response["Vary"] and "HX-Request" in response["Vary"]
    csv = client.get("/scenarios/segments/?period=2025&segment=under_earning&format=csv")
    assert csv.status_code == 200 and "Epsilon BV" in csv.content.decode()
    summary = client.get("/scenarios/segments/?period=2025&format=xlsx")
    assert summary["Content-Type"].startswith("application/vnd.openxmlformats")


def test_value_settings_form_saves_for_managers_only(
    client, small_dataset, manager_user, finance_user, django_capture_on_commit_callbacks
):
    data = {"horizon_years": "4", "discount_rate": "9", "clv_threshold": "", "product_value_threshold": "6"}
    client.force_login(finance_user)
    assert client.post("/scenarios/segments/", data).status_code == 403
    client.force_login(manager_user)
    bad = client.post("/scenarios/segments/", {**data, "horizon_years": "0"}, **hx("settings-form"))
    assert bad.status_code == 200 and "errorlist" in bad.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/scenarios/segments/", data, **hx("settings-form"))
    assert response.status_code == 200
    assert response["HX-Trigger"] == "figuresUpdated"
    settings = ValueSettings.objects.get(pk=1)
    assert (settings.horizon_years, settings.product_value_threshold) == (4, Decimal("6.00"))


def test_targets_page_shows_actuals_and_saves_the_grid(client, small_dataset, manager_user, finance_user):
    client.force_login(finance_user)
    page = client.get("/scenarios/segments/targets/?period=2025")
    assert page.status_code == 200 and "Definitions" in page.content.decode()
    assert client.post("/scenarios/segments/targets/?period=2025", {}).status_code == 403
    client.force_login(manager_user)
    response = client.post(
        "/scenarios/segments/targets/?period=2025",
        {"partners__customer_retention": "90", "partners__acquisition": "3", "vulnerable__revenue_retention": ""},
        **hx("targets"),
    )
    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<section id="targets"')
    assert dict(SegmentTarget.objects.values_list("metric", "target")) == {
        "customer_retention": Decimal("0.9000"),
        "acquisition": Decimal("3.0000"),
    }
    bad = client.post("/scenarios/segments/targets/?period=2025", {"partners__customer_retention": "120"})
    assert bad.status_code == 400
    csv = client.get("/scenarios/segments/targets/?period=2025&format=csv").content.decode()
    assert "Customer retention" in csv and "0.9" in csv


def test_scenarios_page_creates_the_builtins_and_compares_them(
    client, small_dataset, manager_user, django_assert_max_num_queries
):
    client.force_login(manager_user)
    response = client.get("/scenarios/")
    assert response.status_code == 200
    assert set(Scenario.objects.values_list("name", flat=True)) == {"Do nothing", "Conservative", "Ambitious"}
    projections = response.context["projections"]
    assert [p["scenario"] for p in projections] == ["Do nothing", "Conservative", "Ambitious"]
    assert all(len(p["years"]) == 6 for p in projections)
    nothing, _, ambitious = projections
    assert ambitious["years"][0]["revenue"] == nothing["years"][0]["revenue"] == 2600.0
    assert ambitious["years"][5]["revenue"] > nothing["years"][5]["revenue"]
    assert len(response.context["comparisons"]) == 3
    with django_assert_max_num_queries(40):
        assert client.get("/scenarios/").status_code == 200
    csv = client.get("/scenarios/?format=csv").content.decode()
    assert csv.count("\n") == 1 + 3 * 6


def test_scenario_edit_preview_save_plan_copy_and_delete(client, small_dataset, manager_user, finance_user):
    services.scenarios_builtin_ensure()
    conservative = Scenario.objects.get(name="Conservative")
    client.force_login(finance_user)
    assert client.get(f"/scenarios/{conservative.pk}/").status_code == 200
    lever_data = {
        "name": "Conservative",
        "base_period": "",
        "retention_top": "2",
        "retention_big": "2",
        "retention_medium": "2",
        "retention_small": "2",
        "upward_migration_points": "1",
        "acquisition_growth": "10",
        "spend_growth": "20",
        "cost_to_serve_change": "-2",
        "discount_rate": "8",
        "horizon": "5",
    }
    preview = client.post(f"/scenarios/{conservative.pk}/preview/", lever_data, **hx("projection"))
    assert preview.status_code == 200
    html = preview.content.decode()
    assert html.lstrip().startswith('<section id="projection"') and "preview" in html
    assert "<td>2030</td>" in html  # year 5 of a projection from 2025
    conservative.refresh_from_db()
    assert conservative.levers["spend_growth"] == 0.03  # a preview saves nothing
    assert client.post(f"/scenarios/{conservative.pk}/", lever_data).status_code == 403

    client.force_login(manager_user)
    bad = client.post(f"/scenarios/{conservative.pk}/preview/", {**lever_data, "spend_growth": "abc"})
    assert "Correct the highlighted levers" in bad.content.decode()
    saved = client.post(f"/scenarios/{conservative.pk}/", lever_data)
    assert saved.status_code == 302
    conservative.refresh_from_db()
    assert conservative.levers["spend_growth"] == 0.2
    assert client.post(f"/scenarios/{conservative.pk}/plan/").status_code == 302
    assert Scenario.objects.get(is_plan=True) == conservative
    page = client.get("/scenarios/")
    assert page.context["plan_rows"][0]["actual_revenue"] == 2600.0
    assert client.get("/scenarios/?format=csv&table=plan").status_code == 200
    copied = client.post(f"/scenarios/{conservative.pk}/copy/", {"name": "Mine"})
    mine = Scenario.objects.get(name="Mine")
    assert copied["Location"] == f"/scenarios/{mine.pk}/"
    client.post(f"/scenarios/{conservative.pk}/delete/")
    assert Scenario.objects.filter(pk=conservative.pk).exists()  # built-ins stay
    client.post(f"/scenarios/{mine.pk}/delete/")
    assert not Scenario.objects.filter(name="Mine").exists()


def test_survey_form_for_a_rep_in_scope(client, small_dataset, django_capture_on_commit_callbacks):
    from customers.models import Customer

    rep = rep_with_customers("rep9", "C1")
    client.force_login(rep)
    page = client.get("/scenarios/surveys/new/")
    assert page.status_code == 200
    choices = list(page.context["form"].fields["customer"].queryset.values_list("external_id", flat=True))
    assert choices == ["C1"]
    c1, c2 = Customer.objects.get(external_id="C1"), Customer.objects.get(external_id="C2")
    outside = client.post("/scenarios/surveys/new/", {"customer": c2.pk, "date": "2025-06-01", "score": "7"})
    assert outside.status_code == 400 and SurveyResponse.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        saved = client.post(
            "/scenarios/surveys/new/", {"customer": c1.pk, "date": "2025-06-01", "score": "8.5", "round": ""}
        )
    assert saved.status_code == 302 and callbacks  # the recompute goes out on commit
    answer = SurveyResponse.objects.get()
    assert (answer.customer, answer.score, answer.round) == (c1, Decimal("8.50"), "2025")


def test_finance_cannot_record_survey_answers(client, small_dataset, finance_user):
    client.force_login(finance_user)
    assert client.get("/scenarios/surveys/new/").status_code == 403
