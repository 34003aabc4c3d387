"""The demo generator: seeded and repeatable, consistent when written, and its two commands."""

from decimal import Decimal
from io import StringIO
from types import SimpleNamespace

import pandas as pd
import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db.models import F, Sum

from accounting.demo import accounting_plan
from accounting.models import CostPool, Invoice
from customers.demo import YEARS, demo_load, demo_plan
from customers.models import Customer, CustomerPeriod, Order, OrderLine, Period
from salesforce_tasks.demo import sales_force_plan
from salesforce_tasks.models import PortfolioAssignment, RepPair, SalesRep, Team
from scenarios.demo import surveys_plan

SMALL = {"customers": 120, "seed": 7}


def demo_frames(**arguments) -> SimpleNamespace:
    """Every app's plan of the demo, as each seeder computes it from the plan passed up to it."""
    plan = demo_plan(**arguments)
    accounting = accounting_plan(plan)
    plan.facts = accounting.facts
    sales_force = sales_force_plan(plan)
    return SimpleNamespace(
        customers=plan.customers,
        orders=plan.orders,
        lines=plan.lines,
        invoices=accounting.invoices,
        visits=sales_force.visits,
        surveys=surveys_plan(plan),
        pools=accounting.pools,
        actions=sales_force.actions,
    )


@pytest.fixture
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def loaded(db, fast_passwords):
    return demo_load(**SMALL)


def test_same_seed_gives_the_same_frames_and_another_seed_does_not():
    first, second = demo_frames(**SMALL), demo_frames(**SMALL)
    for name in ("customers", "orders", "lines", "invoices", "visits", "surveys", "pools", "actions"):
        pd.testing.assert_frame_equal(getattr(first, name), getattr(second, name), obj=name)
    other = demo_frames(customers=SMALL["customers"], seed=SMALL["seed"] + 1)
    assert other.lines["amount_cents"].sum() != first.lines["amount_cents"].sum()


def test_the_frames_tell_the_story():
    data = demo_frames(**SMALL)
    status = data.customers["status"].value_counts()
    assert status["customer"] == 102 and status["prospect"] == 12 and status["suspect"] == 6
    customers_with_orders = set(data.orders["customer"])
    not_customers = set(data.customers.index[data.customers["status"] != "customer"])
    assert not customers_with_orders & not_customers, "prospects and suspects never order"
    assert (data.lines["amount_cents"] < 0).any(), "credit notes and returns are negative lines"
    assert set(data.lines["year"]) == set(YEARS)
    margin = 1 - data.lines["cost_cents"].sum() / data.lines["amount_cents"].sum()
    assert 0.15 < margin < 0.40
    assert set(data.pools["key"]) >= {
        "visit_minutes",
        "orders",
        "order_lines",
        "time_driven",
        "per_level",
        "per_customer",
        "revenue",
        "direct",
    }


def test_load_writes_what_the_frames_hold(loaded):
    data = demo_frames(**SMALL)  # a second run with the same seed
    lines = OrderLine.objects.aggregate(revenue=Sum("amount"), cost=Sum("cost"))
    assert OrderLine.objects.count() == len(data.lines) == loaded.lines
    assert int(lines["revenue"] * 100) == data.lines["amount_cents"].sum()
    assert int(lines["cost"] * 100) == data.lines["cost_cents"].sum()
    assert Order.objects.count() == len(data.orders)
    assert Customer.objects.count() == SMALL["customers"]
    assert list(Period.objects.values_list("name", flat=True)) == list(YEARS)


def test_every_line_carries_its_orders_period_and_customer(loaded):
    assert not OrderLine.objects.exclude(period_id=F("order__period_id")).exists()
    assert not OrderLine.objects.exclude(customer_id=F("order__customer_id")).exists()
    for period in Period.objects.all():
        outside = Order.objects.filter(period=period).exclude(date__gte=period.start, date__lte=period.end)
        assert not outside.exists()
    assert not Invoice.objects.exclude(period_id__in=Period.objects.values("id")).exists()
    assert not Customer.objects.filter(pair__isnull=True).exists()
    assert PortfolioAssignment.objects.count() == SMALL["customers"]


def test_the_pyramid_is_computed_and_levels_differ(loaded):
    last = Period.objects.get(name=YEARS[-1])
    levels = set(CustomerPeriod.objects.filter(period=last).values_list("level", flat=True))
    assert {"top", "big", "medium", "small"} <= levels
    assert len(CostPool.objects.filter(period=last)) >= 8


def test_demo_users_sales_force_and_groups(loaded):
    expected = {"manager": "manager", "finance": "finance", **{f"rep{i}": "rep" for i in range(1, 9)}}
    for username, group in expected.items():
        user = User.objects.get(username=username)
        assert list(user.groups.values_list("name", flat=True)) == [group]
    assert User.objects.get(username="admin").is_superuser
    assert User.objects.get(username="rep3").check_password("demo-rep")
    assert set(Team.objects.values_list("name", "manager__username")) == {("Noord", "manager"), ("Zuid", "manager")}
    assert SalesRep.objects.filter(kind="outside").count() == 4 == SalesRep.objects.filter(kind="inside").count()
    p1 = RepPair.objects.get(code="P1")
    assert (p1.outside_rep.user.username, p1.inside_rep.user.username) == ("rep1", "rep2")


def test_load_demo_if_empty_does_nothing_when_customers_exist(loaded):
    before = OrderLine.objects.count()
    out = StringIO()
    call_command("load_demo", "--if-empty", stdout=out)
    assert OrderLine.objects.count() == before
    assert "not loaded" in out.getvalue()


def test_demo_logins_never_shows_a_changed_password(loaded):
    rep8 = User.objects.get(username="rep8")
    rep8.set_password("a-real-secret-1")
    rep8.save()
    out = StringIO()
    call_command("demo_logins", stdout=out)
    text = out.getvalue()
    assert "demo-manager" in text and "rep1" in text
    assert "rep8" not in text and "a-real-secret-1" not in text


def test_demo_logins_without_demo_users(db):
    out = StringIO()
    call_command("demo_logins", stdout=out)
    assert "No demo logins" in out.getvalue()


def test_seeded_actions_carry_their_whatif_as_a_proposal_would(loaded):
    """Issue 14: the demo's actions had no what-if (written before profit was computed)."""
    from salesforce_tasks.actions import selectors as action_selectors
    from salesforce_tasks.models import Action

    seeded = list(Action.objects.exclude(type="other").select_related("customer", "period"))
    assert seeded
    for action in seeded:
        assert action.whatif_company_profit_change is not None, action
        effect = action_selectors.action_whatif_get(
            customer=action.customer, period=action.period, action_type=action.type, parameter=action.parameter
        )
        assert action.whatif_company_profit_change == Decimal(effect.company_profit_change_cents).scaleb(-2)
        if action.type == "part_ways":
            assert action.whatif_customer_profit is None
        else:
            assert action.whatif_customer_profit == Decimal(effect.customer_profit_after_cents).scaleb(-2)
