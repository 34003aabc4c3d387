"""Who may read and who may change what: the one place (``../shared/STYLE.md``, "Layers and who may do what").

Every page, htmx partial, API endpoint, export, report, import and task asks this module; none of
them filters on its own. Reads are scoped querysets (``customer_scope(user)``, ``order_scope(user)``,
...); writes are lookups ``<thing>_for_update(user, key)`` that raise ``Http404`` when the object is
outside the writer's scope, whether or not it exists (Zulip's ``access_*_by_id`` style), so a
wrong user cannot tell a foreign object from a missing one.

Roles are Django groups (``config.roles``); a user may hold several and gets the union. Superusers
count as every role.

==============  =====================================  ==========================================
role            reads                                  writes
==============  =====================================  ==========================================
rep             own pair's customers and their         visits; target proposals (never an
                orders, invoices, visits, targets,     approved target's values, never deletes
                KPIs, actions; own and pair-combined   an approved target); action proposals;
                bonus (never the partner's own)        surveys. Never orders, invoices, imports.
manager         the teams they manage: customers,      orders, invoices, customers (owner),
                reps, pairs, bonus, actions, reports   visits, surveys: only their teams'
                (customer rows scoped; company         customers (API and imports); targets,
                aggregates such as the pyramid whole)  KPIs, approvals, reassignments in their
                                                       teams; scenarios
finance         everything                             cost pools, interest, imports of every
                                                       kind (all customers), orders, invoices
integration     orders and invoices (the ERP feed)     orders, invoices, customers: all
                                                       customers, API and imports; no pages
no role         nothing: every page answers with a     nothing
                page that says so, the API with 403
==============  =====================================  ==========================================

The core imports no app above it: the sales force, accounting and scenarios scope their own rows by
passing their querysets to the primitives here (``scoped_rows``, ``row_in_scope``, ``row_for_update``,
``team_rows``, ``managed_team_row``, ``bonus_rows``, ``decision_rows``); the sales force's bindings
are ``salesforce_tasks/scopes.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from config.roles import FINANCE, INTEGRATION, MANAGER, REP, user_roles

from .models import Customer, Order, RepPair, SalesRep, Team

# --- the organisation -------------------------------------------------------------------------


def sees_everything(user) -> bool:
    """Finance and superusers read every customer and figure."""
    return bool(user.is_authenticated) and (user.is_superuser or FINANCE in user_roles(user))


def writes_everything(user) -> bool:
    """Finance, the integration role and superusers write ERP data (orders, invoices, customers) for all."""
    return bool(user.is_authenticated) and (user.is_superuser or bool({FINANCE, INTEGRATION} & user_roles(user)))


def has_any_role(user) -> bool:
    """A signed-in user with at least one role (the no-role user sees only a page that says so)."""
    return bool(user.is_authenticated) and (user.is_superuser or bool(user_roles(user)))


def rep_for_user(user):
    """The user's own SalesRep row (None for a user who is not a rep)."""
    if not user.is_authenticated:
        return None
    return SalesRep.objects.filter(user=user).select_related("team").first()


def pairs_for_user(user) -> QuerySet:
    """Pairs whose figures the user sees: finance all, a manager their teams', a rep their own pair."""
    roles = user_roles(user)
    if sees_everything(user):
        return RepPair.objects.all()
    q = Q(pk__in=[])
    if MANAGER in roles:
        q |= Q(team__manager=user)
    if REP in roles:
        q |= Q(outside_rep__user=user) | Q(inside_rep__user=user)
    return RepPair.objects.filter(q)


def teams_for_user(user) -> QuerySet:
    if sees_everything(user):
        return Team.objects.all()
    if not user_roles(user) & {REP, MANAGER}:
        return Team.objects.none()
    return Team.objects.filter(Q(manager=user) | Q(reps__user=user)).distinct()


def managed_teams(user) -> QuerySet:
    """Teams whose targets and bonus KPIs the user may set: a manager's own teams (all for superusers)."""
    if user.is_authenticated and user.is_superuser:
        return Team.objects.all()
    if MANAGER not in user_roles(user):
        return Team.objects.none()
    return Team.objects.filter(manager=user)


