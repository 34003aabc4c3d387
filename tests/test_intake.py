"""Import files that cannot hurt (issue 13): bounded .xlsx reading, ragged rows, NUL characters.

The hostile workbooks are built small on disk by tests/xlsx_bombs.py; each is refused with a
clear error before it is read (memory and time are measured by bench/bench_xlsx_bounds.py,
never asserted here)."""

import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from config.intake import ImportFailed, Layout, read_chunks
from customers.models import Customer
from tests import xlsx_bombs
from tests.conftest import client_for

LAYOUT = Layout(("external_id", "name"), ("city",))
ORDER_COLUMNS = ["order_id", "customer_id", "date", "amount"]


def read_all(path, layout=LAYOUT):
    return list(read_chunks(path, layout))


def failure(path, layout=LAYOUT) -> ImportFailed:
    with pytest.raises(ImportFailed) as caught:
        read_all(path, layout)
    return caught.value


def reasons(exc: ImportFailed) -> str:
    return " | ".join(str(e) for e in exc.errors)


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


# --- .xlsx bounds --------------------------------------------------------------------------------


def test_xlsx_with_a_one_gibibyte_shared_string_is_refused_from_the_zip_directory(tmp_path):
    path = xlsx_bombs.huge_shared_string(tmp_path / "strings.xlsx", ORDER_COLUMNS)
    assert path.stat().st_size < 2 * 2**20
    exc = failure(path, Layout(tuple(ORDER_COLUMNS)))
    assert "xl/sharedStrings.xml" in reasons(exc) and "1024 MB" in reasons(exc) and "limit is 64 MB" in reasons(exc)


def test_xlsx_of_five_million_rows_is_refused_before_it_is_read(tmp_path):
    path = xlsx_bombs.many_rows(tmp_path / "rows.xlsx", ORDER_COLUMNS)
    assert path.stat().st_size < 2**20
    exc = failure(path, Layout(tuple(ORDER_COLUMNS)))
    assert exc.total == 1 and "more than 1048576 rows" in reasons(exc)


def test_xlsx_with_too_many_shared_strings_is_refused(tmp_path, settings):
    settings.IMPORT_XLSX_MAX_SHARED_STRINGS = 1000
    path = xlsx_bombs.many_shared_strings(tmp_path / "s.xlsx", ["external_id", "name"], count=20_000)
    assert "more than 1000 different texts" in reasons(failure(path))


def test_xlsx_cells_and_unpacked_size_have_limits(tmp_path, settings):
    path = xlsx_bombs.many_rows(tmp_path / "r.xlsx", ["external_id", "name"], rows=20_000)
    settings.IMPORT_XLSX_MAX_CELLS = 5000
    assert "more than 5000 cells" in reasons(failure(path))
    settings.IMPORT_XLSX_MAX_CELLS = 10**9
    settings.IMPORT_XLSX_MAX_UNCOMPRESSED_BYTES = 100_000
    assert "the workbook unpacks to" in reasons(failure(path))


def test_xlsx_row_numbered_past_the_limit_is_refused_without_filling_the_gap(tmp_path, settings):
    settings.IMPORT_XLSX_MAX_ROWS = 100
    sheet = xlsx_bombs._Member(
        "xl/worksheets/sheet1.xml",
        xlsx_bombs.SHEET_HEAD
        + xlsx_bombs._header_row(["external_id", "name"])
        + '<row r="5000000"><c r="A5000000" t="inlineStr"><is><t>X</t></is></c></row>'
        + xlsx_bombs.SHEET_TAIL,
    )
    path = xlsx_bombs._workbook(tmp_path / "gap.xlsx", sheet, xlsx_bombs._Member("xl/sharedStrings.xml", "<sst/>"))
    assert "more than 100 rows" in reasons(failure(path))


def test_xlsx_broken_in_the_middle_of_the_sheet_is_an_error_not_a_crash(tmp_path):
    sheet = xlsx_bombs._Member(
        "xl/worksheets/sheet1.xml",
        xlsx_bombs.SHEET_HEAD + xlsx_bombs._header_row(["external_id", "name"]) + "<row><c><v>1</v></row>",
    )
    path = xlsx_bombs._workbook(tmp_path / "broken.xlsx", sheet, xlsx_bombs._Member("xl/sharedStrings.xml", "<sst/>"))
    exc = failure(path)
    assert "not a readable .xlsx workbook" in reasons(exc) and exc.errors[0].value == "broken.xlsx"


def test_xlsx_value_beyond_the_header_is_a_row_error(tmp_path):
    sheet = xlsx_bombs._Member(
        "xl/worksheets/sheet1.xml",
        xlsx_bombs.SHEET_HEAD
        + xlsx_bombs._header_row(["external_id", "name"])
        + '<row r="2"><c r="A2" t="inlineStr"><is><t>C1</t></is></c><c r="B2" t="inlineStr"><is><t>A</t></is></c></row>'
        + '<row r="3"><c r="A3" t="inlineStr"><is><t>C2</t></is></c><c r="D3"><v>7</v></c></row>'
        + xlsx_bombs.SHEET_TAIL,
    )
    path = xlsx_bombs._workbook(tmp_path / "wide.xlsx", sheet, xlsx_bombs._Member("xl/sharedStrings.xml", "<sst/>"))
    exc = failure(path)
    assert [(e.row, e.column, e.value) for e in exc.errors] == [(3, "D", "7")]
    assert "beyond the last column of the header" in exc.errors[0].reason


