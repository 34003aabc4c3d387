"""Every write of the sales-force app, one module per area: portfolios, visits (and visit norms),
targets (customer and team targets, the roll into the coming year) and bonus KPIs.

Each function takes keyword-only arguments and ``acting_user``, checks who may do it, validates
with messages a person can act on (``ValidationError``/``PermissionDenied``), writes in one
transaction and publishes its event in that transaction (sent on commit). What views, the API,
imports (``config.intake`` names ``salesforce_tasks.services.visits_import``), the demo and tests
call is re-exported here; the modules import each other directly.
"""

from django.core.exceptions import ValidationError  # what the services raise (services.ValidationError)

from .bonus import bonus_kpi_delete, bonus_kpi_save
from .portfolios import customer_reassign, portfolio_assign
from .targets import (
    customer_target_approve,
    customer_target_delete,
    customer_target_reject,
    customer_target_restore,
    customer_target_set,
    customer_targets_roll,
    team_target_delete,
    team_target_restore,
    team_target_set,
)
from .visits import (
    MAX_VISIT_MINUTES,
    visit_delete,
    visit_facts_rebuild,
    visit_log,
    visit_norms_update,
    visit_update,
    visits_import,
)

__all__ = [
    "ValidationError",
    "MAX_VISIT_MINUTES",
    "bonus_kpi_delete",
    "bonus_kpi_save",
    "customer_reassign",
    "customer_target_approve",
    "customer_target_delete",
    "customer_target_reject",
    "customer_target_restore",
    "customer_target_set",
    "customer_targets_roll",
    "portfolio_assign",
    "team_target_delete",
    "team_target_restore",
    "team_target_set",
    "visit_delete",
    "visit_facts_rebuild",
    "visit_log",
    "visit_norms_update",
    "visit_update",
    "visits_import",
]
