"""Reading import files: CSV (UTF-8 with or without BOM, comma or semicolon) and XLSX.

Files are read in chunks so memory does not grow with the file. Every import is two passes:
``validate`` reads all chunks and collects every bad row; only when there are none, ``write``
reads them again inside one transaction. A failed import writes nothing.

Numbers accept the Dutch format (``1.234,56``) and the English one (``1,234.56``): where a
value holds both separators the last one is the decimal separator; a lone comma is a decimal
comma. Dates are ``YYYY-MM-DD`` (XLSX date cells also work). Row numbers in error messages are
the spreadsheet row: the header is row 1, the first data row is row 2.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from django.utils.translation import gettext as _

CHUNK_ROWS = 100_000
MAX_REPORTED_ERRORS = 1000


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        where = _("row %(row)s") % {"row": self.row} if self.row else _("file")
        col = _(", column '%(column)s'") % {"column": self.column} if self.column else ""
        val = _(" (value '%(value)s')") % {"value": self.value} if self.value else ""
        return f"{where}{col}{val}: {self.reason}"

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "value": self.value, "reason": self.reason}


class ImportFailed(Exception):
    """Raised when a file has bad rows; nothing was written."""

    def __init__(self, errors: list[RowError], total: int | None = None):
        self.errors = errors[:MAX_REPORTED_ERRORS]
        self.total = total if total is not None else len(errors)
        super().__init__(_("%(total)s error(s) in the file; nothing was imported.") % {"total": self.total})


@dataclass
class ErrorList:
    errors: list[RowError] = field(default_factory=list)
    total: int = 0

    def add(self, row: int, column: str, value: object, reason: str) -> None:
        self.total += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(RowError(int(row), column, "" if value is None else str(value)[:80], reason))

    def add_mask(self, chunk: pd.DataFrame, mask: pd.Series, column: str, reason: str) -> None:
        """Add one error per row where ``mask`` is true (vectorised selection)."""
        if not mask.any():
            return
        bad = chunk.loc[mask, ["_row", column] if column in chunk.columns else ["_row"]]
        self.total += len(bad)
        room = MAX_REPORTED_ERRORS - len(self.errors)
        for rec in bad.head(max(room, 0)).itertuples(index=False):
            value = rec[1] if len(rec) > 1 else ""
            self.errors.append(RowError(int(rec[0]), column, "" if pd.isna(value) else str(value)[:80], reason))

    def raise_if_any(self) -> None:
        if self.total:
            self.errors.sort(key=lambda e: (e.row, e.column))
            raise ImportFailed(self.errors, self.total)


@dataclass(frozen=True)
class Layout:
    """The columns of one import kind."""

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()

    @property
    def all(self) -> tuple[str, ...]:
        return self.required + self.optional


def _normalise_header(name: object) -> str:
    return str(name or "").replace("\ufeff", "").strip().lower().replace(" ", "_")


def _sniff_delimiter(first_line: str) -> str:
    return ";" if first_line.count(";") > first_line.count(",") else ","


def _check_header(columns: list[str], layout: Layout) -> list[RowError]:
    errors = []
    seen = set()
    for col in columns:
        if col in seen:
            errors.append(RowError(1, col, "", _("the column appears twice; keep one")))
        seen.add(col)
        if col not in layout.all and col:
            errors.append(
                RowError(
                    1, col, "", _("unknown column; expected columns: %(columns)s") % {"columns": ", ".join(layout.all)}
                )
            )
    for col in layout.required:
        if col not in seen:
            errors.append(RowError(1, col, "", _("required column is missing from the header row")))
    return errors


def read_chunks(path: str | Path, layout: Layout, chunk_rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """Yield DataFrames of strings (missing optional columns as empty strings) with ``_row``.

    Raises ImportFailed for an unreadable file or a bad header.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        yield from _read_xlsx(path, layout, chunk_rows)
    elif suffix in (".csv", ".txt", ""):
        yield from _read_csv(path, layout, chunk_rows)
    else:
        raise ImportFailed([RowError(0, "", path.name, _("unsupported file type: upload a .csv or .xlsx file"))])


def _finish_chunk(df: pd.DataFrame, layout: Layout, first_row: int) -> pd.DataFrame:
    for col in layout.optional:
        if col not in df.columns:
            df[col] = ""
    df = df[list(layout.all)].fillna("")
    for col in layout.all:
        df[col] = df[col].astype(str).str.strip()
    df.insert(0, "_row", np.arange(first_row, first_row + len(df), dtype=np.int64))
    # Entirely empty rows (Excel leaves them) are skipped.
    blank = (df[list(layout.all)] == "").all(axis=1)
    return df.loc[~blank].reset_index(drop=True)


def _read_csv(path: Path, layout: Layout, chunk_rows: int) -> Iterator[pd.DataFrame]:
    try:
        with open(path, encoding="utf-8-sig") as fh:
            first_line = fh.readline()
    except UnicodeDecodeError:
        raise ImportFailed(
            [RowError(0, "", "", _("the file is not UTF-8 text: save it as 'CSV UTF-8' or as .xlsx"))]
        ) from None
    if not first_line.strip():
        raise ImportFailed([RowError(1, "", "", _("the file is empty: the first row must hold the column names"))])
    delimiter = _sniff_delimiter(first_line)
    header = [_normalise_header(h) for h in next(csv.reader(io.StringIO(first_line), delimiter=delimiter))]
    problems = _check_header(header, layout)
    if problems:
        raise ImportFailed(problems)
    try:
        reader = pd.read_csv(
            path,
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            encoding="utf-8-sig",
            chunksize=chunk_rows,
            header=0,
            names=header,
            skip_blank_lines=False,
            on_bad_lines="error",
            engine="c",
        )
        next_row = 2
        for chunk in reader:
            n = len(chunk)
            yield _finish_chunk(chunk, layout, next_row)
            next_row += n
    except UnicodeDecodeError:
        raise ImportFailed(
            [RowError(0, "", "", _("the file is not UTF-8 text: save it as 'CSV UTF-8' or as .xlsx"))]
        ) from None
    except pd.errors.ParserError as exc:
        raise ImportFailed(
            [
                RowError(
                    0,
                    "",
                    "",
                    _("the CSV could not be read (%(problem)s); check quotes and the number of columns per row")
                    % {"problem": exc},
                )
            ]
        ) from None


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value) if not value.is_integer() else str(int(value))
    return str(value)


