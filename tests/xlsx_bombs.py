"""Hostile .xlsx files that are small on disk: a huge shared string, millions of rows.

The zip is written by hand: a block of repeated text is deflated once (with a full flush, so the
compressed bytes of the next identical block are the same) and repeated, so a gigabyte of XML
costs about a megabyte on disk and a second to build. Used by tests/test_intake_bounds.py and by
bench/bench_xlsx_bounds.py.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
    'Target="sharedStrings.xml"/></Relationships>'
)
SHEET_HEAD = '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
SHEET_TAIL = "</sheetData></worksheet>"
SST_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)


def _header_row(columns: list[str]) -> str:
    cells = "".join(f'<c t="inlineStr"><is><t>{name}</t></is></c>' for name in columns)
    return f'<row r="1">{cells}</row>'


class _Member:
    """One deflated zip member: head + block * repeat + tail."""

    def __init__(self, name: str, head: str, block: str = "", repeat: int = 0, tail: str = ""):
        self.name = name.encode()
        comp = zlib.compressobj(9, zlib.DEFLATED, -15)
        head_b, block_b, tail_b = head.encode(), block.encode(), tail.encode()
        parts = [comp.compress(head_b) + comp.flush(zlib.Z_FULL_FLUSH)]
        crc = zlib.crc32(head_b)
        if repeat:
            packed = comp.compress(block_b) + comp.flush(zlib.Z_FULL_FLUSH)
            parts.append(packed * repeat)
            for _ in range(repeat):
                crc = zlib.crc32(block_b, crc)
        parts.append(comp.compress(tail_b) + comp.flush())
        self.data = b"".join(parts)
        self.crc = zlib.crc32(tail_b, crc)
        self.size = len(head_b) + len(block_b) * repeat + len(tail_b)


def _write_zip(path: Path, members: list[_Member]) -> Path:
    out, central = bytearray(), bytearray()
    for m in members:
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, m.crc, len(m.data), m.size, len(m.name), 0)
        out += m.name + m.data
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, m.crc, len(m.data), m.size,
            len(m.name), 0, 0, 0, 0, 0, offset,
        )  # fmt: skip
        central += m.name
    start = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), start, 0)
    path.write_bytes(bytes(out))
    return path


def _workbook(path: Path, sheet: _Member, strings: _Member) -> Path:
    fixed = [
        _Member("[Content_Types].xml", CONTENT_TYPES),
        _Member("_rels/.rels", ROOT_RELS),
        _Member("xl/workbook.xml", WORKBOOK),
        _Member("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
    ]
    return _write_zip(path, [*fixed, sheet, strings])


def huge_shared_string(path: Path, columns: list[str], *, mib: int = 1024) -> Path:
    """One shared string of ``mib`` MiB, used by the first data cell (1 GiB: about 1 MB on disk)."""
    sheet = _Member(
        "xl/worksheets/sheet1.xml",
        SHEET_HEAD + _header_row(columns) + '<row r="2"><c t="s"><v>0</v></c></row>' + SHEET_TAIL,
    )
    strings = _Member("xl/sharedStrings.xml", SST_HEAD + "<si><t>", "A" * 2**20, mib, "</t></si></sst>")
    return _workbook(path, sheet, strings)


def many_rows(path: Path, columns: list[str], *, rows: int = 5_000_000) -> Path:
    """``rows`` data rows of one cell each, without row numbers (as some writers do); ~700 KB for 5 million."""
    per_block = 10_000
    row = "<row><c><v>1</v></c></row>"
    sheet = _Member(
        "xl/worksheets/sheet1.xml", SHEET_HEAD + _header_row(columns), row * per_block, rows // per_block, SHEET_TAIL
    )
    strings = _Member("xl/sharedStrings.xml", SST_HEAD + "</sst>")
    return _workbook(path, sheet, strings)


def many_shared_strings(path: Path, columns: list[str], *, count: int) -> Path:
    """``count`` tiny shared strings (the count, not the bytes, is what costs memory)."""
    per_block = 10_000
    sheet = _Member("xl/worksheets/sheet1.xml", SHEET_HEAD + _header_row(columns) + SHEET_TAIL)
    strings = _Member("xl/sharedStrings.xml", SST_HEAD, "<si><t>ab</t></si>" * per_block, count // per_block, "</sst>")
    return _workbook(path, sheet, strings)
