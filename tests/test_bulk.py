"""``config.bulk.replace_rows`` writes a period's computed rows as a difference (issue 17): the rows
end equal to the frame, and only the rows that changed are written (ids of the others are kept)."""

import datetime as dt

import pandas as pd
import pytest

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
