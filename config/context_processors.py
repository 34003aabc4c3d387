"""The menu: each role sees only what it may use."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from config.roles import FINANCE, MANAGER, REP, ROLE_LABELS, ROLES, user_roles

# (url name, label, roles that see it)
MENU = [
    ("home", _("Home"), (REP, MANAGER, FINANCE)),
    ("customers:pyramid", _("Pyramid"), (MANAGER, FINANCE)),
    ("customers:migration", _("Migration"), (MANAGER, FINANCE)),
    ("customers:retention", _("Retention"), (MANAGER, FINANCE)),
    ("accounting:concentration", _("80/20"), (MANAGER, FINANCE)),
    ("customers:list", _("Customers"), (REP, MANAGER, FINANCE)),
    ("accounting:pools", _("Cost pools"), (FINANCE, MANAGER)),
    ("accounting:profit", _("Profit"), (MANAGER, FINANCE)),
    ("scenarios:segments", _("Segments"), (MANAGER, FINANCE)),
    ("scenarios:scenarios", _("Scenarios"), (MANAGER, FINANCE)),
    ("salesforce:visit_new", _("Log visit"), (REP,)),
    ("scenarios:survey_new", _("Survey"), (REP,)),
    ("salesforce:reps", _("Reps"), (MANAGER, FINANCE)),
    ("actions:board", _("Actions"), (REP, MANAGER)),
    ("customers:import", _("Import"), (MANAGER, FINANCE)),
    ("salesforce:organisation:waiting", _("Waiting for me"), (MANAGER,)),
    ("salesforce:organisation:teams", _("Organisation"), (MANAGER,)),
    ("salesforce:organisation:periods", _("Periods"), (FINANCE,)),
    ("salesforce:organisation:history", _("History"), (MANAGER, FINANCE)),
]
#: Menu items that carry a count badge: url name -> function(user) -> int (the count of open work).
BADGES = {"salesforce:organisation:waiting": "salesforce_tasks.organisation.selectors.waiting_total"}


def navigation(request) -> dict:
    roles = user_roles(request.user) if hasattr(request, "user") else set()
    items = []
    for name, label, allowed in MENU:
        if roles & set(allowed):
            try:
                items.append({"url": reverse(name), "label": label, "name": name, "badge": _badge(name, request)})
            except Exception:  # noqa: BLE001 - a page of a later issue not there yet
                continue
    role_labels = [ROLE_LABELS[role] for role in ROLES if role in roles]
    return {"menu": items, "roles": roles, "role_labels": role_labels}


def _badge(name: str, request) -> int | None:
    path = BADGES.get(name)
    if path is None:
        return None
    from django.utils.module_loading import import_string

    return import_string(path)(request.user)
