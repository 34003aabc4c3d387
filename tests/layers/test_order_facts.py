"""The order writers keep the core's order facts in step; the pyramid and profit stages read them.

Every order write (upsert, delete, a move to another customer or period, the orders import, the
fiscal-year re-cut) changes ``CustomerPeriodFacts`` (revenue and margin in cents, orders, lines) in
the writer's transaction, as the visit writes change the visit facts. Whatever the sequence of
writes, the stored facts equal the facts computed here from the raw order lines and visits, and a
rebuild from the rows (``order_facts_rebuild``, ``visit_facts_rebuild``) changes nothing.
"""

import datetime as dt
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounting.models import CostPool
from customers import selectors
from customers import services as order_services
from customers.facts import FACT_COLUMNS, order_facts_rebuild
from customers.models import Customer, CustomerPeriodFacts, Order, OrderLine, Period
from customers.services.orders import LineInput
from salesforce_tasks import services as visit_services
from salesforce_tasks.models import Visit

DATES = [dt.date(2024, 3, 1), dt.date(2024, 12, 31), dt.date(2025, 1, 15), dt.date(2025, 6, 30)]
CUSTOMERS = ["C1", "C2", "C3", "C4", "C5"]
ORDERS = ["O1", "O2", "O3", "O4", "O5", "O6"]


def cents(value) -> int:
    return int(Decimal(str(value)) * 100)


def facts_from_rows() -> dict[tuple[int, int], tuple[int, ...]]:
    """The facts of every (period, customer) computed here from the raw lines and visits."""
    facts: dict[tuple[int, int], list[int]] = {}
    orders: dict[tuple[int, int], set[int]] = {}
    for period, customer, order, amount, cost in OrderLine.objects.values_list(
        "period_id", "customer_id", "order_id", "amount", "cost"
    ):
        row = facts.setdefault((period, customer), [0] * 6)
        row[2] += cents(amount)
        row[3] += cents(amount) - cents(cost)
        row[5] += 1
        orders.setdefault((period, customer), set()).add(order)
    for key, ids in orders.items():
        facts[key][4] = len(ids)
    for period, customer, minutes in Visit.objects.values_list("period_id", "customer_id", "minutes"):
        row = facts.setdefault((period, customer), [0] * 6)
        row[0] += 1
        row[1] += minutes
    return {k: tuple(v) for k, v in facts.items() if any(v)}


def stored_facts() -> dict[tuple[int, int], tuple[int, ...]]:
    rows = CustomerPeriodFacts.objects.values_list("period_id", "customer_id", *FACT_COLUMNS)
    return {(p, c): tuple(v) for p, c, *v in rows if any(v)}


money = st.decimals(min_value=-500, max_value=2000, places=2, allow_nan=False, allow_infinity=False)
lines = st.lists(st.tuples(money, money), min_size=1, max_size=3)
operation = st.one_of(
    st.tuples(st.just("upsert"), st.sampled_from(ORDERS), st.sampled_from(CUSTOMERS), st.sampled_from(DATES), lines),
    st.tuples(st.just("delete"), st.sampled_from(ORDERS)),
    st.tuples(
        st.just("import"),
        st.dictionaries(
            st.sampled_from(ORDERS),
            st.tuples(st.sampled_from(CUSTOMERS), st.sampled_from(DATES), lines),
            max_size=3,
        ),
    ),
    st.tuples(st.just("visit"), st.sampled_from(CUSTOMERS), st.sampled_from(DATES), st.integers(1, 300)),
    st.tuples(st.just("unvisit"), st.integers(0, 20)),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operation, max_size=10))
