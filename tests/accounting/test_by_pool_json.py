"""The profit stage writes each customer's waterfall per pool as JSON text built from the columns
(``accounting.services._by_pool``): it must read back as exactly the dict the old per-row code built,
and be the text PostgreSQL prints for that ``jsonb`` value (on PostgreSQL: read back as that text)."""

import json

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from accounting.services import _by_pool


def _reference(allocations: pd.DataFrame, customer_ids) -> list[dict]:
    """The former implementation: one dict per customer, filled row by row."""
    out = {int(c): {} for c in customer_ids}
    for cid, pid, amount, qty in zip(
        allocations["customer_id"].tolist(),
        allocations["pool_id"].tolist(),
        allocations["amount_cents"].tolist(),
        allocations["driver_quantity"].round(4).tolist(),
        strict=True,
    ):
        out.setdefault(int(cid), {})[str(pid)] = [int(amount), qty]
    return [out[int(c)] for c in customer_ids]


rows = st.lists(
    st.tuples(
        st.integers(1, 8),  # customer
        st.integers(1, 5),  # pool
        st.integers(-(10**12), 10**12),  # cents
        st.floats(0, 1e9, allow_nan=False, allow_infinity=False),  # driver quantity
    ),
    max_size=40,
    unique_by=lambda r: (r[0], r[1]),
)


@settings(max_examples=150, deadline=None)
@given(rows=rows, customers=st.lists(st.integers(1, 10), unique=True, min_size=1, max_size=10))
def test_json_text_reads_back_as_the_dicts(rows, customers):
    allocations = pd.DataFrame(rows, columns=["customer_id", "pool_id", "amount_cents", "driver_quantity"])
    allocations = allocations[allocations["customer_id"].isin(customers)]
    allocations = allocations.astype({"customer_id": "int64", "pool_id": "int64", "amount_cents": "int64"})
    allocations["driver_quantity"] = allocations["driver_quantity"].astype("float64")
    texts = _by_pool(allocations, pd.Series(customers))
    assert [json.loads(t) for t in texts] == _reference(allocations, customers)
    # PostgreSQL's text of the jsonb value (keys by length, then bytes), so an unchanged waterfall
    # compares equal to the stored one by its text (config.bulk.replace_rows)
    assert texts == [
        json.dumps(dict(sorted(d.items(), key=lambda kv: (len(kv[0]), kv[0]))))
        for d in _reference(allocations, customers)
    ]


@settings(max_examples=60, deadline=None)
@given(
    rows=rows,
    changes=st.lists(
        st.tuples(st.integers(0, 39), st.integers(-(10**12), 10**12), st.sampled_from([0.0, -0.0, 1.5, 2.25])),
        max_size=6,
    ),
)
def test_a_second_call_with_some_amounts_changed_gives_the_fresh_texts(rows, changes):
    """``_by_pool`` keeps the texts of its last call and rebuilds only the customers whose amounts or
    quantities changed: the result must be what a call without that cache gives."""
    from accounting import services

    allocations = pd.DataFrame(rows, columns=["customer_id", "pool_id", "amount_cents", "driver_quantity"])
    allocations = allocations.astype({"customer_id": "int64", "pool_id": "int64", "amount_cents": "int64"})
    allocations["driver_quantity"] = allocations["driver_quantity"].astype("float64")
    customers = pd.Series(range(1, 11))
    _by_pool(allocations, customers)
    changed = allocations.copy()
    for row, amount, quantity in changes:
        if row < len(changed):
            changed.iloc[row, 2] = amount
            changed.iloc[row, 3] = quantity
    cached = _by_pool(changed, customers)
    services._by_pool_last.clear()
    assert cached == _by_pool(changed, customers)
    assert [json.loads(t) for t in cached] == _reference(changed, customers)


def test_the_cache_tells_minus_zero_from_zero():
    """-0.0 == 0.0, but their texts differ: the cached text must follow the quantity's bits."""
    allocations = pd.DataFrame({"customer_id": [1], "pool_id": [2], "amount_cents": [5], "driver_quantity": [0.0]})
    assert _by_pool(allocations, pd.Series([1])) == ['{"2": [5, 0.0]}']
    allocations["driver_quantity"] = -0.0
    assert _by_pool(allocations, pd.Series([1])) == ['{"2": [5, -0.0]}']
