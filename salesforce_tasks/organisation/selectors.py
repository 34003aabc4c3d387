"""Reads of the organisation pages: "waiting for me" and the history of every business record.

Each history kind names its model (django-simple-history keeps one ``Historical*`` table per
model), a label, a cheap title field and how its rows are scoped for the reader (through
``customers.policy``). The log runs one query per kind; a record's page one query.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Q, QuerySet
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from config.roles import MANAGER, ROLE_LABELS, user_roles
from customers import policy

from .. import scopes
from ..models import RepPair, SalesRep

LOG_LIMIT = 200


def _by_customer(user, qs: QuerySet) -> QuerySet:
    scope = policy.customer_scope_ids(user)
    return qs if scope is None else qs.filter(customer_id__in=scope)


def _by_team(user, qs: QuerySet) -> QuerySet:
    if policy.sees_everything(user):
        return qs
    return qs.filter(team_id__in=policy.teams_for_user(user).values("id"))


def _by_self_team(user, qs: QuerySet) -> QuerySet:
    if policy.sees_everything(user):
        return qs
    return qs.filter(id__in=policy.teams_for_user(user).values("id"))


def _by_customer_self(user, qs: QuerySet) -> QuerySet:
    scope = policy.customer_scope_ids(user)
    return qs if scope is None else qs.filter(id__in=scope)


def _by_kpi(user, qs: QuerySet) -> QuerySet:
    if policy.sees_everything(user):
        return qs
    teams = policy.teams_for_user(user).values("id")
    return qs.filter(
        Q(pair_id__in=RepPair.objects.filter(team__in=teams).values("id"))
        | Q(rep_id__in=SalesRep.objects.filter(team__in=teams).values("id"))
    )


def _by_user(user, qs: QuerySet) -> QuerySet:
    return qs.filter(id__in=policy.user_scope(user).values("id"))


def _everything(user, qs: QuerySet) -> QuerySet:
    return qs


@dataclass(frozen=True)
class HistoryKind:
    code: str
    model: str  # app_label.ModelName
    label: str
    title_field: str
    scope: Callable[[object, QuerySet], QuerySet]

    @property
    def history(self):
        return apps.get_model(self.model).history


HISTORY_KINDS: dict[str, HistoryKind] = {
    k.code: k
    for k in (
        HistoryKind("customer", "customers.Customer", _("Customer and owner"), "name", _by_customer_self),
        HistoryKind("team", "customers.Team", _("Team"), "name", _by_self_team),
        HistoryKind("rep", "customers.SalesRep", _("Rep"), "name", _by_team),
        HistoryKind("pair", "customers.RepPair", _("Pair"), "code", _by_team),
        HistoryKind("assignment", "customers.PortfolioAssignment", _("Portfolio"), "start", _by_customer),
        HistoryKind("visit", "salesforce_tasks.Visit", _("Visit"), "date", _by_customer),
        HistoryKind("target", "salesforce_tasks.CustomerTarget", _("Customer target"), "customer_id", _by_customer),
        HistoryKind("team_target", "salesforce_tasks.TeamTarget", _("Team target"), "kind", _by_team),
        HistoryKind("kpi", "salesforce_tasks.BonusKpi", _("Bonus KPI"), "metric", _by_kpi),
        HistoryKind("action", "salesforce_tasks.Action", _("Action"), "type", _by_customer),
        HistoryKind("cost_pool", "accounting.CostPool", _("Cost pool"), "name", _everything),
        HistoryKind("period", "customers.Period", _("Period"), "name", _everything),
        HistoryKind("user", "auth.User", _("User and roles"), "username", _by_user),
    )
}
CHANGE_LABELS = {"+": _("created"), "~": _("changed"), "-": _("deleted")}
#: How the history page names fields whose model gives no translated verbose name.
FIELD_LABELS = {
    "customer": _("Customer"),
    "period": _("Period"),
    "pair": _("Pair"),
    "team": _("Team"),
    "rep": _("Rep"),
    "user": _("User"),
    "manager": _("Manager"),
    "outside_rep": _("Outside rep"),
    "inside_rep": _("Inside rep"),
    "proposed_by_pair": _("Proposed by the pair"),
    "proposed_by": _("Proposed by"),
    "decided_by": _("Decided by"),
    "proposed_at": _("Proposed at"),
    "agreed_at": _("Agreed at"),
    "done_at": _("Done at"),
    "dropped_at": _("Dropped at"),
    "whatif_customer_profit": _("What-if customer profit"),
    "whatif_company_profit_change": _("What-if company profit change"),
}


def history_kinds_for(user) -> list[tuple[str, str]]:
    return [(k.code, k.label) for k in HISTORY_KINDS.values() if _may_read_kind(user, k)]


def _may_read_kind(user, kind: HistoryKind) -> bool:
    return policy.may_read_history(user, kind.code)


def history_log(
    *,
    user,
    kind: str | None = None,
    username: str = "",
    since: dt.date | None = None,
    until: dt.date | None = None,
    limit: int = LOG_LIMIT,
) -> list[dict]:
    """The latest changes across business records in the reader's scope (managers and finance), newest first.

    Which kinds a reader sees is ``customers.policy.HISTORY_RULES`` (cost pools and periods: finance);
    the rows of a kind are scoped like the records themselves.
    """
    if not policy.may_read_history_log(user):
        return []
    kinds = [HISTORY_KINDS[kind]] if kind in HISTORY_KINDS else list(HISTORY_KINDS.values())
    actor = None
    if username:
        actor = get_user_model().objects.filter(username__iexact=username.strip()).first()
        if actor is None:
            return []
    rows: list[dict] = []
    for k in kinds:
        if not _may_read_kind(user, k):
            continue
        qs = k.scope(user, k.history.all())
        if actor is not None:
            qs = qs.filter(history_user=actor)
        if since:
            qs = qs.filter(history_date__date__gte=since)
        if until:
            qs = qs.filter(history_date__date__lte=until)
        for rec in qs.select_related("history_user").order_by("-history_date")[:limit]:
            rows.append(_row(k, rec))
    rows.sort(key=lambda r: r["when"], reverse=True)
    return rows[:limit]


def _row(kind: HistoryKind, rec) -> dict:
    return {
        "kind": kind.code,
        "kind_label": kind.label,
        "id": rec.id,
        "title": getattr(rec, kind.title_field, rec.id),
        "change": CHANGE_LABELS.get(rec.history_type, rec.history_type),
        "who": rec.history_user.username if rec.history_user else "",
        "when": rec.history_date,
    }


def record_history(*, user, kind: str, pk: int) -> dict | None:
    """Every change of one record, oldest first, with the fields before and after; None outside the scope.

    Values are shown as a person reads them, in the page's language: a choice by its label, yes/no,
    dates and numbers localised, a user's groups by their role names.
    """
    k = HISTORY_KINDS.get(kind)
    if k is None or not _may_read_kind(user, k):
        return None
    records = list(k.scope(user, k.history.filter(id=pk)).select_related("history_user").order_by("history_date"))
    if not records:
        return None
    model = apps.get_model(k.model)
    groups = dict(Group.objects.values_list("id", "name")) if k.code == "user" else {}
    related: dict = {"_user": user}  # (model, pk) -> its name, looked up once per page
    changes = []
    previous = None
    for rec in records:
        row = _row(k, rec)
        if previous is None:
            row["fields"] = [
                {
                    "field": _verbose(model, f.name),
                    "old": "",
                    "new": _text(getattr(rec, f.attname), _field(model, f.name), groups, related),
                }
                for f in k.history.model._meta.fields
                if not f.name.startswith("history_") and f.name != "id"
            ]
        else:
            delta = rec.diff_against(previous)
            row["fields"] = [
                {
                    "field": _verbose(model, c.field),
                    "old": _text(c.old, _field(model, c.field), groups, related),
                    "new": _text(c.new, _field(model, c.field), groups, related),
                }
                for c in delta.changes
            ]
        changes.append(row)
        previous = rec
    return {"kind": k, "id": pk, "title": changes[-1]["title"], "changes": list(reversed(changes))}


def _field(model, name: str):
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:  # a removed field: shown by its name, its values as stored
        return None


def _verbose(model, name: str) -> str:
    if name in FIELD_LABELS:
        return str(FIELD_LABELS[name])
    field = _field(model, name)
    return str(field.verbose_name) if field is not None and hasattr(field, "verbose_name") else name


def _readable(user, model) -> QuerySet:
    """The records of ``model`` whose name the reader may see in a history (``customers.policy``)."""
    from customers.models import Customer, Period

    from ..models import Team

    readers = {
        Customer: policy.customer_scope,
        RepPair: policy.pairs_for_user,
        SalesRep: policy.reps_for_user,
        Team: policy.teams_for_user,
        get_user_model(): policy.user_scope,
        Period: lambda _user: Period.objects.all(),
    }
    scope = readers.get(model)
    return scope(user) if scope is not None else model._default_manager.none()


def _related_name(field, value, related: dict) -> str:
    """A foreign key's value by the related record's name when it is in the reader's scope, else ``#id``
    (a customer that moved between teams does not show the other team's pair or reps)."""
    key = (field.related_model, value)
    if key not in related:
        found = _readable(related["_user"], field.related_model).filter(pk=value).first()
        related[key] = str(found) if found is not None else f"#{value}"
    return related[key]


def _text(value, field=None, groups: dict | None = None, related: dict | None = None) -> str:
    if value is None or value == "":
        return "–"
    if field is not None and field.many_to_one and related is not None:
        return _related_name(field, value, related)
    if isinstance(value, list):  # a tracked many-to-many field: the user's groups
        ids = [v.get("group") if isinstance(v, dict) else v for v in value]
        names = [(groups or {}).get(i, i) for i in ids]
        return ", ".join(str(ROLE_LABELS.get(n, n)) for n in names) or "–"
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    choices = dict(field.flatchoices) if field is not None and getattr(field, "flatchoices", None) else {}
    if value in choices:
        return str(choices[value])
    return str(formats.localize(value))


# --- waiting for me ---------------------------------------------------------------------------


def waiting_counts(user) -> dict[str, int]:
    """{"targets": n, "actions": m, "total": n + m} of the proposals the user decides on (2 queries)."""
    if not (user.is_authenticated and (user.is_superuser or MANAGER in user_roles(user))):
        return {"targets": 0, "actions": 0, "total": 0}
    targets, actions = scopes.decision_scope(user)
    t, a = targets.count(), actions.count()
    return {"targets": t, "actions": a, "total": t + a}


def waiting_total(user) -> int:
    """The menu badge: how many proposals wait for this user's decision."""
    return waiting_counts(user)["total"]


def waiting_rows(user) -> dict[str, list]:
    targets, actions = scopes.decision_scope(user)
    return {
        "targets": list(targets.select_related("customer", "customer__pair", "period").order_by("customer__name")),
        "actions": list(actions.select_related("customer", "customer__pair", "period", "proposed_by")),
    }


def may_see_waiting(user) -> bool:
    return bool(user.is_authenticated) and (user.is_superuser or MANAGER in user_roles(user))
