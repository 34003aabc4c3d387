"""CSV and Excel downloads of any table a page shows: the same rows, typed cells.

A view builds ``rows`` (list of dicts) and ``columns`` ([(key, header), ...]) with the selector
that also draws the page, then returns ``table_response(...)`` when ``?format=csv|xlsx``.
Numbers stay numbers in Excel (typed numeric cells), with a bold header row.

Text never becomes a formula (OWASP "CSV injection"): a text cell that begins with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return gets a leading single quote, in CSV and XLSX alike, and
XLSX text cells are typed as strings. Numbers (int, float, Decimal) are never escaped: a negative
amount stays a number.

Both formats stream (issue 17): ``table_response`` returns a ``StreamingHttpResponse`` whose body is
written while ``rows`` (any iterable, e.g. a generator over ``QuerySet.iterator(chunk_size=...)``)
is read, a chunk of rows at a time, so the first byte leaves at once and memory does not grow with
the rows. The XLSX is a minimal SpreadsheetML package (workbook, one sheet with inline strings, a
bold frozen header row, column widths) written by ``_xlsx_chunks`` into a zip that is itself
streamed (``zipfile`` on an unseekable sink: sizes in data descriptors and the central directory).
``response.content`` still gives the whole body (read once): tests and small callers use it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from xml.sax.saxutils import escape

from django.http import StreamingHttpResponse
from django.utils import timezone, translation

EXPORT_FORMATS = ("csv", "xlsx")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Rows written per chunk of the streamed body.
CHUNK_ROWS = 2000


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


class TableExport(StreamingHttpResponse):
    """A streamed export; ``content`` reads the whole body once (for tests and small callers)."""

    _whole: bytes | None = None

    @property
    def content(self) -> bytes:
        if self._whole is None:
            self._whole = b"".join(self.streaming_content)
        return self._whole


def table_response(*, rows: Iterable[dict], columns: Sequence[tuple[str, str]], filename: str, fmt: str):
    """The rows as a streamed CSV or XLSX download; ``rows`` is read lazily, once, while streaming."""
    headers = [str(label) for _, label in columns]
    keys = [key for key, _ in columns]
    language = translation.get_language()
    if fmt == "xlsx":
        body = _xlsx_chunks(rows, keys=keys, headers=headers, sheet=filename)
        content_type = XLSX_CONTENT_TYPE
    else:
        body = _csv_chunks(rows, keys=keys, headers=headers)
        content_type = "text/csv; charset=utf-8"
    response = TableExport(_in_language(body, language), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response


def _in_language(chunks: Iterator[bytes], language: str | None) -> Iterator[bytes]:
    """The body is written after the view returned: lazy texts in the rows keep the request's language."""
    with translation.override(language):
        yield from chunks


def _csv_chunks(rows: Iterable[dict], *, keys: list[str], headers: list[str]) -> Iterator[bytes]:
    buf = io.StringIO()
    writer = csv.writer(buf)
    buf.write("\ufeff")
    writer.writerow(headers)
    yield _taken(buf)  # the header leaves before the first row is read
    for n, row in enumerate(rows, start=1):
        writer.writerow([_csv_value(row.get(k)) for k in keys])
        if n % CHUNK_ROWS == 0:
            yield _taken(buf)
    yield _taken(buf)


def _taken(buf: io.StringIO) -> bytes:
    data = buf.getvalue().encode()
    buf.seek(0)
    buf.truncate()
    return data


# --- XLSX, streamed -----------------------------------------------------------------------------

