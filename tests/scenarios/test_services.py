"""Surveys import and answers, value settings, segment targets and scenarios: the writes and their reads."""

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from config.intake import ImportFailed
from customers.models import Computation, Customer, Period
from scenarios import projection, selectors, services
from scenarios.models import CustomerValue, Scenario, SegmentTarget, SurveyResponse
from tests.conftest import make_user


def write(tmp_path, text: str, name: str = "surveys.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def value_requests() -> int:
    return sum(Computation.objects.filter(stage="value").values_list("requested", flat=True))


def rep_with_customers(username: str, *external_ids: str):
    """A rep user whose pair owns the given customers."""
    from salesforce_tasks.models import RepPair, SalesRep, Team

    user = make_user(username, "rep")
    team, _ = Team.objects.get_or_create(name="Team " + username)
    outside = SalesRep.objects.create(code=f"{username}-o", name=username, kind="outside", team=team, user=user)
    inside = SalesRep.objects.create(code=f"{username}-i", name=username + " inside", kind="inside", team=team)
    pair = RepPair.objects.create(code=f"P-{username}", team=team, outside_rep=outside, inside_rep=inside)
    Customer.objects.filter(external_id__in=external_ids).update(pair=pair)
    return user


def segment_setup(small_dataset, tmp_path, capture) -> dict:
    """Hand-checkable segments in 2025: threshold CLV >= 0.01 and product value >= 7.

    C1 (profit > 0, score 9) partners; C5 (loss, score 8) under-earning; C2 (inactive in 2025, CLV 0,
    score 5) low-low; C4 (new, no survey) and C3 (prospect) unmeasured.
    """
    with capture(execute=True):
        services.value_settings_update(
            acting_user=None,
            horizon_years=5,
            discount_rate=Decimal("8"),
            clv_threshold=Decimal("0.01"),
            product_value_threshold=Decimal("7"),
        )
        services.surveys_import(
            path=write(
                tmp_path,
                "customer_id,date,score\nC1,2025-05-01,9\nC5,2025-05-01,8\nC2,2025-05-01,5\n",
            )
        )
    return small_dataset


# --- surveys import -----------------------------------------------------------------------------


def test_surveys_import_lists_every_bad_row_and_writes_nothing(small_dataset, tmp_path):
    path = write(
        tmp_path,
        "customer_id;date;score;round;comment\n"
        "C1;2025-03-01;8;r1;good\n"
        "NOPE;2025-03-01;7;;\n"
        "C2;2025-13-01;7;;\n"
        "C4;2025-03-01;11;;\n"
        "C5;2025-03-01;abc;;\n"
        "C1;2025-03-01;6;r1;twice\n",
    )
    before = value_requests()
    with pytest.raises(ImportFailed) as exc:
        services.surveys_import(path=path)
    found = {(e.row, e.column) for e in exc.value.errors}
    assert {(3, "customer_id"), (4, "date"), (5, "score"), (6, "score")} <= found
    assert (2, "customer_id") in found and (7, "customer_id") in found  # the duplicate key, both rows
    assert "between 0 and 10" in next(e.reason for e in exc.value.errors if e.row == 5)
    assert SurveyResponse.objects.count() == 0
    assert value_requests() == before


def test_surveys_import_writes_good_rows_and_publishes(small_dataset, tmp_path):
    path = write(
        tmp_path,
        'customer_id,date,score,round,comment\nC1,2025-03-01,"7,5",spring,"fine, thanks"\nC2,2024-10-01,6.125,,\n',
    )
    before = value_requests()
    result = services.surveys_import(path=path)
    assert (result.rows, result.created, result.updated) == (2, 2, 0)
    rows = {r.customer.external_id: r for r in SurveyResponse.objects.select_related("customer")}
    assert rows["C1"].score == Decimal("7.50") and rows["C1"].round == "spring"
    assert rows["C1"].comment == "fine, thanks"
    assert rows["C2"].round == "2024"  # defaults to the year of the date
    assert rows["C2"].score == Decimal("6.13")  # two decimals, half up
    # SurveysChanged for every period: the value stage of both periods is dirty.
    assert value_requests() == before + Period.objects.count()


def test_surveys_reimport_changes_nothing_and_a_changed_score_updates(small_dataset, tmp_path):
    text = "customer_id,date,score,round\nC1,2025-03-01,8,r1\nC1,2025-03-01,6,r2\n"
    services.surveys_import(path=write(tmp_path, text))
    ids = sorted(SurveyResponse.objects.values_list("id", "score"))
    before = value_requests()
    again = services.surveys_import(path=write(tmp_path, text))
    assert (again.rows, again.created, again.updated) == (2, 0, 0)
    assert sorted(SurveyResponse.objects.values_list("id", "score")) == ids
    assert value_requests() == before  # nothing changed: nothing to recompute
    changed = services.surveys_import(path=write(tmp_path, "customer_id,date,score,round\nC1,2025-03-01,9,r1\n"))
    assert (changed.created, changed.updated) == (0, 1)
    assert SurveyResponse.objects.get(round="r1").score == Decimal("9.00")
    assert SurveyResponse.objects.count() == 2


def test_product_value_is_the_mean_of_the_latest_round_after_the_pipeline(
    small_dataset, tmp_path, django_capture_on_commit_callbacks
):
    text = (
        "customer_id,date,score,round\n"
        "C1,2024-10-01,4,2024-autumn\n"
        "C1,2024-10-02,6,2024-autumn\n"
        "C1,2025-03-01,8,2025-spring\n"
        "C1,2025-03-05,9,2025-spring\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.surveys_import(path=write(tmp_path, text))
    values = {
        v.period.name: v.product_value
        for v in CustomerValue.objects.filter(customer__external_id="C1").select_related("period")
    }
    assert values == {2024: Decimal("5.00"), 2025: Decimal("8.50")}
    # An answer after the last period's end counts for the latest period (today's segments) only.
    with django_capture_on_commit_callbacks(execute=True):
        services.surveys_import(path=write(tmp_path, "customer_id,date,score,round\nC1,2026-02-01,3,2026\n"))
    latest = dict(CustomerValue.objects.filter(customer__external_id="C1").values_list("period__name", "product_value"))
    assert latest == {2024: Decimal("5.00"), 2025: Decimal("3.00")}
    assert CustomerValue.objects.get(period=small_dataset[2025], customer__external_id="C4").segment == "unmeasured"


def test_segments_are_stored_by_the_pipeline_after_surveys_change(
    small_dataset, tmp_path, django_capture_on_commit_callbacks
):
    segment_setup(small_dataset, tmp_path, django_capture_on_commit_callbacks)
    stored = dict(
        CustomerValue.objects.filter(period=small_dataset[2025]).values_list("customer__external_id", "segment")
    )
    assert stored == {
        "C1": "partners",
        "C2": "low_low",
        "C3": "unmeasured",
        "C4": "unmeasured",
        "C5": "under_earning",
    }
    clv = dict(CustomerValue.objects.filter(period=small_dataset[2025]).values_list("customer__external_id", "clv"))
    assert clv["C1"] > 0 > clv["C5"] and clv["C2"] == 0


def test_survey_answer_upserts_publishes_and_respects_the_scope(small_dataset, django_capture_on_commit_callbacks):
    rep = rep_with_customers("rep7", "C1")
    c1, c2 = Customer.objects.get(external_id="C1"), Customer.objects.get(external_id="C2")
    with django_capture_on_commit_callbacks(execute=True):
        services.survey_response_record(
            customer=c1, date=pd.Timestamp("2025-06-01").date(), score=Decimal("9"), acting_user=rep
        )
        services.survey_response_record(
            customer=c1, date=pd.Timestamp("2025-06-01").date(), score=Decimal("6.5"), acting_user=rep
        )
    answer = SurveyResponse.objects.get()
    assert (answer.round, answer.score) == ("2025", Decimal("6.50"))
    assert CustomerValue.objects.get(period=small_dataset[2025], customer=c1).product_value == Decimal("6.50")
    with pytest.raises(PermissionDenied):
        services.survey_response_record(
            customer=c2, date=pd.Timestamp("2025-06-01").date(), score=Decimal("5"), acting_user=rep
        )


def test_value_settings_update_validates_and_publishes(small_dataset):
    before = value_requests()
    with pytest.raises(ValidationError):
        services.value_settings_update(
            acting_user=None,
            horizon_years=0,
            discount_rate=Decimal("8"),
            clv_threshold=None,
            product_value_threshold=Decimal("7"),
        )
    assert value_requests() == before
    services.value_settings_update(
        acting_user=None,
        horizon_years=3,
        discount_rate=Decimal("10"),
        clv_threshold=None,
        product_value_threshold=Decimal("6.5"),
    )
    assert value_requests() == before + Period.objects.count()
    assert selectors.value_settings_get().horizon_years == 3


# --- segment targets: actual against target -------------------------------------------------------


def test_segment_actuals_on_a_hand_computed_frame():
    cur = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5, 6],
            "segment": ["partners", "partners", "partners", "vulnerable", "low_low", "low_low"],
            "revenue_cents": [10_000, 5_000, -100, 2_000, 3_000, 0],
            "profit_cents": [500.0, -20.0, -5.0, 100.0, np.nan, 0.0],
            "existing": [True, True, True, False, True, True],
        }
    )
    prev = pd.DataFrame({"customer_id": [1, 2, 3, 5, 6, 9], "revenue_cents": [8_000, 0, 4_000, 1_000, 500, 700]})
    out = selectors.segment_actuals(cur, prev).set_index("segment")
    partners = out.loc["partners"]
    # base: 1 and 3 (2 had no revenue in P-1); 1 still active, 3 only returned goods.
    assert (partners.base_customers, partners.retained_customers) == (2, 1)
    assert partners.customer_retention == 0.5
    assert (partners.revenue_prev_cents, partners.revenue_cur_cents) == (12_000, 9_900)
    assert partners.revenue_retention == pytest.approx(9_900 / 12_000)
    assert partners.acquisition == 0
    assert (partners.active_customers, partners.profitable_customers) == (2, 1)  # 1 and 2 active; 1 profitable
    assert partners.profitability == 0.5
    vulnerable = out.loc["vulnerable"]
    assert vulnerable.acquisition == 1 and np.isnan(vulnerable.customer_retention)
    assert vulnerable.profitability == 1.0
    low_low = out.loc["low_low"]
    assert (low_low.base_customers, low_low.retained_customers) == (2, 1)
    assert low_low.revenue_retention == pytest.approx(3_000 / 1_500)
    assert low_low.profitability == 0.0  # 5 is active with an unknown profit: not profitable
    assert out.loc["unmeasured"].tolist()[:3] == [0, 0, pytest.approx(np.nan, nan_ok=True)]
    first = selectors.segment_actuals(cur, None).set_index("segment")
    assert np.isnan(first.loc["partners"].customer_retention) and first.loc["vulnerable"].acquisition == 1


