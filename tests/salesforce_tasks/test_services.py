"""Services and selectors of the sales-force workflow on the small data set with a sales force.

``sales_force`` (also imported by the view, API and permission tests) adds two teams to the small
data set: North (manager1) with pairs A (rep1 outside, rep2 inside, 60/40) and B, and South
(manager2) with pair S (rep3/rep4, 50/50). C1 and C2 belong to A, C3 to B, C4 to S; C5 moved from
A to B on 2025-07-01 (the B assignment credits its outside rep 80 %).
"""

import datetime as dt
import random
from decimal import ROUND_HALF_UP, Decimal
from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from config.intake import ImportFailed
from config.roles import MANAGER, REP
from customers.models import Computation, Customer, Period
from salesforce_tasks import selectors, services
from salesforce_tasks.models import (
    BonusKpi,
    CustomerTarget,
    PortfolioAssignment,
    RepPair,
    SalesRep,
    Team,
    TeamTarget,
    Visit,
)
from tests.conftest import make_user

D = Decimal
DATE = dt.date


def build_sales_force(*, rep_user, manager_user):
    rep2, rep3, rep4 = make_user("rep2", REP), make_user("rep3", REP), make_user("rep4", REP)
    manager2 = make_user("manager2", MANAGER)
    north = Team.objects.create(name="North", manager=manager_user)
    south = Team.objects.create(name="South", manager=manager2)

    def rep(code, kind, team, user=None):
        return SalesRep.objects.create(code=code, name=code.upper(), kind=kind, team=team, user=user)

    a_out, a_in = rep("a-out", "outside", north, rep_user), rep("a-in", "inside", north, rep2)
    b_out, b_in = rep("b-out", "outside", north), rep("b-in", "inside", north)
    s_out, s_in = rep("s-out", "outside", south, rep3), rep("s-in", "inside", south, rep4)
    pair_a = RepPair.objects.create(code="A", team=north, outside_rep=a_out, inside_rep=a_in, outside_share=D("60"))
    pair_b = RepPair.objects.create(code="B", team=north, outside_rep=b_out, inside_rep=b_in)
    pair_s = RepPair.objects.create(code="S", team=south, outside_rep=s_out, inside_rep=s_in)
    customers = {c.external_id: c for c in Customer.objects.all()}
    owner = {"C1": pair_a, "C2": pair_a, "C3": pair_b, "C4": pair_s, "C5": pair_b}
    for ext, pair in owner.items():
        Customer.objects.filter(pk=customers[ext].pk).update(pair=pair)
        customers[ext].pair = pair
    start = DATE(2020, 1, 1)
    for ext in ("C1", "C2", "C3", "C4"):
        PortfolioAssignment.objects.create(customer=customers[ext], pair=owner[ext], start=start)
    PortfolioAssignment.objects.create(customer=customers["C5"], pair=pair_a, start=start, end=DATE(2025, 6, 30))
    PortfolioAssignment.objects.create(
        customer=customers["C5"], pair=pair_b, start=DATE(2025, 7, 1), outside_share=D("80")
    )
    return SimpleNamespace(
        north=north,
        south=south,
        manager2=manager2,
        rep2=rep2,
        rep3=rep3,
        rep4=rep4,
        a_out=a_out,
        a_in=a_in,
        b_out=b_out,
        b_in=b_in,
        s_out=s_out,
        s_in=s_in,
        pair_a=pair_a,
        pair_b=pair_b,
        pair_s=pair_s,
        c=customers,
        p2024=Period.objects.get(name=2024),
        p2025=Period.objects.get(name=2025),
    )


@pytest.fixture
def sales_force(small_dataset, rep_user, manager_user):
    return build_sales_force(rep_user=rep_user, manager_user=manager_user)


def cents(amount) -> int:
    return int(Decimal(amount) * 100)


# --- credit split and roll-up -----------------------------------------------------------------