def reps_for_user(user) -> QuerySet:
    """Reps whose figures the user sees: finance all, a manager their teams', a rep their pair's."""
    roles = user_roles(user)
    if sees_everything(user):
        return SalesRep.objects.all()
    pairs = pairs_for_user(user)
    q = Q(outside_pairs__in=pairs) | Q(inside_pairs__in=pairs)
    if MANAGER in roles:
        q |= Q(team__manager=user)
    return SalesRep.objects.filter(q).distinct()


def bonus_reps_for_user(user) -> QuerySet:
    """Reps whose INDIVIDUAL bonus figures the user sees.

    Finance all, a manager their teams' reps, a rep only themselves: a rep sees their own and their
    pair's combined figures, never the partner's individual bonus.
    """
    roles = user_roles(user)
    if sees_everything(user):
        return SalesRep.objects.all()
    q = Q(pk__in=[])
    if MANAGER in roles:
        q |= Q(team__manager=user)
    if REP in roles:
        q |= Q(user=user)
    return SalesRep.objects.filter(q).distinct()


# --- customers --------------------------------------------------------------------------------


def customer_scope(user) -> QuerySet[Customer]:
    """The customers a user may see: finance all; a manager their teams'; a rep their pair's."""
    if not user.is_authenticated:
        return Customer.objects.none()
    if sees_everything(user):
        return Customer.objects.all()
    if not user_roles(user) & {REP, MANAGER}:
        return Customer.objects.none()
    return Customer.objects.filter(pair__in=pairs_for_user(user))


def customer_scope_ids(user) -> QuerySet | None:
    """None when the user sees every customer (no filter needed), else a subquery of ids."""
    if sees_everything(user):
        return None
    return customer_scope(user).values("id")


def customer_write_scope(user) -> QuerySet[Customer]:
    """Customers whose ERP data (the customer row and its owner, orders, invoices) the user may change.

    Finance, integration and superusers: all; a manager: the customers of the teams they manage;
    a rep: none (orders and invoices come from the ERP).
    """
    if writes_everything(user):
        return Customer.objects.all()
    if MANAGER in user_roles(user):
        return Customer.objects.filter(pair__team__in=managed_teams(user))
    return Customer.objects.none()


def customer_for_update(user, key: int | str, *, by: str = "pk") -> Customer:
    """A customer the user may change ERP data of (``by="external_id"`` for the external key); else 404."""
    found = customer_write_scope(user).filter(**{by: key}).first()
    if found is None:
        raise Http404(_("No such customer in your scope."))
    return found


def scoped_rows(user, queryset: QuerySet, *, field: str = "customer") -> QuerySet:
    """``queryset`` (any model linked to a customer by ``field``) limited to the user's read scope.

    The apps above the core (invoices, surveys, customer values, ...) scope through this.
    """
    scope = customer_scope_ids(user)
    return queryset if scope is None else queryset.filter(**{f"{field}_id__in": scope})


def row_for_update(user, queryset: QuerySet, *, field: str = "customer", **lookup):
    """The one row of ``queryset`` matching ``lookup`` whose customer the user may change; else 404."""
    if not writes_everything(user):
        queryset = queryset.filter(**{f"{field}__in": customer_write_scope(user)})
    found = queryset.filter(**lookup).first()
    if found is None:
        raise Http404(_("Not found in your scope."))
    return found


def row_for_upsert(user, queryset: QuerySet, *, field: str = "customer", **lookup):
    """For an upsert by an external key: None when no such row exists (create it), the row when it is
    in the writer's scope, 404 when it exists outside it (same answer as a missing row on GET)."""
    found = queryset.filter(**lookup).first()
    if found is None:
        return None
    if writes_everything(user) or customer_write_scope(user).filter(pk=getattr(found, f"{field}_id")).exists():
        return found
    raise Http404(_("Not found in your scope."))


# --- orders (and invoices: same rule, through scoped_rows / row_for_update) -------------------


def order_scope(user) -> QuerySet[Order]:
    """Orders of the customers in the user's read scope; the integration role reads every order."""
    if writes_everything(user):
        return Order.objects.all()
    return scoped_rows(user, Order.objects.all())


def order_for_update(user, order_id: str) -> Order:
    """An existing order (by its external id) the user may change or delete; else 404."""
    return row_for_update(user, Order.objects.select_related("customer", "period"), external_id=order_id)


