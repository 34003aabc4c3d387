"""The orders import across chunks (issue 17): what needs the whole file still holds when an order's
rows lie in different chunks, a bad row in the middle writes nothing, and a re-import changes nothing.

On PostgreSQL this runs the staged path (COPY into a temporary table, checks and merge set-based,
``customers.services.order_staging``); on SQLite the executemany path. Both must answer the same.
"""

import functools

import pytest
from django.db import connection

from config import intake
from config.intake import ImportFailed, run_import
from customers.models import Order, OrderLine, Product
from customers.services import order_import
from tests import dataset

HEADER = "order_id,customer_id,date,amount,cost,quantity,product,product_group\n"
GOOD = (
    HEADER
    + "A1,C1,2025-03-01,100,50,1,P1,G1\n"  # row 2
    + "A1,C1,2025-03-01,200,50,2,P2,G1\n"  # row 3: chunk 1 ends here
    + "A2,C2,2025-03-02,10.5,4,1,P1,G1\n"  # row 4
    + "A1,C1,2025-03-01,300,50,3,,\n"  # row 5: A1's third line, in chunk 2
    + "A3,C2,2024-06-01,-20,0,1,P3,G2\n"  # row 6
    + "A3,C2,2024-06-01,5,1,1,P1,\n"  # row 7
)


@pytest.fixture
def two_row_chunks(monkeypatch):
    """Chunks of two rows, so an order's rows fall into different chunks."""
    monkeypatch.setattr(order_import, "read_chunks", functools.partial(intake.read_chunks, chunk_rows=2))


@pytest.fixture
def customers(db, tmp_path):
    run_import("customers", dataset.write(tmp_path, "c.csv", "external_id;name;status\nC1;A;customer\nC2;B;customer\n"))


def _orders(tmp_path, text):
    return run_import("orders", dataset.write(tmp_path, "orders.csv", text))


def _lines():
    return sorted(
        (o, n, str(a), str(q), p or "")
        for o, n, a, q, p in OrderLine.objects.values_list(
            "order__external_id", "line_no", "amount", "quantity", "product__code"
        )
    )


def test_bad_rows_in_the_middle_are_each_reported_and_nothing_is_written(customers, two_row_chunks, tmp_path):
    text = (
        HEADER
        + "A1,C1,2025-03-01,100,50,1,P1,G1\n"  # row 2
        + "A1,C1,2025-03-01,200,50,2,P2,G1\n"  # row 3
        + "A2,CX,2025-03-01,10,4,1,P1,G1\n"  # row 4: unknown customer
        + "A1,C1,2025-04-01,300,50,3,P1,G1\n"  # row 5: A1 again, in another chunk, on another date
        + "A3,C2,2025-03-01,abc,1,1,P9,G9\n"  # row 6: amount is not a number
        + "A3,C1,2025-03-01,5,1,1,P1,\n"  # row 7: A3's first row said C2
    )
    with pytest.raises(ImportFailed) as failed:
        _orders(tmp_path, text)
    found = [(e.row, e.column) for e in failed.value.errors]
    assert found == [(4, "customer_id"), (5, "order_id"), (6, "amount"), (7, "order_id")]
    assert failed.value.total == 4
    reasons = {e.row: e.reason for e in failed.value.errors}
    assert "unknown customer" in reasons[4]
    assert "appears earlier in the file" in reasons[5] and "appears earlier in the file" in reasons[7]
    assert "not a number" in reasons[6]
    assert {e.row: e.value for e in failed.value.errors}[4] == "CX"
    assert (Order.objects.count(), OrderLine.objects.count(), Product.objects.count()) == (0, 0, 0)
    # Nothing of the failed import is left in the way of the next one (same transaction in a test).
    assert _orders(tmp_path, GOOD).created == 3


def test_lines_are_numbered_across_chunks_and_a_reimport_changes_nothing(customers, two_row_chunks, tmp_path):
    result = _orders(tmp_path, GOOD).as_dict()
    assert (result["rows"], result["created"], result["updated"], result["unchanged"]) == (6, 3, 0, 0)
    assert result["periods"] == [2024, 2025]
    assert _lines() == [
        ("A1", 1, "100.00", "1.000", "P1"),
        ("A1", 2, "200.00", "2.000", "P2"),
        ("A1", 3, "300.00", "3.000", ""),
        ("A2", 1, "10.50", "1.000", "P1"),
        ("A3", 1, "-20.00", "1.000", "P3"),
        ("A3", 2, "5.00", "1.000", "P1"),
    ]
    assert Product.objects.get(code="P3").group.name == "G2"
    ids = dict(OrderLine.objects.values_list("order__external_id", "order_id"))

    again = _orders(tmp_path, GOOD).as_dict()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)
    assert dict(OrderLine.objects.values_list("order__external_id", "order_id")) == ids

    # A3 changes an amount, A1 loses its third line, A2 stays: 2 updated, 1 unchanged.
    changed = GOOD.replace("A3,C2,2024-06-01,5,1,1,P1,", "A3,C2,2024-06-01,6,1,1,P1,").replace(
        "A1,C1,2025-03-01,300,50,3,,\n", ""
    )
    result = _orders(tmp_path, changed).as_dict()
    assert (result["created"], result["updated"], result["unchanged"]) == (0, 2, 1)
    assert [line for line in _lines() if line[0] != "A2"] == [
        ("A1", 1, "100.00", "1.000", "P1"),
        ("A1", 2, "200.00", "2.000", "P2"),
        ("A3", 1, "-20.00", "1.000", "P3"),
        ("A3", 2, "6.00", "1.000", "P1"),
    ]


