"""``config.bulk.replace_rows`` writes a period's computed rows as a difference (issue 17): the rows
end equal to the frame, and only the rows that changed are written (ids of the others are kept)."""

import datetime as dt
import json
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from accounting.services import PROFIT_COLUMNS
from config.bulk import replace_rows
from customers.models import Customer, CustomerPeriod, Period

COLUMNS = {
    "customer_id": "int",
    "level": "str",
    "revenue": "money",
    "gross_margin": "money",
    "orders": "int",
    "order_lines": "int",
    "existing": "bool",
}


def _stored(period) -> dict:
    rows = CustomerPeriod.objects.filter(period=period).values_list(
        "customer_id", "level", "revenue", "gross_margin", "existing"
    )
    return {r[0]: (r[1], str(r[2]), str(r[3]), r[4]) for r in rows}


@pytest.mark.django_db
def test_only_changed_rows_are_written():
    period = Period.objects.create(name=2025, start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31))
    other = Period.objects.create(name=2024, start=dt.date(2024, 1, 1), end=dt.date(2024, 12, 31))
    ids = [Customer.objects.create(external_id=f"C{i}", name=f"C{i}").id for i in range(4)]
    frame = pd.DataFrame(
        {
            "customer_id": ids[:3],
            "level": ["top", "big", "small"],
            "revenue": [12345, -50, 0],
            "gross_margin": [100, -50, 7],
            "orders": [1, 1, 0],
            "order_lines": [2, 1, 0],
            "existing": [True, False, True],
        }
    )
    first = replace_rows(CustomerPeriod, where={"period_id": period.id}, frame=frame, columns=COLUMNS)
    assert tuple(first) == (3, 3, 0, 0)
    replace_rows(CustomerPeriod, where={"period_id": other.id}, frame=frame, columns=COLUMNS)
    kept_id = CustomerPeriod.objects.get(period=period, customer_id=ids[0]).id

    again = replace_rows(CustomerPeriod, where={"period_id": period.id}, frame=frame, columns=COLUMNS)
    assert tuple(again) == (3, 0, 0, 0)

    changed = frame.copy()
    changed.loc[1, "revenue"] = 99  # one row changes
    changed = changed.drop(index=2)  # one row goes
    changed = pd.concat(
        [
            changed,
            pd.DataFrame(
                {
                    "customer_id": [ids[3]],
                    "level": ["new"],
                    "revenue": [1],
                    "gross_margin": [1],
                    "orders": [1],
                    "order_lines": [1],
                    "existing": [False],
                }
            ),
        ]
    )
    diff = replace_rows(CustomerPeriod, where={"period_id": period.id}, frame=changed, columns=COLUMNS)
    assert tuple(diff) == (3, 1, 1, 1)
    assert _stored(period) == {
        ids[0]: ("top", "123.45", "1.00", True),
        ids[1]: ("big", "0.99", "-0.50", False),
        ids[3]: ("new", "0.01", "0.01", False),
    }
    assert CustomerPeriod.objects.get(period=period, customer_id=ids[0]).id == kept_id
    assert len(_stored(other)) == 3  # another period's rows are not touched

    emptied = replace_rows(CustomerPeriod, where={"period_id": period.id}, frame=changed.iloc[0:0], columns=COLUMNS)
    assert tuple(emptied) == (0, 0, 0, 3)
    assert _stored(period) == {}


def _profit_frame(rng, ids) -> pd.DataFrame:
    """Profit rows as the profit stage builds them, the waterfall per pool as jsonb's text."""
    n = len(ids)
    by_pool = [
        "{"
        + ", ".join(
            f'"{p}": [{int(rng.integers(-500, 500))}, {float(rng.integers(0, 8)) / 4!r}]' for p in (1, 2, 10)[: int(k)]
        )
        + "}"
        for k in rng.integers(0, 4, n)
    ]
    return pd.DataFrame(
        {
            "customer_id": ids,
            "level": rng.choice(["top", "big", "small"], n),
            "revenue": rng.integers(-3, 3, n) * 101,
            "gross_margin": rng.integers(-2, 2, n),
            "allocated": rng.integers(0, 2, n),
            "financing": rng.integers(0, 2, n),
            "profit": rng.integers(-1, 2, n),
            "orders": rng.integers(0, 2, n),
            "order_lines": rng.integers(0, 2, n),
            "visits": rng.integers(0, 2, n),
            "visit_minutes": rng.integers(0, 2, n),
            "by_pool": by_pool,
        }
    )


