"""Pages of the sales-force workflow: the rep's start page, the visit form, targets, bonus, roll-up."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.utils import timezone

from salesforce_tasks import services
from salesforce_tasks.models import CustomerTarget, PortfolioAssignment, Visit, VisitNorm
from tests.salesforce_tasks.test_services import sales_force, set_south_kpis  # noqa: F401  (fixture)

D = Decimal


@pytest.fixture
def rep_client(client, rep_user, sales_force):  # noqa: F811
    client.force_login(rep_user)
    return client


@pytest.fixture
def manager_client(client, manager_user, sales_force):  # noqa: F811
    client.force_login(manager_user)
    return client


def body(response) -> str:
    return response.content.decode()


# --- the rep's start page ---------------------------------------------------------------------


def test_rep_home_shows_my_portfolio_plan_kpis_and_months(rep_client, sales_force, django_assert_max_num_queries):  # noqa: F811
    services.bonus_kpi_save(
        acting_user=sales_force.north.manager,
        period=sales_force.p2025,
        pair=sales_force.pair_a,
        metric="revenue",
        weight=D("1"),
        threshold=D("1000"),
        target=D("3000"),
        cap=D("1.5"),
        base_amount=D("1000"),
    )
    CustomerTarget.objects.create(
        customer=sales_force.c["C1"], period=sales_force.p2025, target_revenue=D("4000"), target_level="top"
    )
    with django_assert_max_num_queries(40):
        response = rep_client.get("/sales/")
    assert response.status_code == 200
    html = body(response)
    assert "Alpha BV" in html and "Beta BV" in html  # pair A's customers
    assert "Delta BV" not in html  # C4 belongs to the other team
    assert "Epsilon BV" not in html  # C5 moved to pair B
    # pair A's revenue KPI: (2128.77 - 1000) / 2000 = 0.5644 -> 564.40; rep1 (outside, 60 %) gets 338.64
    assert "€564.40" in html and "€338.64" in html
    assert "data-chart" in html and "Jan 2025" in html
    assert "Visit plan" in html and "never visited" in html
    assert "50 %" in html  # C1: 2000 of a 4000 target


def test_rep_home_show_all_is_a_partial_for_htmx(rep_client):
    response = rep_client.get("/sales/?portfolio=all", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "<html" not in body(response) and "Alpha BV" in body(response)
    assert response["Vary"] and "HX-Request" in response["Vary"]


def test_rep_home_for_a_user_without_a_rep_record(client, sales_force):  # noqa: F811
    from config.roles import REP
    from tests.conftest import make_user

    client.force_login(make_user("lonely", REP))
    response = client.get("/sales/")
    assert response.status_code == 200
    assert "not linked to a sales rep" in body(response)


# --- the visit form ---------------------------------------------------------------------------


def test_search_as_you_type_only_finds_my_customers(rep_client, sales_force):  # noqa: F811
    response = rep_client.get("/sales/visits/customers/?q=BV")
    html = body(response)
    assert "Alpha BV" in html and "Beta BV" in html
    assert "Delta BV" not in html and "Epsilon BV" not in html
    assert html.count('type="radio"') == 2
    response = rep_client.get(f"/sales/visits/customers/?q=zzz&customer={sales_force.c['C1'].pk}")
    assert f'value="{sales_force.c["C1"].pk}" required checked' in body(response)


def test_log_a_visit_through_the_form(rep_client, sales_force, django_capture_on_commit_callbacks):  # noqa: F811
    c1 = sales_force.c["C1"]
    response = rep_client.get(f"/sales/visits/new/?customer={c1.pk}")
    html = body(response)
    assert response.status_code == 200
    assert f'value="{c1.pk}" required checked' in html
    assert f'value="{timezone.localdate().isoformat()}"' in html
    with django_capture_on_commit_callbacks(execute=True):
        response = rep_client.post(
            "/sales/visits/new/",
            {
                "customer": c1.pk,
                "date": "2025-06-01",
                "minutes": "40",
                "kind": "phone",
                "outcome": "Offerte besproken",
                "next_step": "Terugbellen",
            },
        )
    assert response.status_code == 302
    visit = Visit.objects.get()
    assert (visit.rep, visit.customer, visit.minutes, visit.kind) == (sales_force.a_out, c1, 40, "phone")
    # The recompute ran after commit: the period's profit rows now count the minutes.
    from customers.models import CustomerProfit

    assert CustomerProfit.objects.get(period=sales_force.p2025, customer=c1).visit_minutes == 40
    # The next form remembers the customer.
    html = body(rep_client.get(response["Location"]))
    assert f'value="{c1.pk}" required checked' in html and "Saved for Alpha BV" in html


@pytest.mark.parametrize(
    "change, message",
    [
        ({"date": (dt.date.today() + dt.timedelta(days=3)).isoformat()}, "in the future"),
        ({"date": "2999-01-01"}, "lies outside 2000-01-01"),  # the date window comes first
        ({"minutes": "0"}, "greater than or equal to 1"),
        ({"minutes": "1441"}, "less than or equal to 1440"),
        ({"customer": "C4"}, "not in your portfolio"),
        ({"customer": ""}, "Search and tap a customer"),
    ],
)
def test_visit_form_errors_show_inline(rep_client, sales_force, change, message):  # noqa: F811
    data = {"customer": sales_force.c["C1"].pk, "date": "2025-06-01", "minutes": "30", "kind": "visit"}
    data.update(change)
    if data["customer"] == "C4":
        data["customer"] = sales_force.c["C4"].pk
    response = rep_client.post("/sales/visits/new/", data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert message in body(response)
    assert "<html" not in body(response)  # the form partial only
    assert not Visit.objects.exists()


def test_edit_and_delete_own_visit_only(rep_client, sales_force, client):  # noqa: F811
    mine = services.visit_log(
        rep=sales_force.a_out,
        customer=sales_force.c["C1"],
        date=dt.date(2025, 3, 3),
        minutes=20,
        acting_user=sales_force.a_out.user,
    )
    theirs = services.visit_log(
        rep=sales_force.a_in,
        customer=sales_force.c["C1"],
        date=dt.date(2025, 3, 3),
        minutes=20,
        acting_user=sales_force.rep2,
    )
    response = rep_client.post(
        f"/sales/visits/{mine.pk}/edit/",
        {"customer": sales_force.c["C2"].pk, "date": "2025-03-04", "minutes": "25", "kind": "video"},
    )
    assert response.status_code == 302
    mine.refresh_from_db()
    assert (mine.customer, mine.minutes, mine.kind) == (sales_force.c["C2"], 25, "video")
    assert rep_client.get(f"/sales/visits/{theirs.pk}/edit/").status_code == 403
    assert rep_client.post(f"/sales/visits/{theirs.pk}/delete/").status_code == 403
    assert rep_client.post(f"/sales/visits/{mine.pk}/delete/").status_code == 302
    assert list(Visit.objects.values_list("pk", flat=True)) == [theirs.pk]


def test_visit_list_and_export(rep_client, sales_force):  # noqa: F811
    services.visit_log(
        rep=sales_force.a_out,
        customer=sales_force.c["C1"],
        date=dt.date(2025, 3, 3),
        minutes=20,
        outcome="ok",
        acting_user=sales_force.a_out.user,
    )
    services.visit_log(
        rep=sales_force.s_out,
        customer=sales_force.c["C4"],
        date=dt.date(2025, 3, 3),
        minutes=20,
        acting_user=sales_force.rep3,
    )
    html = body(rep_client.get("/sales/visits/"))
    assert "Alpha BV" in html and "Delta BV" not in html
    response = rep_client.get("/sales/visits/?format=csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Date", "Rep", "Customer id"] and len(rows) == 2 and rows[1][2] == "C1"


# --- targets ----------------------------------------------------------------------------------


def test_rep_proposes_a_target_and_the_manager_approves_it(client, sales_force, rep_user, manager_user):  # noqa: F811
    client.force_login(rep_user)
    c1 = sales_force.c["C1"]
    form = {"period": "2025", "target_level": "top", "target_revenue": "3000", "target_profit": ""}
    form.update({f"m{i}": "" for i in range(1, 13)})
    response = client.post(f"/sales/targets/customers/{c1.pk}/?period=2025", {**form, "m1": "50"})
    assert "Fill in all 12 months" in body(response)
    response = client.post(f"/sales/targets/customers/{c1.pk}/?period=2025", form)
    assert response.status_code == 302
    target = CustomerTarget.objects.get()
    assert target.proposed_by_pair and target.target_revenue == D("3000")
    assert client.post(f"/sales/targets/{target.pk}/approve/").status_code == 403

    client.force_login(manager_user)
    html = body(client.get("/sales/targets/?period=2025&show=pending"))
    assert "Alpha BV" in html and "Approve" in html
    assert client.post(f"/sales/targets/{target.pk}/approve/").status_code == 302
    target.refresh_from_db()
    assert not target.proposed_by_pair


def test_target_form_has_the_live_bonus_estimator(rep_client, sales_force):  # noqa: F811
    html = body(rep_client.get(f"/sales/targets/customers/{sales_force.c['C1'].pk}/?period=2025"))
    assert 'hx-get="/sales/bonus/estimate/?customer=' in html
    assert 'hx-trigger="input changed delay:300ms"' in html


def test_team_targets_with_actuals(manager_client, sales_force):  # noqa: F811
    response = manager_client.post(
        "/sales/targets/teams/", {"period": "2025", "team": sales_force.north.pk, "kind": "retention", "target": "90"}
    )
    assert response.status_code == 302
    html = body(manager_client.get("/sales/targets/?period=2025"))
    assert "66.7 %" in html and "90.0 %" in html
    assert "South" not in html


# --- bonus ------------------------------------------------------------------------------------


def test_bonus_page_shows_the_hand_computed_bonus(client, sales_force):  # noqa: F811
    set_south_kpis(sales_force)
    client.force_login(sales_force.manager2)
    html = body(client.get("/sales/bonus/?period=2025"))
    assert "€750.00" in html  # pair S: 600.00 (capped) + 150.00 + 0.00 (at the threshold)
    assert "€425.00" in html and "€375.00" in html  # S-OUT: 375.00 + own 50.00; S-IN: 375.00
    assert "150 %" in html  # the capped attainment
    response = client.get("/sales/bonus/?period=2025&format=csv")
    rows = {r[0]: r for r in csv.reader(io.StringIO(response.content.decode("utf-8-sig")))}
    assert rows["S-OUT"][4] == "425.00"


def test_rep_home_shows_my_bonus(client, sales_force):  # noqa: F811
    set_south_kpis(sales_force)
    client.force_login(sales_force.rep3)
    html = body(client.get("/sales/?period=2025"))
    assert "€425.00" in html and "Delta BV" in html


def test_bonus_estimator_is_live_and_saves_nothing(client, sales_force):  # noqa: F811
    set_south_kpis(sales_force)
    client.force_login(sales_force.manager2)
    c4 = sales_force.c["C4"]
    response = client.get(f"/sales/bonus/estimate/?customer={c4.pk}&period=2025&revenue=400", HTTP_HX_REQUEST="true")
    html = body(response)
    # revenue 400 keeps the capped 600.00; margin 266.67 at the 2/3 rate: (266.67-150)/200 = 0.5834 -> 350.04
    assert "€750.00" in html and "€950.04" in html
    assert "+€200.04" in html
    assert CustomerTarget.objects.count() == 0
    response = client.get(f"/sales/bonus/estimate/?customer={c4.pk}&period=2025&revenue=abc")
    assert "Enter a number" in body(response)
    client.force_login(sales_force.a_out.user)
    assert client.get(f"/sales/bonus/estimate/?customer={c4.pk}&period=2025&revenue=1").status_code == 404


def test_compare_revenue_and_profit_based_bonus(manager_client):
    response = manager_client.get("/sales/bonus/compare/?period=2025")
    html = body(response)
    assert response.status_code == 200 and "Profit-based" in html and "€923.10" not in html
    html = body(
        manager_client.get(
            "/sales/bonus/compare/?period=2025&threshold_pct=100&target_pct=110&cap=1.5&base_amount=1000"
        )
    )
    assert "€923.10" in html
    response = manager_client.get(
        "/sales/bonus/compare/?period=2025&threshold_pct=100&target_pct=100&cap=1&base_amount=1"
    )
    assert "must differ" in body(response)


def test_kpi_form_saves_through_the_service(manager_client, sales_force):  # noqa: F811
    response = manager_client.post(
        "/sales/bonus/kpis/new/?period=2025",
        {
            "period": "2025",
            "subject": f"pair:{sales_force.pair_s.pk}",
            "metric": "revenue",
            "weight": "1",
            "threshold": "0",
            "target": "1",
            "cap": "1",
            "base_amount": "1",
        },
    )
    assert "Choose a pair or a rep of your teams" in body(response) or "Select a valid choice" in body(response)
    response = manager_client.post(
        "/sales/bonus/kpis/new/?period=2025",
        {
            "period": "2025",
            "subject": f"pair:{sales_force.pair_a.pk}",
            "metric": "portfolio_profit",
            "weight": "100",  # percent
            "threshold": "0",
            "target": "1000",
            "cap": "1.5",
            "base_amount": "2000",
        },
    )
    assert response.status_code == 302
    from salesforce_tasks.models import BonusKpi

    kpi = BonusKpi.objects.get()
    assert kpi.pair == sales_force.pair_a and kpi.history.first().history_user.username == "manager1"
    assert kpi.weight == D("1")  # 100 % typed, stored as the fraction 1


# --- roll-up per rep and pair ------------------------------------------------------------------


def test_reps_page_and_exports(manager_client, sales_force, django_assert_max_num_queries):  # noqa: F811
    with django_assert_max_num_queries(25):
        response = manager_client.get("/sales/reps/?period=2025")
    html = body(response)
    assert "€2,129" in html and "€151" in html  # pairs A and B
    assert "South" not in html
    response = manager_client.get("/sales/reps/?period=2025&format=csv&table=reps")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert {r["Rep"]: r["Revenue"] for r in rows} == {
        "A-OUT": "1277.26",
        "A-IN": "851.51",
        "B-OUT": "120.98",
        "B-IN": "30.25",
    }
    response = manager_client.get("/sales/reps/?period=2025&format=xlsx&table=pairs")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")


def test_pair_drill_down_and_reassign(manager_client, sales_force):  # noqa: F811
    html = body(manager_client.get(f"/sales/reps/pairs/{sales_force.pair_a.pk}/?period=2025"))
    assert "Alpha BV" in html and "Beta BV" in html and "Epsilon BV" in html
    assert "50 %" in html  # C5: 181 of 365 days
    assert manager_client.get(f"/sales/reps/pairs/{sales_force.pair_s.pk}/").status_code == 404
    response = manager_client.post(
        f"/sales/customers/{sales_force.c['C2'].pk}/reassign/", {"pair": sales_force.pair_b.pk}
    )
    assert response.status_code == 302
    assert PortfolioAssignment.objects.get(customer=sales_force.c["C2"], end__isnull=True).pair == sales_force.pair_b


def test_effectiveness_flags_under_served(manager_client, sales_force):  # noqa: F811
    html = body(manager_client.get("/sales/effectiveness/?period=2025"))
    assert "under-served" in html and "Alpha BV" in html  # a top customer never visited
    response = manager_client.get("/sales/effectiveness/?period=2025&flag=bogus")
    assert response.status_code == 400
    response = manager_client.get("/sales/effectiveness/?period=1999")
    assert response.status_code == 404


def test_visit_norms_page(manager_client):
    response = manager_client.post(
        "/sales/norms/",
        {
            "top_days": "21",
            "top_kind": "visit",
            "big_days": "60",
            "big_kind": "visit",
            "medium_days": "",
            "medium_kind": "phone",
            "small_days": "365",
            "small_kind": "phone",
            "inactive_days": "",
            "inactive_kind": "phone",
            "prospect_days": "",
            "prospect_kind": "visit",
            "suspect_days": "",
            "suspect_kind": "visit",
        },
    )
    assert response.status_code == 302
    assert VisitNorm.objects.get(level="top").days_between == 21
    assert VisitNorm.objects.get(level="medium").days_between is None


def test_customer_section_is_embeddable(rep_client, sales_force):  # noqa: F811
    response = rep_client.get(f"/sales/customers/{sales_force.c['C1'].pk}/", HTTP_HX_REQUEST="true")
    html = body(response)
    assert response.status_code == 200 and "<html" not in html and "Bonus estimator" in html
    assert rep_client.get(f"/sales/customers/{sales_force.c['C4'].pk}/").status_code == 404