def order_for_upsert(user, order_id: str) -> Order | None:
    """None for a new order id; the order when the writer may change it; 404 when it is someone else's."""
    return row_for_upsert(user, Order.objects.select_related("customer"), external_id=order_id)


def may_write_erp(user) -> bool:
    """May the user write orders and invoices at all (API, imports)? Never a rep."""
    return writes_everything(user) or MANAGER in user_roles(user)


# --- rows of the apps above the core, by their owner (the apps pass their querysets in) -------
#
# The rules live here; the apps above the core (the sales force's visits, targets, team targets,
# KPIs and actions; accounting's invoices; scenarios' surveys) pass their own querysets, so the core
# never imports them. ``scoped_rows`` and ``row_for_update`` above cover rows linked to a customer.


def row_in_scope(user, queryset: QuerySet, *, field: str = "customer", **lookup):
    """The one row of ``queryset`` matching ``lookup`` whose customer the user may READ; else 404.

    For rows the owning app's service then decides on (a visit, a customer target, an action).
    """
    found = scoped_rows(user, queryset, field=field).filter(**lookup).first()
    if found is None:
        raise Http404(_("Not found in your scope."))
    return found


def team_rows(user, queryset: QuerySet, *, field: str = "team") -> QuerySet:
    """Rows of ``queryset`` belonging to a team (by ``field``) the user sees (``teams_for_user``)."""
    return queryset.filter(**{f"{field}__in": teams_for_user(user)})


def managed_team_row(user, queryset: QuerySet, *, fields: Iterable[str] = ("team",), **lookup):
    """The one row matching ``lookup`` that belongs, by any of ``fields`` (``"team"``, ``"pair__team"``,
    ...), to a team the user manages (``managed_teams``); else 404."""
    teams = managed_teams(user)
    q = Q(pk__in=[])
    for field in fields:
        q |= Q(**{f"{field}__in": teams})
    found = queryset.filter(q, **lookup).first()
    if found is None:
        raise Http404(_("Not found in your scope."))
    return found


def bonus_rows(user, queryset: QuerySet, *, pair_field: str = "pair", rep_field: str = "rep") -> QuerySet:
    """Rows of a pair's or a rep's bonus figures the user sees: the pairs of ``pairs_for_user`` and the
    reps of ``bonus_reps_for_user`` (a rep: their pair's and their own, never the partner's)."""
    return queryset.filter(
        Q(**{f"{pair_field}__in": pairs_for_user(user)}) | Q(**{f"{rep_field}__in": bonus_reps_for_user(user)})
    )


def decision_rows(user, queryset: QuerySet, *, field: str = "customer") -> QuerySet:
    """Rows (proposals) the user decides on: those of the customers of the teams the user manages;
    nobody else decides. The owning app narrows them to what is proposed (``decision_scope``)."""
    if not (user.is_authenticated and (user.is_superuser or MANAGER in user_roles(user))):
        return queryset.none()
    customers = Customer.objects.filter(pair__team__in=managed_teams(user)).values("id")
    return queryset.filter(**{f"{field}_id__in": customers})


# --- reports, exports, imports ----------------------------------------------------------------


@dataclass(frozen=True)
class ReportRule:
    """Who reads a report kind, and how its rows are scoped for them.

    ``scope``: ``"company"`` (aggregates the pages show whole to these roles), ``"customers"``
    (rows per customer: the builder gets ``scope_ids``), ``"user"`` (per rep/pair/team: the builder
    gets ``user``).
    """

    roles: tuple[str, ...]
    scope: str


REPORT_RULES: dict[str, ReportRule] = {
    "pyramid": ReportRule((MANAGER, FINANCE), "company"),
    "migration": ReportRule((MANAGER, FINANCE), "company"),
    "retention": ReportRule((MANAGER, FINANCE), "company"),
    "concentration": ReportRule((MANAGER, FINANCE), "company"),
    "pools": ReportRule((MANAGER, FINANCE), "company"),
    "scenario": ReportRule((MANAGER, FINANCE), "company"),
    "profit": ReportRule((MANAGER, FINANCE), "customers"),
    "segments": ReportRule((MANAGER, FINANCE), "customers"),
    "actions": ReportRule((MANAGER, FINANCE), "customers"),
    "rep_results": ReportRule((MANAGER, FINANCE), "user"),
    "bonus": ReportRule((MANAGER, FINANCE), "user"),
}


