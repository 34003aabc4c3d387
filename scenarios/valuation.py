"""Customer value, product value and the 2 x 2 value segmentation (DOMAIN 6 and 7).

Pure computation: pandas/numpy in, pandas out. No Django import, no ORM.

Customer value (CLV) follows Pfeifer & Carraway (2000): the pyramid levels of two
consecutive periods give a Markov chain over ``STATES``; ``s_t(l)``, the probability
that a customer at level ``l`` today is active (top, big, medium or small) after ``t``
years, is the active part of row ``l`` of ``M ** t``.

Money is in cents. Inside a computation it is float cents; results are rounded to whole
cents with :func:`round_cents` and returned as ``int64``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ACTIVE: tuple[str, ...] = ("top", "big", "medium", "small")
STATES: tuple[str, ...] = (*ACTIVE, "inactive")

SEGMENTS: tuple[str, ...] = (
    "partners",
    "vulnerable",
    "under_earning",
    "low_low",
    "unmeasured",
)

SEGMENT_STRATEGY: dict[str, str] = {
    "partners": ("Bind and integrate: deepen the relationship and make working together hard to replace."),
    "vulnerable": ("Add value before a competitor does: find out what they miss and improve the offer."),
    "under_earning": ("Raise price, up-sell and cross-sell, or move them to a cheaper service model."),
    "low_low": "Serve efficiently (inside sales, self-service) or part ways.",
    "unmeasured": ("Survey them: without a product value score the right strategy is unknown."),
}

# Values within this many cents of a half are treated as the half (float noise guard).
_NOISE_DECIMALS = 6


def round_cents(values: np.ndarray | pd.Series | float) -> np.ndarray:
    """Round float cents to whole cents, ties away from zero, as ``int64``.

    This is ``decimal.ROUND_HALF_UP``: ``2.5 -> 3`` and ``-2.5 -> -3``. Rounding is
    symmetric around zero, so a loss rounds to exactly the negative of the matching
    profit (``np.floor(x + 0.5)`` alone would round ``-2.5`` to ``-2``). Values are
    first rounded to 6 decimals so float noise such as ``2.4999999999`` for an exact
    ``2.5`` rounds up. NaN is not allowed: callers decide what a missing amount means.
    """
    x = np.round(np.asarray(values, dtype="float64"), _NOISE_DECIMALS)
    if np.isnan(x).any():
        raise ValueError("round_cents: NaN amount; fill missing amounts before rounding.")
    return (np.sign(x) * np.floor(np.abs(x) + 0.5)).astype("int64")


# -------------------------------------------------------------------------- transitions


def transition_counts(pairs: pd.DataFrame) -> pd.DataFrame:
    """Count level transitions between consecutive periods.

    ``pairs``: columns ``customer_id, from_level, to_level``; one row per customer per
    consecutive period pair (several period pairs may be stacked: they are pooled). Only
    rows whose ``from_level`` is in ``STATES`` count (prospects, suspects and customers
    unknown in the earlier period enter through acquisition, not through the chain). For
    those rows ``to_level`` must be in ``STATES``; anything else raises ``ValueError``.

    Returns a 5 x 5 ``int64`` frame, index ``STATES`` (name ``from_level``), columns
    ``STATES`` (name ``to_level``).
    """
    in_chain = pairs["from_level"].isin(STATES)
    from_level = pairs.loc[in_chain, "from_level"]
    to_level = pairs.loc[in_chain, "to_level"]
    unknown = ~to_level.isin(STATES)
    if unknown.any():
        bad = sorted(map(str, to_level[unknown].unique()))
        raise ValueError(
            f"transition_counts: to_level must be one of {STATES} for customers that were in the chain; got {bad}."
        )
    n = len(STATES)
    from_code = pd.Categorical(from_level, categories=STATES).codes.astype("int64")
    to_code = pd.Categorical(to_level, categories=STATES).codes.astype("int64")
    counts = np.bincount(from_code * n + to_code, minlength=n * n).reshape(n, n)
    return pd.DataFrame(
        counts.astype("int64"),
        index=pd.Index(STATES, name="from_level"),
        columns=pd.Index(STATES, name="to_level"),
    )


def transition_matrix(pairs: pd.DataFrame) -> pd.DataFrame:
    """Row-stochastic level transition matrix from period pairs.

    See :func:`transition_counts` for ``pairs``.

    Counts are pooled over all pairs, then each row is divided by its total. A row
    without observations becomes the identity row: an "inactive" customer stays
    inactive, and a level nobody was at keeps its customers (no evidence of churn or
    migration, so none is assumed).

    Returns a 5 x 5 ``float64`` frame, index and columns ``STATES``.
    """
    counts = transition_counts(pairs).to_numpy(dtype="float64")
    totals = counts.sum(axis=1, keepdims=True)
    identity = np.eye(len(STATES))
    with np.errstate(invalid="ignore", divide="ignore"):
        matrix = np.where(totals > 0, counts / totals, identity)
    return pd.DataFrame(
        matrix,
        index=pd.Index(STATES, name="from_level"),
        columns=pd.Index(STATES, name="to_level"),
    )


def matrix_array(matrix: pd.DataFrame) -> np.ndarray:
    """The matrix as a 5 x 5 array in ``STATES`` order, checked to be row-stochastic."""
    try:
        m = matrix.loc[list(STATES), list(STATES)].to_numpy(dtype="float64")
    except KeyError as exc:
        raise ValueError(f"matrix must have index and columns {STATES}.") from exc
    if np.isnan(m).any() or (m < -1e-12).any() or (m > 1 + 1e-12).any():
        raise ValueError("matrix: probabilities must be numbers in [0, 1].")
    if not np.allclose(m.sum(axis=1), 1.0, atol=1e-9):
        raise ValueError("matrix: every row must sum to 1.")
    return m


# ----------------------------------------------------------------------- customer value


def survival(matrix: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """Probability that a customer at an active level now is active after t years.

    ``s_t(l) = sum over a in ACTIVE of (e_l M^t)[a]``. Returns a frame with index
    ``ACTIVE`` (name ``level``) and columns ``1..horizon`` (name ``year``).
    """
    if horizon < 0:
        raise ValueError("survival: horizon must be >= 0.")
    m = matrix_array(matrix)
    n_active = len(ACTIVE)
    power = np.eye(len(STATES))
    columns = []
    for _ in range(horizon):
        power = power @ m
        columns.append(power[:n_active, :n_active].sum(axis=1))
    values = np.column_stack(columns) if columns else np.empty((n_active, 0))
    return pd.DataFrame(
        values,
        index=pd.Index(ACTIVE, name="level"),
        columns=pd.Index(range(1, horizon + 1), name="year"),
    )


def _fallback_survival(retention: float, horizon: int) -> pd.DataFrame:
    """``s_t = retention ** t`` for every active level (fewer than two periods)."""
    years = np.arange(1, horizon + 1)
    values = np.tile(retention**years, (len(ACTIVE), 1))
    return pd.DataFrame(
        values,
        index=pd.Index(ACTIVE, name="level"),
        columns=pd.Index(range(1, horizon + 1), name="year"),
    )


def customer_value(
    customers: pd.DataFrame,
    *,
    matrix: pd.DataFrame | None,
    horizon: int = 5,
    discount_rate: float = 0.08,
    fallback_retention: float = 0.8,
) -> pd.DataFrame:
    """Customer lifetime value per customer (DOMAIN section 6).

    ``customers``: columns ``customer_id, level, profit_cents`` (profit of the last
    period).

    For a customer at an active level ``l``: ``CLV = sum_{t=1..H} profit * s_t(l) / (1 +
    d)^t``, with ``s_t`` from :func:`survival` on ``matrix`` (method ``"markov"``). When
    ``matrix`` is None (fewer than two periods) the documented fallback ``s_t =
    fallback_retention ** t`` is used for every level (method ``"fallback"``). Customers
    not at an active level (inactive, prospect, suspect) get 0. A missing profit counts
    as 0. Negative profit gives negative CLV.

    Returns ``customer_id, clv_cents (int64), method`` in the input order.
    """
    if horizon < 0:
        raise ValueError("customer_value: horizon must be >= 0.")
    if discount_rate <= -1:
        raise ValueError("customer_value: discount_rate must be > -1.")
    if matrix is None:
        if not 0 <= fallback_retention <= 1:
            raise ValueError("customer_value: fallback_retention must be in [0, 1].")
        surv = _fallback_survival(fallback_retention, horizon)
        method = "fallback"
    else:
        surv = survival(matrix, horizon)
        method = "markov"
    discount = (1.0 + discount_rate) ** -np.arange(1, horizon + 1, dtype="float64")
    factor = pd.Series(surv.to_numpy() @ discount, index=surv.index)

    level_factor = customers["level"].map(factor).fillna(0.0).to_numpy(dtype="float64")
    profit = pd.to_numeric(customers["profit_cents"], errors="raise").fillna(0).to_numpy(dtype="float64")
    return pd.DataFrame(
        {
            "customer_id": customers["customer_id"].to_numpy(),
            "clv_cents": round_cents(profit * level_factor),
            "method": method,
        }
    )


# ------------------------------------------------------------------------ product value


def _round_half_up(values: np.ndarray, decimals: int) -> np.ndarray:
    """Half-up rounding of non-negative floats to ``decimals`` (7.125 -> 7.13)."""
    scale = 10.0**decimals
    scaled = np.round(np.asarray(values, dtype="float64") * scale, _NOISE_DECIMALS)
    return np.floor(scaled + 0.5) / scale


def product_value(responses: pd.DataFrame) -> pd.DataFrame:
    """Product value per customer: the mean score of its most recent survey round.

    ``responses``: columns ``customer_id, round (str), date (datetime64), score
    (0..10)``. Responses without a score are ignored. A customer's latest round is the
    round of its most recent response date; when several rounds share that date, the
    lexicographically greatest round wins. ``product_value`` is the mean score of that
    round, rounded half up to 2 decimals. Customers without responses are absent
    (unmeasured).

    Returns ``customer_id, product_value (float64), responses (int64), round``, sorted
    by ``customer_id``.
    """
    scored = responses.loc[responses["score"].notna(), ["customer_id", "round", "date", "score"]]
    scores = pd.to_numeric(scored["score"], errors="raise")
    if ((scores < 0) | (scores > 10)).any():
        raise ValueError("product_value: scores must be between 0 and 10.")
    latest = (
        scored.sort_values(["customer_id", "date", "round"], kind="mergesort")
        .drop_duplicates("customer_id", keep="last")
        .loc[:, ["customer_id", "round"]]
    )
    in_latest = scored.merge(latest, on=["customer_id", "round"], how="inner")
    summary = in_latest.groupby(["customer_id", "round"], sort=True)["score"].agg(["mean", "count"]).reset_index()
    return pd.DataFrame(
        {
            "customer_id": summary["customer_id"].to_numpy(),
            "product_value": _round_half_up(summary["mean"].to_numpy(), 2),
            "responses": summary["count"].to_numpy(dtype="int64"),
            "round": summary["round"].to_numpy(),
        }
    )


# ------------------------------------------------------------------------- segmentation


def segment_customers(
    df: pd.DataFrame,
    *,
    clv_threshold_cents: int | None = None,
    product_value_threshold: float = 7.0,
) -> tuple[pd.DataFrame, int]:
    """The 2 x 2 value segmentation (DOMAIN section 7).

    ``df``: columns ``customer_id, clv_cents, product_value (NaN = unmeasured),
    active``.

    High customer value: ``clv_cents >= threshold``; the default threshold is the median
    CLV of the active customers, rounded half up to a whole cent (0 when nobody is
    active). High product value: ``product_value >= product_value_threshold``.

    Segments: partners (high pv, high cv), vulnerable (low pv, high cv), under_earning
    (high pv, low cv), low_low (low pv, low cv), unmeasured (no product value, any cv;
    ``high_product_value`` is False for them).

    Returns ``(frame, threshold_cents)``; the frame has ``customer_id, segment,
    high_customer_value, high_product_value`` in the input order.
    """
    clv = pd.to_numeric(df["clv_cents"], errors="raise").to_numpy(dtype="float64")
    if clv_threshold_cents is None:
        active_clv = clv[df["active"].to_numpy(dtype=bool)]
        active_clv = active_clv[~np.isnan(active_clv)]
        threshold = int(round_cents(np.median(active_clv))) if active_clv.size else 0
    else:
        threshold = int(clv_threshold_cents)

    pv = pd.to_numeric(df["product_value"], errors="raise").to_numpy(dtype="float64")
    measured = ~np.isnan(pv)
    high_cv = clv >= threshold
    high_pv = measured & (pv >= product_value_threshold)
    segment = np.select(
        [~measured, high_pv & high_cv, high_cv, high_pv],
        ["unmeasured", "partners", "vulnerable", "under_earning"],
        default="low_low",
    )
    frame = pd.DataFrame(
        {
            "customer_id": df["customer_id"].to_numpy(),
            "segment": pd.array(segment, dtype="str"),
            "high_customer_value": high_cv,
            "high_product_value": high_pv,
        }
    )
    return frame, threshold


def segment_summary(df: pd.DataFrame) -> pd.DataFrame:
    """Totals per value segment, in ``SEGMENTS`` order, zeros for empty segments.

    ``df``: columns ``customer_id, segment, revenue_cents, profit_cents, clv_cents``
    (missing amounts count as 0).

    Returns ``segment, customers, revenue_cents, profit_cents, clv_cents`` (all
    ``int64``).
    """
    unknown = ~df["segment"].isin(SEGMENTS)
    if unknown.any():
        bad = sorted(map(str, df.loc[unknown, "segment"].unique()))
        raise ValueError(f"segment_summary: unknown segments {bad}.")
    money = ["revenue_cents", "profit_cents", "clv_cents"]
    grouped = df.groupby("segment", sort=False).agg(
        customers=("customer_id", "size"),
        **{column: (column, "sum") for column in money},
    )
    grouped = grouped.reindex(list(SEGMENTS), fill_value=0)
    summary = pd.DataFrame(
        {
            "segment": pd.array(SEGMENTS, dtype="str"),
            "customers": grouped["customers"].to_numpy(dtype="int64"),
        }
    )
    for column in money:
        summary[column] = round_cents(grouped[column].fillna(0).to_numpy())
    return summary
