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
import re
import zipfile
import zlib
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


def _shown(value: object) -> str:
    """A cell value as an error message shows it: the first 80 characters, a NUL made visible."""
    return str(value)[:80].replace("\x00", "\\x00")


@dataclass
class ErrorList:
    errors: list[RowError] = field(default_factory=list)
    total: int = 0

    def add(self, row: int, column: str, value: object, reason: str) -> None:
        self.total += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(RowError(int(row), column, "" if value is None else _shown(value), reason))

    def add_mask(self, chunk: pd.DataFrame, mask: pd.Series, column: str, reason: str) -> None:
        """Add one error per row where ``mask`` is true (vectorised selection)."""
        if not mask.any():
            return
        bad = chunk.loc[mask, ["_row", column] if column in chunk.columns else ["_row"]]
        self.total += len(bad)
        room = MAX_REPORTED_ERRORS - len(self.errors)
        for rec in bad.head(max(room, 0)).itertuples(index=False):
            value = rec[1] if len(rec) > 1 else ""
            self.errors.append(RowError(int(rec[0]), column, "" if pd.isna(value) else _shown(value), reason))

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

    Raises ImportFailed for an unreadable file, a bad header, a file past the size limits
    (checked before the contents are read), rows with more or fewer fields than the header, or
    text holding NUL characters. Error messages name ``path.name``: store an upload under its
    own file name (see ``customers.views.imports.run_uploaded_import``).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        yield from _read_xlsx(path, layout, chunk_rows)
    elif suffix in (".csv", ".txt", ""):
        yield from _read_csv(path, layout, chunk_rows)
    else:
        raise ImportFailed([RowError(0, "", path.name, _("unsupported file type: upload a .csv or .xlsx file"))])


def _limit(name: str) -> int:
    from django.conf import settings

    return int(getattr(settings, name))


def _file_error(reason: str, value: str = "") -> ImportFailed:
    return ImportFailed([RowError(0, "", value, reason)])


def _finish_chunk(df: pd.DataFrame, layout: Layout, rows: np.ndarray) -> pd.DataFrame:
    """Select and strip the layout's columns, number the rows, drop blank rows, refuse NUL text."""
    for col in layout.optional:
        if col not in df.columns:
            df[col] = ""
    df = df[list(layout.all)].fillna("")
    with_nul = [col for col in layout.all if _strip_column(df, col)]
    df.insert(0, "_row", rows.astype(np.int64))
    errors = ErrorList()
    for col in with_nul:
        errors.add_mask(df, df[col].str.contains("\x00", regex=False), col, nul_reason())
    errors.raise_if_any()
    # Entirely empty rows (Excel leaves them) are skipped.
    blank = (df[list(layout.all)] == "").all(axis=1)
    return df.loc[~blank].reset_index(drop=True)


#: Whitespace after a NUL: in a column's values joined by NUL (and in that text reversed), a
#: value that starts (ends) with whitespace. A literal first character keeps the search fast.
_SPACE_AFTER_NUL = re.compile(r"\x00\s")


def _strip_column(df: pd.DataFrame, col: str) -> bool:
    """Strip the column's values (``str.strip``) in place; True if some value holds a NUL. One
    join and one regular-expression search over the column find whether any value needs either
    (``\\s`` is ``str.isspace``), so a clean column costs no Python per value."""
    text = df[col].astype(str)
    joined = "\x00".join(text.tolist())
    with_nul = joined.count("\x00") != max(len(text) - 1, 0)
    edge_space = joined[:1].isspace() or joined[-1:].isspace()
    if with_nul or edge_space or _SPACE_AFTER_NUL.search(joined) or _SPACE_AFTER_NUL.search(joined[::-1]):
        text = text.str.strip()
    df[col] = text
    return with_nul


def nul_reason() -> str:
    return _("the text holds a NUL (\\x00) character; remove it (a database cannot store it)")


# --- CSV ----------------------------------------------------------------------------------------