def report_options(user, kind: str) -> dict:
    """The scoping keyword arguments for building report ``kind`` for ``user``.

    Raises ``Http404`` for a kind without a rule (a new report kind is closed until it has one) and
    ``PermissionDenied`` for a role that may not read it.
    """
    from django.core.exceptions import PermissionDenied

    rule = REPORT_RULES.get(kind)
    if rule is None:
        raise Http404(_("Unknown report '%(kind)s'.") % {"kind": kind})
    if not (user.is_authenticated and (user.is_superuser or user_roles(user) & set(rule.roles))):
        raise PermissionDenied(_("This report is for managers and finance."))
    if rule.scope == "customers":
        return {"scope_ids": customer_scope_ids(user)}
    if rule.scope == "user":
        return {"user": user}
    return {}


#: Which roles may run each import kind. A manager's rows are checked against the teams they manage.
IMPORT_RULES: dict[str, tuple[str, ...]] = {
    "customers": (FINANCE, INTEGRATION, MANAGER),
    "orders": (FINANCE, INTEGRATION, MANAGER),
    "invoices": (FINANCE, INTEGRATION, MANAGER),
    "costs": (FINANCE,),
    "visits": (FINANCE, MANAGER),
    "surveys": (FINANCE, MANAGER),
    "organisation": (MANAGER,),
}
IMPORT_ROLES: tuple[str, ...] = (FINANCE, INTEGRATION, MANAGER)


def import_kinds_for(user) -> list[str]:
    """The import kinds the user may run (the Import page lists these)."""
    if not user.is_authenticated:
        return []
    roles = user_roles(user)
    return [kind for kind, allowed in IMPORT_RULES.items() if user.is_superuser or roles & set(allowed)]


def may_import(user, kind: str) -> bool:
    return kind in import_kinds_for(user)


@dataclass(frozen=True)
class ImportScope:
    """What one import may touch: ``customer_ids``/``pair_codes`` None means everything."""

    customer_ids: frozenset[int] | None
    pair_codes: frozenset[str] | None

    @property
    def everything(self) -> bool:
        return self.customer_ids is None

    def customers(self) -> dict[str, int]:
        """external_id -> id of the customers the import may write for (an outside one reads as unknown)."""
        qs = Customer.objects.all() if self.customer_ids is None else Customer.objects.filter(pk__in=self.customer_ids)
        return dict(qs.values_list("external_id", "id"))

    def foreign_keys(self, queryset: QuerySet, keys: Iterable[str], *, key: str = "external_id") -> set[str]:
        """The ``keys`` naming existing rows of ``queryset`` whose customer lies outside the scope
        (an order or invoice id of another team's customer cannot be taken over by an import)."""
        if self.customer_ids is None:
            return set()
        keys = list(set(keys))
        found: set[str] = set()
        for start in range(0, len(keys), 5000):
            found.update(
                queryset.filter(**{f"{key}__in": keys[start : start + 5000]})
                .exclude(customer_id__in=self.customer_ids)
                .values_list(key, flat=True)
            )
        return found


EVERYTHING = ImportScope(None, None)


def import_scope(acting_user, kind: str) -> ImportScope:
    """The customers (by id) and owning pairs (by code) an import of ``kind`` by ``acting_user`` may touch.

    ``acting_user`` None is the command line (the operator of the server): everything. A user whose
    role may not run ``kind`` gets ``PermissionDenied``. Finance, integration and superusers:
    everything. A manager: the customers and pairs of the teams they manage; a row outside it is a
    row error and nothing of the file is written.
    """
    from django.core.exceptions import PermissionDenied

    if acting_user is None:
        return EVERYTHING
    if not may_import(acting_user, kind):
        raise PermissionDenied(_("Your role may not import %(kind)s.") % {"kind": kind})
    if writes_everything(acting_user):
        return EVERYTHING
    teams = managed_teams(acting_user)
    ids = frozenset(Customer.objects.filter(pair__team__in=teams).values_list("id", flat=True))
    codes = frozenset(RepPair.objects.filter(team__in=teams).values_list("code", flat=True))
    return ImportScope(ids, codes)


