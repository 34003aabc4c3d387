"""The customer pyramid, migration, retention and concentration (DOMAIN sections 1-4).

Pure computation: pandas/numpy in, pandas/plain Python out. No Django, no ORM.

Conventions shared by every function here:

- Money is integer cents (int64) throughout; shares are fractions (0.25 = 25 %).
- A customer is *active* in a period when its net revenue there is > 0.
- Whenever customers are ordered by an amount, ties are broken by ``external_id``
  ascending (plain string order, so ``"C-10"`` sorts before ``"C-9"``) and then by
  ``customer_id`` ascending, so the order is always deterministic.
- Summary figures are returned as plain ``int``/``float``; a ratio whose denominator
  is zero (or, where documented, not positive) is ``None``.
- Bad input (a missing column, an unknown level or status, a duplicated customer)
  raises ``ValueError`` with a message a person can act on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

LEVELS_ACTIVE: tuple[str, ...] = ("top", "big", "medium", "small")
ALL_LEVELS: tuple[str, ...] = LEVELS_ACTIVE + ("inactive", "prospect", "suspect")
#: Rows of the migration matrix: the level in P-1, or "new" when unknown in P-1.
MIGRATION_FROM: tuple[str, ...] = ALL_LEVELS + ("new",)
#: Values of the ``status`` column that :func:`assign_levels` accepts.
STATUSES: tuple[str, ...] = ("suspect", "prospect", "customer")

SCHEME_KINDS: tuple[str, ...] = ("rank_share", "thresholds")


def _(message: str) -> str:
    """A message in the reader's language: Django's gettext when Django is set up, else the English text."""
    try:
        from django.utils.translation import gettext
    except ImportError:  # pragma: no cover - this module also runs without Django
        return message
    try:
        return gettext(message)
    except Exception:  # noqa: BLE001 - settings not configured: plain English
        return message


def _level_name(level: str) -> str:
    """A level as it reads inside a sentence ("top" in English, "topklanten" in Dutch)."""
    names = {
        # Translators: a pyramid level inside a sentence ("the top share", "a threshold for top").
        "top": _("top"),
        # Translators: a pyramid level inside a sentence ("the big share", "a threshold for big").
        "big": _("big"),
        # Translators: a pyramid level inside a sentence ("the medium share", "a threshold for medium").
        "medium": _("medium"),
    }
    return names.get(level, level)


# --- scheme ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PyramidScheme:
    """How active customers are split over top / big / medium / small.

    ``kind="rank_share"`` (default): the shares are *per level* (1 / 4 / 15 %, the
    rest is small); the rank cutoffs use the cumulative shares 1 / 5 / 20 %.

    ``kind="thresholds"``: revenue thresholds in euros (``Decimal`` or float); a
    customer is top when its revenue is >= ``top_threshold``, and so on. Thresholds
    must satisfy top >= big >= medium >= 0 (an equal pair leaves a level empty).
    """

    kind: str = "rank_share"
    top_share: float = 0.01
    big_share: float = 0.04
    medium_share: float = 0.15
    top_threshold: Decimal | float | None = None
    big_threshold: Decimal | float | None = None
    medium_threshold: Decimal | float | None = None

    def validate(self) -> None:
        """Raise ``ValueError`` with a readable message when the scheme is unusable."""
        if self.kind not in SCHEME_KINDS:
            raise ValueError(
                _("Unknown pyramid scheme %(kind)s; choose one of %(kinds)s.")
                % {"kind": repr(self.kind), "kinds": ", ".join(SCHEME_KINDS)}
            )
        if self.kind == "rank_share":
            self._validate_shares()
        else:
            self._validate_thresholds()

    def _validate_shares(self) -> None:
        shares = {
            "top": self.top_share,
            "big": self.big_share,
            "medium": self.medium_share,
        }
        for level, share in shares.items():
            try:
                value = float(share)
            except (TypeError, ValueError):
                raise ValueError(
                    _("The %(level)s share must be a number between 0 and 1 (got %(value)s).")
                    % {"level": _level_name(level), "value": repr(share)}
                ) from None
            if not (math.isfinite(value) and 0.0 <= value <= 1.0):
                raise ValueError(
                    _("The %(level)s share must be between 0 and 1 (got %(value)s).")
                    % {"level": _level_name(level), "value": repr(share)}
                )
        total = sum(float(share) for share in shares.values())
        if round(total, 9) > 1.0:
            raise ValueError(
                _("The top, big and medium shares together must not exceed 100 %% (got %(total)s %%).")
                % {"total": f"{total * 100:g}"}
            )

    def _validate_thresholds(self) -> None:
        thresholds = {
            "top": self.top_threshold,
            "big": self.big_threshold,
            "medium": self.medium_threshold,
        }
        missing = [level for level, value in thresholds.items() if value is None]
        if missing:
            raise ValueError(
                _("The thresholds scheme needs a revenue threshold for %(levels)s.")
                % {"levels": ", ".join(_level_name(level) for level in missing)}
            )
        euros = {level: _to_decimal(value, level) for level, value in thresholds.items()}
        for level, value in euros.items():
            if value < 0:
                raise ValueError(
                    _("The %(level)s threshold must not be negative (got %(value)s).")
                    % {"level": _level_name(level), "value": value}
                )
        if not euros["top"] >= euros["big"] >= euros["medium"]:
            raise ValueError(
                _("Thresholds must descend: top >= big >= medium (got %(top)s, %(big)s, %(medium)s).")
                % {"top": euros["top"], "big": euros["big"], "medium": euros["medium"]}
            )

    def cumulative_shares(self) -> tuple[float, float, float]:
        """Cumulative rank shares for top, big and medium (0.01, 0.05, 0.20 by default)."""
        top = float(self.top_share)
        big = top + float(self.big_share)
        return top, big, big + float(self.medium_share)

    def threshold_cents(self) -> tuple[int, int, int]:
        """Thresholds (top, big, medium) as the smallest whole cents that qualify.

        ``revenue_cents >= ceil(threshold_euros * 100)`` is exactly
        ``revenue >= threshold``, also for a threshold with fractions of a cent.
        """
        return tuple(
            int((_to_decimal(value, level) * 100).to_integral_value(rounding=ROUND_CEILING))
            for level, value in (
                ("top", self.top_threshold),
                ("big", self.big_threshold),
                ("medium", self.medium_threshold),
            )
        )


def _to_decimal(value: Any, level: str) -> Decimal:
    try:
        # str() first: Decimal(0.1) would carry the float's binary error.
        result = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise ValueError(
            _("The %(level)s threshold must be an amount in euros (got %(value)s).")
            % {"level": _level_name(level), "value": repr(value)}
        ) from None
    if not result.is_finite():
        raise ValueError(
            _("The %(level)s threshold must be a finite amount (got %(value)s).")
            % {"level": _level_name(level), "value": value}
        )
    return result


def ceil_share(share: float, n: int) -> int:
    """``ceil(share * n)`` without float surprises (0.07 * 100 is 7.000000000000001).

    The share is taken at 9 decimals and the product computed exactly.
    """
    return math.ceil(Fraction(str(round(float(share), 9))) * n)


def rank_cutoffs(n_active: int, scheme: PyramidScheme) -> tuple[int, int, int]:
    """Last rank that is top, big and medium for ``n_active`` active customers.

    Rank r is top if r <= cutoffs[0], big if r <= cutoffs[1], medium if
    r <= cutoffs[2], else small. N=7 with default shares gives (1, 1, 2): one top,
    no big, one medium, five small.
    """
    return tuple(ceil_share(share, n_active) for share in scheme.cumulative_shares())


# --- helpers --------------------------------------------------------------------------


def _require_columns(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{name} is missing column(s): {', '.join(missing)}.")


def _require_unique_customers(frame: pd.DataFrame, name: str) -> None:
    duplicated = frame["customer_id"].duplicated()
    if duplicated.any():
        examples = frame.loc[duplicated, "customer_id"].unique()[:5].tolist()
        raise ValueError(f"{name} has more than one row for customer(s) {examples}.")


def _require_levels(levels: pd.Series, allowed: tuple[str, ...], name: str) -> None:
    unknown = ~levels.isin(allowed)
    if unknown.any():
        examples = levels[unknown].unique()[:5].tolist()
        raise ValueError(f"{name} has unknown level(s) {examples}; expected one of {', '.join(allowed)}.")


def _cents(series: pd.Series) -> np.ndarray:
    """An integer cents column as an int64 array (raises on missing values)."""
    return series.to_numpy(dtype=np.int64)


def _ratio(numerator: int, denominator: int) -> float | None:
    return None if denominator == 0 else numerator / denominator


def _sorted_by(frame: pd.DataFrame, column: str, *, descending: bool) -> pd.DataFrame:
    """Rows ordered by ``column``, ties by external_id then customer_id ascending."""
    return frame.sort_values(
        [column, "external_id", "customer_id"],
        ascending=[not descending, True, True],
        kind="stable",
    )


def _active(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.loc[frame["revenue_cents"].to_numpy(dtype=np.int64) > 0]


def _complete_cents(frame: pd.DataFrame, column: str) -> np.ndarray | None:
    """The column as int64 cents, or None when absent or missing for any row.

    Cost and profit exist only once accounting has run for the period; a figure
    computed over part of the customers would mislead, so it is not computed.
    """
    if column not in frame.columns or frame[column].isna().any():
        return None
    return _cents(frame[column])


def _round_half_up_div(numerator: np.ndarray, denominator: np.ndarray) -> pd.arrays.IntegerArray:
    """Integer division rounded half away from zero (Decimal's ROUND_HALF_UP).

    Both arrays int64; the result is nullable Int64, NA where denominator is 0.
    """
    safe = np.where(denominator == 0, 1, denominator)
    quotient = (2 * np.abs(numerator) + safe) // (2 * safe)
    result = pd.array(np.sign(numerator) * quotient, dtype="Int64")
    result[denominator == 0] = pd.NA
    return result


# --- facts ----------------------------------------------------------------------------


def customer_period_facts(lines: pd.DataFrame) -> pd.DataFrame:
    """Per-customer totals of one period's order lines.

    Input columns: ``customer_id`` (int64), ``order_id`` (str or int),
    ``amount_cents`` (int64, net of discounts, excl. VAT; returns negative),
    ``cost_cents`` (int64, cost of goods sold).

    Output, one row per customer_id, sorted by customer_id, all int64:
    ``customer_id, revenue_cents, gross_margin_cents, orders, order_lines``
    (``gross_margin_cents`` = Σ amount - Σ cost, ``orders`` = distinct order_id,
    ``order_lines`` = number of rows).
    """
    _require_columns(lines, ("customer_id", "order_id", "amount_cents", "cost_cents"), "lines")
    amount = _cents(lines["amount_cents"])
    frame = pd.DataFrame(
        {
            "customer_id": lines["customer_id"].to_numpy(dtype=np.int64),
            "order_id": lines["order_id"].to_numpy(),
            "revenue_cents": amount,
            "gross_margin_cents": amount - _cents(lines["cost_cents"]),
        }
    )
    grouped = frame.groupby("customer_id", sort=True)
    facts = grouped[["revenue_cents", "gross_margin_cents"]].sum()
    facts["orders"] = grouped["order_id"].nunique()
    facts["order_lines"] = grouped.size()
    facts = facts.reset_index().astype("int64")
    assert facts["revenue_cents"].sum() == amount.sum()  # reconcile to the cent
    return facts


# --- pyramid --------------------------------------------------------------------------


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


# --- migration ------------------------------------------------------------------------


def migration_matrix(prev: pd.DataFrame, cur: pd.DataFrame) -> pd.DataFrame:
    """How customers moved between pyramid levels from P-1 to P.

    ``prev``: ``customer_id, level`` (the pyramid of P-1).
    ``cur``: ``customer_id, level, revenue_cents`` (the pyramid of P, with every
    customer known in P). A customer of ``cur`` without a row in ``prev`` comes
    from ``new``; a customer only in ``prev`` is not counted (it is not in P).

    Returns the full grid, MIGRATION_FROM × ALL_LEVELS in that order (8 × 7 rows):
    ``from_level, to_level, customers`` (int64), ``revenue_cents`` (int64, net
    revenue in P of those customers); zeros where no customer moved.
    """
    _require_columns(prev, ("customer_id", "level"), "prev")
    _require_columns(cur, ("customer_id", "level", "revenue_cents"), "cur")
    _require_unique_customers(prev, "prev")
    _require_unique_customers(cur, "cur")
    _require_levels(prev["level"], ALL_LEVELS, "prev")
    _require_levels(cur["level"], ALL_LEVELS, "cur")

    moves = pd.DataFrame(
        {
            "customer_id": cur["customer_id"].to_numpy(),
            "to_level": cur["level"].to_numpy(),
            "revenue_cents": _cents(cur["revenue_cents"]),
        }
    ).merge(
        prev[["customer_id", "level"]].rename(columns={"level": "from_level"}),
        on="customer_id",
        how="left",
    )
    moves["from_level"] = moves["from_level"].fillna("new")

    grid = pd.MultiIndex.from_product([MIGRATION_FROM, ALL_LEVELS], names=["from_level", "to_level"])
    matrix = (
        moves.groupby(["from_level", "to_level"])
        .agg(
            customers=("customer_id", "size"),
            revenue_cents=("revenue_cents", "sum"),
        )
        .reindex(grid, fill_value=0)
        .astype("int64")
        .reset_index()
    )
    assert matrix["customers"].sum() == len(cur)
    assert matrix["revenue_cents"].sum() == moves["revenue_cents"].sum()
    return matrix


# --- retention ------------------------------------------------------------------------


def retention(prev: pd.DataFrame, cur: pd.DataFrame) -> dict[str, Any]:
    """Customer and revenue retention of period P against P-1 (DOMAIN section 3).

    ``prev``: ``customer_id, level, revenue_cents`` (P-1). A(P-1) is the customers
    with revenue > 0 there; their level must be one of top/big/medium/small.
    ``cur``: ``customer_id, revenue_cents, existing`` (P; ``existing`` = had
    revenue > 0 in some period before P). A customer of A(P-1) missing from ``cur``
    counts with revenue 0 in P.

    Returns a dict:

    - ``customer_retention`` = |A(P) ∩ A(P-1)| / |A(P-1)|
    - ``revenue_retention`` = Σ_{A(P-1)} rev_P / Σ_{A(P-1)} rev_{P-1} (net: returns
      in P count negative, the figure can exceed 1)
    - ``existing_revenue_share`` = Σ_{existing} rev_P / Σ_{all of cur} rev_P;
      ``None`` when total revenue in P is not positive (the share means nothing)
    - ``customers_prev``, ``customers_retained``, ``revenue_prev_cents``,
      ``revenue_cur_cents`` (over A(P-1)), ``existing_revenue_cents``,
      ``total_revenue_cents`` (over cur): the numbers behind the ratios
    - ``by_level``: one dict per level of P-1, top, big, medium, small, with
      ``level, customers_prev, customers_retained, customer_retention,
      revenue_prev_cents, revenue_cur_cents, revenue_retention``

    Ratios are floats, ``None`` when the denominator is 0 (no active customer).
    """
    _require_columns(prev, ("customer_id", "level", "revenue_cents"), "prev")
    _require_columns(cur, ("customer_id", "revenue_cents", "existing"), "cur")
    _require_unique_customers(prev, "prev")
    _require_unique_customers(cur, "cur")

    base = _active(prev)
    _require_levels(base["level"], LEVELS_ACTIVE, "prev (customers active in P-1)")
    cur_revenue = pd.Series(_cents(cur["revenue_cents"]), index=cur["customer_id"])
    cohort = pd.DataFrame(
        {
            "level": pd.Categorical(base["level"], categories=LEVELS_ACTIVE),
            "revenue_prev_cents": _cents(base["revenue_cents"]),
            "revenue_cur_cents": cur_revenue.reindex(base["customer_id"].to_numpy(), fill_value=0).to_numpy(
                dtype=np.int64
            ),
        }
    )
    cohort["retained"] = (cohort["revenue_cur_cents"] > 0).astype(np.int64)
    per_level = cohort.groupby("level", observed=False).agg(
        customers_prev=("retained", "size"),
        customers_retained=("retained", "sum"),
        revenue_prev_cents=("revenue_prev_cents", "sum"),
        revenue_cur_cents=("revenue_cur_cents", "sum"),
    )

    def figures(row: pd.Series | dict) -> dict[str, Any]:
        return {
            "customers_prev": int(row["customers_prev"]),
            "customers_retained": int(row["customers_retained"]),
            "customer_retention": _ratio(int(row["customers_retained"]), int(row["customers_prev"])),
            "revenue_prev_cents": int(row["revenue_prev_cents"]),
            "revenue_cur_cents": int(row["revenue_cur_cents"]),
            "revenue_retention": _ratio(int(row["revenue_cur_cents"]), int(row["revenue_prev_cents"])),
        }

    overall = figures(per_level.sum())
    total = int(_cents(cur["revenue_cents"]).sum())
    existing = int(_cents(cur["revenue_cents"])[cur["existing"].to_numpy(dtype=bool)].sum())
    return {
        "customer_retention": overall["customer_retention"],
        "revenue_retention": overall["revenue_retention"],
        "existing_revenue_share": existing / total if total > 0 else None,
        "customers_prev": overall["customers_prev"],
        "customers_retained": overall["customers_retained"],
        "revenue_prev_cents": overall["revenue_prev_cents"],
        "revenue_cur_cents": overall["revenue_cur_cents"],
        "existing_revenue_cents": existing,
        "total_revenue_cents": total,
        "by_level": [{"level": level, **figures(per_level.loc[level])} for level in LEVELS_ACTIVE],
    }


# --- concentration --------------------------------------------------------------------


def concentration(cur: pd.DataFrame) -> dict[str, Any]:
    """80/20 figures and the whale-curve peak over the active customers of P.

    Columns: ``customer_id, external_id, revenue_cents`` and optionally
    ``allocated_cost_cents`` and ``profit_cents``. Only customers with revenue > 0
    count (N of them). A cost or profit figure is ``None`` when its column is
    absent or missing for any active customer (accounting has not run, or is
    stale): a figure over part of the customers would mislead.

    Returns a dict:

    - ``active_customers`` (N), ``total_revenue_cents``
    - ``top20_customers`` = ceil(0.2 N); ``top20_revenue_share``: their revenue /
      total revenue (highest revenue first, ties external_id ascending)
    - ``customers_for_80pct_revenue`` (k): the smallest k whose k highest-revenue
      customers earn >= 80 % of revenue; ``customers_share_for_80pct_revenue`` = k/N
    - ``bottom20_customers``: length of the shortest prefix, revenue ascending
      (ties external_id ascending), whose revenue is >= 20 % of the total;
      ``bottom20_revenue_cost_share``: their share of the allocated cost of all
      active customers (None when that total is not positive)
    - ``total_profit_cents``; ``whale_peak_profit_share``: the peak of cumulative
      profit / total profit with customers by profit descending (ties external_id
      ascending); ``whale_peak_customers`` (i, the first i reaching the peak) and
      ``whale_peak_customer_share`` = i/N. These three are ``None`` when total
      profit <= 0: a share of a non-positive total has no meaning.
    - ``loss_on_lossmaking_cents``: Σ of the negative profits, as a negative
      number (0 when nobody loses money); ``lossmaking_customers``: their count.

    With N = 0 every revenue ratio and k are ``None``.
    """
    _require_columns(cur, ("customer_id", "external_id", "revenue_cents"), "cur")
    _require_unique_customers(cur, "cur")
    active = _active(cur)
    n = len(active)

    by_revenue = _sorted_by(active, "revenue_cents", descending=True)
    revenue_desc = _cents(by_revenue["revenue_cents"])
    total_revenue = int(revenue_desc.sum())
    figures: dict[str, Any] = {
        "active_customers": n,
        "total_revenue_cents": total_revenue,
        "top20_customers": ceil_share(0.2, n),
    }
    if n:
        top = figures["top20_customers"]
        # Smallest k with cum >= 0.8 total, in integers: 5 * cum >= 4 * total.
        k = int(np.searchsorted(5 * np.cumsum(revenue_desc), 4 * total_revenue)) + 1
        figures.update(
            top20_revenue_share=int(revenue_desc[:top].sum()) / total_revenue,
            customers_for_80pct_revenue=k,
            customers_share_for_80pct_revenue=k / n,
        )
    else:
        figures.update(
            top20_revenue_share=None,
            customers_for_80pct_revenue=None,
            customers_share_for_80pct_revenue=None,
        )
    figures.update(_bottom20_cost(active))
    figures.update(_whale_peak(active))
    return figures


def _bottom20_cost(active: pd.DataFrame) -> dict[str, Any]:
    by_revenue = _sorted_by(active, "revenue_cents", descending=False)
    revenue_asc = _cents(by_revenue["revenue_cents"])
    # Shortest prefix with cum >= 0.2 total, in integers: 5 * cum >= total.
    m = int(np.searchsorted(5 * np.cumsum(revenue_asc), revenue_asc.sum())) + 1
    figures: dict[str, Any] = {
        "bottom20_customers": m if len(active) else None,
        "bottom20_revenue_cost_share": None,
    }
    cost = _complete_cents(by_revenue, "allocated_cost_cents")
    if cost is not None and cost.sum() > 0:
        figures["bottom20_revenue_cost_share"] = int(cost[:m].sum()) / int(cost.sum())
    return figures


def _whale_peak(active: pd.DataFrame) -> dict[str, Any]:
    figures: dict[str, Any] = dict.fromkeys(
        (
            "total_profit_cents",
            "whale_peak_profit_share",
            "whale_peak_customers",
            "whale_peak_customer_share",
            "loss_on_lossmaking_cents",
            "lossmaking_customers",
        )
    )
    profit = _complete_cents(active, "profit_cents")
    if profit is None:
        return figures
    total = int(profit.sum())
    figures.update(
        total_profit_cents=total,
        loss_on_lossmaking_cents=int(profit[profit < 0].sum()),
        lossmaking_customers=int((profit < 0).sum()),
    )
    if total > 0:
        cumulative = np.cumsum(_cents(_sorted_by(active, "profit_cents", descending=True)["profit_cents"]))
        peak = int(np.argmax(cumulative))  # first index of the maximum
        figures.update(
            whale_peak_profit_share=int(cumulative[peak]) / total,
            whale_peak_customers=peak + 1,
            whale_peak_customer_share=(peak + 1) / len(active),
        )
    return figures


# --- curves ---------------------------------------------------------------------------


def _cumulative_curve(values_desc: np.ndarray, points: int, x_name: str, y_name: str) -> pd.DataFrame:
    """Cumulative share curve from (0, 0) to (1, total/total), downsampled.

    Keeps at most ``points`` evenly spaced points (always the start and the end)
    plus the peak of the cumulative share.
    """
    if points < 2:
        raise ValueError(f"A curve needs at least 2 points (got {points}).")
    n = len(values_desc)
    cumulative = np.concatenate(([0], np.cumsum(values_desc, dtype=np.int64)))
    peak = int(np.argmax(cumulative))
    keep = np.union1d(np.rint(np.linspace(0, n, min(points, n + 1))).astype(int), peak)
    return pd.DataFrame(
        {
            x_name: keep / n,
            y_name: cumulative[keep] / cumulative[-1],
        }
    )


def _empty_curve(x_name: str, y_name: str) -> pd.DataFrame:
    return pd.DataFrame({x_name: np.array([], dtype=float), y_name: np.array([], dtype=float)})


def whale_curve(cur: pd.DataFrame, points: int = 200) -> pd.DataFrame:
    """The whale curve of the active customers, for charting.

    Columns in: ``customer_id, external_id, revenue_cents, profit_cents``.
    Columns out (float): ``customer_share`` (i/N) and ``profit_share`` (cumulative
    profit of the i most profitable customers / total profit), starting at (0, 0),
    ending at (1, 1), with the peak always included; at most ``points`` + 1 rows.
    Empty when profit is unavailable (see :func:`concentration`), there is no
    active customer or total profit <= 0.
    """
    _require_columns(cur, ("customer_id", "external_id", "revenue_cents"), "cur")
    active = _active(cur)
    profit = _complete_cents(active, "profit_cents")
    if profit is None or not len(active) or profit.sum() <= 0:
        return _empty_curve("customer_share", "profit_share")
    profit_desc = _cents(_sorted_by(active, "profit_cents", descending=True)["profit_cents"])
    return _cumulative_curve(profit_desc, points, "customer_share", "profit_share")


def pareto_curve(cur: pd.DataFrame, points: int = 200) -> pd.DataFrame:
    """The 80/20 (Pareto) curve of the active customers, for charting.

    Columns in: ``customer_id, external_id, revenue_cents``. Columns out (float):
    ``customer_share`` (i/N) and ``revenue_share`` (cumulative revenue of the i
    highest-revenue customers / total revenue), from (0, 0) to (1, 1); at most
    ``points`` rows. Empty when there is no active customer.
    """
    _require_columns(cur, ("customer_id", "external_id", "revenue_cents"), "cur")
    active = _active(cur)
    if not len(active):
        return _empty_curve("customer_share", "revenue_share")
    revenue_desc = _cents(_sorted_by(active, "revenue_cents", descending=True)["revenue_cents"])
    return _cumulative_curve(revenue_desc, points, "customer_share", "revenue_share")


# --- summary --------------------------------------------------------------------------


def level_summary(cur: pd.DataFrame) -> pd.DataFrame:
    """The pyramid report: one row per level of ALL_LEVELS, in that order.

    Columns in: ``customer_id, level, revenue_cents, gross_margin_cents`` and
    optionally ``allocated_cost_cents, profit_cents``.

    Columns out:

    - ``level`` (str), ``customers``, ``revenue_cents``, ``gross_margin_cents``
      (int64; 0 for an empty level)
    - ``revenue_share`` (float64): level revenue / revenue of all rows; NaN when
      that total is not positive
    - ``allocated_cost_cents``, ``profit_cents`` (Int64): ``<NA>`` when the column
      is absent or any customer of the level has no value (never a partial sum)
    - ``avg_revenue_cents``, ``avg_profit_cents`` (Int64): total / customers,
      rounded half away from zero; ``<NA>`` for an empty level or missing total
    """
    _require_columns(cur, ("customer_id", "level", "revenue_cents", "gross_margin_cents"), "cur")
    _require_levels(cur["level"], ALL_LEVELS, "cur")
    level = pd.Categorical(cur["level"], categories=ALL_LEVELS)
    grouped = pd.DataFrame(
        {
            "revenue_cents": _cents(cur["revenue_cents"]),
            "gross_margin_cents": _cents(cur["gross_margin_cents"]),
        }
    ).groupby(level, observed=False)
    summary = grouped.sum().astype("int64")
    customers = grouped.size().to_numpy(dtype=np.int64)
    total_revenue = int(summary["revenue_cents"].sum())
    revenue_share = (
        summary["revenue_cents"].to_numpy() / total_revenue if total_revenue > 0 else np.full(len(ALL_LEVELS), np.nan)
    )

    def optional_sum(column: str) -> pd.arrays.IntegerArray:
        if column not in cur.columns:
            return pd.array([pd.NA] * len(ALL_LEVELS), dtype="Int64")
        values = pd.Series(pd.array(cur[column], dtype="Int64"))
        sums = values.groupby(level, observed=False).sum(skipna=False)
        return pd.array(sums, dtype="Int64")

    allocated_cost = optional_sum("allocated_cost_cents")
    profit = optional_sum("profit_cents")
    return pd.DataFrame(
        {
            "level": pd.array(ALL_LEVELS, dtype="str"),
            "customers": customers,
            "revenue_cents": summary["revenue_cents"].to_numpy(),
            "revenue_share": revenue_share,
            "gross_margin_cents": summary["gross_margin_cents"].to_numpy(),
            "allocated_cost_cents": allocated_cost,
            "profit_cents": profit,
            "avg_revenue_cents": _round_half_up_div(summary["revenue_cents"].to_numpy(), customers),
            # A missing total counts as an empty level: the average is <NA>.
            "avg_profit_cents": _round_half_up_div(
                profit.fillna(0).to_numpy(dtype=np.int64),
                np.where(profit.isna(), 0, customers),
            ),
        }
    )