def _not_utf8() -> ImportFailed:
    return _file_error(_("the file is not UTF-8 text: save it as 'CSV UTF-8' or as .xlsx"))


_BLOCK_BYTES = 1 << 20  # about 10 MB of numpy arrays per block


def _csv_rows_plainly_fine(path: Path, delimiter: str, width: int, max_rows: int, max_field: int) -> bool:
    """True if the file certainly passes ``_check_csv_rows``: UTF-8 without a quote, carriage return
    or NUL byte, every row after the header with exactly ``width - 1`` delimiters, no field longer
    than ``max_field`` bytes, at most ``max_rows`` rows. Found with numpy over blocks of whole rows
    (memory: one block), so a plain export costs no Python per row; False lets the csv module read
    the file (and say what is wrong with it, if anything is)."""
    if len(delimiter.encode()) != 1:
        return False
    sep = delimiter.encode()[0]
    rows = 0
    rest = b""
    with open(path, "rb") as fh:
        fh.readline()  # the header, checked apart
        while True:
            block = fh.read(_BLOCK_BYTES)
            data = rest + block
            if block:
                cut = data.rfind(b"\n") + 1
                data, rest = data[:cut], data[cut:]
            elif data and not data.endswith(b"\n"):
                data += b"\n"  # the last row, without its newline
            if data:
                raw = np.frombuffer(data, dtype=np.uint8)
                if (raw == ord('"')).any() or (raw == ord("\r")).any() or (raw == 0).any():
                    return False
                try:
                    data.decode("utf-8")
                except UnicodeDecodeError:
                    return False
                ends = np.flatnonzero(raw == ord("\n"))
                seps = np.flatnonzero(raw == sep)
                if (np.diff(np.searchsorted(seps, ends), prepend=0) != width - 1).any():
                    return False
                bounds = np.sort(np.concatenate([seps, ends]))
                if (np.diff(bounds, prepend=-1) - 1).max() > max_field:
                    return False
                rows += len(ends)
                if rows > max_rows:
                    return False
            if not block:
                return True


def _check_csv_rows(path: Path, delimiter: str, width: int) -> None:
    """One pass with the csv module before pandas reads the file: every record must have the
    header's number of fields (pandas would silently take a surplus first field as the index, or
    pad a short row), no field may pass ``IMPORT_MAX_FIELD_CHARS`` and the file may hold at most
    ``IMPORT_MAX_ROWS`` records. Row numbers are records: the header is row 1."""
    max_rows = _limit("IMPORT_MAX_ROWS")
    max_field = _limit("IMPORT_MAX_FIELD_CHARS")
    if _csv_rows_plainly_fine(path, delimiter, width, max_rows, max_field):
        return
    errors = ErrorList()
    row = 1
    csv.field_size_limit(max_field)
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh, delimiter=delimiter)
            next(reader, None)
            while True:
                try:
                    fields = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    row += 1
                    errors.add(
                        row, "", "", _("the row cannot be read (%(problem)s); check its quotes") % {"problem": exc}
                    )
                    if errors.total >= MAX_REPORTED_ERRORS:
                        break
                    continue
                row += 1
                n = len(fields)
                if n != width and n and not (n == 1 and not fields[0].strip()):
                    errors.add(
                        row,
                        "",
                        "",
                        _("the row has %(n)s fields and the header %(width)s; check the separators and quotes in it")
                        % {"n": n, "width": width},
                    )
                    if errors.total >= MAX_REPORTED_ERRORS:
                        break
                if row - 1 > max_rows:
                    raise _file_error(
                        _("the file has more than %(max)s rows; split it into smaller files") % {"max": max_rows}
                    )
    except UnicodeDecodeError:
        raise _not_utf8() from None
    errors.raise_if_any()


