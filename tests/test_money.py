"""Money is summed and compared as integer cents on SQLite and PostgreSQL alike (issue 14).

Two tests for the class of defect "SQLite is not PostgreSQL":

- a scanner over the code: no ``Sum``/``Avg`` over a money (Decimal) field outside ``config.money``;
- a property test on the database the suite runs on (CI runs it on both): orders cancelled exactly
  by credit notes classify the customer the same way exact decimal arithmetic does.
"""

from __future__ import annotations

import ast
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps
from django.db import models, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
APPS = ("config", "customers", "accounting", "scenarios", "salesforce_tasks")
AGGREGATES = {"Sum", "Avg"}


def decimal_field_names() -> set[str]:
    names = set()
    for model in apps.get_models():
        if model._meta.app_label in APPS:
            names.update(f.name for f in model._meta.get_fields() if isinstance(f, models.DecimalField))
    return names


def _field_names(node: ast.AST) -> set[str]:
    """Field names an aggregate's argument refers to: "a", F("a"), F("x__a") - F("b") ..."""
    out = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            out.add(sub.value.split("__")[-1])
    return out


def raw_money_aggregates(source: str, money_fields: set[str]) -> list[tuple[int, str]]:
    """(line, code) of every Sum/Avg call whose argument names a money field."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name in AGGREGATES and node.args and _field_names(node.args[0]) & money_fields:
            found.append((node.lineno, ast.unparse(node)))
    return found


def test_scanner_finds_a_raw_money_sum_and_accepts_sum_cents():
    money = {"amount", "revenue"}
    bad = 'qs.annotate(r=Sum("amount"), m=models.Sum(F("x__revenue") - F("cost")), v=Sum("minutes"))'
    assert [line for line, _ in raw_money_aggregates(bad, money)] == [1, 1]
    assert raw_money_aggregates('qs.annotate(r=sum_cents("amount"), v=Sum("minutes"))', money) == []


def test_no_money_field_is_summed_outside_config_money(db):
    """Every aggregate of a money column goes through config.money.sum_cents (integer cents)."""
    money = decimal_field_names()
    assert {"amount", "revenue", "profit", "gross_margin"} <= money
    offenders = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts or path == ROOT / "config" / "money.py":
                continue
            for line, code in raw_money_aggregates(path.read_text(encoding="utf-8"), money):
                offenders.append(f"{path.relative_to(ROOT)}:{line}: {code}")
    assert offenders == [], "sum money with config.money.sum_cents, not a float Sum:\n" + "\n".join(offenders)


# --- property: cancelled orders on the database the suite runs on --------------------------------

# Amounts whose float sum is not exactly zero once they are cancelled (0.1 + 0.2 - 0.3 != 0).
AMOUNTS = st.lists(
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2), min_size=1, max_size=4
)
CUSTOMER = st.tuples(AMOUNTS, st.booleans(), st.sampled_from(["customer", "prospect", "suspect"]))


class _Rollback(Exception):
    pass


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(customers=st.lists(CUSTOMER, min_size=1, max_size=6))
def test_cancelled_orders_classify_as_exact_arithmetic_does(customers):
    """A customer whose only orders were credited in full never bought: prospect/suspect, not inactive."""
    from customers import selectors, services
    from customers.facts import order_facts_rebuild
    from customers.models import Customer, Order, OrderLine, Period

    try:
        with transaction.atomic():
            p24 = Period.objects.create(name=2024, start=dt.date(2024, 1, 1), end=dt.date(2024, 12, 31))
            p25 = Period.objects.create(name=2025, start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31))
            expected = {}
            for i, (amounts, cancelled, status) in enumerate(customers):
                c = Customer.objects.create(external_id=f"H{i}", name=f"H{i}", status=status)
                order = Order.objects.create(external_id=f"O{i}", customer=c, date=dt.date(2024, 3, 1), period=p24)
                lines = list(amounts) + ([-a for a in amounts] if cancelled else [])
                OrderLine.objects.bulk_create(
                    OrderLine(order=order, line_no=n + 1, amount=a, customer=c, period=p24) for n, a in enumerate(lines)
                )
                bought = sum(lines, Decimal(0)) > 0
                expected[c.id] = "inactive" if bought else ("suspect" if status == "suspect" else "prospect")
            order_facts_rebuild(period_ids=[p24.id])  # the lines were written around the services
            bought_before = set(selectors.customers_bought_before(period=p25).tolist())
            assert bought_before == {cid for cid, level in expected.items() if level == "inactive"}
            levels = services.pyramid_compute(period=p25).set_index("customer_id")["level"].to_dict()
            assert levels == expected
            facts = selectors.period_facts(period=p24).set_index("customer_id")["revenue_cents"].to_dict()
            assert facts == {
                cid: int(sum((a for a in amts), Decimal(0)) * 100) * (0 if canc else 1)
                for cid, (amts, canc, _s) in zip(expected, customers, strict=True)
            }
            raise _Rollback
    except _Rollback:
        pass
