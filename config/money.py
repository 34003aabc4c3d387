"""Money at the edges: Decimal euros in the database and the API, integer cents inside.

SQLite stores a ``DecimalField`` as REAL and sums it as a float: an order cancelled in full by a
credit note sums to 3.9e-14, not 0, and ``> 0`` counts it as a purchase. PostgreSQL sums exact
numerics. So every aggregate of a money column goes through :func:`sum_cents` (each value is turned
into integer cents first, then summed as integers), and every comparison of an aggregate is made on
those cents: the same answer on both databases, to the cent. ``tests/test_money.py`` scans the
code for a ``Sum``/``Avg`` over a money field that bypasses it.
"""

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
from django.db.models import BigIntegerField, Expression, F, Sum, Value
from django.db.models.functions import Cast, Coalesce, Round

CENT = Decimal("0.01")


def cents_sql(expr: Expression) -> Cast:
    """SQL that turns one money value into integer cents (rounded, SQLite stores REAL)."""
    return Cast(Round(expr * 100), BigIntegerField())


def sum_cents(expr: Expression | str) -> Coalesce:
    """SQL: the exact sum in integer cents of a money column or expression (0 over no rows).

    Each row is rounded to cents before the sum, so the result is an integer on SQLite and
    PostgreSQL alike: ``sum_cents("amount")``, ``sum_cents(F("amount") - F("cost"))``.
    Compare the result with integer cents (``revenue_cents__gt=0``), never with a float.
    """
    if isinstance(expr, str):
        expr = F(expr)
    return Coalesce(Sum(cents_sql(expr), output_field=BigIntegerField()), Value(0), output_field=BigIntegerField())


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