def test_credit_split_by_days_owned_and_contribution_share(sales_force, finance_user):
    """C5 (revenue 300.00 in 2025) was A's for 181 days (60/40) and B's for 184 days (80/20)."""
    data = selectors.rep_results(period=sales_force.p2025, user=finance_user)
    pairs = {r["pair"]: r for r in data["pairs"]}
    reps = {r["rep"]: r for r in data["reps"]}
    # C5 pieces by largest remainder: A-out 89.26, A-in 59.51, B-out 120.98, B-in 30.25 (sum 300.00)
    assert pairs["A"]["revenue"] == D("2000.00") + D("-20.00") + D("148.77")
    assert pairs["B"]["revenue"] == D("151.23")
    assert reps["A-OUT"]["revenue"] == D("1200.00") + D("-12.00") + D("89.26")
    assert reps["A-IN"]["revenue"] == D("800.00") + D("-8.00") + D("59.51")
    assert reps["B-OUT"]["revenue"] == D("120.98")
    assert reps["B-IN"]["revenue"] == D("30.25")
    teams = {r["team"]: r for r in data["teams"]}
    assert teams["North"]["revenue"] == D("2280.00")
    assert teams["South"]["revenue"] == D("300.00")
    assert data["company"]["revenue"] == D("2580.00")


def _customer_totals(period, customer_ids):
    results = selectors.customer_results(period=period)
    chosen = results[results["customer_id"].isin(customer_ids)]
    return {c: int(chosen[c].sum()) for c in ("revenue_cents", "gross_margin_cents", "allocated_cents", "profit_cents")}


def _team_cents(data, team):
    row = next(r for r in data["teams"] if r["team"] == team)
    return {
        "revenue_cents": int(row["revenue"] * 100),
        "gross_margin_cents": int(row["gross_margin"] * 100),
        "allocated_cents": int(row["allocated"] * 100),
        "profit_cents": int(row["profit"] * 100),
    }


def test_team_total_equals_its_customers_whatever_the_splits_and_reassignments(sales_force, finance_user):
    period = sales_force.p2025
    north = [sales_force.c[x].pk for x in ("C1", "C2", "C3", "C5")]
    expected = _customer_totals(period, north)
    rng = random.Random(8)
    for _ in range(12):
        # Random pair shares and a random history of reassignments between A and B within the year.
        for pair in (sales_force.pair_a, sales_force.pair_b):
            RepPair.objects.filter(pk=pair.pk).update(outside_share=D(rng.randint(0, 100)))
        PortfolioAssignment.objects.filter(customer_id__in=north).delete()
        for customer_id in north:
            cuts = sorted(rng.sample(range(1, 364), rng.randint(0, 3)))
            start = DATE(2024, 12, 1)
            for cut in [*cuts, None]:
                end = None if cut is None else DATE(2025, 1, 1) + dt.timedelta(days=cut)
                pair = rng.choice([sales_force.pair_a, sales_force.pair_b])
                share = None if rng.random() < 0.5 else D(rng.randint(0, 100))
                PortfolioAssignment.objects.create(
                    customer_id=customer_id, pair=pair, start=start, end=end, outside_share=share
                )
                if end is not None:
                    start = end + dt.timedelta(days=1)
        data = selectors.rep_results(period=period, user=finance_user)
        assert _team_cents(data, "North") == expected
        pair_sum = sum(p["profit"] for p in data["pairs"] if p["team"] == "North")
        rep_sum = sum(r["profit"] for r in data["reps"] if r["team"] == "North")
        assert pair_sum == rep_sum == Decimal(expected["profit_cents"]).scaleb(-2)
    company = _customer_totals(period, [c.pk for c in sales_force.c.values()])
    assert int(data["company"]["profit"] * 100) == company["profit_cents"]


def test_customers_without_a_pair_are_reported_apart(sales_force, finance_user):
    Customer.objects.filter(pk=sales_force.c["C3"].pk).update(pair=None)
    PortfolioAssignment.objects.filter(customer=sales_force.c["C3"]).delete()
    data = selectors.rep_results(period=sales_force.p2025, user=finance_user)
    assert data["unassigned"]["customers"] == 1
    total = sum(t["revenue"] for t in data["teams"]) + data["unassigned"]["revenue"]
    assert total == data["company"]["revenue"]


def test_a_manager_sees_only_their_teams_and_a_rep_only_their_pair(sales_force, manager_user, rep_user):
    managed = selectors.rep_results(period=sales_force.p2025, user=manager_user)
    assert {r["team"] for r in managed["teams"]} == {"North"}
    assert {p["pair"] for p in managed["pairs"]} == {"A", "B"}
    assert managed["company"] is None
    own = selectors.rep_results(period=sales_force.p2025, user=rep_user)
    assert {p["pair"] for p in own["pairs"]} == {"A"}
    assert {r["rep"] for r in own["reps"]} == {"A-OUT", "A-IN"}
    assert own["teams"] == []


