"""Imports of cost pools and invoices: every bad row reported (row, column, reason), nothing written."""

from decimal import Decimal

import pytest

from accounting.models import CostPool, Invoice
from config.intake import ImportFailed, run_import
from tests.dataset import write


def errors_of(tmp_path, kind: str, text: str) -> set[tuple[int, str, str]]:
    with pytest.raises(ImportFailed) as exc:
        run_import(kind, write(tmp_path, f"bad-{kind}.csv", text))
    return {(e.row, e.column, e.reason) for e in exc.value.errors}


def test_costs_file_errors_name_row_column_and_reason(small_dataset, tmp_path):
    before = list(CostPool.objects.values_list("id", "name", "amount", "key"))
    text = (
        "period,pool,amount,key,nature,capacity_minutes,customer_id\n"
        "2025,Sales,950,per_customer,fixed,,\n"  # valid: would update Sales
        "25,Logistics,100,orders,fixed,,\n"
        "2025,Marketing,-5,revenue,fixed,,\n"
        "2025,Service,abc,per_customer,fixed,,\n"
        "2025,Picking,300,by_weight,fixed,,\n"
        "2025,Warehouse,300,time_driven,fixed,,\n"
        "2025,Bad debt,300,direct,fixed,,\n"
        "2025,Claims,50,direct,fixed,,C99\n"
        "2025,Freight,50,orders,sometimes,,\n"
        "2025,Transport,50,orders,fixed,,C1\n"
    )
    errors = errors_of(tmp_path, "costs", text)
    rows = {(row, column) for row, column, _ in errors}
    assert rows == {
        (3, "period"),
        (4, "amount"),
        (5, "amount"),
        (6, "key"),
        (7, "capacity_minutes"),
        (8, "customer_id"),
        (9, "customer_id"),
        (10, "nature"),
        (11, "customer_id"),
    }
    reasons = {(row, column): reason for row, column, reason in errors}
    assert reasons[(4, "amount")] == "a cost pool cannot be negative"
    assert reasons[(9, "customer_id")] == "unknown customer"
    assert "practical capacity" in reasons[(7, "capacity_minutes")]
    assert list(CostPool.objects.values_list("id", "name", "amount", "key")) == before


def test_costs_file_with_a_bad_header(small_dataset, tmp_path):
    errors = errors_of(tmp_path, "costs", "period,pool,amount\n2025,Sales,900\n")
    assert (1, "key", "required column is missing from the header row") in errors


def test_costs_import_updates_a_pool_by_name_and_keeps_history(small_dataset, tmp_path, finance_user):
    result = run_import(
        "costs",
        write(tmp_path, "costs.csv", "period;pool;amount;key\n2025;Sales;1.250,50;per_customer\n"),
        acting_user=finance_user,
    )
    assert (result.created, result.updated) == (0, 1)
    pool = CostPool.objects.get(period=small_dataset[2025], name="Sales")
    assert pool.amount == Decimal("1250.50")
    latest = pool.history.first()
    assert (latest.history_type, latest.history_user) == ("~", finance_user)


def test_invoices_file_errors_name_row_column_and_reason(small_dataset, tmp_path):
    before = list(Invoice.objects.values_list("external_id", "amount", "paid"))
    text = (
        "customer_id,invoice_id,amount,issued,due,paid\n"
        "C1,I1,2100,2025-02-01,2025-03-03,2025-04-02\n"  # valid: would update I1
        "C99,I7,100,2025-01-01,2025-01-31,\n"
        "C1,I8,1O0,2025-01-01,2025-01-31,\n"
        "C1,I9,100,2025-02-30,2025-03-30,\n"
        "C1,I10,100,2025-03-01,2025-02-01,\n"
        "C1,I11,100,2025-03-01,2025-04-01,paid\n"
        "C4,I12,100,2025-03-01,2025-04-01,\n"
        "C4,I12,100,2025-03-01,2025-04-01,\n"
    )
    errors = errors_of(tmp_path, "invoices", text)
    assert {(row, column) for row, column, _ in errors} == {
        (3, "customer_id"),
        (4, "amount"),
        (5, "issued"),
        (6, "due"),
        (7, "paid"),
        (8, "invoice_id"),
        (9, "invoice_id"),
    }
    reasons = {(row, column): reason for row, column, reason in errors}
    assert reasons[(6, "due")] == "the due date is before the issue date"
    assert reasons[(3, "customer_id")] == "unknown customer; import the customer first"
    assert list(Invoice.objects.values_list("external_id", "amount", "paid")) == before