# --- the organisation itself: teams, reps, pairs, users; periods; approvals; history -----------


def may_manage_organisation(user) -> bool:
    """Managers set up their teams (reps, pairs, invitations); superusers everything."""
    return bool(user.is_authenticated) and (user.is_superuser or MANAGER in user_roles(user))


def may_manage_users(user) -> bool:
    """Granting the manager or finance role, or changing another user's roles: administrators only."""
    return bool(user.is_authenticated) and user.is_superuser


def may_manage_periods(user) -> bool:
    """Opening, closing and reopening periods: finance (and superusers)."""
    return bool(user.is_authenticated) and (user.is_superuser or FINANCE in user_roles(user))


def organisation_teams(user) -> QuerySet:
    """Teams the user may change (reps, pairs, invitations, handovers): a manager's own, all for superusers."""
    return managed_teams(user)


def team_for_update(user, pk: int):
    found = organisation_teams(user).filter(pk=pk).first()
    if found is None:
        raise Http404(_("No such team in your scope."))
    return found


def rep_for_update(user, pk: int):
    found = SalesRep.objects.filter(team__in=organisation_teams(user), pk=pk).select_related("team").first()
    if found is None:
        raise Http404(_("No such rep in your scope."))
    return found


def pair_for_update(user, pk: int):
    found = RepPair.objects.filter(team__in=organisation_teams(user), pk=pk).select_related("team").first()
    if found is None:
        raise Http404(_("No such pair in your scope."))
    return found


def user_scope(user) -> QuerySet:
    """Users whose account and roles the user sees: superusers all; a manager the reps of their teams."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.all()
    if not user.is_authenticated:
        return users.none()
    if user.is_superuser:
        return users
    if MANAGER in user_roles(user):
        return users.filter(Q(sales_rep__team__in=managed_teams(user)) | Q(pk=user.pk)).distinct()
    return users.none()


def may_read_history_log(user) -> bool:
    """The change log across records: managers (their teams' records) and finance (all)."""
    return bool(user.is_authenticated) and (user.is_superuser or bool({MANAGER, FINANCE} & user_roles(user)))


#: Who reads the history of each kind of record (the history log and a record's history page),
#: following the Roles table: a manager reads the history of the records of their teams (customers
#: and owners, teams, reps, pairs, portfolios, visits, targets, KPIs, actions, their reps' logins and
#: roles), the rows scoped like the records themselves; cost pools and periods are finance's.
#: A kind not listed here: managers and finance.
HISTORY_RULES: dict[str, tuple[str, ...]] = {
    "cost_pool": (FINANCE,),
    "period": (FINANCE,),
    "user": (MANAGER,),  # accounts and roles: a manager their teams' reps (``user_scope``); superusers all
}


def may_read_history(user, kind: str) -> bool:
    """May ``user`` read the history of records of ``kind`` (rows then scoped per record)?"""
    if not may_read_history_log(user):
        return False
    return user.is_superuser or bool(user_roles(user) & set(HISTORY_RULES.get(kind, (MANAGER, FINANCE))))


def grantable_roles(user) -> tuple[str, ...]:
    """The roles ``user`` may give or take away: administrators every role; a manager only ``rep``
    (never manager or finance); nobody else any."""
    if not user.is_authenticated:
        return ()
    if may_manage_users(user):
        return (REP, MANAGER, FINANCE)
    if MANAGER in user_roles(user):
        return (REP,)
    return ()


def role_change_scope(user) -> QuerySet:
    """Users whose roles ``user`` may change: administrators everyone; a manager the reps of the teams
    they manage, never themselves."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.all()
    if not user.is_authenticated:
        return users.none()
    if may_manage_users(user):
        return users
    if MANAGER in user_roles(user):
        return users.filter(sales_rep__team__in=managed_teams(user)).exclude(pk=user.pk).distinct()
    return users.none()


def user_for_role_change(user, pk: int):
    """A user whose roles ``user`` may change (``role_change_scope``); else 404."""
    found = role_change_scope(user).filter(pk=pk).first()
    if found is None:
        raise Http404(_("No such user in your scope."))
    return found
