"""The sales force's part of the demo: the organisation, portfolios, visits, targets, bonus KPIs and
proposed actions with their what-if.

``seed(*, plan, progress)`` (run by ``customers.demo.demo_load``, see ``settings.DEMO_SEEDERS``)
builds the organisation through the organisation services (users get their roles with
``user_roles_set``; teams, reps and pairs with ``team_create``, ``rep_create``, ``pair_create``),
gives every customer its pair from the first demo day (``services.portfolio_assign``), writes the
core plan's contacts as visits through the visits import, and sets visit norms, customer targets
(a rep's as a proposal), team targets and bonus KPIs through their services, as the manager or
the rep would. ``seed_after_recompute`` proposes the actions through ``action_propose``, the
service the actions page uses, once the profit is stored: each carries its what-if.

Targets, KPIs and actions are chosen on the estimated profit that the accounting seeder left in
``plan.facts``; this app's random draws come from its own stream.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

from customers.demo_plan import (
    CENTS_PER_100_EUR,
    FIRST_DAY,
    LAST_YEAR,
    PAIRS,
    TEAMS,
    YEARS,
    DemoPlan,
    app_rng,
    csv_file,
    weights,
)

OUTCOMES = tuple(
    "Assortiment doorgenomen|Offerte besproken|Bestelling opgenomen|Klacht over levertijd afgehandeld|"
    "Jaarafspraken besproken|Nieuwe producten gepresenteerd|Prijsverhoging toegelicht|Geen interesse op dit moment|"
    "Kennismaking met nieuwe inkoper|Voorraadbeheer besproken".split("|")
)
NEXT_STEPS = tuple(
    "Offerte sturen|Terugbellen over levertijden|Volgend kwartaal opnieuw bezoeken|Proefzending regelen|"
    "Jaarcontract voorbereiden|Binnendienst belt na|||".split("|")  # a third of the visits have no next step
)
VISIT_NORMS: tuple[tuple[str, int, str], ...] = (
    ("top", 30, "visit"), ("big", 91, "visit"), ("medium", 182, "visit"), ("small", 365, "phone"),
)  # fmt: skip

# the action a rep proposes for a loss-making customer, by what makes it lose money
ACTIONS: dict[str, tuple[Decimal | None, str]] = {
    "move_to_inside": (None, "Overdragen aan de binnendienst; bezoeken vervangen door telefonisch contact"),
    "part_ways": (None, "Afscheid nemen: veel bezoeken, weinig omzet, ook na eerdere afspraken verlieslatend"),
    "min_order_size": (Decimal("250.00"), "Minimale ordergrootte van EUR 250 afspreken"),
    "order_surcharge": (Decimal("12.50"), "Orderkosten van EUR 12,50 per order onder EUR 250"),
    "discount_change": (Decimal("3.00"), "Korting met 3 procentpunt verlagen"),
    "min_revenue": (Decimal("10000.00"), "Minimale jaaromzet van EUR 10.000 vastleggen in de jaarafspraak"),
}
N_ACTIONS = 6


@dataclass
class SalesForcePlan:
    """visits: the core plan's contacts with outcome and next_step
    customer_targets: customer, year, target_level, target_revenue_cents, target_profit_cents (-1: none),
        proposed_by_pair
    team_targets: team, year, kind, target
    bonus_kpis: pair, year, metric, weight, threshold, target, cap, base_amount
    actions: customer, year, type, parameter, description, proposed_by (username)
    """

    visits: pd.DataFrame
    customer_targets: pd.DataFrame
    team_targets: pd.DataFrame
    bonus_kpis: pd.DataFrame
    actions: pd.DataFrame


def sales_force_plan(plan: DemoPlan) -> SalesForcePlan:
    """This app's frames. Pure: the same plan gives the same frames. Needs the estimated profit
    (``estimated_profit_cents`` in ``plan.facts``) that the accounting seeder plans."""
    if "estimated_profit_cents" not in plan.facts:
        raise ValueError("The sales force's demo needs the estimated profit: run the accounting seeder first.")
    rng = app_rng(plan.seed, "salesforce_tasks")
    contacts = plan.contacts
    visits = contacts.assign(
        outcome=rng.choice(OUTCOMES, size=len(contacts)), next_step=rng.choice(NEXT_STEPS, size=len(contacts))
    )
    return SalesForcePlan(
        visits=visits,
        customer_targets=_customer_targets(rng, plan.facts),
        team_targets=_team_targets(len(plan.customers)),
        bonus_kpis=_bonus_kpis(plan.customers, plan.facts),
        actions=_actions(plan.customers, plan.facts),
    )


# ================================================================================ writing


def seed(*, plan: DemoPlan, progress=None) -> None:
    """Organisation, portfolios, visits, visit norms, customer and team targets, bonus KPIs."""
    from customers.models import Customer, Period

    from .services import (
        bonus_kpi_save,
        customer_target_set,
        portfolio_assign,
        team_target_set,
        visit_norms_update,
        visits_import,
    )

    part = sales_force_plan(plan)
    plan.parts["salesforce_tasks"] = part
    users, teams, pairs = _organisation(plan.users)
    manager = _acting_manager(users)
    owner = plan.customers["pair"].map({code: p.pk for code, p in pairs.items()}).to_numpy()
    portfolio_assign(owners=dict(zip(plan.customer_ids.tolist(), owner.tolist(), strict=True)), start=FIRST_DAY)

    vis = part.visits
    rows = pd.DataFrame(
        {
            "rep": vis["rep"],
            "customer_id": plan.customers["external_id"].to_numpy()[vis["customer"].to_numpy()],
            "date": pd.to_datetime(vis["date"]).dt.strftime("%Y-%m-%d"),
            "minutes": vis["minutes"],
            "kind": vis["kind"],
            "outcome": vis["outcome"],
            "next_step": vis["next_step"],
        }
    )
    with csv_file(rows) as path:
        visits_import(path=path, acting_user=None)
    visit_norms_update(norms={level: (days, kind) for level, days, kind in VISIT_NORMS}, acting_user=manager)

    periods = {p.name: p for p in Period.objects.filter(name__in=YEARS)}
    customers = Customer.objects.in_bulk(plan.customer_ids.tolist())
    for t in part.customer_targets.itertuples(index=False):
        customer = customers[int(plan.customer_ids[t.customer])]
        proposer = users[_outside_rep(plan.customers["pair"].iat[t.customer])] if t.proposed_by_pair else manager
        customer_target_set(
            customer=customer,
            period=periods[t.year],
            acting_user=proposer,
            target_level=t.target_level,
            target_revenue=Decimal(int(t.target_revenue_cents)).scaleb(-2),
            target_profit=None if t.target_profit_cents < 0 else Decimal(int(t.target_profit_cents)).scaleb(-2),
        )
    for t in part.team_targets.itertuples(index=False):
        team_target_set(team=teams[t.team], period=periods[t.year], kind=t.kind, target=t.target, acting_user=manager)
    for k in part.bonus_kpis.itertuples(index=False):
        bonus_kpi_save(
            acting_user=manager,
            period=periods[k.year],
            pair=pairs[k.pair],
            metric=k.metric,
            weight=k.weight,
            threshold=k.threshold,
            target=k.target,
            cap=k.cap,
            base_amount=k.base_amount,
        )


def seed_after_recompute(*, plan: DemoPlan, progress=None) -> None:
    """Propose the planned actions as their rep would, with the what-if the actions page computes.

    An action whose what-if cannot be computed for its customer (the service says why) is left out."""
    from django.contrib.auth.models import User
    from django.core.exceptions import ValidationError

    from customers.models import Customer, Period

    from .actions.services import action_propose

    actions = plan.parts["salesforce_tasks"].actions
    users = {u.username: u for u in User.objects.filter(username__in=actions["proposed_by"].tolist())}
    periods = {p.name: p for p in Period.objects.filter(name__in=YEARS)}
    customers = Customer.objects.in_bulk([int(plan.customer_ids[c]) for c in actions["customer"]])
    for a in actions.itertuples(index=False):
        try:
            action_propose(
                customer=customers[int(plan.customer_ids[a.customer])],
                period=periods[a.year],
                action_type=a.type,
                parameter=a.parameter,
                description=a.description,
                acting_user=users[a.proposed_by],
            )
        except ValidationError:
            continue


def _acting_manager(users: dict):
    """Who sets the manager's demo data: the demo manager, or the demo administrator when an account
    named ``manager`` existed before the demo without the manager role (it is left as it was)."""
    from config.roles import MANAGER

    manager = users["manager"]
    if manager.groups.filter(name=MANAGER).exists():
        return manager
    return users["admin"]


def _outside_rep(pair_code: str) -> str:
    return f"rep{2 * int(pair_code[1:]) - 1}"


def _organisation(people: pd.DataFrame) -> tuple[dict, dict, dict]:
    """Users with their roles, teams, reps and pairs; what exists already (by username, team name,
    rep code, pair code) is reused as it is. Returns ({username: User}, {team: Team}, {code: RepPair})."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import User

    from .models import RepPair, SalesRep, Team
    from .organisation.services import pair_create, rep_create, team_create, user_roles_set

    hashes = {pw: make_password(pw) for pw in people["password"].unique()}
    users = {u.username: u for u in User.objects.filter(username__in=people["username"].tolist())}
    for u in people.itertuples(index=False):
        if u.username in users:
            continue
        users[u.username] = User.objects.create(
            username=u.username,
            first_name=u.first_name,
            last_name=u.last_name,
            email=f"{u.username}@klantwaarde.example",
            password=hashes[u.password],
            is_superuser=u.is_superuser,
            is_staff=u.is_superuser,
        )
        if u.role:
            user_roles_set(user=users[u.username], roles=[u.role], acting_user=None)
    teams = {t.name: t for t in Team.objects.filter(name__in=TEAMS)}
    for name in TEAMS:
        teams[name] = teams.get(name) or team_create(name=name, manager=users["manager"], acting_user=None)
    reps = {r.code: r for r in SalesRep.objects.filter(code__in=people["username"].tolist())}
    for u in people[people["rep_kind"] != ""].itertuples(index=False):
        if u.username not in reps:
            reps[u.username] = rep_create(
                team=teams[u.team],
                code=u.username,
                name=f"{u.first_name} {u.last_name}",
                kind=u.rep_kind,
                user=users[u.username],
                acting_user=None,
            )
    pairs = {p.code: p for p in RepPair.objects.filter(code__in=[code for code, _team in PAIRS])}
    for i, (code, team) in enumerate(PAIRS):
        if code not in pairs:
            pairs[code] = pair_create(
                team=teams[team],
                code=code,
                outside_rep=reps[f"rep{2 * i + 1}"],
                inside_rep=reps[f"rep{2 * i + 2}"],
                acting_user=None,
            )
    return users, teams, pairs


