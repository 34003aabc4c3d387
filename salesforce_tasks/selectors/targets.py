"""Customer targets (with their proposals) and team targets, with what has been reached."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from customers.models import Customer, CustomerPeriod, CustomerStatus, Period
from customers.policy import (  # who sees what: one place
    customer_scope_ids,
    teams_for_user,
)

from ..models import CustomerTarget, TeamTarget
from .common import ACTIVE_LEVELS, CENT, LEVEL_RANK, OTHER_LEVEL_RANK, period_previous
from .results import PeriodPortfolio, period_portfolio


def customer_target_rows(
    *,
    period: Period,
    user,
    pending_only: bool = False,
    pp: PeriodPortfolio | None = None,
    target_ids: list[int] | None = None,
):
    """Customer targets in the user's scope with the actual revenue, profit and level, and a rep's
    proposed change to an approved target with who proposed it and when (4 queries).

    ``pending_only``: new targets proposed by a pair and approved ones with a change proposed.
    ``target_ids``: only these targets (one row re-rendered after a decision)."""
    qs = CustomerTarget.objects.filter(period=period).select_related("customer")
    scope = customer_scope_ids(user)
    if scope is not None:
        qs = qs.filter(customer_id__in=scope)
    if pending_only:
        qs = qs.filter(Q(proposed_by_pair=True) | Q(proposal_pending=True))
    if target_ids is not None:
        qs = qs.filter(pk__in=target_ids)
    targets = list(qs.order_by("customer__name", "id"))
    proposers = customer_target_proposers(target_ids=[t.id for t in targets if t.proposal_pending])
    # The period's results as the credit split holds them (kept per version: not read again per request).
    results = (pp or period_portfolio(period=period)).results_by_customer
    rows = []
    for t in targets:
        actual = results.loc[t.customer_id] if t.customer_id in results.index else None
        revenue = Decimal(int(actual["revenue_cents"])).scaleb(-2) if actual is not None else Decimal("0.00")
        profit = Decimal(int(actual["profit_cents"])).scaleb(-2) if actual is not None else Decimal("0.00")
        level = actual["level"] if actual is not None else ""
        rows.append(
            {
                "target": t,
                "id": t.id,
                "customer_id": t.customer_id,
                "external_id": t.customer.external_id,
                "customer": t.customer.name,
                "level": level,
                "target_level": t.target_level,
                "level_reached": _level_reached(level, t.target_level),
                "target_revenue": t.target_revenue,
                "revenue": revenue,
                "revenue_progress": _progress(revenue, t.target_revenue),
                "target_profit": t.target_profit,
                "profit": profit,
                "profit_progress": _progress(profit, t.target_profit),
                "proposed_by_pair": t.proposed_by_pair,
                "proposal_pending": t.proposal_pending,
                "proposal": (
                    {
                        "target_level": t.proposal_level,
                        "target_revenue": t.proposal_revenue,
                        "target_profit": t.proposal_profit,
                        **proposers.get(t.id, {"by": "", "when": None}),
                    }
                    if t.proposal_pending
                    else None
                ),
                "proposal_level": t.proposal_level if t.proposal_pending else "",
                "proposal_revenue": t.proposal_revenue if t.proposal_pending else None,
                "proposal_profit": t.proposal_profit if t.proposal_pending else None,
            }
        )
    return rows


def customer_target_proposers(*, target_ids: list[int]) -> dict[int, dict]:
    """{target id: {"by": name, "when": datetime}} of the pending proposed change of each target: the
    latest change in its history that left a proposal pending (1 query; none without ids)."""
    if not target_ids:
        return {}
    found: dict[int, dict] = {}
    history = (
        CustomerTarget.history.filter(id__in=target_ids, proposal_pending=True)
        .select_related("history_user", "history_user__sales_rep")
        .order_by("id", "-history_date", "-history_id")
    )
    for row in history:
        if row.id in found:
            continue
        user = row.history_user
        rep = getattr(user, "sales_rep", None) if user is not None else None
        by = rep.name if rep is not None else (user.get_full_name() or user.username) if user is not None else ""
        found[row.id] = {"by": by, "when": row.history_date}
    return found


def _progress(actual: Decimal, target: Decimal | None) -> Decimal | None:
    if target in (None, 0) or target <= 0:
        return None
    return (actual / target).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def _level_reached(level: str, target_level: str) -> bool | None:
    if not target_level:
        return None
    return LEVEL_RANK.get(level, OTHER_LEVEL_RANK) <= LEVEL_RANK.get(target_level, OTHER_LEVEL_RANK)


def customer_target_get(*, customer: Customer, period: Period) -> CustomerTarget | None:
    return CustomerTarget.objects.filter(customer=customer, period=period).first()


def team_target_rows(*, period: Period, user) -> list[dict]:
    """Team targets of the teams the user sees, each kind with its actual (about 5 queries).

    Actuals, per team (customers belong to the team of their current pair):
    - new_suspects: customers created in the period whose status is suspect;
    - prospects_to_top: customers at level top in the period that were prospect or suspect in
      the previous period, or unknown then (the "new" row of the migration matrix);
    - retention: % of the team's customers active in the previous period still active in this one.
    """
    teams = list(teams_for_user(user).order_by("name"))
    team_ids = [t.id for t in teams]
    targets = {(t.team_id, t.kind): t for t in TeamTarget.objects.filter(period=period, team_id__in=team_ids)}
    actuals = team_target_actuals(period=period, team_ids=team_ids)
    rows = []
    for team in teams:
        for kind, label in TeamTarget.Kind.choices:
            target = targets.get((team.id, kind))
            actual = actuals.get(team.id, {}).get(kind)
            rows.append(
                {
                    "team": team,
                    "team_id": team.id,
                    "team_name": team.name,
                    "kind": kind,
                    "label": label,
                    "target_obj": target,
                    "target": target.target if target else None,
                    "actual": actual,
                    "progress": _progress(actual, target.target) if (target and actual is not None) else None,
                }
            )
    return rows


def team_target_actuals(*, period: Period, team_ids: list[int]) -> dict[int, dict[str, Decimal | None]]:
    local = timezone.get_current_timezone()
    start = dt.datetime.combine(period.start, dt.time.min, tzinfo=local)
    end = dt.datetime.combine(period.end, dt.time.max, tzinfo=local)
    suspects = dict(
        Customer.objects.filter(
            pair__team_id__in=team_ids, status=CustomerStatus.SUSPECT, created_at__gte=start, created_at__lte=end
        )
        .values("pair__team_id")
        .annotate(n=Count("id"))
        .values_list("pair__team_id", "n")
    )
    previous = period_previous(period)
    developed, retained = _level_moves_per_team(period=period, previous=previous, team_ids=team_ids)
    out: dict[int, dict[str, Decimal | None]] = {}
    for team_id in team_ids:
        before, still = retained.get(team_id, (0, 0))
        out[team_id] = {
            "new_suspects": Decimal(suspects.get(team_id, 0)),
            "prospects_to_top": Decimal(developed.get(team_id, 0)),
            "retention": (
                (Decimal(still) * 100 / Decimal(before)).quantize(CENT, rounding=ROUND_HALF_UP)
                if previous and before
                else None
            ),
        }
    return out


def _level_moves_per_team(
    *, period: Period, previous: Period | None, team_ids: list[int]
) -> tuple[dict[int, int], dict[int, tuple[int, int]]]:
    """Per team (of the customer's current pair), counted in the database (3 queries):
    ``developed``: customers at level top now that were prospect or suspect in the previous period, or
    had no row then; ``retained``: (customers active in the previous period, of whom active now)."""
    team = "customer__pair__team_id"
    rows_now = CustomerPeriod.objects.filter(period=period, customer_id=OuterRef("customer_id"))
    developed_qs = CustomerPeriod.objects.filter(period=period, level="top", **{f"{team}__in": team_ids})
    if previous is not None:
        beyond_prospect_before = CustomerPeriod.objects.filter(
            period=previous, customer_id=OuterRef("customer_id")
        ).exclude(level__in=["prospect", "suspect"])
        developed_qs = developed_qs.exclude(Exists(beyond_prospect_before))
    developed = _count_per_team(developed_qs)
    if previous is None:
        return developed, {}
    active_before = CustomerPeriod.objects.filter(period=previous, level__in=ACTIVE_LEVELS, **{f"{team}__in": team_ids})
    # Two grouped counts, not one with a FILTER (EXISTS ...): in a WHERE the EXISTS is a hash semi-join,
    # in a FILTER a subplan run once per row.
    before = _count_per_team(active_before)
    still = _count_per_team(active_before.filter(Exists(rows_now.filter(level__in=ACTIVE_LEVELS))))
    retained = {team_id: (n, still.get(team_id, 0)) for team_id, n in before.items()}
    return developed, retained


def _count_per_team(rows) -> dict[int, int]:
    team = "customer__pair__team_id"
    return dict(rows.values(team).annotate(n=Count("id")).values_list(team, "n"))
