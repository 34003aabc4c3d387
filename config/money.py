"""Money at the edges: Decimal euros in the database and the API, integer cents inside."""

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
from django.db.models import BigIntegerField, Expression
from django.db.models.functions import Cast, Round

CENT = Decimal("0.01")


def cents_sql(expr: Expression) -> Cast:
    """SQL that turns a money expression into integer cents (rounded, SQLite stores REAL)."""
    return Cast(Round(expr * 100), BigIntegerField())


def to_decimal(cents: int | float | None) -> Decimal | None:
    if cents is None or (isinstance(cents, float) and np.isnan(cents)) or cents is pd.NA:
        return None
    return Decimal(int(cents)).scaleb(-2)


def to_cents(amount: Decimal | float | int | str) -> int:
    return int((Decimal(str(amount)) * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def euros(cents: pd.Series) -> pd.Series:
    """Integer cents to a column of Decimal euros (exact)."""
    return cents.map(lambda c: None if pd.isna(c) else Decimal(int(c)).scaleb(-2))


def as_float_euros(cents) -> float | None:
    if cents is None or pd.isna(cents):
        return None
    return round(int(cents) / 100, 2)
