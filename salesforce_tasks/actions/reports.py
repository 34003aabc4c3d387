"""The "actions" report kind: every action of a period with its what-if and realised effect.

``manage.py report actions --period P --format json|csv`` (the whole company, as finance sees it).
Money in euros.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext

from config.reports import ReportKind, register
from customers.models import Period

from . import selectors
from .models import Action


class ReportError(ValueError):
    """The report cannot be built for this request; the message says why."""


def _plain(value):
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _sum(rows: list[dict], key: str, states: tuple[str, ...]) -> float | None:
    values = [r[key] for r in rows if r["state"] in states and r[key] is not None]
    return float(sum(values)) if values else None


def actions_report(*, period=None, scope_ids=None) -> dict:
    """Every action of a period; ``scope_ids`` (``customers.policy.report_options``) limits the customers."""
    found = selectors.action_period(name=period)
    if found is None:
        known = ", ".join(str(n) for n in Period.objects.order_by("name").values_list("name", flat=True))
        known = known or gettext("none yet: import orders first")
        raise ReportError(
            gettext("Unknown period '%(name)s'. Known periods: %(known)s.") % {"name": period, "known": known}
        )
    rows = selectors.action_rows(selectors.actions_of(period=found, customer_ids=scope_ids))
    keys = [key for key, _ in selectors.ACTION_COLUMNS]
    return {
        "period": found.name,
        "counts": {state: sum(r["state"] == state for r in rows) for state in Action.State.values},
        "whatif_company_profit_change_open": _sum(
            rows, "whatif_company_profit_change", (Action.State.PROPOSED, Action.State.AGREED)
        ),
        "whatif_company_profit_change_done": _sum(rows, "whatif_company_profit_change", (Action.State.DONE,)),
        "realised_effect_done": _sum(rows, "realised_effect", (Action.State.DONE,)),
        "actions": [{key: _plain(row[key]) for key in keys} for row in rows],
    }


def _rows(data: dict) -> list[dict]:
    return data["actions"]


register(ReportKind("actions", actions_report, _rows))
