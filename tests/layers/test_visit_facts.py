"""The sales force keeps the core's visit facts in step; accounting allocates from them only.

Every visit write (log, change, delete, import) adds its delta to ``CustomerPeriodFacts`` in the
writer's transaction; ``visit_facts_rebuild`` rewrites them from the visits. Whatever the sequence
of writes, the facts equal the visit aggregates, and the visit-driven allocation is the one the
visits themselves give.
"""

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest
from django.db.models import Count, Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounting import allocation
from accounting.models import CostPool
from accounting.selectors import drivers_frame, pools_frame
from accounting.services import profit_compute
from customers.facts import customer_facts_frame
from customers.models import CustomerPeriodFacts, Period
from salesforce_tasks import services
from salesforce_tasks.models import Visit

DATES = [dt.date(2024, 3, 1), dt.date(2024, 12, 31), dt.date(2025, 1, 15), dt.date(2025, 6, 30)]
CUSTOMERS = ["C1", "C2", "C3", "C4", "C5"]


def visit_aggregates() -> dict[tuple[int, int], tuple[int, int]]:
    rows = Visit.objects.values("period_id", "customer_id").annotate(n=Count("id"), m=Sum("minutes")).order_by()
    return {(r["period_id"], r["customer_id"]): (r["n"], r["m"]) for r in rows}


def stored_facts() -> dict[tuple[int, int], tuple[int, int]]:
    rows = CustomerPeriodFacts.objects.values_list("period_id", "customer_id", "visits", "visit_minutes")
    return {(p, c): (v, m) for p, c, v, m in rows if (v, m) != (0, 0)}


operation = st.one_of(
    st.tuples(st.just("log"), st.sampled_from(CUSTOMERS), st.sampled_from(DATES), st.integers(1, 600)),
    st.tuples(
        st.just("update"), st.integers(0, 50), st.sampled_from(CUSTOMERS), st.sampled_from(DATES), st.integers(1, 600)
    ),
    st.tuples(st.just("delete"), st.integers(0, 50)),
    st.tuples(
        st.just("import"),
        st.lists(st.tuples(st.sampled_from(CUSTOMERS), st.sampled_from(DATES), st.integers(1, 600)), max_size=6),
    ),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operation, max_size=12))
def test_facts_equal_visit_aggregates_after_any_writes(sales_force, admin, tmp_path, ops):
    Visit.objects.all().delete()
    CustomerPeriodFacts.objects.all().delete()
    rep, customers = sales_force.a_out, sales_force.c
    for op in ops:
        visits = list(Visit.objects.order_by("id"))
        if op[0] == "log":
            _, ext, date, minutes = op
            services.visit_log(rep=rep, customer=customers[ext], date=date, minutes=minutes, acting_user=admin)
        elif op[0] == "update" and visits:
            _, i, ext, date, minutes = op
            services.visit_update(
                visit=visits[i % len(visits)], acting_user=admin, customer=customers[ext], date=date, minutes=minutes
            )
        elif op[0] == "delete" and visits:
            services.visit_delete(visit=visits[op[1] % len(visits)], acting_user=admin)
        elif op[0] == "import" and op[1]:
            path = tmp_path / "visits.csv"
            lines = [f"a-out,{ext},{date.isoformat()},{minutes},visit" for ext, date, minutes in op[1]]
            path.write_text("rep,customer_id,date,minutes,kind\n" + "\n".join(lines) + "\n", encoding="utf-8")
            services.visits_import(path=path)
        assert stored_facts() == visit_aggregates()


def test_rebuild_repairs_facts_written_around_the_services(sales_force, admin):
    services.visit_log(
        rep=sales_force.a_out, customer=sales_force.c["C1"], date=DATES[2], minutes=30, acting_user=admin
    )
    CustomerPeriodFacts.objects.update(visits=7, visit_minutes=999)  # drifted
    CustomerPeriodFacts.objects.update_or_create(  # C2's row holds its order facts already
        period=sales_force.p2024, customer=sales_force.c["C2"], defaults={"visits": 3}
    )
    services.visit_facts_rebuild()
    assert stored_facts() == visit_aggregates() == {(sales_force.p2025.id, sales_force.c["C1"].id): (1, 30)}