# ================================================================================ planning


def _round_100(cents) -> np.ndarray:
    return (np.round(np.asarray(cents, dtype=float) / CENTS_PER_100_EUR) * CENTS_PER_100_EUR).astype(np.int64)


def _customer_targets(rng: np.random.Generator, facts: pd.DataFrame) -> pd.DataFrame:
    before = facts[(facts["year"] == LAST_YEAR - 1) & facts["level"].isin(["big", "medium", "small"])]
    k = min(100, len(before) // 10)
    p = weights(before["level"].map({"big": 4, "medium": 3, "small": 1}).to_numpy())
    chosen = before.iloc[np.sort(rng.choice(len(before), size=k, replace=False, p=p))]
    up = {"big": "top", "medium": "big", "small": "medium"}
    profit = _round_100(np.maximum(chosen["estimated_profit_cents"].to_numpy(), 0) * 1.15 + 50_000)
    return pd.DataFrame(
        {
            "customer": chosen["customer"].to_numpy(),
            "year": LAST_YEAR,
            "target_level": chosen["level"].map(up).to_numpy(),
            "target_revenue_cents": _round_100(chosen["revenue_cents"].to_numpy() * rng.uniform(1.05, 1.3, k)),
            "target_profit_cents": np.where(rng.random(k) < 0.7, profit, -1),
            "proposed_by_pair": rng.random(k) < 0.5,
        }
    )


def _team_targets(n_customers: int) -> pd.DataFrame:
    rows = []
    for team in TEAMS:
        rows += [
            (team, LAST_YEAR, "new_suspects", Decimal(max(10, n_customers // 10))),
            (team, LAST_YEAR, "prospects_to_top", Decimal(5)),
            (team, LAST_YEAR, "retention", Decimal(90)),
        ]
    return pd.DataFrame(rows, columns=["team", "year", "kind", "target"])


def _bonus_kpis(cust: pd.DataFrame, facts: pd.DataFrame) -> pd.DataFrame:
    """Per pair for the last period, thresholds and targets from the year before."""
    level_rank = {"top": 1, "big": 2, "medium": 3, "small": 4}
    prev2 = facts[facts["year"] == LAST_YEAR - 2].set_index("customer")
    prev = facts[facts["year"] == LAST_YEAR - 1].set_index("customer")
    pair = cust["pair"]
    rows = []
    for code, _team in PAIRS:
        mine = pair.index[pair == code]
        profit = prev["estimated_profit_cents"].reindex(mine).fillna(0).sum() / 100
        margin = abs(profit) + 1000
        was = prev2["active"].reindex(mine, fill_value=False)
        still = prev["active"].reindex(mine, fill_value=False)
        retention = float((was & still).sum() / max(was.sum(), 1))
        rank_now = prev["level"].map(level_rank).reindex(mine)
        rank_before = prev2["level"].map(level_rank).reindex(mine)
        moved_up = int((rank_now < rank_before).sum())
        rows += [
            (
                code,
                "portfolio_profit",
                Decimal("0.6"),
                round(profit - 0.05 * margin, -2),
                round(profit + 0.15 * margin, -2),
            ),
            (
                code,
                "customer_retention",
                Decimal("0.2"),
                round(max(retention - 0.04, 0), 2),
                round(min(retention + 0.03, 1), 2),
            ),
            (code, "customers_moved_up", Decimal("0.2"), round(0.8 * moved_up), round(1.25 * moved_up) + 1),
        ]
    frame = pd.DataFrame(rows, columns=["pair", "metric", "weight", "threshold", "target"])
    return frame.assign(
        year=LAST_YEAR,
        threshold=[Decimal(str(v)) for v in frame["threshold"]],
        target=[Decimal(str(v)) for v in frame["target"]],
        cap=Decimal("1.5"),
        base_amount=Decimal("5000.00"),
    )


def _action_kind(facts: pd.DataFrame) -> np.ndarray:
    """The action that fits what makes a customer lose money: visits, small orders, discounts or low revenue."""
    revenue = facts["revenue_cents"].to_numpy() / 100
    orders = facts["orders"].to_numpy()
    visit_heavy = facts["visit_minutes"].to_numpy() >= 600
    margin_rate = facts["gross_margin_cents"].to_numpy() / np.maximum(facts["revenue_cents"].to_numpy(), 1)
    return np.select(
        [
            visit_heavy & (revenue < 5000),
            visit_heavy,
            (orders >= 20) & (revenue / np.maximum(orders, 1) < 500),
            orders >= 20,
            margin_rate < 0.2,
        ],
        ["part_ways", "move_to_inside", "min_order_size", "order_surcharge", "discount_change"],
        "min_revenue",
    )


def _actions(cust: pd.DataFrame, facts: pd.DataFrame) -> pd.DataFrame:
    """Proposed actions in the last period: the worst loss-making customer for each kind of action."""
    last = facts[(facts["year"] == LAST_YEAR) & facts["active"] & facts["level"].isin(["medium", "small"])]
    last = last.assign(kind=_action_kind(last)).sort_values(["estimated_profit_cents", "external_id"])
    losing = last[last["estimated_profit_cents"] < 0]
    chosen = losing.groupby("kind", sort=False).head(1)
    if len(chosen) < 2:
        chosen = last.head(2)
    chosen = chosen.head(N_ACTIONS)
    kind = chosen["kind"].tolist()
    pair_no = cust["pair"].to_numpy()[chosen["customer"]]
    return pd.DataFrame(
        {
            "customer": chosen["customer"].to_numpy(),
            "year": LAST_YEAR,
            "type": kind,
            "parameter": [ACTIONS[k][0] for k in kind],
            "description": [ACTIONS[k][1] for k in kind],
            "proposed_by": [f"rep{2 * int(p[1:]) - 1}" for p in pair_no],
        }
    )


# ================================================================================ writing
