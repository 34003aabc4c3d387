"""The levels and the pyramid scheme: shares or thresholds, and the rank cut-offs they give."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

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