def _stored_profit(period) -> dict:
    from customers.models import CustomerProfit

    rows = CustomerProfit.objects.filter(period=period).values_list(*PROFIT_COLUMNS)
    return {r[0]: tuple(str(v) if isinstance(v, Decimal) else v for v in r[1:]) for r in rows}


def euros(cents) -> str:
    """Integer cents as the decimal text the database gives back: -1.05, 0.07."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(int(cents)) // 100}.{abs(int(cents)) % 100:02d}"


def _expected_profit(frame) -> dict:
    money = [c for c, kind in PROFIT_COLUMNS.items() if kind == "money"]
    return {
        int(r["customer_id"]): tuple(
            euros(r[c]) if c in money else json.loads(r[c]) if c == "by_pool" else r[c]
            for c in list(PROFIT_COLUMNS)[1:]
        )
        for r in frame.to_dict("records")
    }


@pytest.mark.django_db
def test_rows_compared_in_python_end_equal_to_the_frame():
    """The stored rows are compared with the frame in pandas and only the differing rows are sent:
    a row wrongly found equal would stay stale. Random changes (values, the JSON waterfall, rows
    gone and new) over several rounds: after each, the stored rows are exactly the frame, and the
    rows written are exactly those that changed."""
    from customers.models import CustomerProfit

    rng = np.random.default_rng(17)
    period = Period.objects.create(name=2025, start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31))
    ids = [Customer.objects.create(external_id=f"C{i}", name=f"C{i}").id for i in range(40)]
    frame = _profit_frame(rng, ids[:30])
    replace_rows(CustomerProfit, where={"period_id": period.id}, frame=frame, columns=PROFIT_COLUMNS)
    assert _stored_profit(period) == _expected_profit(frame)
    for _ in range(6):
        fresh = _profit_frame(rng, ids)
        keep = frame[frame["customer_id"].isin(rng.choice(ids, 25, replace=False))].set_index("customer_id")
        new = fresh.set_index("customer_id")
        # a kept row keeps its values but one column, taken from the fresh frame (that may differ)
        kept = keep.copy()
        for customer_id in kept.index:
            column = rng.choice(list(PROFIT_COLUMNS)[1:])
            kept.loc[customer_id, column] = new.loc[customer_id, column]
        new.loc[kept.index] = kept
        new = new.loc[rng.choice(ids, int(rng.integers(20, 40)), replace=False)].reset_index()
        before = _stored_profit(period)
        written = replace_rows(CustomerProfit, where={"period_id": period.id}, frame=new, columns=PROFIT_COLUMNS)
        expected = _expected_profit(new)
        assert _stored_profit(period) == expected
        assert written.inserted == len(set(expected) - set(before))
        assert written.deleted == len(set(before) - set(expected))
        assert written.updated == sum(1 for c in expected if c in before and before[c] != expected[c])
        frame = new


@pytest.mark.django_db
def test_query_frame_reads_what_the_orm_reads():
    """``query_frame`` runs a ``values_list``'s own SQL on a raw cursor: the same rows, the same
    columns in the same order (an expression between fields), an empty result with its columns."""
    from django.db.models import F

    from config.bulk import query_frame
    from config.money import cents_sql

    period = Period.objects.create(name=2025, start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31))
    ids = [Customer.objects.create(external_id=f"00{i}", name=f"C{i}").id for i in range(3)]
    for i, customer_id in enumerate(ids):
        CustomerPeriod.objects.create(
            period=period,
            customer_id=customer_id,
            level="top",
            rank=None if i else 1,
            revenue=Decimal(f"{i - 1}.05"),
            gross_margin=0,
        )
    qs = CustomerPeriod.objects.filter(period=period).order_by("customer_id")
    rows = qs.values_list("customer_id", cents_sql(F("revenue")), "customer__external_id", "rank")
    columns = ["customer_id", "revenue_cents", "external_id", "rank"]
    frame = query_frame(rows, columns, int_columns=("customer_id", "revenue_cents", "rank"))
    assert frame["customer_id"].tolist() == ids
    assert frame["revenue_cents"].tolist() == [-105, 5, 105]
    assert frame["external_id"].tolist() == ["000", "001", "002"]
    assert frame["rank"].tolist()[0] == 1 and pd.isna(frame["rank"]).tolist() == [False, True, True]
    assert frame[columns[:3]].values.tolist() == [list(r[:3]) for r in rows]
    empty = query_frame(rows.filter(level="big"), columns, int_columns=("customer_id",))
    assert list(empty.columns) == columns and empty.empty and empty["customer_id"].dtype == "int64"


def _pyramid_frame(rng, ids) -> pd.DataFrame:
    n = len(ids)
    return pd.DataFrame(
        {
            "customer_id": ids,
            "level": rng.choice(["top", "big", "small"], n),
            "revenue": rng.integers(-3, 3, n) * 101,
            "gross_margin": rng.integers(-2, 2, n),
            "orders": rng.integers(0, 3, n),
            "order_lines": rng.integers(0, 3, n),
            "existing": rng.integers(0, 2, n).astype(bool),
        }
    )


def _expected(frame) -> dict:
    return {
        int(r["customer_id"]): (r["level"], euros(r["revenue"]), euros(r["gross_margin"]), bool(r["existing"]))
        for r in frame.to_dict("records")
    }


@pytest.mark.django_db
def test_rows_written_by_someone_else_are_read_again():
    """On PostgreSQL a process remembers the rows it wrote last and does not read them back while
    the rows' headers say nobody wrote them since. Any other write in between, even in the same
    transaction (a test's, or a cascade's), must make it read them: after each round of random
    writes beside it, ``replace_rows`` leaves the rows equal to its frame again."""
    rng = np.random.default_rng(23)
    period = Period.objects.create(name=2025, start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31))
    ids = [Customer.objects.create(external_id=f"C{i}", name=f"C{i}").id for i in range(30)]
    frame = _pyramid_frame(rng, ids[:20])
    for round_ in range(12):
        replace_rows(CustomerPeriod, where={"period_id": period.id}, frame=frame, columns=COLUMNS)
        assert _stored(period) == _expected(frame), round_
        stored = list(CustomerPeriod.objects.filter(period=period).values_list("customer_id", flat=True))
        change = round_ % 4
        if change == 0:  # a value changed in place
            CustomerPeriod.objects.filter(period=period, customer_id=stored[0]).update(revenue=Decimal("9.99"))
        elif change == 1:  # a row deleted
            CustomerPeriod.objects.filter(period=period, customer_id=stored[-1]).delete()
        elif change == 2:  # a row added that the frame does not have
            missing = next(i for i in ids if i not in stored)
            CustomerPeriod.objects.create(period=period, customer_id=missing, level="top", revenue=1, gross_margin=1)
        else:  # a row deleted and written again with other values: same count
            row = CustomerPeriod.objects.get(period=period, customer_id=stored[1])
            row.delete()
            CustomerPeriod.objects.create(period=period, customer_id=stored[1], level="big", revenue=2, gross_margin=2)
        written = replace_rows(CustomerPeriod, where={"period_id": period.id}, frame=frame, columns=COLUMNS)
        assert _stored(period) == _expected(frame), round_
        assert written.inserted + written.updated + written.deleted == 1, (round_, written)
        if round_ % 3 == 2:
            frame = _pyramid_frame(rng, list(rng.choice(ids, 20, replace=False)))


@pytest.mark.django_db
def test_remembered_rows_are_not_read_back():
    """After a write, the next comparison of the same rows reads only their headers on PostgreSQL
    (count, newest xmin and cmin), not the stored values; SQLite reads the values every time."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    rng = np.random.default_rng(5)
    period = Period.objects.create(name=2025, start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31))
    ids = [Customer.objects.create(external_id=f"C{i}", name=f"C{i}").id for i in range(10)]
    frame = _pyramid_frame(rng, ids)
    replace_rows(CustomerPeriod, where={"period_id": period.id}, frame=frame, columns=COLUMNS)
    changed = frame.assign(orders=frame["orders"] + 1)
    with CaptureQueriesContext(connection) as captured:
        written = replace_rows(CustomerPeriod, where={"period_id": period.id}, frame=changed, columns=COLUMNS)
    assert tuple(written) == (10, 0, 10, 0)
    values_read = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT") and "ROUND" in q["sql"]]
    if connection.vendor == "postgresql":
        assert values_read == []
    else:
        assert len(values_read) == 1


