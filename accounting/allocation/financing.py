"""Financing cost of late payment, per invoice and per customer."""

from __future__ import annotations

import datetime
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pandas as pd

from .rounding import _fraction, _round_half_up


def financing_cost_detail(
    invoices: pd.DataFrame, *, yearly_rate: Decimal | float, as_of: datetime.date
) -> pd.DataFrame:
    """Per invoice, for drill-down: customer_id, invoice_id, amount_cents, days_late, cost (euros, float).

    days_late = max(0, (paid, or as_of while open) - due) in days; cost = amount × days_late ×
    yearly_rate / 365. ``yearly_rate`` is a fraction: 0.06 for 6 %.
    """
    rate = _yearly_rate(yearly_rate)
    detail = _invoice_days_late(invoices, as_of)
    cost = detail["amount_cents"] * detail["days_late"] * float(rate) / 365 / 100
    return detail.assign(cost=cost.astype(float))


def financing_cost(invoices: pd.DataFrame, *, yearly_rate: Decimal | float, as_of: datetime.date) -> pd.DataFrame:
    """Financing cost of late payment per customer (DOMAIN.md section 5).

    Output, one row per customer with invoices, by customer_id: customer_id,
    financing_cost_cents (int64), invoices_late (count with days_late > 0),
    days_late_weighted (amount-weighted average days late over all its invoices; NaN when its
    amounts sum to 0).

    The cost is Σ amount × days_late × yearly_rate / 365, summed exactly (integers and the
    exact decimal rate) and rounded once per customer to the cent, halves away from zero. A
    payment after ``as_of`` counts in full, as the contract says (paid or as_of) - due.
    """
    rate = _yearly_rate(yearly_rate)
    detail = _invoice_days_late(invoices, as_of)
    weighted = detail.assign(
        cent_days=detail["amount_cents"] * detail["days_late"],
        late=(detail["days_late"] > 0).astype(np.int64),
    )
    per_customer = weighted.groupby("customer_id", sort=True).agg(
        cent_days=("cent_days", "sum"),
        amount_cents=("amount_cents", "sum"),
        invoices_late=("late", "sum"),
    )
    cent_days = per_customer["cent_days"].to_numpy(dtype=np.int64).astype(object)
    cost = _round_half_up(cent_days * rate.numerator, rate.denominator * 365)
    amounts = per_customer["amount_cents"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        days_weighted = np.where(
            amounts != 0,
            per_customer["cent_days"].to_numpy(dtype=float) / amounts,
            np.nan,
        )
    return pd.DataFrame(
        {
            "customer_id": per_customer.index.to_numpy(dtype=np.int64),
            "financing_cost_cents": np.asarray(cost, dtype=np.int64),
            "invoices_late": per_customer["invoices_late"].to_numpy(dtype=np.int64),
            "days_late_weighted": days_weighted,
        }
    )


def _yearly_rate(yearly_rate: Decimal | float) -> Fraction:
    rate = _fraction(yearly_rate)
    if rate < 0:
        raise ValueError("The yearly interest rate cannot be negative.")
    if rate > 1:
        raise ValueError(f"The yearly interest rate is a fraction (0.06 for 6 %), not {yearly_rate}.")
    return rate


def _invoice_days_late(invoices: pd.DataFrame, as_of: datetime.date) -> pd.DataFrame:
    missing = [c for c in ("customer_id", "invoice_id", "amount_cents", "due", "paid") if c not in invoices.columns]
    if missing:
        raise ValueError(f"The invoices lack the column(s) {', '.join(missing)}.")
    due = pd.to_datetime(invoices["due"]).dt.normalize()
    end = pd.to_datetime(invoices["paid"]).dt.normalize().fillna(pd.Timestamp(as_of))
    days_late = (end - due).dt.days.clip(lower=0).to_numpy(dtype=np.int64)
    return pd.DataFrame(
        {
            "customer_id": invoices["customer_id"].to_numpy(dtype=np.int64),
            "invoice_id": invoices["invoice_id"].to_numpy(),
            "amount_cents": invoices["amount_cents"].to_numpy(dtype=np.int64),
            "days_late": days_late,
        }
    )
