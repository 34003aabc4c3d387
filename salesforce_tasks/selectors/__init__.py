"""Reads of the sales-force app, one module per area: common (levels, customer search, periods),
visits, results (customer results, the credit split, the roll-up), bonus, targets, home (the rep's
start page) and effectiveness. Who sees which customers is decided in ``customers.policy``.

Every function issues a bounded number of queries, whatever the number of customers. Money in
frames is integer cents; the credit split and the bonus arithmetic live in the pure modules
``portfolio`` and ``bonus``. What the views, the API, the reports and the forms read is re-exported
here (``selectors.rep_results(...)``); the modules import each other directly.
"""

from .bonus import COMPARE_DEFAULTS, bonus_compare, bonus_overview, kpi_weight_total, kpis_of, subject_bonus
from .common import ACTIVE_LEVELS, customer_search, default_period, period_names, period_resolve
from .effectiveness import visit_effectiveness
from .home import month_labels, monthly_revenue, monthly_target_cents, portfolio_rows, visit_plan_rows
from .results import customer_results, pair_customers, pair_weights, pairs_frame, period_portfolio, rep_results
from .targets import customer_target_get, customer_target_rows, team_target_actuals, team_target_rows
from .visits import visit_list, visit_norm_rows, visit_norms

__all__ = [
    "ACTIVE_LEVELS",
    "COMPARE_DEFAULTS",
    "bonus_compare",
    "bonus_overview",
    "customer_results",
    "customer_search",
    "customer_target_get",
    "customer_target_rows",
    "default_period",
    "kpi_weight_total",
    "kpis_of",
    "month_labels",
    "monthly_revenue",
    "monthly_target_cents",
    "pair_customers",
    "pair_weights",
    "pairs_frame",
    "period_names",
    "period_portfolio",
    "period_resolve",
    "portfolio_rows",
    "rep_results",
    "subject_bonus",
    "team_target_actuals",
    "team_target_rows",
    "visit_effectiveness",
    "visit_list",
    "visit_norm_rows",
    "visit_norms",
    "visit_plan_rows",
]
