"""Role primitives: the role names, ``has_role`` and the DRF ``RolePermission``.

Roles are Django groups: ``rep``, ``manager``, ``finance`` (the people) and ``integration`` (the
ERP feed's API token user: writes orders, invoices and customers, sees no pages). Superusers count
as every role. Who may read or change WHICH objects (scoped querysets, ``*_for_update`` lookups,
reports, imports, exports) is decided in one place: ``customers.policy``.
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
INTEGRATION = "integration"
#: The people's roles (pages); ``INTEGRATION`` is a machine role on top of these.
ROLES = (REP, MANAGER, FINANCE)
ALL_ROLES = (*ROLES, INTEGRATION)
#: How a role is named on the pages (the group names stay the codes above).
ROLE_LABELS = {
    REP: gettext_lazy("rep"),
    MANAGER: gettext_lazy("manager"),
    FINANCE: gettext_lazy("finance"),
    INTEGRATION: gettext_lazy("integration"),
}


def user_roles(user: AbstractBaseUser | AnonymousUser) -> set[str]:
    if not user.is_authenticated:
        return set()
    if user.is_superuser:
        return set(ALL_ROLES)
    cached = getattr(user, "_klantwaarde_roles", None)
    if cached is None:
        cached = set(user.groups.filter(name__in=ALL_ROLES).values_list("name", flat=True))
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


class HasAnyRole(BasePermission):
    """DRF permission: signed in with at least one role (the default for every endpoint and the schema)."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and (user.is_superuser or user_roles(user)))


#: Paths a signed-in user without a role may still open: logging out, password pages, language.
NO_ROLE_OPEN_PREFIXES = ("/accounts/", "/i18n/", "/static/")


class NoRoleMiddleware:
    """A signed-in user with no role sees only the page that says so (403), on every page and API call.

    Place after ``AuthenticationMiddleware``. Token-authenticated API calls are refused by
    ``HasAnyRole``/``RolePermission`` (DRF authenticates them inside the view).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not user.is_superuser
            and not user_roles(user)
            and not request.path_info.startswith(NO_ROLE_OPEN_PREFIXES)
        ):
            return no_role_response(request)
        return self.get_response(request)


def no_role_response(request):
    from django.http import JsonResponse
    from django.shortcuts import render

    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": _("Your account has no role yet; ask an administrator.")}, status=403)
    return render(request, "no_role.html", status=403)