def test_segment_target_report_on_the_small_dataset(small_dataset, tmp_path, django_capture_on_commit_callbacks):
    data = segment_setup(small_dataset, tmp_path, django_capture_on_commit_callbacks)
    p25 = data[2025]
    services.segment_targets_update(
        period=p25,
        targets={
            ("partners", "customer_retention"): Decimal("0.9"),
            ("under_earning", "revenue_retention"): Decimal("0.8"),
            ("unmeasured", "acquisition"): Decimal("2"),
            ("low_low", "profitability"): None,
        },
        acting_user=None,
    )
    report = selectors.segment_target_report(period=p25)
    assert report["previous"] == 2024
    got = {(r["segment"], m["metric"]): m for r in report["rows"] for m in r["metrics"]}
    # partners = C1: 1500 in 2024 -> 2000 in 2025, profit 615.14 > 0.
    assert got[("partners", "customer_retention")] == {
        "metric": "customer_retention",
        "actual": 1.0,
        "target": 0.9,
        "met": True,
        "numerator": 1,
        "denominator": 1,
    }
    assert got[("partners", "revenue_retention")]["actual"] == pytest.approx(2000 / 1500)
    assert got[("partners", "profitability")]["actual"] == 1.0
    # under-earning = C5: 400 -> 300, a loss.
    assert got[("under_earning", "revenue_retention")]["actual"] == 0.75
    assert got[("under_earning", "revenue_retention")]["met"] is False
    assert got[("under_earning", "profitability")]["actual"] == 0.0
    # low-low = C2: 250.50 in 2024, only a return of 20 in 2025.
    assert got[("low_low", "customer_retention")]["actual"] == 0.0
    assert got[("low_low", "revenue_retention")]["actual"] == pytest.approx(-20 / 250.50)
    assert got[("low_low", "profitability")]["actual"] is None
    # unmeasured: C4 is new in 2025 (the only acquisition), C3 a prospect.
    assert got[("unmeasured", "acquisition")] == {
        "metric": "acquisition",
        "actual": 1.0,
        "target": 2.0,
        "met": False,
        "numerator": 1,
        "denominator": None,
    }
    assert got[("vulnerable", "acquisition")]["actual"] == 0.0
    assert got[("vulnerable", "customer_retention")]["actual"] is None