def test_zip_member_inflating_past_its_declared_size_is_not_read(tmp_path):
    """The directory's sizes are what the bounds check trusts: zipfile stops at the declared size."""
    member = xlsx_bombs._Member("xl/sharedStrings.xml", "<sst>" + "A" * 100_000 + "</sst>")
    member.size = 10  # lie: declare 10 bytes
    member.crc = zlib.crc32(b"<sst>AAAAA")
    sheet = xlsx_bombs._Member(
        "xl/worksheets/sheet1.xml", xlsx_bombs.SHEET_HEAD + xlsx_bombs._header_row(["external_id", "name"])
    )
    path = xlsx_bombs._workbook(tmp_path / "liar.xlsx", sheet, member)
    assert "not a readable .xlsx workbook" in reasons(failure(path))


# --- ragged rows -------------------------------------------------------------------------------------


def test_csv_where_every_row_has_one_field_more_is_refused_row_by_row(tmp_path):
    path = write(tmp_path, "c.csv", "external_id,name\nC1,Alpha,x\nC2,Beta,y\nC3,Gamma,z\n")
    exc = failure(path)
    assert [e.row for e in exc.errors] == [2, 3, 4]
    assert "the row has 3 fields and the header 2" in exc.errors[0].reason


def test_one_ragged_row_is_reported_alone_and_shifts_no_other_row(tmp_path):
    text = "external_id,name,city\nC1,Alpha,Ede\nC2,Beta,Ede,extra\nC3,Gamma,Ede\nC4,Delta\nC5,Eps,Ede\n"
    exc = failure(write(tmp_path, "c.csv", text))
    assert [(e.row, e.reason.split(";")[0]) for e in exc.errors] == [
        (3, "the row has 4 fields and the header 3"),
        (5, "the row has 2 fields and the header 3"),
    ]


def test_quoted_fields_blank_lines_and_first_column_values_are_kept(tmp_path):
    text = 'external_id,name,city\nC1,"Alpha, BV",Ede\n\nC2,"Beta\nBV",\n'
    (chunk,) = read_all(write(tmp_path, "c.csv", text))
    assert chunk[["_row", "external_id", "name", "city"]].values.tolist() == [
        [2, "C1", "Alpha, BV", "Ede"],
        [4, "C2", "Beta\nBV", ""],
    ]


def test_csv_row_and_field_limits(tmp_path, settings):
    settings.IMPORT_MAX_ROWS = 2
    assert "more than 2 rows" in reasons(failure(write(tmp_path, "c.csv", "external_id,name\na,b\nc,d\ne,f\n")))
    settings.IMPORT_MAX_ROWS = 100
    settings.IMPORT_MAX_FIELD_CHARS = 50
    exc = failure(write(tmp_path, "d.csv", "external_id,name\na,b\nc," + "x" * 60 + "\n"))
    assert exc.errors[0].row == 3 and "field larger than field limit" in exc.errors[0].reason


# --- NUL -------------------------------------------------------------------------------------------


def test_nul_in_a_csv_cell_is_a_row_error(tmp_path):
    exc = failure(write(tmp_path, "c.csv", "external_id,name\nC1,Alpha\nC2,Be\x00ta\n"))
    assert [(e.row, e.column, e.value) for e in exc.errors] == [(3, "name", "Be\\x00ta")]
    assert "NUL" in exc.errors[0].reason


def test_nul_in_an_uploaded_file_is_a_400_on_the_api_naming_the_row(small_dataset, finance_user):
    file = SimpleUploadedFile("klanten.csv", b"external_id,name\nN1,Alpha\nN2,Be\x00ta\n")
    response = client_for(finance_user).post("/api/v1/imports/customers/", {"file": file}, format="multipart")
    assert response.status_code == 400
    assert response.json()["errors"][0] | {"reason": ""} == {
        "row": 3,
        "column": "name",
        "value": "Be\\x00ta",
        "reason": "",
    }
    assert not Customer.objects.filter(external_id="N1").exists()


def test_nul_in_an_uploaded_file_is_a_400_on_the_upload_page(client, small_dataset, finance_user):
    client.force_login(finance_user)
    file = SimpleUploadedFile("klanten.csv", b"external_id,name\nN1,Alpha\nN2,Be\x00ta\n")
    response = client.post(reverse("customers:import"), {"kind": "customers", "file": file})
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


def test_the_command_line_reports_nul_and_bombs_without_a_traceback(tmp_path, small_dataset, capsys):
    nul = tmp_path / "klanten.csv"
    nul.write_bytes(b"external_id,name\nN1,Be\x00ta\n")
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_csv", "customers", str(nul))
    assert "row 2, column 'name'" in capsys.readouterr().err
    bomb = xlsx_bombs.huge_shared_string(tmp_path / "orders.xlsx", ORDER_COLUMNS)
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_csv", "orders", str(bomb))
    assert "sharedStrings.xml" in capsys.readouterr().err


# --- limits on every entry point, errors naming the user's file -----------------------------------


def test_the_api_refuses_a_bomb_with_a_400_naming_the_part(tmp_path, small_dataset, finance_user):
    bomb = xlsx_bombs.huge_shared_string(tmp_path / "b.xlsx", ORDER_COLUMNS)
    file = SimpleUploadedFile("orders.xlsx", bomb.read_bytes())
    response = client_for(finance_user).post("/api/v1/imports/orders/", {"file": file}, format="multipart")
    assert response.status_code == 400
    assert "xl/sharedStrings.xml" in response.json()["errors"][0]["reason"]


def test_errors_of_an_upload_name_the_users_file_not_the_temporary_one(small_dataset, finance_user):
    file = SimpleUploadedFile("Klanten maart.xlsx", b"this is no workbook")
    response = client_for(finance_user).post("/api/v1/imports/customers/", {"file": file}, format="multipart")
    assert response.status_code == 400
    assert response.json()["errors"][0]["value"] == "Klanten maart.xlsx"
