"""Dates of orders, invoices and visits lie in the date window (issue 13, finding 10).

1900-01-01 created period 1900 (and a retention against it), visits in year 1..1879 created
periods, and 9999-12-31 was a 500. Outside the window: a row error in imports, a field error in
forms and the API, and ``customers.services.periods_for_write`` refuses as the last line."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from config.intake import ImportFailed, run_import
from customers.models import Order, Period
from customers.services import period_for_write, periods_for_write
from salesforce_tasks import services as sales_services
from salesforce_tasks.models import Visit
from tests.conftest import client_for
from tests.salesforce_tasks.test_services import build_sales_force


def import_errors(kind: str, tmp_path, text: str) -> list[tuple[int, str]]:
    path = tmp_path / f"{kind}.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ImportFailed) as caught:
        run_import(kind, path)
    return [(e.row, e.column) for e in caught.value.errors]


def test_orders_import_refuses_dates_outside_the_window_and_creates_no_period(small_dataset, tmp_path):
    before = set(Period.objects.values_list("name", flat=True))
    text = (
        "order_id,customer_id,date,amount\n"
        "N1,C1,1900-01-01,10\nN2,C1,2025-03-01,10\nN3,C1,9999-12-31,10\nN4,C1,0001-01-01,10\n"
    )
    assert import_errors("orders", tmp_path, text) == [(2, "date"), (4, "date"), (5, "date")]
    assert set(Period.objects.values_list("name", flat=True)) == before
    assert not Order.objects.filter(external_id__in=["N1", "N2", "N3"]).exists()


def test_invoices_and_cost_pools_outside_the_window_are_row_errors(small_dataset, tmp_path):
    invoices = (
        "customer_id,invoice_id,amount,issued,due,paid\n"
        "C1,J1,10,1900-01-01,2025-01-01,\nC1,J2,10,2025-01-01,9999-12-31,\nC1,J3,10,2025-01-01,2025-02-01,2025-02-02\n"
    )
    assert import_errors("invoices", tmp_path, invoices) == [(2, "issued"), (3, "due")]
    costs = "period,pool,amount,key\n1900,Old,10,per_customer\n2025,Fine,10,per_customer\n9999,Far,10,per_customer\n"
    assert import_errors("costs", tmp_path, costs) == [(2, "period"), (4, "period")]
    assert not Period.objects.filter(name__in=[1900, 9999]).exists()


def test_the_window_is_a_setting(small_dataset, tmp_path, settings):
    settings.DATE_WINDOW_START = dt.date(2025, 1, 1)
    text = "order_id,customer_id,date,amount\nN1,C1,2024-12-31,10\nN2,C1,2025-01-01,10\n"
    assert import_errors("orders", tmp_path, text) == [(2, "date")]


def test_orders_api_answers_a_field_error_for_dates_outside_the_window(small_dataset, finance_user):
    client = client_for(finance_user)
    for date in ("9999-12-31", "1900-01-01"):
        response = client.post(
            "/api/v1/orders/",
            {"order_id": "W1", "customer_id": "C1", "date": date, "lines": [{"amount": "10.00"}]},
            format="json",
        )
        assert response.status_code == 400, date
        assert "outside" in response.json()["date"][0]
    assert not Period.objects.filter(name__in=[1900, 9999]).exists()


def test_visits_outside_the_window_are_refused_by_service_import_and_form(
    small_dataset, rep_user, manager_user, tmp_path, client
):
    force = build_sales_force(rep_user=rep_user, manager_user=manager_user)
    with pytest.raises(ValidationError) as caught:
        sales_services.visit_log(
            rep=force.a_out, customer=force.c["C1"], date=dt.date(1850, 5, 1), minutes=10, acting_user=rep_user
        )
    assert "date" in caught.value.message_dict
    text = "rep,customer_id,date,minutes,kind\na-out,C1,1879-02-03,30,visit\na-out,C1,2025-02-03,30,visit\n"
    assert import_errors("visits", tmp_path, text) == [(2, "date")]
    client.force_login(rep_user)
    response = client.post(
        reverse("salesforce:visit_new"),
        {"customer": force.c["C1"].pk, "date": "0001-01-01", "minutes": 10, "kind": "visit"},
    )
    assert response.status_code in (200, 400) and "outside" in response.content.decode()
    assert not Visit.objects.exists() and not Period.objects.filter(name__lt=2000).exists()


def test_periods_for_write_is_the_last_line_of_defence(small_dataset):
    with pytest.raises(ValidationError) as caught:
        periods_for_write(names={2025, 1900, 9999})
    assert "1900, 9999" in caught.value.message_dict["period"][0]
    with pytest.raises(ValidationError) as caught:
        period_for_write(date=dt.date(9999, 12, 31))
    assert "date" in caught.value.message_dict
    assert periods_for_write(names={2025})[2025] == small_dataset[2025].pk
