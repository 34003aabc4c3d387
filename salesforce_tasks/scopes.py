"""Who sees and changes the sales force's own records: visits, targets, team targets, KPIs, actions.

The rules are the core's one policy module (``customers.policy``); this module only hands it the sales
force's querysets, so the core never imports this app. Reads are scoped querysets, lookups for a
write raise ``Http404`` outside the user's scope, like every ``<thing>_for_update`` of the policy.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from customers import policy

from .models import Action, BonusKpi, CustomerTarget, TeamTarget, Visit


def visit_scope(user) -> QuerySet[Visit]:
    return policy.scoped_rows(user, Visit.objects.all())


def visit_for_update(user, pk: int) -> Visit:
    """A visit in the user's scope (the service decides whether this user may change it); else 404."""
    return policy.row_in_scope(user, Visit.objects.all(), pk=pk)


def customer_target_scope(user) -> QuerySet[CustomerTarget]:
    return policy.scoped_rows(user, CustomerTarget.objects.all())


def customer_target_for_update(user, pk: int) -> CustomerTarget:
    """A customer target in the user's scope (the service decides what this user may change); else 404."""
    return policy.row_in_scope(user, CustomerTarget.objects.all(), pk=pk)


def team_target_scope(user) -> QuerySet[TeamTarget]:
    return policy.team_rows(user, TeamTarget.objects.all())


def team_target_for_update(user, pk: int) -> TeamTarget:
    """A team target of a team the user manages; else 404."""
    return policy.managed_team_row(user, TeamTarget.objects.all(), pk=pk)


def bonus_kpi_scope(user) -> QuerySet[BonusKpi]:
    """KPIs of the pairs and reps the user sees (a rep: their pair's and their own, not the partner's)."""
    return policy.bonus_rows(user, BonusKpi.objects.all())


def bonus_kpi_for_update(user, pk: int) -> BonusKpi:
    """A KPI of a pair or rep of a team the user manages; else 404."""
    return policy.managed_team_row(user, BonusKpi.objects.all(), fields=("pair__team", "rep__team"), pk=pk)


def action_scope(user) -> QuerySet[Action]:
    return policy.scoped_rows(user, Action.objects.all())


def action_for_update(user, pk: int) -> Action:
    return policy.row_in_scope(user, Action.objects.all(), pk=pk)


def decision_scope(user) -> tuple[QuerySet[CustomerTarget], QuerySet[Action]]:
    """What is "waiting for me": (proposed customer targets, proposed actions) the user may decide on.

    A manager decides on the proposals of the teams they manage; nobody else decides.
    """
    targets = policy.decision_rows(
        user, CustomerTarget.objects.filter(Q(proposed_by_pair=True) | Q(proposal_pending=True))
    )
    actions = policy.decision_rows(user, Action.objects.filter(state=Action.State.PROPOSED))
    return targets, actions