def test_an_order_moving_to_another_customer_and_period_is_updated(customers, two_row_chunks, tmp_path):
    _orders(tmp_path, GOOD)
    moved = GOOD.replace("A2,C2,2025-03-02", "A2,C1,2024-03-02")
    result = _orders(tmp_path, moved).as_dict()
    assert (result["created"], result["updated"], result["unchanged"]) == (0, 1, 2)
    order = Order.objects.get(external_id="A2")
    assert (order.customer.external_id, order.period.name) == ("C1", 2024)
    assert set(order.lines.values_list("customer__external_id", "period__name")) == {("C1", 2024)}


def test_a_stored_order_gaining_a_line_beside_a_new_order(customers, two_row_chunks, tmp_path):
    """A re-import that adds a line to a stored order (inserted beside its stored lines), changes
    another stored line and brings a new order: each is written, and counted once."""
    _orders(tmp_path, GOOD)
    more = (
        GOOD.replace("A1,C1,2025-03-01,200,50,2,P2,G1", "A1,C1,2025-03-01,250,50,2,P2,G1")
        + "A2,C2,2025-03-02,7,1,2,P4,G2\n"  # A2's second line
        + "A4,C1,2025-05-01,1,0,1,,\n"  # a new order
    )
    result = _orders(tmp_path, more).as_dict()
    assert (result["rows"], result["created"], result["updated"], result["unchanged"]) == (8, 1, 2, 1)
    assert _lines() == [
        ("A1", 1, "100.00", "1.000", "P1"),
        ("A1", 2, "250.00", "2.000", "P2"),
        ("A1", 3, "300.00", "3.000", ""),
        ("A2", 1, "10.50", "1.000", "P1"),
        ("A2", 2, "7.00", "2.000", "P4"),
        ("A3", 1, "-20.00", "1.000", "P3"),
        ("A3", 2, "5.00", "1.000", "P1"),
        ("A4", 1, "1.00", "1.000", ""),
    ]
    assert set(OrderLine.objects.filter(order__external_id="A2").values_list("customer_id", "period_id")) == set(
        Order.objects.filter(external_id="A2").values_list("customer_id", "period_id")
    )
    assert _orders(tmp_path, more).as_dict()["unchanged"] == 4


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the staged import's race needs two writers (SQLite serialises them)"
)
def test_an_order_another_writer_saves_during_the_import_is_a_clear_error_and_writes_nothing(tmp_path):
    """New orders are plain INSERTs on PostgreSQL: when another writer commits one of the file's new
    orders while the file is being imported, the import fails with a message saying what to do."""
    import threading

    import psycopg

    run_import("customers", dataset.write(tmp_path, "c.csv", "external_id;name;status\nC1;A;customer\n"))
    _orders(tmp_path, HEADER + "A0,C1,2025-03-01,1,0,1,,\n")  # the period exists
    order = Order.objects.get(external_id="A0")
    settings = connection.settings_dict
    other = psycopg.connect(
        dbname=settings["NAME"], user=settings["USER"], host=settings["HOST"], port=settings["PORT"] or 5432
    )
    other.execute(
        "INSERT INTO customers_order (external_id, customer_id, date, period_id) VALUES ('A9', %s, %s, %s)",
        [order.customer_id, order.date, order.period_id],
    )
    committer = threading.Timer(1.0, other.commit)  # while the import waits on A9's key
    committer.start()
    try:
        with pytest.raises(ImportFailed) as failed:
            _orders(tmp_path, HEADER + "A9,C1,2025-03-02,5,0,1,,\nA8,C1,2025-03-02,7,0,1,,\n")
    finally:
        committer.join()
        other.close()
    assert "import the file again" in str(failed.value.errors[0])
    assert set(Order.objects.values_list("external_id", flat=True)) == {"A0", "A9"}  # nothing of the file
    assert not OrderLine.objects.filter(order__external_id__in=["A8", "A9"]).exists()
