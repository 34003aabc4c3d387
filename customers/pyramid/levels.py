"""Assigning every customer its pyramid level in a period."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .frames import _cents, _require_columns, _require_unique_customers, _sorted_by
from .scheme import LEVELS_ACTIVE, STATUSES, PyramidScheme, rank_cutoffs


def assign_levels(customers: pd.DataFrame, *, scheme: PyramidScheme) -> pd.DataFrame:
    """Put every customer on a pyramid level for one period.

    Input columns: ``customer_id``, ``external_id`` (str), ``status`` (one of
    ``suspect``, ``prospect``, ``customer``), ``revenue_cents`` (int64, net revenue
    in the period, 0 without lines), ``bought_before`` (bool: net revenue > 0 in
    some earlier period).

    Returns the input (same index and row order) with two columns added:

    - ``level``: an active customer (revenue > 0) gets top/big/medium/small by the
      scheme, whatever its status. A customer that is not active is ``inactive``
      when it bought before, else ``suspect`` when its status is suspect, else
      ``prospect`` (status prospect or customer). Revenue <= 0 (only returns, or
      purchases and returns netting to zero) is not active.
    - ``rank``: nullable ``Int64``, 1-based rank among active customers by revenue
      descending (ties: external_id ascending); ``<NA>`` for customers not active.
      Computed for both scheme kinds.
    """
    scheme.validate()
    _require_columns(
        customers,
        ("customer_id", "external_id", "status", "revenue_cents", "bought_before"),
        "customers",
    )
    _require_unique_customers(customers, "customers")
    status = customers["status"]
    unknown = ~status.isin(STATUSES)
    if unknown.any():
        raise ValueError(
            f"customers has unknown status(es) {status[unknown].unique()[:5].tolist()};"
            f" expected one of {', '.join(STATUSES)}."
        )

    revenue = _cents(customers["revenue_cents"])
    active = revenue > 0
    n_active = int(active.sum())

    # Rank the active customers: positions in the input, in rank order.
    ranked_positions = _sorted_by(
        pd.DataFrame(
            {
                "position": np.arange(len(customers)),
                "revenue_cents": revenue,
                "external_id": customers["external_id"].to_numpy(),
                "customer_id": customers["customer_id"].to_numpy(),
            }
        ).loc[active],
        "revenue_cents",
        descending=True,
    )["position"].to_numpy()
    rank = np.zeros(len(customers), dtype=np.int64)
    rank[ranked_positions] = np.arange(1, n_active + 1)

    # Index into LEVELS_ACTIVE for every active customer (in input order).
    if scheme.kind == "rank_share":
        cutoffs = np.asarray(rank_cutoffs(n_active, scheme), dtype=np.int64)
        level_index = np.searchsorted(cutoffs, rank[active], side="left")
    else:
        top, big, medium = scheme.threshold_cents()
        active_revenue = revenue[active]
        level_index = np.select(
            [active_revenue >= top, active_revenue >= big, active_revenue >= medium],
            [0, 1, 2],
            default=3,
        )

    bought_before = customers["bought_before"].to_numpy(dtype=bool)
    level = np.where(
        bought_before,
        "inactive",
        np.where(status.to_numpy() == "suspect", "suspect", "prospect"),
    ).astype(object)
    level[active] = np.asarray(LEVELS_ACTIVE, dtype=object)[level_index]

    rank_column = pd.array(rank, dtype="Int64")
    rank_column[~active] = pd.NA
    return customers.assign(level=pd.array(level, dtype="str"), rank=rank_column)