# --- bonus, hand-computed ---------------------------------------------------------------------


def set_south_kpis(sales_force):
    """Pair S owns only C4 (2025: revenue 300.00, gross margin 200.00, level small; unknown in 2024)."""
    period, manager2 = sales_force.p2025, sales_force.manager2
    common = {"period": period, "pair": sales_force.pair_s, "base_amount": D("1000.00")}
    services.bonus_kpi_save(
        acting_user=manager2,
        metric="revenue",
        weight=D("0.4"),
        threshold=D("100"),
        target=D("200"),
        cap=D("1.5"),
        **common,
    )  # (300-100)/(200-100) = 2 -> cap 1.5: 600.00
    services.bonus_kpi_save(
        acting_user=manager2,
        metric="gross_margin",
        weight=D("0.6"),
        threshold=D("150"),
        target=D("350"),
        cap=D("1.5"),
        **common,
    )  # (200-150)/200 = 0.25: 150.00
    services.bonus_kpi_save(
        acting_user=manager2,
        metric="customers_moved_up",
        weight=D("0.2"),
        threshold=D("0"),
        target=D("2"),
        cap=D("1"),
        **common,
    )  # 0 moved up, at the threshold: 0.00
    # s-out's own KPI on its credited revenue 150.00 (50 %): (150-100)/(300-100) = 0.25 -> 200 x 0.25 = 50.00
    services.bonus_kpi_save(
        acting_user=manager2,
        period=period,
        rep=sales_force.s_out,
        metric="revenue",
        weight=D("1"),
        threshold=D("100"),
        target=D("300"),
        cap=D("2"),
        base_amount=D("200"),
    )


def test_bonus_hand_computed_with_cap_and_threshold(sales_force):
    set_south_kpis(sales_force)
    overview = selectors.bonus_overview(period=sales_force.p2025, user=sales_force.manager2)
    pair = next(b for b in overview["pairs"] if b.label == "S")
    lines = {line.metric: line for line in pair.lines}
    assert lines["revenue"].actual == D("300.00")
    assert lines["revenue"].attainment == D("1.5000")  # capped
    assert lines["revenue"].amount == D("600.00")
    assert lines["gross_margin"].attainment == D("0.2500")
    assert lines["gross_margin"].amount == D("150.00")
    assert lines["customers_moved_up"].actual == D("0")
    assert lines["customers_moved_up"].attainment == D("0.0000")  # not above the threshold
    assert pair.total == D("750.00")
    reps = {r["rep"]: r for r in overview["reps"]}
    assert reps["S-OUT"]["own_total"] == D("50.00")
    assert reps["S-OUT"]["from_pair"] == D("375.00")
    assert reps["S-OUT"]["total"] == D("425.00")
    assert reps["S-IN"]["total"] == D("375.00")


def test_only_the_teams_manager_sets_its_kpis(sales_force, manager_user, rep_user):
    values = {
        "period": sales_force.p2025,
        "pair": sales_force.pair_s,
        "metric": "revenue",
        "weight": D("1"),
        "threshold": D("0"),
        "target": D("1"),
        "cap": D("1"),
        "base_amount": D("1"),
    }
    with pytest.raises(PermissionDenied):
        services.bonus_kpi_save(acting_user=manager_user, **values)
    with pytest.raises(PermissionDenied):
        services.bonus_kpi_save(acting_user=rep_user, **values)
    with pytest.raises(ValidationError):
        services.bonus_kpi_save(acting_user=manager_user, **{**values, "pair": sales_force.pair_a, "cap": D("-1")})
    with pytest.raises(ValidationError):
        services.bonus_kpi_save(acting_user=manager_user, **{**values, "pair": None})
    assert BonusKpi.objects.count() == 0


