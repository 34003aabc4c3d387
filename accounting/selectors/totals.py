"""The period totals: one source for every page, API and report, computed in the core
(``customers.profit.period_totals``) from what the profit stage stored there."""

from customers.profit import period_totals

__all__ = ["period_totals"]
