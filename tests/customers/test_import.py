"""Imports through the upload page and the API: all or nothing, every bad row listed."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from customers.models import Customer, CustomerPeriod, OrderLine
from tests.conftest import client_for

GOOD_CUSTOMERS = "external_id;name;status;city\nN1;Nova BV;customer;Leiden\nN2;Orion BV;prospect;Breda\n"
# Row 3 has no name, row 4 an unknown status, rows 2 and 5 share the id N1.
BAD_CUSTOMERS = (
    "external_id;name;status;city\nN1;Nova BV;customer;Leiden\nN2;;customer;Breda\nN3;Pax BV;vip;Ede\nN1;Again;;\n"
)
GOOD_ORDERS = "order_id,customer_id,date,amount,cost\nQ1,C4,2025-05-01,700,200\n"


def upload(name: str, text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


# --- page --------------------------------------------------------------------------------------------


def test_import_page_lists_the_kinds_and_their_columns(client, db, finance_user):
    client.force_login(finance_user)
    html = client.get(reverse("customers:import")).content.decode()
    for kind in ("customers", "orders", "costs", "invoices"):
        assert f'id="layout-{kind}"' in html
        assert reverse("customers:import_example", args=[kind]) in html
    assert "<code>external_id</code>" in html and "<code>order_id</code>" in html


def test_bad_file_lists_every_error_and_imports_nothing(client, small_dataset, finance_user):
    client.force_login(finance_user)  # a manager imports only for their teams (customers.policy)
    before = Customer.objects.count()
    response = client.post(
        reverse("customers:import"), {"kind": "customers", "file": upload("customers.csv", BAD_CUSTOMERS)}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Nothing was imported" in html and "4 errors" in html
    table = html.split('<table class="errors">')[1].split("</table>")[0]
    assert '<td class="num">3</td><td>name</td>' in table
    assert '<td class="num">4</td><td>status</td><td><code>vip</code></td>' in table
    assert '<td class="num">2</td><td>external_id</td>' in table
    assert '<td class="num">5</td><td>external_id</td>' in table
    assert "missing name" in table and "unknown status" in table
    assert Customer.objects.count() == before


def test_bad_header_is_reported_on_row_1(client, small_dataset, finance_user):
    client.force_login(finance_user)
    response = client.post(
        reverse("customers:import"), {"kind": "orders", "file": upload("orders.csv", "order;customer\nx;y\n")}
    )
    html = response.content.decode()
    assert "required column is missing" in html and '<td class="num">1</td>' in html


def test_good_file_is_imported_with_counts(client, small_dataset, finance_user):
    client.force_login(finance_user)
    before = Customer.objects.count()
    response = client.post(
        reverse("customers:import"), {"kind": "customers", "file": upload("customers.csv", GOOD_CUSTOMERS)}
    )
    html = response.content.decode()
    assert 'id="import-result"' in html and "File of customers: 2 rows read, 2 new, 0 updated, 0 unchanged." in html
    assert Customer.objects.count() == before + 2
    assert Customer.objects.get(external_id="N2").status == "prospect"


def test_orders_upload_recomputes_the_pyramid(client, small_dataset, finance_user, django_capture_on_commit_callbacks):
    client.force_login(finance_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("customers:import"), {"kind": "orders", "file": upload("o.csv", GOOD_ORDERS)})
    assert "Periods: 2025." in response.content.decode()
    row = CustomerPeriod.objects.get(period=small_dataset[2025], customer__external_id="C4")
    assert row.revenue == 1000 and row.rank == 2


def test_xlsx_upload_keeps_its_suffix(client, small_dataset, finance_user):
    wb = Workbook()
    ws = wb.active
    ws.append(["external_id", "name"])
    ws.append(["X1", "Excel BV"])
    buf = io.BytesIO()
    wb.save(buf)
    client.force_login(finance_user)
    file = SimpleUploadedFile("Klanten.XLSX", buf.getvalue())
    response = client.post(reverse("customers:import"), {"kind": "customers", "file": file})
    assert "File of customers: 1 rows read, 1 new" in response.content.decode()
    assert Customer.objects.filter(external_id="X1", name="Excel BV").exists()


def test_unsupported_file_type_is_an_error_not_a_crash(client, small_dataset, finance_user):
    client.force_login(finance_user)
    response = client.post(reverse("customers:import"), {"kind": "customers", "file": upload("c.pdf", "%PDF")})
    assert "unsupported file type" in response.content.decode()


def test_too_large_file_is_refused_inline(client, small_dataset, finance_user, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 20
    client.force_login(finance_user)
    before = Customer.objects.count()
    response = client.post(
        reverse("customers:import"), {"kind": "customers", "file": upload("customers.csv", GOOD_CUSTOMERS)}
    )
    assert "the largest file accepted is" in response.content.decode()
    assert Customer.objects.count() == before


def test_reps_cannot_import(client, small_dataset, rep_user):
    client.force_login(rep_user)
    assert client.get(reverse("customers:import")).status_code == 403
    response = client.post(
        reverse("customers:import"), {"kind": "customers", "file": upload("customers.csv", GOOD_CUSTOMERS)}
    )
    assert response.status_code == 403
    assert not Customer.objects.filter(external_id="N1").exists()


def test_example_files_import_cleanly(client, db, finance_user):
    """The example of each kind has the expected columns and is itself a good file (finance: every customer)."""
    client.force_login(finance_user)
    for kind in ("customers", "orders"):
        example = client.get(reverse("customers:import_example", args=[kind]))
        assert example.status_code == 200 and example["Content-Type"].startswith("text/csv")
        text = example.content.decode("utf-8-sig")
        response = client.post(reverse("customers:import"), {"kind": kind, "file": upload(f"{kind}.csv", text)})
        assert 'id="import-result"' in response.content.decode(), response.content.decode()
    assert OrderLine.objects.filter(order__external_id="O1001").count() == 1
    header = client.get(reverse("customers:import_example", args=["costs"])).content.decode("utf-8-sig")
    assert header.splitlines()[0].startswith("period,pool,amount,key")
    assert client.get(reverse("customers:import_example", args=["horoscope"])).status_code == 404


# --- API ---------------------------------------------------------------------------------------------


def test_api_bad_file_is_400_with_rows(small_dataset, finance_user):
    before = Customer.objects.count()
    response = client_for(finance_user).post(
        "/api/v1/imports/customers/", {"file": upload("customers.csv", BAD_CUSTOMERS)}, format="multipart"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["total"] == 4
    assert [(e["row"], e["column"]) for e in body["errors"]] == [
        (2, "external_id"),
        (3, "name"),
        (4, "status"),
        (5, "external_id"),
    ]
    assert body["errors"][2]["value"] == "vip" and "unknown status" in body["errors"][2]["reason"]
    assert Customer.objects.count() == before


def test_api_good_file_is_201_with_counts(small_dataset, finance_user):
    response = client_for(finance_user).post(
        "/api/v1/imports/customers/", {"file": upload("customers.csv", GOOD_CUSTOMERS)}, format="multipart"
    )
    assert response.status_code == 201
    assert response.json() == {
        "kind": "customers",
        "rows": 2,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "periods": [],
    }
    assert Customer.objects.filter(external_id__in=["N1", "N2"]).count() == 2


@pytest.mark.parametrize(
    "url,data,code",
    [
        ("/api/v1/imports/horoscope/", {"file": "x"}, 404),
        ("/api/v1/imports/customers/", {}, 400),
    ],
)
def test_api_import_input_errors(small_dataset, finance_user, url, data, code):
    if "file" in data:
        data = {"file": upload("x.csv", "a\n")}
    assert client_for(finance_user).post(url, data, format="multipart").status_code == code


def test_api_import_refuses_reps_and_get(small_dataset, rep_user, finance_user):
    response = client_for(rep_user).post(
        "/api/v1/imports/customers/", {"file": upload("customers.csv", GOOD_CUSTOMERS)}, format="multipart"
    )
    assert response.status_code == 403
    assert not Customer.objects.filter(external_id="N1").exists()
    assert client_for(finance_user).get("/api/v1/imports/customers/").status_code in (403, 405)