def _read_xlsx(path: Path, layout: Layout, chunk_rows: int) -> Iterator[pd.DataFrame]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any unreadable workbook
        raise ImportFailed([RowError(0, "", path.name, _("the file is not a readable .xlsx workbook"))]) from None
    try:
        ws = wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        try:
            header = [_normalise_header(h) for h in next(rows)]
        except StopIteration:
            raise ImportFailed(
                [RowError(1, "", "", _("the sheet is empty: row 1 must hold the column names"))]
            ) from None
        while header and not header[-1]:
            header.pop()
        problems = _check_header(header, layout)
        if problems:
            raise ImportFailed(problems)
        width = len(header)
        buf: list[list[str]] = []
        next_row = 2
        for values in rows:
            buf.append([_cell_text(v) for v in list(values)[:width]] + [""] * max(0, width - len(values)))
            if len(buf) >= chunk_rows:
                yield _finish_chunk(pd.DataFrame(buf, columns=header), layout, next_row)
                next_row += len(buf)
                buf = []
        if buf:
            yield _finish_chunk(pd.DataFrame(buf, columns=header), layout, next_row)
    finally:
        wb.close()


# --- vectorised parsers: each returns (values, bad_mask) ---------------------------------------


def _number_text(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Normalise number text to '1234.56'; returns (normalised, empty)."""
    text = values.astype(str).str.replace(r"[\s€\u00a0]", "", regex=True)
    empty = text == ""
    comma_decimal = text.str.contains(",", regex=False) & (
        ~text.str.contains(".", regex=False) | (text.str.rfind(",") > text.str.rfind("."))
    )
    dutch = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    english = text.str.replace(",", "", regex=False)
    return dutch.where(comma_decimal, english), empty


def _parse(values: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(number or NaN, invalid non-empty text, empty)."""
    normalised, empty = _number_text(values)
    ok_shape = normalised.str.fullmatch(r"[-+]?(\d+(\.\d*)?|\.\d+)").fillna(False)
    number = pd.to_numeric(normalised.where(ok_shape, None), errors="coerce")
    invalid = ~empty & (number.isna() | (number.abs() >= 1e13))
    return number, invalid, empty


def parse_money_cents(values: pd.Series, *, required: bool = True) -> tuple[pd.Series, pd.Series]:
    """Text amounts to integer cents (rounded half away from zero beyond two decimals)."""
    number, invalid, empty = _parse(values)
    bad = invalid | (empty & required)
    filled = number.fillna(0).where(~bad, 0)
    cents = np.sign(filled) * np.floor(filled.abs() * 100 + 0.5)
    return cents.astype("int64"), bad


def parse_number(values: pd.Series, *, required: bool = False, default: float = 0.0) -> tuple[pd.Series, pd.Series]:
    """Text numbers (quantities, minutes, weights) to float; empty gives ``default``."""
    number, invalid, empty = _parse(values)
    bad = invalid | (empty & required)
    return number.where(~bad & ~empty, default).astype("float64"), bad


def parse_date(values: pd.Series, *, required: bool = True) -> tuple[pd.Series, pd.Series]:
    text = values.astype(str).str.slice(0, 10)
    empty = text == ""
    parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    bad = (~empty & parsed.isna()) | (empty & required)
    return parsed, bad


def parse_int(values: pd.Series, *, required: bool = True, minimum: int = 0, maximum: int = 10**9):
    text = values.astype(str)
    empty = text == ""
    number = pd.to_numeric(text.where(~empty, None), errors="coerce")
    bad = (~empty & (number.isna() | (number % 1 != 0) | (number < minimum) | (number > maximum))) | (empty & required)
    return number.where(~bad, 0).fillna(0).astype("int64"), bad


def too_long(values: pd.Series, max_length: int) -> pd.Series:
    return values.str.len() > max_length


# --- the import kinds: one table serves the command, the upload page and the API -------------

IMPORT_KINDS: dict[str, str] = {
    "customers": "customers.services.customers_import",
    "orders": "customers.services.orders_import",
    "costs": "accounting.services.cost_pools_import",
    "invoices": "accounting.services.invoices_import",
    "visits": "salesforce_tasks.services.visits_import",
    "surveys": "scenarios.services.surveys_import",
}


def run_import(kind: str, path: str | Path, *, acting_user=None, progress=None):
    """Run the importer of ``kind``; raises ImportFailed (nothing written) or returns its result."""
    from django.utils.module_loading import import_string

    if kind not in IMPORT_KINDS:
        raise ImportFailed(
            [RowError(0, "", kind, _("unknown import kind; use one of %(kinds)s") % {"kinds": ", ".join(IMPORT_KINDS)})]
        )
    try:
        importer = import_string(IMPORT_KINDS[kind])
    except ImportError:
        raise ImportFailed([RowError(0, "", kind, _("this import kind is not available yet"))]) from None
    return importer(path=path, acting_user=acting_user, progress=progress)