def test_segment_targets_update_sets_changes_and_removes(small_dataset):
    p25 = small_dataset[2025]
    grid = {("partners", "acquisition"): Decimal("3"), ("vulnerable", "profitability"): Decimal("0.5")}
    assert services.segment_targets_update(period=p25, targets=grid, acting_user=None) == 2
    assert services.segment_targets_update(period=p25, targets=grid, acting_user=None) == 0
    changed = {("partners", "acquisition"): None, ("vulnerable", "profitability"): Decimal("0.6")}
    assert services.segment_targets_update(period=p25, targets=changed, acting_user=None) == 2
    assert list(SegmentTarget.objects.values_list("segment", "metric", "target")) == [
        ("vulnerable", "profitability", Decimal("0.6000"))
    ]
    with pytest.raises(ValidationError):
        services.segment_targets_update(
            period=p25, targets={("partners", "customer_retention"): Decimal("85")}, acting_user=None
        )
    with pytest.raises(ValidationError):
        services.segment_target_set(
            period=p25, segment="partners", metric="acquisition", target=Decimal("1.5"), acting_user=None
        )


# --- scenarios ----------------------------------------------------------------------------------


def test_builtin_scenarios_are_created_once_with_their_levers(db):
    services.scenarios_builtin_ensure()
    services.scenarios_builtin_ensure()
    assert Scenario.objects.count() == 3
    conservative = Scenario.objects.get(name="Conservative")
    assert selectors.scenario_levers(conservative) == projection.BUILT_IN["conservative"]
    Scenario.objects.filter(name="Ambitious").update(levers={})  # as the demo stores them
    services.scenarios_builtin_ensure()
    assert selectors.scenario_levers(Scenario.objects.get(name="Ambitious")) == projection.BUILT_IN["ambitious"]


