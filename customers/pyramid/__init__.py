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

Modules: scheme (levels, ``PyramidScheme``, rank cut-offs), facts, levels (``assign_levels``),
movement (``migration_matrix``, ``retention``), pareto (``concentration`` and the curves),
summary (``level_summary``); frames holds the input checks they share.
"""

from .facts import customer_period_facts
from .levels import assign_levels
from .movement import migration_matrix, retention
from .pareto import concentration, pareto_curve, whale_curve
from .scheme import (
    ALL_LEVELS,
    LEVELS_ACTIVE,
    MIGRATION_FROM,
    SCHEME_KINDS,
    STATUSES,
    PyramidScheme,
    ceil_share,
    rank_cutoffs,
)
from .summary import level_summary

__all__ = [
    "ALL_LEVELS",
    "LEVELS_ACTIVE",
    "MIGRATION_FROM",
    "SCHEME_KINDS",
    "STATUSES",
    "PyramidScheme",
    "assign_levels",
    "ceil_share",
    "concentration",
    "customer_period_facts",
    "level_summary",
    "migration_matrix",
    "pareto_curve",
    "rank_cutoffs",
    "retention",
    "whale_curve",
]
