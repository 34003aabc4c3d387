"""Checks of the input frames and the exact arithmetic the figures share."""

from __future__ import annotations

import numpy as np
import pandas as pd


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