def test_scenario_copy_update_plan_and_delete(small_dataset):
    services.scenarios_builtin_ensure()
    do_nothing = Scenario.objects.get(name="Do nothing")
    with pytest.raises(ValidationError):
        services.scenario_update(scenario=do_nothing, levers={"spend_growth": 0.05}, acting_user=None)
    with pytest.raises(ValidationError):
        services.scenario_update(scenario=do_nothing, name="Renamed", acting_user=None)
    copy = services.scenario_copy(scenario=do_nothing, acting_user=None)
    assert copy.name == "Do nothing – copy" and not copy.built_in
    assert services.scenario_copy(scenario=do_nothing, acting_user=None).name == "Do nothing – copy (2)"
    services.scenario_update(
        scenario=copy, levers={"spend_growth": 0.05, "retention_change_points": {"top": 3}}, acting_user=None
    )
    copy.refresh_from_db()
    assert copy.levers["spend_growth"] == 0.05 and copy.levers["retention_change_points"]["top"] == 3.0
    with pytest.raises(ValidationError) as exc:
        services.scenario_update(scenario=copy, levers={"spend_growth": 5, "horizon": 2.5}, acting_user=None)
    assert set(exc.value.message_dict) == {"spend_growth", "horizon"}
    with pytest.raises(ValidationError):
        services.scenario_update(scenario=copy, base_period=small_dataset[2024], acting_user=None)
    services.scenario_make_plan(scenario=copy, acting_user=None)
    services.scenario_make_plan(scenario=do_nothing, acting_user=None)
    assert list(Scenario.objects.filter(is_plan=True)) == [do_nothing]
    with pytest.raises(ValidationError):
        services.scenario_delete(scenario=do_nothing, acting_user=None)
    services.scenario_delete(scenario=copy, acting_user=None)
    assert not Scenario.objects.filter(pk=copy.pk).exists()


def test_projection_year_zero_reconciles_with_the_base_period(small_dataset):
    services.scenarios_builtin_ensure()
    frame = selectors.projection_run(period=small_dataset[2025], levers=projection.BUILT_IN["do_nothing"])
    actual = selectors.actual_figures(names=[2025])[2025]
    year0 = frame.iloc[0]
    # Active in 2025: C1 2000, C4 300, C5 300.
    assert year0.customers_active == actual["active_customers"] == 3
    assert year0.revenue_cents / 100 == actual["revenue"] == 2600.0
    assert year0.profit_cents / 100 == pytest.approx(actual["profit"], abs=0.02)
    with pytest.raises(ValidationError):
        selectors.projection_frames(period=small_dataset[2024])
