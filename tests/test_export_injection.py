"""Exports never carry a live formula (issue 13, finding 6; OWASP CSV injection).

A customer named ``=HYPERLINK(...)`` and a visit outcome ``=1+1`` go through the real export
endpoints: text is escaped with a leading quote and typed as text in XLSX; numbers, negative
ones too, stay numbers."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from accounting.models import CostPool
from config.export import export_text
from customers.models import Customer
from salesforce_tasks import services as sales_services
from tests.salesforce_tasks.test_services import build_sales_force

EVIL_NAME = '=HYPERLINK("http://example.com/steal","Alpha")'


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_text_that_starts_a_formula_is_quoted(start):
    assert export_text(start + "1+1") == "'" + start + "1+1"


@pytest.mark.parametrize("value", [Decimal("-12.50"), -3, -0.5, None, "Alpha BV", "1-2", dt.date(2025, 1, 1)])
def test_numbers_dates_and_plain_text_are_left_alone(value):
    assert export_text(value) == value


def sheet_cells(response) -> list[list]:
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [list(row) for row in sheet.iter_rows()]


def test_customer_list_export_escapes_a_formula_name_and_keeps_negative_numbers(client, small_dataset, finance_user):
    Customer.objects.filter(external_id="C2").update(name=EVIL_NAME)  # C2's 2025 revenue is negative
    client.force_login(finance_user)
    url = reverse("customers:list")
    text = client.get(url, {"period": 2025, "format": "csv"}).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert ["'" + EVIL_NAME] == [cell for row in rows for cell in row if "HYPERLINK" in cell]
    negatives = [cell for row in rows[1:] for cell in row if cell.startswith("-")]
    assert negatives and all(Decimal(cell) < 0 for cell in negatives)  # numbers, not escaped text

    cells = [cell for row in sheet_cells(client.get(url, {"period": 2025, "format": "xlsx"})) for cell in row]
    evil = [cell for cell in cells if isinstance(cell.value, str) and "HYPERLINK" in cell.value]
    assert [(c.value, c.data_type) for c in evil] == [("'" + EVIL_NAME, "s")]
    assert all(c.data_type != "f" for c in cells)
    assert any(c.data_type == "n" and isinstance(c.value, int | float) and c.value < 0 for c in cells)


def test_visit_export_escapes_an_outcome_formula(client, small_dataset, rep_user, manager_user):
    force = build_sales_force(rep_user=rep_user, manager_user=manager_user)
    sales_services.visit_log(
        rep=force.a_out,
        customer=force.c["C1"],
        date=dt.date(2025, 5, 1),
        minutes=10,
        outcome="=1+1",
        acting_user=rep_user,
    )
    client.force_login(rep_user)
    url = reverse("salesforce:visits")
    text = client.get(url, {"format": "csv"}).content.decode("utf-8-sig")
    assert "'=1+1" in [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    cells = [cell for row in sheet_cells(client.get(url, {"format": "xlsx"})) for cell in row]
    outcome = [c for c in cells if isinstance(c.value, str) and "1+1" in c.value]
    assert [(c.value, c.data_type) for c in outcome] == [("'=1+1", "s")]


def test_report_command_csv_escapes_text(small_dataset, capsys):
    CostPool.objects.filter(period__name=2025, name="Sales").update(name="@SUM(A1:A9)")
    call_command("report", "pools", "--period", "2025", "--format", "csv")
    cells = [cell for row in csv.reader(io.StringIO(capsys.readouterr().out)) for cell in row]
    assert "'@SUM(A1:A9)" in cells and "@SUM(A1:A9)" not in cells
