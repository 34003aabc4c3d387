"""Exports stream (issue 17): the body is written while the rows are read, chunk by chunk, and it
is the same table as before: every row once, typed cells, escaped text. And the page figures cached
by ``customers.figures_cache`` are recomputed as soon as what they read changes."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from config import export
from customers.figures_cache import figures_cached
from customers.models import Computation, Customer, CustomerPeriod, Period

ROWS = 4_500  # more than two chunks of the streamed body (export.CHUNK_ROWS)


@pytest.fixture
def many_customers(db):
    period = Period.objects.create(name=2025, start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31))
    customers = Customer.objects.bulk_create(
        [Customer(external_id=f"K{i:05d}", name=f"Customer {i}") for i in range(ROWS)]
        + [Customer(external_id="K-EVIL", name="=1+1")]
    )
    CustomerPeriod.objects.bulk_create(
        CustomerPeriod(
            period=period,
            customer=c,
            level="small" if i else "top",
            rank=i + 1,
            revenue=Decimal(ROWS - i) + Decimal("0.25"),
            gross_margin=Decimal(-i),
        )
        for i, c in enumerate(customers)
    )
    return period


def _body(response) -> tuple[list[bytes], bytes]:
    chunks = list(response.streaming_content)
    return chunks, b"".join(chunks)


def test_customer_list_csv_streams_every_row(client, finance_user, many_customers):
    client.force_login(finance_user)
    response = client.get(reverse("customers:list"), {"period": 2025, "format": "csv"})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Disposition"] == 'attachment; filename="customers-2025.csv"'
    chunks, body = _body(response)
    assert len(chunks) > 2  # written a chunk of rows at a time, not at once
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) == ROWS + 1
    assert len({r["Customer id"] for r in rows}) == ROWS + 1
    first = next(r for r in rows if r["Customer id"] == "K00000")
    assert (first["Level"], first["Rank"], first["Revenue"], first["Gross margin"]) == ("top", "1", "4500.25", "0.00")
    assert next(r for r in rows if r["Customer id"] == "K-EVIL")["Name"] == "'=1+1"
    assert Decimal(next(r for r in rows if r["Customer id"] == "K00007")["Gross margin"]) == Decimal("-7")


def test_customer_list_xlsx_streams_every_row_typed(client, finance_user, many_customers):
    client.force_login(finance_user)
    response = client.get(reverse("customers:list"), {"period": 2025, "format": "xlsx"})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == export.XLSX_CONTENT_TYPE
    chunks, body = _body(response)
    assert len(chunks) > 2
    book = load_workbook(io.BytesIO(body))
    sheet = book.active
    assert sheet.title == "customers-2025" and sheet.freeze_panes == "A2"
    header = [c.value for c in sheet[1]]
    assert header[:5] == ["Customer id", "Name", "Status", "Level", "Rank"] and sheet["A1"].font.b
    rows = {r[0].value: r for r in sheet.iter_rows(min_row=2)}
    assert len(rows) == ROWS + 1
    top = rows["K00000"]
    assert [c.value for c in top[3:7]] == ["top", 1, 4500.25, 0]
    assert top[5].data_type == "n" and rows["K00007"][6].value == -7
    evil = rows["K-EVIL"][1]
    assert (evil.value, evil.data_type) == ("'=1+1", "s")
    assert all(c.data_type != "f" for r in rows.values() for c in r)


def test_export_reads_rows_lazily_and_keeps_cell_types():
    read = []

    def rows():
        for i in range(export.CHUNK_ROWS * 2):
            read.append(i)
            yield {
                "text": "@SUM(A1)" if i == 0 else f"<b>&{i}</b>",
                "when": dt.date(2025, 1, 2),
                "at": timezone.make_aware(dt.datetime(2025, 1, 2, 3, 4, 5)),
                "flag": i % 2 == 0,
                "none": None,
                "amount": Decimal("-1.50"),
            }

    columns = [(k, k) for k in ("text", "when", "at", "flag", "none", "amount")]
    response = export.table_response(rows=rows(), columns=columns, filename="lazy", fmt="xlsx")
    assert read == []  # nothing read before the body is
    chunks = iter(response.streaming_content)
    first = next(chunks)
    assert len(read) < export.CHUNK_ROWS * 2
    body = first + b"".join(chunks)
    sheet = load_workbook(io.BytesIO(body)).active
    values = [c.value for c in sheet[2]]
    assert values[0] == "'@SUM(A1)" and sheet["A3"].value == "<b>&1</b>"
    assert values[1] == dt.datetime(2025, 1, 2) and values[2] == dt.datetime(2025, 1, 2, 3, 4, 5)
    assert values[3] is True and values[4] is None and values[5] == -1.5
    assert sheet.max_row == export.CHUNK_ROWS * 2 + 1
    text = export.table_response(rows=rows(), columns=columns, filename="lazy", fmt="csv").content.decode("utf-8-sig")
    assert text.splitlines()[1].split(",")[0] == "'@SUM(A1)"


def test_cached_figures_follow_a_recompute_and_a_customer_change(many_customers):
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    assert figures_cached("test", compute, key=(1,)) == 1
    assert figures_cached("test", compute, key=(1,)) == 1  # cached
    assert figures_cached("test", compute, key=(2,)) == 2  # another key
    row = Computation.objects.create(period=many_customers, stage="pyramid", requested=1)
    assert figures_cached("test", compute, key=(1,)) == 3  # a recompute was requested
    Computation.objects.filter(pk=row.pk).update(computed=1, computed_at=timezone.now())
    assert figures_cached("test", compute, key=(1,)) == 4  # ... and done
    assert figures_cached("test", compute, key=(1,)) == 4
    customer = Customer.objects.get(external_id="K00001")
    customer.name = "Renamed"
    customer.save()  # its history row
    assert figures_cached("test", compute, key=(1,)) == 5
