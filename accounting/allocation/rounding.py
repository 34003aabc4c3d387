"""Exact shares of a pool in whole cents: integer arithmetic, largest remainders, reconciliation."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import numpy as np

from .frames import _INT64_LIMIT


def _linear_combination(terms: list[tuple[int, np.ndarray]]) -> np.ndarray:
    """Σ coefficient × values, exact: int64 when it cannot overflow, Python ints otherwise."""
    bound = sum(abs(c) * int(v.max(initial=0)) for c, v in terms)
    if bound < _INT64_LIMIT:
        return sum(
            (np.int64(c) * v for c, v in terms),
            np.zeros(len(terms[0][1]), dtype=np.int64),
        )
    return sum(
        (c * v.astype(object) for c, v in terms),
        np.zeros(len(terms[0][1]), dtype=object),
    )


def _shares(
    numerator: int,
    weights: np.ndarray,
    denominator: int,
    total: int,
    tie_rank: np.ndarray,
) -> np.ndarray:
    """Hand out ``total`` cents as the exact shares numerator × weight / denominator.

    Each share is floored; the cents left go one each to the largest remainders, ties by
    ``tie_rank`` (external_id order). ``total`` must lie between Σ floors and Σ floors plus
    the number of shares with a remainder.
    """
    floors, remainders = _exact_divmod(numerator, weights, denominator)
    leftover = total - int(floors.sum())
    candidates = np.flatnonzero(remainders)
    if not 0 <= leftover <= len(candidates):
        raise AssertionError(f"Cannot hand out {leftover} rounding cents over {len(candidates)} remainders.")
    if leftover:
        if remainders.dtype == object:
            ranked = sorted(candidates, key=lambda i: (-remainders[i], tie_rank[i]))
            chosen = np.array(ranked[:leftover], dtype=np.int64)
        else:
            chosen = _largest_remainders(remainders, candidates, tie_rank, leftover)
        floors[chosen] += 1
    return floors


def _largest_remainders(remainders: np.ndarray, candidates: np.ndarray, tie_rank: np.ndarray, count: int) -> np.ndarray:
    """The ``count`` candidates with the largest remainders, ties by the lowest tie_rank.

    A partition, not a sort: only the remainder at the cut and the ties on it are ordered.
    """
    if count >= len(candidates):
        return candidates
    values = remainders[candidates]
    cut = np.partition(values, len(values) - count)[len(values) - count]
    above = candidates[values > cut]
    tied = candidates[values == cut]
    needed = count - len(above)
    if needed < len(tied):
        tied = tied[np.argpartition(tie_rank[tied], needed - 1)[:needed]]
    return np.concatenate([above, tied])


def _exact_divmod(numerator: int, weights: np.ndarray, denominator: int) -> tuple[np.ndarray, np.ndarray]:
    """floor(numerator × w / denominator) and its remainder for every w >= 0, exactly.

    Three ways, fastest first: plain int64 when the products fit; when only the products
    overflow, a float estimate of the quotient corrected with the remainder computed in
    wrapping 64-bit arithmetic (exact, because the true remainder of the estimate is small);
    Python integers for what is left (huge denominators).
    """
    largest = int(weights.max(initial=0))
    if weights.dtype != object and max(numerator, numerator * largest, denominator) < _INT64_LIMIT:
        return np.divmod(weights * np.int64(numerator), np.int64(denominator))
    small_quotients = numerator * largest // max(denominator, 1) < 2**50
    if weights.dtype != object and numerator < 2**63 and denominator < 2**60 and small_quotients:
        # Quotients below 2**50 make the float estimate off by less than 1, so the true
        # remainder of the estimate lies in [-D, 2D) and the low 64 bits of N·w - q·D, read
        # as int64, are exactly it.
        quotient = np.floor(weights.astype(float) * (numerator / denominator)).astype(np.int64)
        with np.errstate(over="ignore"):
            wrapped = weights.astype(np.uint64) * np.uint64(numerator) - quotient.astype(np.uint64) * np.uint64(
                denominator
            )
        remainder = wrapped.view(np.int64)
        for _ in range(2):
            low, high = remainder < 0, remainder >= denominator
            quotient = quotient - low + high
            remainder = remainder + np.int64(denominator) * (low.astype(np.int64) - high)
        if ((remainder < 0) | (remainder >= denominator)).any():
            raise AssertionError("The quotient estimate was off by more than 2.")
        return quotient, remainder
    products = weights.astype(object) * numerator
    floors = (products // denominator).astype(np.int64)
    remainders = products % denominator
    if denominator < _INT64_LIMIT:
        remainders = remainders.astype(np.int64)
    return floors, remainders


def _check_pool_reconciles(summary: dict, allocated: np.ndarray) -> None:
    parts = (
        summary["allocated_cents"],
        summary["unused_cents"],
        summary["unallocated_cents"],
    )
    if sum(parts) != summary["amount_cents"] or min(parts) < 0 or (allocated < 0).any():
        raise AssertionError(
            f"Pool {summary['pool_id']} does not reconcile: {parts} against {summary['amount_cents']}."
        )


def _fraction(value) -> Fraction:
    """The exact decimal value of a number: 0.1 -> 1/10 (not the binary float)."""
    if isinstance(value, (int, Decimal, Fraction, np.integer)):
        return Fraction(value)
    return Fraction(repr(float(value)))


def _round_half_up(numerator, denominator: int):
    """numerator / denominator rounded to the nearest integer, halves away from zero.

    Works on Python ints and on numpy arrays of them (object dtype) alike.
    """
    magnitude = (2 * abs(numerator) + denominator) // (2 * denominator)
    if isinstance(numerator, np.ndarray):
        return np.where(numerator < 0, -magnitude, magnitude)
    return -magnitude if numerator < 0 else magnitude
