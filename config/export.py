"""CSV and Excel downloads of any table a page shows: the same rows, typed cells.

A view builds ``rows`` (list of dicts) and ``columns`` ([(key, header), ...]) with the selector
that also draws the page, then returns ``table_response(...)`` when ``?format=csv|xlsx``.
Numbers stay numbers in Excel (typed numeric cells), with a bold header row.

Text never becomes a formula (OWASP "CSV injection"): a text cell that begins with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return gets a leading single quote, in CSV and XLSX alike, and
XLSX text cells are typed as strings. Numbers (int, float, Decimal) are never escaped: a negative
amount stays a number.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from decimal import Decimal

from django.http import HttpResponse

EXPORT_FORMATS = ("csv", "xlsx")


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def export_text(value):
    """A cell value as exported: text that a spreadsheet would run as a formula gets a leading
    quote; anything that is not text (a number, a date, None) is returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _cell(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, str):
        return export_text(value)
    if value is None or isinstance(value, int | float | dt.date | dt.datetime):
        return value
    return export_text(str(value))  # lazy translations and other objects: their text


def _csv_value(value):
    """CSV text of one cell: money-like Decimals with two decimals (235133.18, not
    235133.180000000 as a SQLite sum gives); more only where they carry digits (a rate 0.2445)."""
    if value is None:
        return ""
    if isinstance(value, Decimal) and value.is_finite():
        two = value.quantize(Decimal("0.01")) if value.as_tuple().exponent < -2 else value
        if two == value:
            return f"{value.quantize(Decimal('0.01')):f}"
        return f"{value.normalize():f}"
    return export_text(value)


def table_response(*, rows: Sequence[dict], columns: Sequence[tuple[str, str]], filename: str, fmt: str):
    headers = [str(label) for _, label in columns]
    keys = [key for key, _ in columns]
    if fmt == "xlsx":
        from openpyxl import Workbook
        from openpyxl.styles import Font

        wb = Workbook(write_only=False)
        ws = wb.active
        ws.title = filename[:31]
        ws.append(headers)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in rows:
            ws.append([_cell(row.get(k)) for k in keys])
            for cell in ws[ws.max_row]:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # text, never a formula
        ws.freeze_panes = "A2"
        for i, header in enumerate(headers, start=1):
            ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = max(10, min(40, len(header) + 4))
        buf = io.BytesIO()
        wb.save(buf)
        response = HttpResponse(
            buf.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
    else:
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(headers)
        for row in rows:
            writer.writerow([_csv_value(row.get(k)) for k in keys])
        response = HttpResponse("\ufeff" + buf.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response