def _read_csv(path: Path, layout: Layout, chunk_rows: int) -> Iterator[pd.DataFrame]:
    try:
        with open(path, encoding="utf-8-sig") as fh:
            first_line = fh.readline()
    except UnicodeDecodeError:
        raise _not_utf8() from None
    if not first_line.strip():
        raise ImportFailed([RowError(1, "", "", _("the file is empty: the first row must hold the column names"))])
    delimiter = _sniff_delimiter(first_line)
    header = [_normalise_header(h) for h in next(csv.reader(io.StringIO(first_line), delimiter=delimiter))]
    if any("\x00" in h for h in header):
        raise ImportFailed([RowError(1, "", "", nul_reason())])
    problems = _check_header(header, layout)
    if problems:
        raise ImportFailed(problems)
    _check_csv_rows(path, delimiter, len(header))
    try:
        reader = pd.read_csv(
            path,
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            encoding="utf-8-sig",
            chunksize=chunk_rows,
            header=None,
            skiprows=1,
            names=header,
            index_col=False,  # never the first column as the index (a ragged file would lose it)
            skip_blank_lines=False,
            on_bad_lines="error",
            engine="c",
        )
        next_row = 2
        for chunk in reader:
            n = len(chunk)
            yield _finish_chunk(chunk, layout, np.arange(next_row, next_row + n))
            next_row += n
    except UnicodeDecodeError:
        raise _not_utf8() from None
    except pd.errors.ParserError as exc:
        raise _file_error(
            _("the CSV could not be read (%(problem)s); check quotes and the number of columns per row")
            % {"problem": exc}
        ) from None


# --- XLSX ---------------------------------------------------------------------------------------


def _count_elements(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, names: tuple[bytes, ...], limits: tuple[int, ...]
) -> list[int]:
    """Count the elements called ``names`` in one part by streaming it (memory: one block),
    stopping as soon as one count passes its limit.

    ``bytes.count`` on ``<name`` followed by each character that may end a tag name (a regular
    expression is ten times slower); a namespace prefix (``<x:row``) is counted by a pattern only
    in the blocks that hold one.
    """
    ends = (b" ", b">", b"/", b"\t", b"\n", b"\r")
    prefixed = [re.compile(rb"<[A-Za-z_][\w.-]*:" + name + rb"[\s>/]") for name in names]
    counts = [0] * len(names)
    carry = b""
    with archive.open(info) as part:
        while True:
            block = part.read(1 << 20)
            data = carry + block
            if block:
                cut = data.rfind(b"<")
                data, carry = (data[:cut], data[cut:]) if cut >= 0 else (data, b"")
            else:
                data += b" "
            for i, name in enumerate(names):
                counts[i] += sum(data.count(b"<" + name + end) for end in ends)
                if b":" + name in data:
                    counts[i] += len(prefixed[i].findall(data))
            if not block or any(n > limit for n, limit in zip(counts, limits, strict=True)):
                return counts


