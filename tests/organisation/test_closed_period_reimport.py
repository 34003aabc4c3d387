"""Re-importing rows dated in a closed period: a row equal to what is stored writes nothing and is
accepted as unchanged; a row that would add, change or delete something dated there is refused,
naming the period, and nothing of the file is written.

Visits have no key: a visit row is always a new visit, so a visit row dated in a closed period is
always refused, even when an identical visit is stored (the import never matches visits on their
fields; re-importing a visits file would add its open-period rows a second time too).
"""

import datetime as dt

import pytest
from django.contrib.auth.models import User

from config.eventbus import drain
from config.intake import ImportFailed, run_import
from customers.models import Order, OrderLine
from salesforce_tasks.models import RepPair, SalesRep, Team, Visit
from salesforce_tasks.organisation.periods import year_close
from tests import dataset

pytestmark = pytest.mark.django_db

HEADER = "order_id,customer_id,date,amount,cost,quantity,product,product_group\n"
O1 = "O1,C1,2024-03-01,1000.00,600,1,P1,G1\nO1,C1,2024-03-01,500,300,2,P2,G1\n"


def _lines():
    return sorted(
        OrderLine.objects.values_list("order__external_id", "line_no", "amount", "cost", "quantity", "product_id")
    )


def _orders_file(tmp_path, text):
    return dataset.write(tmp_path, "again.csv", text)


@pytest.fixture
def closed_2024(small_dataset, finance_user):
    year_close(name=2024, acting_user=finance_user)
    return small_dataset


def test_reimporting_the_unchanged_orders_file_after_the_close_is_accepted_as_unchanged(
    closed_2024, finance_user, tmp_path
):
    before = _lines()
    result = run_import("orders", _orders_file(tmp_path, dataset.ORDERS), acting_user=finance_user)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 8)
    assert _lines() == before
    # Unchanged closed-period rows beside a new order of an open period: the new order is written.
    mixed = HEADER + O1 + "O9,C2,2025-07-01,75,25,1,P1,G1\n"
    result = run_import("orders", _orders_file(tmp_path, mixed), acting_user=finance_user)
    assert (result.created, result.updated, result.unchanged) == (1, 0, 1)
    assert Order.objects.get(external_id="O9").period.name == 2025


@pytest.mark.parametrize(
    ("text", "row", "column", "why"),
    [
        (HEADER + O1.replace("500,300", "501,300"), 3, "date", "a changed amount"),
        (HEADER + O1 + "O1,C1,2024-03-01,5,1,1,P1,G1\n", 4, "date", "a new line of a stored order"),
        (HEADER + "O1,C1,2024-03-01,1000.00,600,1,P1,G1\n", 2, "order_id", "a line deleted (fewer lines)"),
        (HEADER + O1.replace("2024-03-01", "2025-03-01"), 2, "date", "the order moved out of the period"),
        (HEADER + "LATE,C1,2024-12-30,99,,,,\n", 2, "date", "a new order"),
        (HEADER + O1.replace("P2,G1", "P1,G1"), 3, "date", "another product"),
    ],
)
def test_rows_that_would_change_a_closed_period_are_refused(
    closed_2024, finance_user, tmp_path, text, row, column, why
):
    before = _lines()
    with pytest.raises(ImportFailed) as failed:
        run_import(
            "orders", _orders_file(tmp_path, text + "O9,C2,2025-07-01,75,25,1,P1,G1\n"), acting_user=finance_user
        )
    found = [(e.row, e.column) for e in failed.value.errors]
    assert (row, column) in found, (why, found)
    assert all("period 2024 is closed" in e.reason for e in failed.value.errors), why
    assert _lines() == before and not Order.objects.filter(external_id__in=["O9", "LATE"]).exists()


def test_a_visit_row_in_a_closed_period_is_refused_even_when_the_same_visit_is_stored(
    small_dataset, finance_user, tmp_path
):
    team = Team.objects.create(name="Noord")
    out = SalesRep.objects.create(code="R1", name="Rep Een", kind="outside", team=team)
    ins = SalesRep.objects.create(code="R2", name="Rep Twee", kind="inside", team=team)
    RepPair.objects.create(code="N1", team=team, outside_rep=out, inside_rep=ins)
    visits = dataset.write(tmp_path, "visits.csv", "rep,customer_id,date,minutes,kind\nR1,C1,2024-05-02,30,visit\n")
    run_import("visits", visits, acting_user=finance_user)
    assert Visit.objects.count() == 1
    drain()
    year_close(name=2024, acting_user=User.objects.create_superuser("root", "r@example.com", "pw"))
    with pytest.raises(ImportFailed) as failed:
        run_import("visits", visits, acting_user=finance_user)
    assert [(e.row, e.column) for e in failed.value.errors] == [(2, "date")]
    assert "period 2024 is closed" in failed.value.errors[0].reason
    assert Visit.objects.count() == 1 and Visit.objects.get().date == dt.date(2024, 5, 2)
