"""The profit stage writes each customer's waterfall per pool as JSON text built from the columns
(``accounting.services._by_pool``): it must read back as exactly the dict the old per-row code built."""

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
    assert texts == [json.dumps(d, separators=(",", ":")) for d in _reference(allocations, customers)]