def _check_xlsx_bounds(path: Path) -> None:
    """Refuse a workbook that would exhaust a worker, before openpyxl reads any of it.

    The zip's directory gives every part's uncompressed size (zipfile never inflates a part past
    the size it declares: the checksum would fail), so decompression bombs are refused from the
    directory alone. Then shared strings (held in memory by any reader), rows and cells are counted
    by streaming the parts. Limits: ``IMPORT_XLSX_MAX_PART_BYTES`` (any part but a worksheet:
    shared strings, styles, ...), ``IMPORT_XLSX_MAX_UNCOMPRESSED_BYTES`` (all parts),
    ``IMPORT_XLSX_MAX_SHARED_STRINGS``, ``IMPORT_XLSX_MAX_ROWS``, ``IMPORT_XLSX_MAX_CELLS``.
    """
    max_total = _limit("IMPORT_XLSX_MAX_UNCOMPRESSED_BYTES")
    max_part = _limit("IMPORT_XLSX_MAX_PART_BYTES")
    max_strings = _limit("IMPORT_XLSX_MAX_SHARED_STRINGS")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            sheets = [i for i in infos if re.fullmatch(r"xl/worksheets/[^/]+\.xml", i.filename, re.IGNORECASE)]
            for info in infos:
                if info not in sheets and info.file_size > max_part:
                    raise _file_error(
                        _("the part '%(part)s' of the workbook unpacks to %(size)s MB; the limit is %(max)s MB")
                        % {"part": info.filename, "size": info.file_size // 2**20, "max": max_part // 2**20}
                    )
            total = sum(info.file_size for info in infos)
            if total > max_total:
                raise _file_error(
                    _("the workbook unpacks to %(size)s MB; the limit is %(max)s MB: save the data as CSV")
                    % {"size": total // 2**20, "max": max_total // 2**20}
                )
            for info in infos:
                if info.filename.lower().endswith("sharedstrings.xml"):
                    (count,) = _count_elements(archive, info, (b"si",), (max_strings,))
                    if count > max_strings:
                        raise _file_error(
                            _("the workbook holds more than %(max)s different texts; save it as CSV")
                            % {"max": max_strings}
                        )
            for info in sheets:
                rows, cells = _count_elements(
                    archive, info, (b"row", b"c"), (_limit("IMPORT_XLSX_MAX_ROWS"), _limit("IMPORT_XLSX_MAX_CELLS"))
                )
                _check_sheet_size(rows, cells)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, zlib.error, ValueError):
        raise _file_error(_("the file is not a readable .xlsx workbook"), path.name) from None


def _check_sheet_size(rows: int, cells: int) -> None:
    if rows > _limit("IMPORT_XLSX_MAX_ROWS"):
        raise _file_error(
            _("the sheet has more than %(max)s rows; split the file or save it as CSV")
            % {"max": _limit("IMPORT_XLSX_MAX_ROWS")}
        )
    if cells > _limit("IMPORT_XLSX_MAX_CELLS"):
        raise _file_error(
            _("the sheet has more than %(max)s cells; split the file or save it as CSV")
            % {"max": _limit("IMPORT_XLSX_MAX_CELLS")}
        )


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


def _sheet_rows(wb, ws) -> Iterator[tuple[int, dict[int, object]]]:
    """(row number, {column number: value}) for every row element of the sheet, sparse: no filler
    rows for gaps in the numbering and no filler cells (openpyxl's ``iter_rows`` makes both, which
    one cell in row 1,000,000 or column XFD turns into millions)."""
    from openpyxl.worksheet._reader import WorkSheetParser

    with wb._archive.open(ws._worksheet_path) as source:
        parser = WorkSheetParser(
            source,
            wb.shared_strings,
            data_only=True,
            epoch=wb.epoch,
            date_formats=wb._date_formats,
            timedelta_formats=wb._timedelta_formats,
        )
        for number, cells in parser.parse():
            yield number, {cell["column"]: cell["value"] for cell in cells if cell["value"] is not None}


def _read_xlsx(path: Path, layout: Layout, chunk_rows: int) -> Iterator[pd.DataFrame]:
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    _check_xlsx_bounds(path)
    unreadable = _file_error(_("the file is not a readable .xlsx workbook"), path.name)
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any unreadable workbook
        raise unreadable from None
    max_rows = _limit("IMPORT_XLSX_MAX_ROWS")
    try:
        rows = _sheet_rows(wb, wb.worksheets[0])
        first = next(rows, None)
        if first is None or first[0] != 1 or not first[1]:
            raise ImportFailed([RowError(1, "", "", _("the sheet is empty: row 1 must hold the column names"))])
        cells = first[1]
        header = [_normalise_header(cells.get(col)) for col in range(1, max(cells) + 1)]
        while header and not header[-1]:
            header.pop()
        problems = _check_header(header, layout)
        if problems:
            raise ImportFailed(problems)
        width = len(header)
        errors = ErrorList()
        buf: list[list[str]] = []
        numbers: list[int] = []
        for number, cells in rows:
            if number > max_rows:  # a row numbered past the limit (the count was checked already)
                _check_sheet_size(number, 0)
            beyond = [col for col in cells if col > width and _cell_text(cells[col]).strip()]
            if beyond:
                col = min(beyond)
                errors.add(
                    number,
                    get_column_letter(col),
                    cells[col],
                    _("a value beyond the last column of the header (%(width)s columns); remove it or name its column")
                    % {"width": width},
                )
                continue
            if errors.total:
                continue  # only the structural errors are reported; stop building chunks
            buf.append([_cell_text(cells.get(col)) for col in range(1, width + 1)])
            numbers.append(number)
            if len(buf) >= chunk_rows:
                yield _finish_chunk(pd.DataFrame(buf, columns=header), layout, np.array(numbers))
                buf, numbers = [], []
        errors.raise_if_any()
        if buf:
            yield _finish_chunk(pd.DataFrame(buf, columns=header), layout, np.array(numbers))
    except ImportFailed:
        raise
    except Exception:  # noqa: BLE001 - a broken part found while streaming the sheet
        raise unreadable from None
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


#: The longest text the fast path of ``_parse`` reads (longer ones take the general path).
_PLAIN_WIDTH = 24


def _plain_numbers(text: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(plain, empty, number). Plain: a text of an optional sign, then digits with at most one '.',
    at least one digit, at most ``_PLAIN_WIDTH`` characters (what an export writes); ``number`` is
    its value as the general path of ``_parse`` reads it (NaN elsewhere). Found on the characters'
    code points with numpy, so a column of plain numbers costs no Python per value."""
    n = len(text)
    number = np.full(n, np.nan)
    if not n:
        return np.zeros(0, dtype=bool), np.zeros(0, dtype=bool), number
    codes = text.to_numpy(dtype=object).astype(f"U{_PLAIN_WIDTH + 1}").view(np.uint32).reshape(n, -1)
    digit = (codes >= 48) & (codes <= 57)
    dot = codes == 46
    pad = codes == 0  # after the text; a text longer than the width fills the last column
    allowed = digit | dot | pad
    allowed[:, 0] |= (codes[:, 0] == 43) | (codes[:, 0] == 45)
    # numpy drops trailing NULs and keeps inner ones: the length tells a NUL from the padding
    whole = (~pad).sum(axis=1) == text.str.len().to_numpy(dtype="int64")
    plain = allowed.all(axis=1) & pad[:, -1] & whole & (dot.sum(axis=1) <= 1) & digit.any(axis=1)
    if plain.any():
        parsed = pd.to_numeric(text[plain], errors="coerce").astype("float64").to_numpy()
        number[plain] = parsed
        plain[plain] = ~np.isnan(parsed)
    return plain, pad[:, 0] & whole, number


def _parse(values: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(number or NaN, invalid non-empty text, empty). Plain numbers take a vectorised fast path
    (``_plain_numbers``), the rest (decimal commas, thousands separators, currency signs, blanks,
    bad text) the general one (``_parse_text``); an empty text is empty on either."""
    text = values.astype(str)
    plain, empty, number = _plain_numbers(text)
    if plain.all():
        number = pd.Series(number, index=values.index)
        return number, number.abs() >= 1e13, pd.Series(False, index=values.index)
    rest = ~plain & ~empty
    rest_number, rest_invalid, rest_empty = _parse_text(text[rest])
    number[rest] = rest_number.astype("float64").to_numpy()
    invalid = np.zeros(len(text), dtype=bool)
    invalid[plain] = np.abs(number[plain]) >= 1e13
    invalid[rest] = rest_invalid.to_numpy(dtype=bool)
    empty[rest] = rest_empty.to_numpy(dtype=bool)
    index = values.index
    return pd.Series(number, index=index), pd.Series(invalid, index=index), pd.Series(empty, index=index)


def _parse_text(values: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """``_parse``'s general path: (number or NaN, invalid non-empty text, empty)."""
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
    "organisation": "salesforce_tasks.organisation.services.organisation_import",
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