_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_CONTENT_TYPES = (
    _XML + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    _XML + f'<Relationships xmlns="{_PKG_REL}">'
    f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK_RELS = (
    _XML + f'<Relationships xmlns="{_PKG_REL}">'
    f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/></Relationships>'
)
#: Cell styles: 0 plain, 1 bold (header), 2 date, 3 date and time.
_STYLES = (
    _XML + f'<styleSheet xmlns="{_NS}">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd h:mm:ss"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
#: Characters XML 1.0 cannot carry (a spreadsheet cell cannot either): dropped from text.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_XML_SPECIAL = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)


class _Sink:
    """An unseekable file the zip is written into; ``take()`` hands over what was written so far."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def _xlsx_text(value: str) -> str:
    if value.startswith(FORMULA_START):
        value = "'" + value
    if _XML_SPECIAL.search(value):
        value = escape(_NOT_XML.sub("", value))
    return '<c t="inlineStr"><is><t xml:space="preserve">' + value + "</t></is></c>"


def _xlsx_decimal(value: Decimal) -> str:
    return f"<c><v>{value}</v></c>" if value.is_finite() else "<c/>"


def _xlsx_float(value: float) -> str:
    if value != value or value in (float("inf"), float("-inf")):
        return "<c/>"
    return f"<c><v>{value!r}</v></c>"


def _xlsx_datetime(value: dt.datetime) -> str:
    if timezone.is_aware(value):
        value = timezone.make_naive(value)
    return f'<c s="3"><v>{(value - _EXCEL_EPOCH).total_seconds() / 86400!r}</v></c>'


#: One cell's XML by the value's exact type (the common ones; anything else goes through ``_cell``).
_XLSX_CELL = {
    str: _xlsx_text,
    int: lambda value: f"<c><v>{value}</v></c>",
    float: _xlsx_float,
    Decimal: _xlsx_decimal,
    bool: lambda value: f'<c t="b"><v>{int(value)}</v></c>',
    type(None): lambda value: "<c/>",
    dt.datetime: _xlsx_datetime,
    dt.date: lambda value: f'<c s="2"><v>{(value - _EXCEL_EPOCH.date()).days}</v></c>',
}


def _xlsx_other(value) -> str:
    """A cell of a value whose type is not in ``_XLSX_CELL``: a subclass (a model's text choice),
    a lazy translation or another object, as ``_cell`` sees it."""
    value = _cell(value)
    for kind in (bool, int, float, str):
        if isinstance(value, kind):
            return _XLSX_CELL[kind](kind(value))
    for kind in (dt.datetime, dt.date):
        if isinstance(value, kind):
            return _XLSX_CELL[kind](value)
    return "<c/>"


def _xlsx_chunks(rows: Iterable[dict], *, keys: list[str], headers: list[str], sheet: str) -> Iterator[bytes]:
    """The workbook as zip bytes, written and handed over a chunk of rows at a time.

    Text cells are inline strings (typed as text: never a formula), numbers numeric cells,
    dates dates; the header row is bold and frozen, as the old openpyxl export had it."""
    sink = _Sink()
    writers = _XLSX_CELL
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as package:
        package.writestr("[Content_Types].xml", _CONTENT_TYPES)
        package.writestr("_rels/.rels", _ROOT_RELS)
        package.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        package.writestr("xl/styles.xml", _STYLES)
        name = escape(_SHEET_NAME_BAD.sub("-", sheet)[:31] or "Sheet1", {'"': "&quot;"})
        package.writestr(
            "xl/workbook.xml",
            _XML + f'<workbook xmlns="{_NS}" xmlns:r="{_REL}"><sheets>'
            f'<sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        yield sink.take()
        widths = "".join(
            f'<col min="{i}" max="{i}" width="{max(10, min(40, len(h) + 4))}" customWidth="1"/>'
            for i, h in enumerate(headers, start=1)
        )
        header = "".join(
            f'<c t="inlineStr" s="1"><is><t xml:space="preserve">{escape(_NOT_XML.sub("", h))}</t></is></c>'
            for h in headers
        )
        with package.open("xl/worksheets/sheet1.xml", "w") as part:
            part.write(
                (
                    _XML + f'<worksheet xmlns="{_NS}"><sheetViews><sheetView workbookViewId="0">'
                    '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                    f"</sheetView></sheetViews><cols>{widths}</cols><sheetData>"
                    f"<row>{header}</row>"
                ).encode()
            )
            lines: list[str] = []
            for row in rows:
                cells = [(writers.get(type(value)) or _xlsx_other)(value) for value in map(row.get, keys)]
                lines.append("<row>" + "".join(cells) + "</row>")
                if len(lines) == CHUNK_ROWS:
                    part.write("".join(lines).encode())
                    lines = []
                    yield sink.take()
            part.write(("".join(lines) + "</sheetData></worksheet>").encode())
    yield sink.take()