def test_facts_equal_the_rows_after_any_writes(sales_force, admin, tmp_path, ops):
    Order.objects.all().delete()  # the data set's orders and lines, written with their facts
    Visit.objects.all().delete()
    CustomerPeriodFacts.objects.all().delete()
    customers = sales_force.c
    for op in ops:
        if op[0] == "upsert":
            _, oid, ext, date, amounts = op
            order_services.order_upsert(
                external_id=oid,
                customer=customers[ext],
                date=date,
                lines=[LineInput(amount=a, cost=c) for a, c in amounts],
                acting_user=admin,
            )
        elif op[0] == "delete":
            order = Order.objects.filter(external_id=op[1]).first()
            if order is not None:
                order_services.order_delete(order=order, acting_user=admin)
        elif op[0] == "import" and op[1]:
            path = tmp_path / "orders.csv"
            rows = [
                f"{oid},{ext},{date.isoformat()},{amount},{cost}"
                for oid, (ext, date, amounts) in op[1].items()
                for amount, cost in amounts
            ]
            path.write_text("order_id,customer_id,date,amount,cost\n" + "\n".join(rows) + "\n", encoding="utf-8")
            order_services.orders_import(path=path, acting_user=admin)
        elif op[0] == "visit":
            _, ext, date, minutes = op
            visit_services.visit_log(
                rep=sales_force.a_out, customer=customers[ext], date=date, minutes=minutes, acting_user=admin
            )
        elif op[0] == "unvisit":
            visits = list(Visit.objects.order_by("id"))
            if visits:
                visit_services.visit_delete(visit=visits[op[1] % len(visits)], acting_user=admin)
        assert stored_facts() == facts_from_rows(), op
    maintained = stored_facts()
    order_facts_rebuild(period_ids=Period.objects.values_list("id", flat=True))
    visit_services.visit_facts_rebuild()
    assert stored_facts() == maintained


def test_rebuild_of_pairs_sets_what_the_lines_say_and_zero_where_none_are_left(sales_force, admin):
    """Drifted order facts of some pairs are repaired, a pair without lines gets 0, visits stay."""
    p2025, c1, c2 = sales_force.p2025, sales_force.c["C1"], sales_force.c["C2"]
    visit_services.visit_log(rep=sales_force.a_out, customer=c2, date=DATES[3], minutes=30, acting_user=admin)
    expected = stored_facts()
    assert expected == facts_from_rows()
    CustomerPeriodFacts.objects.filter(period=p2025, customer=c1).update(revenue_cents=1, orders=99)
    CustomerPeriodFacts.objects.filter(period=p2025, customer=c2).update(order_lines=7, gross_margin_cents=-5)
    order_facts_rebuild(pairs=[(p2025.id, c1.id), (p2025.id, c2.id)])
    assert stored_facts() == expected
    OrderLine.objects.filter(period=p2025, customer=c2).delete()  # around the services
    order_facts_rebuild(pairs=[(p2025.id, c2.id)])
    assert stored_facts() == facts_from_rows()
    assert CustomerPeriodFacts.objects.get(period=p2025, customer=c2).visits == 1


def test_the_pyramid_reads_the_facts_not_the_lines(sales_force):
    """Facts are what the pyramid stage sees: a line written around the services changes nothing."""
    p2024, p2025, c3 = sales_force.p2024, sales_force.p2025, sales_force.c["C3"]
    before = selectors.period_facts(period=p2025)
    bought_before = set(selectors.customers_bought_before(period=p2025).tolist())
    order = Order.objects.create(external_id="AROUND", customer=c3, date=DATES[0], period=p2024)
    OrderLine.objects.create(order=order, line_no=1, amount=Decimal("5000"), customer=c3, period=p2024)
    OrderLine.objects.create(order=order, line_no=2, amount=Decimal("-1"), customer=c3, period=p2025)
    assert selectors.period_facts(period=p2025).equals(before)
    assert set(selectors.customers_bought_before(period=p2025).tolist()) == bought_before
    order_facts_rebuild(period_ids=[p2024.id, p2025.id])
    assert c3.id in set(selectors.customers_bought_before(period=p2025).tolist())


def test_fiscal_year_recut_moves_the_order_facts(db, finance_user):
    """A new start month re-cuts the periods: the facts follow the lines into their new periods."""
    customer = Customer.objects.create(external_id="C1", name="One")
    for oid, date, amount in (("O1", dt.date(2024, 2, 1), "10.00"), ("O2", dt.date(2024, 5, 1), "32.10")):
        order_services.order_upsert(
            external_id=oid, customer=customer, date=date, lines=[LineInput(amount=Decimal(amount))]
        )
    assert list(stored_facts().values()) == [(0, 0, 4210, 4210, 2, 2)]  # both in 2024
    CostPool.objects.all().delete()
    order_services.pyramid_settings_update(acting_user=finance_user, fiscal_year_start_month=3)
    facts = {Period.objects.get(id=p).name: v for (p, _c), v in stored_facts().items()}
    assert facts == {2023: (0, 0, 1000, 1000, 1, 1), 2024: (0, 0, 3210, 3210, 1, 1)}
    assert stored_facts() == facts_from_rows()