def test_compare_revenue_vs_profit_bonus(sales_force, finance_user):
    pp = selectors.period_portfolio(period=sales_force.p2025)
    rows = {
        r["pair"]: r
        for r in selectors.bonus_compare(
            pp=pp, user=finance_user, base_amount=D("1000"), threshold_pct=D("100"), target_pct=D("110"), cap=D("1.5")
        )
    }
    # Pair A owns C1, C2 all year and C5 for 181/365 days; 2024 revenue: C1 1500 + C2 250.50 + C5 400 x 181/365.
    a = rows["A"]
    assert a["revenue_last"] == D("1948.86")
    assert a["revenue"] == D("2128.77")
    assert a["revenue_threshold"] == D("1948.86") and a["revenue_target"] == D("2143.75")
    # (2128.77 - 1948.86) / (2143.75 - 1948.86) = 0.92309...
    assert a["revenue_attainment"] == D("0.9231")
    assert a["revenue_bonus"] == D("923.10")
    assert a["difference"] == a["profit_bonus"] - a["revenue_bonus"]


def test_the_default_comparison_is_shared_and_scoped_per_viewer(sales_force, finance_user, manager_user):
    """With the form's defaults every viewer reads the same rows (built once per version) and sees
    only the pairs they may see; they equal the rows computed for those parameters."""
    from customers import figures_cache
    from salesforce_tasks.selectors.bonus import _compare_rows

    pp = selectors.period_portfolio(period=sales_force.p2025)
    defaults = selectors.COMPARE_DEFAULTS
    everyone = selectors.bonus_compare(pp=pp, user=finance_user, **defaults)
    north = selectors.bonus_compare(pp=pp, user=manager_user, **defaults)
    assert {r["pair"] for r in north} < {r["pair"] for r in everyone}
    shared = figures_cache.period_frames_get("bonus_compare", sales_force.p2025)
    assert all(any(r is s for s in shared) for r in north)  # the shared rows, not copies
    fresh = {r["pair"]: r for r in _compare_rows(pp, **defaults)}
    assert everyone == [fresh[r["pair"]] for r in everyone]
    other = selectors.bonus_compare(pp=pp, user=manager_user, **{**defaults, "base_amount": D("1")})
    assert [r["pair"] for r in other] == [r["pair"] for r in north]
    assert all(o["revenue_bonus"] <= n["revenue_bonus"] for o, n in zip(other, north, strict=True))


# --- visits -----------------------------------------------------------------------------------


def test_visit_log_validates_and_publishes_in_the_transaction(
    sales_force, rep_user, django_capture_on_commit_callbacks
):
    c1 = sales_force.c["C1"]
    profit_row = Computation.objects.filter(period=sales_force.p2025, stage="profit")
    before = profit_row.values_list("requested", flat=True).first() or 0
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        visit = services.visit_log(
            rep=sales_force.a_out,
            customer=c1,
            date=DATE(2025, 5, 1),
            minutes=45,
            kind="phone",
            outcome="ok",
            acting_user=rep_user,
        )
    assert visit.period == sales_force.p2025
    assert profit_row.values_list("requested", flat=True).first() == before + 1
    assert len(callbacks) == 1  # the recompute is sent after commit, not before

    bad = [
        ({"customer": sales_force.c["C4"]}, "customer"),  # another team's customer
        ({"minutes": 0}, "minutes"),
        ({"minutes": 1441}, "minutes"),
        ({"date": timezone.localdate() + dt.timedelta(days=1)}, "date"),
        ({"kind": "fax"}, "kind"),
    ]
    for change, field in bad:
        values = {
            "rep": sales_force.a_out,
            "customer": c1,
            "date": DATE(2025, 5, 1),
            "minutes": 30,
            "kind": "visit",
            **change,
        }
        with pytest.raises(ValidationError) as info:
            services.visit_log(acting_user=rep_user, **values)
        assert field in info.value.message_dict
    with pytest.raises(PermissionDenied):  # logging as another rep
        services.visit_log(rep=sales_force.a_in, customer=c1, date=DATE(2025, 5, 1), minutes=5, acting_user=rep_user)
    assert Visit.objects.count() == 1


def test_visit_log_creates_the_period_of_its_date(sales_force, rep_user):
    today = timezone.localdate()
    visit = services.visit_log(
        rep=sales_force.a_out, customer=sales_force.c["C1"], date=today, minutes=10, acting_user=rep_user
    )
    assert visit.period.name == today.year
    assert visit.period.start <= today <= visit.period.end


