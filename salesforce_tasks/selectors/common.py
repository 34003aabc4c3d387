"""What the sales-force reads share: the active levels and their ranks, the customer search of the
pickers and the periods (the default one, one asked for by name, the previous one, their names).
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Q

from customers.models import Customer, Period
from customers.policy import (  # who sees what: one place
    customer_scope,
)

ACTIVE_LEVELS: tuple[str, ...] = ("top", "big", "medium", "small")
LEVEL_RANK: dict[str, int] = {"top": 1, "big": 2, "medium": 3, "small": 4}
OTHER_LEVEL_RANK = 9
CENT = Decimal("0.01")

# --- who sees what ----------------------------------------------------------------------------


def customer_search(*, user, query: str, limit: int = 10) -> list[Customer]:
    """Up to ``limit`` customers in the user's scope whose name, id or city matches ``query``."""
    query = (query or "").strip()
    if not query:
        return []
    q = Q(name__icontains=query) | Q(external_id__istartswith=query) | Q(city__istartswith=query)
    return list(customer_scope(user).filter(q).order_by("name", "id")[:limit])


# --- periods ----------------------------------------------------------------------------------


def default_period() -> Period | None:
    """The period pages open on (``customers.selectors.period_default``: the latest with orders)."""
    from customers.selectors import period_default

    return period_default()


def period_resolve(*, name: str | int | None = None) -> Period | None:
    """The named period (None when unknown), or :func:`default_period` when no name is given."""
    from customers.selectors import period_get

    if name in (None, ""):
        return default_period()
    return period_get(name=name)


def period_previous(period: Period) -> Period | None:
    from customers.selectors import period_previous as previous

    return previous(period)


def period_names() -> list[int]:
    return list(Period.objects.order_by("-name").values_list("name", flat=True))
