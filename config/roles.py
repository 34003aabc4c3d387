"""Roles and the checks every page and endpoint use: one place for who may do what.

Roles are Django groups: ``rep``, ``manager`` and ``finance``. Superusers count as every role.
Row-level scoping (which customers a rep or manager sees) lives in
``salesforce_tasks.selectors.customer_scope``.
"""

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework.permissions import BasePermission

REP = "rep"
MANAGER = "manager"
FINANCE = "finance"
ROLES = (REP, MANAGER, FINANCE)
#: How a role is named on the pages (the group names stay the codes above).
ROLE_LABELS = {REP: gettext_lazy("rep"), MANAGER: gettext_lazy("manager"), FINANCE: gettext_lazy("finance")}


def user_roles(user: AbstractBaseUser | AnonymousUser) -> set[str]:
    if not user.is_authenticated:
        return set()
    if user.is_superuser:
        return set(ROLES)
    cached = getattr(user, "_klantwaarde_roles", None)
    if cached is None:
        cached = set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
        user._klantwaarde_roles = cached
    return cached


def has_role(user, *roles: str) -> bool:
    return bool(user_roles(user) & set(roles))


def require_role(user, *roles: str) -> None:
    if not has_role(user, *roles):
        names = ", ".join(str(ROLE_LABELS.get(role, role)) for role in roles)
        raise PermissionDenied(_("This page is for the role(s): %(roles)s.") % {"roles": names})


class RolePermission(BasePermission):
    """DRF permission: read for ``read_roles``, write for ``write_roles``."""

    read_roles: Iterable[str] = ROLES
    write_roles: Iterable[str] = ()

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        read = getattr(view, "read_roles", self.read_roles)
        write = getattr(view, "write_roles", self.write_roles)
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return has_role(request.user, *read)
        return has_role(request.user, *write)