def test_a_failed_visit_write_leaves_the_facts_alone(sales_force, admin):
    from django.core.exceptions import ValidationError

    before = list(CustomerPeriodFacts.objects.order_by("id").values())  # the order facts of the data set
    with pytest.raises(ValidationError):
        services.visit_log(
            rep=sales_force.a_out, customer=sales_force.c["C1"], date=DATES[0], minutes=0, acting_user=admin
        )
    assert not CustomerPeriodFacts.objects.exclude(visits=0, visit_minutes=0).exists()
    assert list(CustomerPeriodFacts.objects.order_by("id").values()) == before


def test_visit_driven_allocation_is_the_one_the_visits_give(sales_force, admin):
    """Pools on the visits and visit_minutes keys allocate exactly as the visit aggregates say."""
    period = sales_force.p2025
    for ext, minutes in (("C1", 30), ("C1", 45), ("C2", 10), ("C3", 120), ("C5", 5)):
        services.visit_log(
            rep=sales_force.a_out, customer=sales_force.c[ext], date=DATES[3], minutes=minutes, acting_user=admin
        )
    CostPool.objects.create(period=period, name="Visits", amount=Decimal("1000.01"), key="visits")
    CostPool.objects.create(period=period, name="Visit time", amount=Decimal("333.33"), key="visit_minutes")

    from_facts = profit_compute(period=period)

    # The same allocation with the drivers taken straight from the visits (the old way).
    drivers = drivers_frame(period=period).drop(columns=["visits", "visit_minutes"])
    rows = (
        Visit.objects.filter(period=period)
        .values("customer_id")
        .annotate(visits=Count("id"), visit_minutes=Sum("minutes"))
    )
    visits = pd.DataFrame.from_records(list(rows), columns=["customer_id", "visits", "visit_minutes"])
    drivers = drivers.merge(visits, on="customer_id", how="left").fillna({"visits": 0, "visit_minutes": 0})
    drivers = drivers.astype({"visits": "int64", "visit_minutes": "int64"})[from_facts.drivers.columns]
    from_visits = allocation.allocate_pools(drivers, pools_frame(period=period))

    pd.testing.assert_frame_equal(from_facts.drivers, drivers)
    pd.testing.assert_frame_equal(from_facts.result.allocations, from_visits.allocations)
    pools = pools_frame(period=period)
    visit_pools = pools.loc[pools["key"].isin(["visits", "visit_minutes"]), "pool_id"]
    allocated = from_facts.result.allocations[from_facts.result.allocations["pool_id"].isin(visit_pools)]
    assert allocated["amount_cents"].sum() == 100001 + 33333  # the active visited customers carry both pools
    assert set(allocated["customer_id"]) <= {sales_force.c[e].id for e in ("C1", "C2", "C3", "C5")}


def test_accounting_reads_the_facts_not_the_visits(sales_force, admin):
    """Facts are what the allocation sees (so accounting needs no sales-force import)."""
    period = sales_force.p2025
    CustomerPeriodFacts.objects.update_or_create(
        period=period, customer=sales_force.c["C2"], defaults={"visits": 4, "visit_minutes": 80}
    )
    drivers = drivers_frame(period=period).set_index("customer_id")
    assert tuple(drivers.loc[sales_force.c["C2"].id, ["visits", "visit_minutes"]]) == (4, 80)
    assert customer_facts_frame(period=period).to_dict("records") == [
        {"customer_id": sales_force.c["C2"].id, "visits": 4, "visit_minutes": 80}
    ]
    assert Period.objects.count() == 2