@pytest.mark.django_db
def test_rows_of_a_rolled_back_write_are_read_again():
    """A recompute whose transaction rolls back leaves the rows it remembers unwritten: the next
    comparison must see the rows as they are, not as that recompute left them in memory."""
    from django.db import transaction

    rng = np.random.default_rng(8)
    period = Period.objects.create(name=2025, start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31))
    ids = [Customer.objects.create(external_id=f"C{i}", name=f"C{i}").id for i in range(10)]
    first, second = _pyramid_frame(rng, ids), _pyramid_frame(rng, ids[2:])
    replace_rows(CustomerPeriod, where={"period_id": period.id}, frame=first, columns=COLUMNS)
    with pytest.raises(RuntimeError), transaction.atomic():
        replace_rows(CustomerPeriod, where={"period_id": period.id}, frame=second, columns=COLUMNS)
        raise RuntimeError("the stage failed after writing")
    assert _stored(period) == _expected(first)
    replace_rows(CustomerPeriod, where={"period_id": period.id}, frame=second, columns=COLUMNS)
    assert _stored(period) == _expected(second)


@pytest.mark.django_db
def test_remembered_frame_is_read_again_when_its_rows_change():
    """``remembered_frame`` gives the frame read last while its rows are unchanged (PostgreSQL) and
    reads again after any change to them, in this transaction or another."""
    from config.bulk import remembered_frame

    period = Period.objects.create(name=2025, start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31))
    ids = [Customer.objects.create(external_id=f"C{i}", name=f"C{i}").id for i in range(3)]
    for i in ids:
        CustomerPeriod.objects.create(period=period, customer_id=i, level="top", revenue=1, gross_margin=1)
    reads = []

    def read() -> pd.DataFrame:
        reads.append(1)
        rows = CustomerPeriod.objects.filter(period=period).order_by("customer_id").values_list("customer_id", "level")
        return pd.DataFrame(list(rows), columns=["customer_id", "level"])

    def levels() -> list:
        return remembered_frame(CustomerPeriod, {"period_id": period.id}, read)["level"].tolist()

    assert levels() == ["top", "top", "top"]
    assert levels() == ["top", "top", "top"]
    from django.db import connection

    assert len(reads) == (1 if connection.vendor == "postgresql" else 2)
    CustomerPeriod.objects.filter(period=period, customer_id=ids[1]).update(level="big")
    assert levels() == ["top", "big", "top"]
    CustomerPeriod.objects.filter(period=period, customer_id=ids[2]).delete()
    assert levels() == ["top", "big"]
    frame = remembered_frame(CustomerPeriod, {"period_id": period.id}, read)
    frame.loc[0, "level"] = "changed by a caller"  # a copy: the remembered frame is not touched
    assert levels() == ["top", "big"]