def test_own_visits_only_can_change(sales_force, rep_user):
    visit = services.visit_log(
        rep=sales_force.a_in,
        customer=sales_force.c["C1"],
        date=DATE(2025, 3, 1),
        minutes=20,
        acting_user=sales_force.rep2,
    )
    with pytest.raises(PermissionDenied):
        services.visit_update(visit=visit, acting_user=rep_user, minutes=30)
    with pytest.raises(PermissionDenied):
        services.visit_delete(visit=visit, acting_user=rep_user)
    services.visit_update(visit=visit, acting_user=sales_force.rep2, minutes=30, date=DATE(2024, 12, 31))
    visit.refresh_from_db()
    assert (visit.minutes, visit.period.name) == (30, 2024)
    services.visit_delete(visit=visit, acting_user=sales_force.rep2)
    assert not Visit.objects.exists()


VISITS_CSV = """rep;customer_id;date;minutes;kind;outcome
a-out;C1;2025-02-03;30;visit;Offerte besproken
a-in;C2;2025-02-04;15;phone;
b-out;C3;2024-11-05;60;VIDEO;Demo
"""


def test_visits_import_is_all_or_nothing(sales_force, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(VISITS_CSV + "nobody;C1;2025-02-03;30;visit;\na-out;C1;2025-02-31;0;fax;\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as info:
        services.visits_import(path=bad)
    problems = {(e.row, e.column) for e in info.value.errors}
    assert problems == {(5, "rep"), (6, "date"), (6, "minutes"), (6, "kind")}
    assert not Visit.objects.exists()

    good = tmp_path / "good.csv"
    good.write_text(VISITS_CSV, encoding="utf-8")
    result = services.visits_import(path=good)
    assert result.rows == 3 and result.periods == [2024, 2025]
    assert Visit.objects.get(customer__external_id="C3").kind == "video"


def test_visits_import_by_a_manager_only_takes_their_teams(sales_force, manager_user, tmp_path):
    path = tmp_path / "v.csv"
    path.write_text("rep,customer_id,date,minutes,kind\ns-out,C4,2025-01-02,30,visit\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as info:
        services.visits_import(path=path, acting_user=manager_user)
    assert info.value.errors[0].column == "customer_id"


def test_import_csv_command_imports_visits(sales_force, tmp_path):
    from django.core.management import CommandError, call_command

    path = tmp_path / "visits.csv"
    path.write_text(VISITS_CSV, encoding="utf-8")
    call_command("import_csv", "visits", str(path))
    assert Visit.objects.count() == 3
    path.write_text("rep,customer_id,date,minutes,kind\na-out,NOPE,2025-01-02,30,visit\n", encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("import_csv", "visits", str(path))
    assert Visit.objects.count() == 3


def test_visit_plan_uses_norms(sales_force, rep_user):
    from salesforce_tasks.models import VisitNorm

    VisitNorm.objects.create(level="top", days_between=10)
    services.visit_log(
        rep=sales_force.a_out, customer=sales_force.c["C1"], date=timezone.localdate(), minutes=5, acting_user=rep_user
    )
    pp = selectors.period_portfolio(period=sales_force.p2025)
    frame = selectors.portfolio_rows(pp=pp, customer_ids=[sales_force.c["C1"].pk, sales_force.c["C2"].pk])
    plan = selectors.visit_plan_rows(frame=frame, today=timezone.localdate()).set_index("external_id")
    assert plan.loc["C1", "status"] == "due_soon"  # top, visited today, norm 10 days
    assert plan.loc["C1", "next_due"] == timezone.localdate() + dt.timedelta(days=10)


def test_visit_norms_are_for_managers(sales_force, manager_user, rep_user):
    with pytest.raises(PermissionDenied):
        services.visit_norms_update(norms={"top": (20, "visit")}, acting_user=rep_user)
    with pytest.raises(ValidationError):
        services.visit_norms_update(norms={"top": (0, "visit")}, acting_user=manager_user)
    services.visit_norms_update(norms={"top": (20, "visit"), "small": (None, "phone")}, acting_user=manager_user)
    assert selectors.visit_norms()["top"] == 20
    assert selectors.visit_norms()["small"] is None


# --- targets ----------------------------------------------------------------------------------


def test_a_pair_proposes_and_the_manager_approves(sales_force, rep_user, manager_user):
    target = services.customer_target_set(
        customer=sales_force.c["C1"],
        period=sales_force.p2025,
        acting_user=rep_user,
        target_revenue=D("2500"),
        target_level="top",
        seasonality=[10] * 4 + [7.5] * 8,
    )
    assert target.proposed_by_pair
    with pytest.raises(PermissionDenied):
        services.customer_target_approve(target=target, acting_user=rep_user)
    services.customer_target_approve(target=target, acting_user=manager_user)
    target.refresh_from_db()
    assert not target.proposed_by_pair
    assert target.history.count() == 2
    with pytest.raises(ValidationError):
        services.customer_target_set(
            customer=sales_force.c["C1"],
            period=sales_force.p2025,
            acting_user=manager_user,
            target_revenue=D("1"),
            seasonality=[50, 50],
        )
    with pytest.raises(PermissionDenied):
        services.customer_target_set(
            customer=sales_force.c["C4"], period=sales_force.p2025, acting_user=manager_user, target_revenue=D("1")
        )
    months = selectors.monthly_target_cents(period=sales_force.p2025, customer_ids=[sales_force.c["C1"].pk])
    assert months[:4] == [25000] * 4 and months[4:] == [18750] * 8 and sum(months) == 250000


def test_team_target_actuals(sales_force, manager_user):
    suspect = Customer.objects.create(
        external_id="S1",
        name="New suspect",
        status="suspect",
        pair=sales_force.pair_b,
        created_at=dt.datetime(2025, 5, 5, 12, tzinfo=dt.UTC),
    )
    assert suspect.pk
    services.team_target_set(
        team=sales_force.north, period=sales_force.p2025, kind="retention", target=D("90"), acting_user=manager_user
    )
    with pytest.raises(PermissionDenied):
        services.team_target_set(
            team=sales_force.south, period=sales_force.p2025, kind="retention", target=D("90"), acting_user=manager_user
        )
    with pytest.raises(ValidationError):
        services.team_target_set(
            team=sales_force.north,
            period=sales_force.p2025,
            kind="retention",
            target=D("120"),
            acting_user=manager_user,
        )
    rows = {
        (r["team_name"], r["kind"]): r for r in selectors.team_target_rows(period=sales_force.p2025, user=manager_user)
    }
    assert rows[("North", "new_suspects")]["actual"] == 1
    assert rows[("North", "prospects_to_top")]["actual"] == 0  # C1 was top already
    # North had C1, C2, C5 active in 2024; C2 only has a credit note in 2025.
    assert rows[("North", "retention")]["actual"] == D("66.67")
    assert rows[("North", "retention")]["target"] == D("90")
    assert TeamTarget.objects.count() == 1
    # A prospect last period that is top now has been developed.
    from customers.models import CustomerPeriod

    CustomerPeriod.objects.filter(period=sales_force.p2024, customer=sales_force.c["C1"]).update(level="prospect")
    actuals = selectors.team_target_actuals(period=sales_force.p2025, team_ids=[sales_force.north.pk])
    assert actuals[sales_force.north.pk]["prospects_to_top"] == 1


def test_team_target_actuals_equal_their_definition_on_random_levels(sales_force):
    """The counts made in the database equal the definition counted in Python, for random levels
    in both periods, customers without a row in one of them and customers of either team."""
    from customers.models import CustomerPeriod

    rng = random.Random(17)
    levels = ["top", "big", "medium", "small", "other", "prospect", "suspect"]
    teams = [sales_force.north.pk, sales_force.south.pk]
    customers = list(Customer.objects.filter(pair__team_id__in=teams).select_related("pair"))
    for _ in range(8):
        for period in (sales_force.p2024, sales_force.p2025):
            CustomerPeriod.objects.filter(period=period).delete()
            CustomerPeriod.objects.bulk_create(
                CustomerPeriod(period=period, customer=c, level=rng.choice(levels), revenue=0, gross_margin=0)
                for c in customers
                if rng.random() < 0.8
            )
        now = dict(CustomerPeriod.objects.filter(period=sales_force.p2025).values_list("customer_id", "level"))
        before = dict(CustomerPeriod.objects.filter(period=sales_force.p2024).values_list("customer_id", "level"))
        actuals = selectors.team_target_actuals(period=sales_force.p2025, team_ids=teams)
        for team_id in teams:
            mine = [c.pk for c in customers if c.pair.team_id == team_id]
            developed = sum(
                1 for c in mine if now.get(c) == "top" and before.get(c, "prospect") in ("prospect", "suspect")
            )
            active_before = [c for c in mine if before.get(c) in ("top", "big", "medium", "small")]
            still = sum(1 for c in active_before if now.get(c) in ("top", "big", "medium", "small"))
            expected = (
                (D(still) * 100 / D(len(active_before))).quantize(D("0.01"), rounding=ROUND_HALF_UP)
                if active_before
                else None
            )
            assert actuals[team_id]["prospects_to_top"] == developed
            assert actuals[team_id]["retention"] == expected


# --- reassigning ------------------------------------------------------------------------------


def test_reassign_closes_the_open_assignment_and_keeps_history(
    sales_force, manager_user, rep_user, django_capture_on_commit_callbacks
):
    c1 = sales_force.c["C1"]
    today = timezone.localdate()
    with pytest.raises(PermissionDenied):
        services.customer_reassign(customer=c1, pair=sales_force.pair_b, acting_user=rep_user)
    with pytest.raises(ValidationError):
        services.customer_reassign(customer=c1, pair=sales_force.pair_s, acting_user=manager_user)
    with django_capture_on_commit_callbacks(execute=False):
        services.customer_reassign(customer=c1, pair=sales_force.pair_b, acting_user=manager_user)
    rows = list(
        PortfolioAssignment.objects.filter(customer=c1).order_by("start").values_list("pair__code", "start", "end")
    )
    assert rows == [("A", DATE(2020, 1, 1), today - dt.timedelta(days=1)), ("B", today, None)]
    c1.refresh_from_db()
    assert c1.pair == sales_force.pair_b
    assert c1.history.first().history_user == manager_user
    assert Computation.objects.filter(stage="pyramid", requested__gt=0).exists()
    # The past stays credited to the old pair.
    data = selectors.rep_results(period=sales_force.p2025, user=manager_user)
    assert next(p for p in data["pairs"] if p["pair"] == "A")["revenue"] == D("2128.77")
    # Reassigning again the same day moves today's row instead of leaving a zero-day one.
    services.customer_reassign(customer=c1, pair=sales_force.pair_a, acting_user=manager_user)
    assert PortfolioAssignment.objects.filter(customer=c1).count() == 2
    assert PortfolioAssignment.objects.get(customer=c1, end__isnull=True).pair == sales_force.pair_a


def test_selectors_are_bounded(sales_force, manager_user, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        pp = selectors.period_portfolio(period=sales_force.p2025)
    with django_assert_max_num_queries(8):  # 2 of them: the figures' version of the shared roll-up
        selectors.rep_results(period=sales_force.p2025, user=manager_user, pp=pp)
    with django_assert_max_num_queries(2):
        selectors.monthly_revenue(
            customer_ids=[c.pk for c in sales_force.c.values()], periods=[sales_force.p2024, sales_force.p2025]
        )


def test_monthly_revenue_by_month(sales_force):
    months = selectors.monthly_revenue(
        customer_ids=[sales_force.c["C5"].pk, sales_force.c["C1"].pk], periods=[sales_force.p2025]
    )
    assert months[sales_force.p2025.id][1:4] == [200000, 15000, 15000]  # Feb C1, Mar C5, Apr C5
    assert sum(months[sales_force.p2025.id]) == 230000


def test_customer_targets_of_other_teams_are_not_listed(sales_force, rep_user, manager_user):
    CustomerTarget.objects.create(customer=sales_force.c["C4"], period=sales_force.p2025, target_revenue=D("10"))
    CustomerTarget.objects.create(customer=sales_force.c["C1"], period=sales_force.p2025, target_revenue=D("4000"))
    rows = selectors.customer_target_rows(period=sales_force.p2025, user=rep_user)
    assert [r["external_id"] for r in rows] == ["C1"]
    assert rows[0]["revenue_progress"] == D("0.5000")


def test_report_command_prints_the_rollup_and_the_bonus(sales_force, capsys):
    import json

    from django.core.management import call_command

    set_south_kpis(sales_force)
    call_command("report", "rep_results", "--period", "2025")
    data = json.loads(capsys.readouterr().out)
    assert data["company"]["revenue"] == 2580.0
    assert sum(t["profit"] for t in data["teams"]) == pytest.approx(data["company"]["profit"])
    call_command("report", "bonus", "--period", "2025", "--format", "csv")
    out = capsys.readouterr().out
    assert "S-OUT" in out and "425.0" in out
