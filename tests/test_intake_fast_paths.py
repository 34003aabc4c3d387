"""The vectorised fast paths of the import reader (issue 17) answer exactly as the general ones:
plain numbers (``intake._plain_numbers``) and columns that need no stripping (``intake._strip_column``)."""

import re
import sys

import numpy as np
import pandas as pd
import pytest

from config import intake

TRICKY = [
    "1", "12.34", "-5", "+7", "1.", ".5", "-.5", "+.5", ".", "-", "+", "", " ", " 1", "1 ", "1,5", "1.234,56",
    "1,234.56", "€ 12", "1e5", "inf", "nan", "NaN", "--1", "1-", "1..2", "1.2.3", "0", "-0", "-0.0", "007",
    "9999999999999", "10000000000000", "123456789012345678901234", "1234567890123456789012345", "1\u00a0000",
    "abc", "\u0661\u0662", "\u00bd", "0x10", "1_000", "1.999", "12.345", "99999999999.995", "-1.005", "1\x00",
    "\x00", "\x001", "1\x002",
]  # fmt: skip


def _same(a: pd.Series, b: pd.Series) -> bool:
    return np.array_equal(a.to_numpy(dtype="float64"), b.to_numpy(dtype="float64"), equal_nan=True)


@pytest.mark.parametrize("values", [TRICKY, [f"{x:.{i % 5}f}" for i, x in enumerate(np.linspace(-1e4, 1e4, 997))]])
def test_numbers_read_as_the_general_path_reads_them(values):
    series = pd.Series(values, dtype="str")
    number, invalid, empty = intake._parse(series)
    general = intake._parse_text(series)
    assert _same(number, general[0])
    assert invalid.tolist() == general[1].tolist()
    assert empty.tolist() == general[2].tolist()


def test_the_space_the_fast_strip_finds_is_what_str_strip_strips():
    space = re.compile(r"\s")
    assert [c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace() != bool(space.fullmatch(c))] == []


@pytest.mark.parametrize(
    "values",
    [["a", "b", "c"], ["a", " b", "c"], ["a", "b\u00a0", "c"], ["\tx"], ["x\n"], ["", ""], ["a\x00b", "c"], []],
)
def test_a_column_is_stripped_as_str_strip_strips_it(values):
    df = pd.DataFrame({"c": pd.Series(values, dtype="str")})
    with_nul = intake._strip_column(df, "c")
    assert df["c"].tolist() == [v.strip() for v in values]
    assert with_nul == any("\x00" in v for v in values)


@pytest.mark.parametrize(
    ("text", "fine"),
    [
        ("a,b,c\n1,2,3\n4,5,6\n", True),
        ("a,b,c\n1,2,3\n4,5,6", True),  # no newline after the last row
        ("a,b,c\n", True),
        ("a,b,c\n1,2,3\n4,5\n", False),  # a short row: the csv module names it
        ("a,b,c\n1,2,3,4\n", False),
        ('a,b,c\n1,"2,5",3\n', False),  # quotes: the csv module reads them
        ("a,b,c\r\n1,2,3\r\n", False),
        ("a,b,c\n1,2,3\n\n", False),  # a blank line
        ("a,b,c\n1,\x00,3\n", False),
        ("a,b,c\n1,xxxxxxxxxxx,3\n", False),  # a field longer than the limit (10)
        ("a,b,c\n" + "1,2,3\n" * 6, False),  # more rows than the limit (5)
    ],
)
def test_the_fast_row_check_passes_only_what_the_csv_module_passes(tmp_path, text, fine):
    path = tmp_path / "f.csv"
    path.write_bytes(text.encode())
    assert intake._csv_rows_plainly_fine(path, ",", 3, 5, 10) is fine


def test_the_fast_row_check_reads_rows_across_blocks(tmp_path, monkeypatch):
    monkeypatch.setattr(intake, "_BLOCK_BYTES", 7)
    path = tmp_path / "f.csv"
    path.write_bytes(("a;b\n" + "".join(f"{i};x{i}\n" for i in range(50))).encode())
    assert intake._csv_rows_plainly_fine(path, ";", 2, 50, 10)
    assert not intake._csv_rows_plainly_fine(path, ";", 2, 49, 10)
    path.write_bytes(("a;b\n" + "".join(f"{i};x{i}\n" for i in range(50)) + "1;2;3\n").encode())
    assert not intake._csv_rows_plainly_fine(path, ";", 2, 100, 10)
    with pytest.raises(intake.ImportFailed) as failed:
        list(intake.read_chunks(path, intake.Layout(("a", "b"))))
    assert [(e.row, "3 fields" in e.reason) for e in failed.value.errors] == [(52, True)]
