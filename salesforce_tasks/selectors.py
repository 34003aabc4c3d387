"""Reads of the sales-force app; who sees which customers is decided in ``customers.policy``.

Every function issues a bounded number of queries, whatever the number of customers. Money in
frames is integer cents; the credit split and the bonus arithmetic live in the pure modules
``portfolio`` and ``bonus``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from config.money import cents_sql, sum_cents
from config.roles import MANAGER, user_roles
from customers.models import Customer, CustomerPeriod, CustomerStatus, Period
from customers.policy import (  # who sees what: one place
    bonus_reps_for_user,
    customer_scope,
    customer_scope_ids,
    managed_teams,
    pairs_for_user,
    sees_everything,
    teams_for_user,
)

from . import bonus, portfolio
from .models import BonusKpi, CustomerTarget, PortfolioAssignment, RepPair, SalesRep, Team, TeamTarget, Visit, VisitNorm

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


# --- visits -----------------------------------------------------------------------------------


def visit_drivers(*, period) -> pd.DataFrame:
    """customer_id, visits, visit_minutes of a period (one query): drivers for the allocation keys."""
    rows = (
        Visit.objects.filter(period=period)
        .values("customer_id")
        .annotate(visits=Count("id"), visit_minutes=Sum("minutes"))
        .values_list("customer_id", "visits", "visit_minutes")
    )
    return pd.DataFrame.from_records(list(rows), columns=["customer_id", "visits", "visit_minutes"]).astype("int64")


def visit_list(*, user, rep: SalesRep | None = None, customer: Customer | None = None) -> QuerySet[Visit]:
    """Visits on customers in the user's scope, newest first (optionally one rep's or one customer's)."""
    qs = Visit.objects.select_related("customer", "rep", "period").order_by("-date", "-id")
    scope = customer_scope_ids(user)
    if scope is not None:
        qs = qs.filter(customer_id__in=scope)
    if rep is not None:
        qs = qs.filter(rep=rep)
    if customer is not None:
        qs = qs.filter(customer=customer)
    return qs


def visit_norms() -> dict[str, int | None]:
    """Days between contacts per level: the VisitNorm rows laid over the defaults."""
    norms = dict(portfolio.DEFAULT_VISIT_NORM_DAYS)
    norms.update(dict(VisitNorm.objects.values_list("level", "days_between")))
    return norms


def visit_norm_rows() -> list[dict]:
    stored = {n.level: n for n in VisitNorm.objects.all()}
    rows = []
    for level, default in portfolio.DEFAULT_VISIT_NORM_DAYS.items():
        norm = stored.get(level)
        rows.append(
            {
                "level": level,
                "days_between": norm.days_between if norm else default,
                "kind": norm.kind if norm else Visit.Kind.VISIT,
                "default": default,
            }
        )
    return rows


def last_visits(*, customer_ids, until: dt.date | None = None) -> pd.DataFrame:
    """customer_id, last_visit (date) for the given customers (a list or a subquery), one query."""
    qs = Visit.objects.filter(customer_id__in=customer_ids)
    if until is not None:
        qs = qs.filter(date__lte=until)
    rows = qs.values("customer_id").annotate(last=Max("date")).values_list("customer_id", "last")
    frame = pd.DataFrame.from_records(list(rows), columns=["customer_id", "last_visit"])
    frame["last_visit"] = pd.to_datetime(frame["last_visit"])
    return frame.astype({"customer_id": "int64"})


# --- customer results -------------------------------------------------------------------------

RESULT_COLUMNS = (
    "customer_id",
    "external_id",
    "name",
    "level",
    "revenue_cents",
    "gross_margin_cents",
    "allocated_cents",
    "profit_cents",
    "profit_computed",
)


def customer_results(*, period: Period) -> pd.DataFrame:
    """Every customer in the period's stored pyramid with its profit (2 queries).

    customer_id, external_id, name, level, revenue_cents, gross_margin_cents, allocated_cents
    (cost to serve: allocated pools plus financing cost, so margin - allocated = profit),
    profit_cents, profit_computed (False while the profit stage has not run for the customer:
    its profit is then its gross margin).
    """
    from customers.reports import stored_with_profit

    frame = stored_with_profit(period)
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype="int64") for c in RESULT_COLUMNS}).astype(
            {"external_id": object, "name": object, "level": object, "profit_computed": bool}
        )
    computed = frame["profit_cents"].notna()
    allocated = (
        frame["allocated_cost_cents"].fillna(0).astype("int64")
        + frame["financing_cost_cents"].fillna(0).astype("int64")
    ).where(computed, 0)
    profit = frame["profit_cents"].astype("Float64").fillna(frame["gross_margin_cents"].astype("Float64"))
    return pd.DataFrame(
        {
            "customer_id": frame["customer_id"].astype("int64"),
            "external_id": frame["external_id"],
            "name": frame["name"],
            "level": frame["level"],
            "revenue_cents": frame["revenue_cents"].astype("int64"),
            "gross_margin_cents": frame["gross_margin_cents"].astype("int64"),
            "allocated_cents": allocated.astype("int64"),
            "profit_cents": profit.astype("int64"),
            "profit_computed": computed.astype(bool),
        }
    )


# --- credit split -----------------------------------------------------------------------------


def pairs_frame() -> pd.DataFrame:
    """pair_id, code, team_id, team, outside_rep_id, inside_rep_id, outside_share (0..1), one query."""
    rows = RepPair.objects.values_list(
        "id", "code", "team_id", "team__name", "outside_rep_id", "inside_rep_id", "outside_share"
    )
    frame = pd.DataFrame.from_records(
        list(rows), columns=["pair_id", "code", "team_id", "team", "outside_rep_id", "inside_rep_id", "outside_share"]
    )
    frame["outside_share"] = frame["outside_share"].astype("float64") / 100
    return frame.astype({"pair_id": "int64", "team_id": "int64", "outside_rep_id": "int64", "inside_rep_id": "int64"})


def reps_frame(pairs: pd.DataFrame) -> pd.DataFrame:
    """rep_id, pair_id, team_id: each rep in the first pair (by code) that names it."""
    ordered = pairs.sort_values("code", kind="stable")
    frame = pd.concat(
        [
            ordered[["outside_rep_id", "pair_id", "team_id"]].rename(columns={"outside_rep_id": "rep_id"}),
            ordered[["inside_rep_id", "pair_id", "team_id"]].rename(columns={"inside_rep_id": "rep_id"}),
        ],
        ignore_index=True,
    )
    return frame.drop_duplicates("rep_id").reset_index(drop=True).astype("int64")


def pair_weights(*, period: Period, pairs: pd.DataFrame) -> pd.DataFrame:
    """Which pair owned each customer during the period: customer_id, pair_id, weight_in_period,
    outside_share (2 queries).

    weight_in_period = the days of the period the pair owned the customer (PortfolioAssignment
    rows, start and end inclusive) divided by the customer's owned days in the period, so a
    customer's weights sum to 1. A customer's first assignment also covers the time before it
    (its first known owner gets the history before the portfolio was recorded); a customer
    without any assignment row is credited to ``Customer.pair``. outside_share (0..1) is the
    assignment's outside_share, else the pair's, weighted by days. Customers owned by nobody in
    the period are left out.
    """
    columns = ["customer_id", "pair_id", "weight_in_period", "outside_share"]
    rows = PortfolioAssignment.objects.values_list("customer_id", "pair_id", "start", "end", "outside_share")
    assigned = pd.DataFrame.from_records(
        list(rows), columns=["customer_id", "pair_id", "start", "end", "assignment_share"]
    )
    fallback = pd.DataFrame.from_records(
        list(
            Customer.objects.filter(pair__isnull=False)
            .exclude(Exists(PortfolioAssignment.objects.filter(customer=OuterRef("pk"))))
            .values_list("id", "pair_id")
        ),
        columns=["customer_id", "pair_id"],
    )
    period_start, period_end = pd.Timestamp(period.start), pd.Timestamp(period.end)
    fallback = fallback.assign(start=period_start, end=period_end, assignment_share=None)
    frame = pd.concat([assigned, fallback], ignore_index=True) if len(fallback) else assigned
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in columns}).astype(
            {"customer_id": "int64", "pair_id": "int64"}
        )
    start = pd.to_datetime(frame["start"])
    end = pd.to_datetime(frame["end"]).fillna(period_end)
    first = start == start.groupby(frame["customer_id"]).transform("min")
    start = start.mask(first, np.minimum(start, period_start))
    low = np.maximum(start, period_start)
    high = np.minimum(end, period_end)
    days = ((high - low).dt.days + 1).clip(lower=0)
    pair_share = frame["pair_id"].map(pairs.set_index("pair_id")["outside_share"])
    share = pd.to_numeric(frame["assignment_share"], errors="coerce").astype("float64") / 100
    share = share.fillna(pair_share).fillna(0.5)
    owned = frame.assign(days=days, share_days=share * days)
    owned = owned[(owned["days"] > 0) & owned["pair_id"].isin(pairs["pair_id"])]
    grouped = owned.groupby(["customer_id", "pair_id"], as_index=False)[["days", "share_days"]].sum()
    total = grouped.groupby("customer_id")["days"].transform("sum")
    return (
        grouped.assign(
            weight_in_period=grouped["days"] / total,
            outside_share=grouped["share_days"] / grouped["days"],
        )[columns]
        .astype({"customer_id": "int64", "pair_id": "int64"})
        .reset_index(drop=True)
    )


def rep_credits(weights: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """The credits frame of :func:`portfolio.credit_rollup`: customer_id, pair_id, rep_id, share,
    weight_in_period; the outside rep gets outside_share, the inside rep the rest."""
    reps = pairs.set_index("pair_id")
    base = weights.assign(
        outside_rep_id=weights["pair_id"].map(reps["outside_rep_id"]),
        inside_rep_id=weights["pair_id"].map(reps["inside_rep_id"]),
    )
    outside = base.assign(rep_id=base["outside_rep_id"], share=base["outside_share"])
    inside = base.assign(rep_id=base["inside_rep_id"], share=1 - base["outside_share"])
    same = base["outside_rep_id"] == base["inside_rep_id"]
    outside.loc[same, "share"] = 1.0
    frame = pd.concat([outside, inside[~same]], ignore_index=True)
    return frame[["customer_id", "pair_id", "rep_id", "share", "weight_in_period"]].astype(
        {"customer_id": "int64", "pair_id": "int64", "rep_id": "int64"}
    )


@dataclass
class PeriodPortfolio:
    """Everything the roll-up and the bonus need for one period, read once (about 8 queries)."""

    period: Period
    previous: Period | None
    results: pd.DataFrame
    previous_results: pd.DataFrame
    pairs: pd.DataFrame
    reps: pd.DataFrame
    weights: pd.DataFrame
    credits: pd.DataFrame
    rep_names: dict[int, str] = field(default_factory=dict)
    team_names: dict[int, str] = field(default_factory=dict)


def period_portfolio(*, period: Period) -> PeriodPortfolio:
    previous = period_previous(period)
    pairs = pairs_frame()
    weights = pair_weights(period=period, pairs=pairs)
    return PeriodPortfolio(
        period=period,
        previous=previous,
        results=customer_results(period=period),
        previous_results=customer_results(period=previous) if previous else customer_results(period=period).iloc[0:0],
        pairs=pairs,
        reps=reps_frame(pairs),
        weights=weights,
        credits=rep_credits(weights, pairs),
        rep_names=dict(SalesRep.objects.values_list("id", "name")),
        team_names=dict(Team.objects.values_list("id", "name")),
    )


def _empty_rollup(pp: PeriodPortfolio) -> dict[str, pd.DataFrame]:
    zeros = {c: 0 for c in (*portfolio.MONEY_COLUMNS, *portfolio.COUNT_COLUMNS)}
    rep = pp.reps.assign(**zeros)
    pair = pp.reps.drop_duplicates("pair_id")[["pair_id", "team_id"]].assign(**zeros)
    team = pp.reps.drop_duplicates("team_id")[["team_id"]].assign(**zeros)
    return {"rep": rep, "pair": pair, "team": team, "company": pd.DataFrame([zeros])}


def rollup(pp: PeriodPortfolio) -> dict[str, pd.DataFrame]:
    """:func:`portfolio.credit_rollup` over every credited customer of the period, plus
    ``unassigned``: the customers no pair owned (their totals are in no team)."""
    results = pp.results[["customer_id", *portfolio.MONEY_COLUMNS]]
    credited_ids = set(pp.credits["customer_id"])
    credited = results[results["customer_id"].isin(credited_ids)]
    credits = pp.credits[pp.credits["customer_id"].isin(set(results["customer_id"]))]
    if credits.empty or pp.reps.empty:
        out = _empty_rollup(pp)
    else:
        out = portfolio.credit_rollup(credited, credits, pp.reps)
    rest = pp.results[~pp.results["customer_id"].isin(credited_ids)]
    unassigned = {c: int(rest[c].sum()) for c in portfolio.MONEY_COLUMNS}
    unassigned["customers"] = len(rest)
    unassigned["loss_making_customers"] = int((rest["profit_cents"] < 0).sum())
    out["unassigned"] = pd.DataFrame([unassigned])
    return out


def _money_dict(row) -> dict:
    out = {}
    for column in portfolio.MONEY_COLUMNS:
        out[column.removesuffix("_cents")] = Decimal(int(row[column])).scaleb(-2)
    out["customers"] = int(row["customers"])
    out["loss_making_customers"] = int(row["loss_making_customers"])
    revenue = out["revenue"]
    out["margin_pct"] = (out["gross_margin"] / revenue) if revenue else None
    return out


def rep_results(*, period: Period, user, pp: PeriodPortfolio | None = None) -> dict:
    """Customer profit credited per rep, pair and team (and the company), limited to what the user
    sees: finance everything (with the company total and the unassigned customers), a manager
    their teams, a rep their own pair and its reps. Money in Decimal euros."""
    pp = pp or period_portfolio(period=period)
    frames = rollup(pp)
    everything = sees_everything(user)
    pair_ids = set(pairs_for_user(user).values_list("id", flat=True))
    if everything:
        team_ids = set(pp.pairs["team_id"])
    elif MANAGER in user_roles(user):
        team_ids = set(managed_teams(user).values_list("id", flat=True))
    else:
        team_ids = set()
    pairs = pp.pairs.set_index("pair_id")
    rep_rows = []
    for row in frames["rep"].itertuples(index=False):
        if row.pair_id not in pair_ids and row.team_id not in team_ids:
            continue
        pair = pairs.loc[row.pair_id]
        role = "outside" if pair["outside_rep_id"] == row.rep_id else "inside"
        rep_rows.append(
            {
                "rep_id": int(row.rep_id),
                "rep": pp.rep_names.get(row.rep_id, ""),
                "role": role,
                "pair_id": int(row.pair_id),
                "pair": pair["code"],
                "team_id": int(row.team_id),
                "team": pp.team_names.get(row.team_id, ""),
                **_money_dict(row._asdict()),
            }
        )
    pair_rows = []
    for row in frames["pair"].itertuples(index=False):
        if row.pair_id not in pair_ids and row.team_id not in team_ids:
            continue
        pair = pairs.loc[row.pair_id]
        pair_rows.append(
            {
                "pair_id": int(row.pair_id),
                "pair": pair["code"],
                "outside_rep": pp.rep_names.get(pair["outside_rep_id"], ""),
                "inside_rep": pp.rep_names.get(pair["inside_rep_id"], ""),
                "outside_share": Decimal(str(round(float(pair["outside_share"]) * 100, 2))),
                "team_id": int(row.team_id),
                "team": pp.team_names.get(row.team_id, ""),
                **_money_dict(row._asdict()),
            }
        )
    team_rows = [
        {"team_id": int(row.team_id), "team": pp.team_names.get(row.team_id, ""), **_money_dict(row._asdict())}
        for row in frames["team"].itertuples(index=False)
        if row.team_id in team_ids
    ]
    return {
        "period": period.name,
        "reps": sorted(rep_rows, key=lambda r: (r["team"], r["pair"], r["role"] != "outside")),
        "pairs": sorted(pair_rows, key=lambda r: (r["team"], r["pair"])),
        "teams": sorted(team_rows, key=lambda r: r["team"]),
        "company": _money_dict(frames["company"].iloc[0]) if everything else None,
        "unassigned": _money_dict(frames["unassigned"].iloc[0]) if everything else None,
        "profit_computed": bool(pp.results["profit_computed"].all()) if len(pp.results) else False,
    }


def pair_customers(*, pp: PeriodPortfolio, pair_id: int) -> list[dict]:
    """The customers a pair owned in the period with their results and the pair's weight, by profit."""
    weights = pp.weights[pp.weights["pair_id"] == pair_id][["customer_id", "weight_in_period", "outside_share"]]
    frame = weights.merge(pp.results, on="customer_id", how="inner")
    frame = frame.sort_values(["profit_cents", "external_id"], ascending=[True, True], kind="stable")
    rows = []
    for r in frame.itertuples(index=False):
        rows.append(
            {
                "customer_id": int(r.customer_id),
                "external_id": r.external_id,
                "name": r.name,
                "level": r.level,
                "weight_in_period": Decimal(str(round(float(r.weight_in_period), 4))),
                "outside_share": Decimal(str(round(float(r.outside_share) * 100, 2))),
                "revenue": Decimal(int(r.revenue_cents)).scaleb(-2),
                "gross_margin": Decimal(int(r.gross_margin_cents)).scaleb(-2),
                "allocated": Decimal(int(r.allocated_cents)).scaleb(-2),
                "profit": Decimal(int(r.profit_cents)).scaleb(-2),
                "loss_making": bool(r.profit_cents < 0),
            }
        )
    return rows


# --- bonus ------------------------------------------------------------------------------------


def subject_portfolio(
    pp: PeriodPortfolio,
    *,
    pair_id: int | None = None,
    rep_id: int | None = None,
    overrides: dict[int, dict[str, int]] | None = None,
) -> pd.DataFrame:
    """The portfolio frame of :func:`bonus.kpi_actuals` for one pair or one rep.

    A pair's credit_share is its weight in the period; a rep's is weight × its share within the
    pair. ``overrides`` {customer_id: {"revenue_cents": .., "gross_margin_cents": .., "profit_cents": ..}}
    replaces a customer's current figures (the what-if of the bonus estimator). Extra columns:
    external_id, name, level, revenue_prev_cents.
    """
    if (pair_id is None) == (rep_id is None):
        raise ValueError("Give a pair or a rep.")
    if pair_id is not None:
        owned = pp.weights[pp.weights["pair_id"] == pair_id]
        owned = owned.assign(credit_share=owned["weight_in_period"])[["customer_id", "credit_share"]]
    else:
        owned = pp.credits[pp.credits["rep_id"] == rep_id]
        owned = owned.assign(credit_share=owned["weight_in_period"] * owned["share"])
        owned = owned.groupby("customer_id", as_index=False)["credit_share"].sum()
    current = pp.results.set_index("customer_id")
    prev = pp.previous_results.set_index("customer_id")
    ids = owned["customer_id"]
    frame = owned.assign(
        credit_share=owned["credit_share"].clip(0, 1),
        external_id=ids.map(current["external_id"]).fillna(""),
        name=ids.map(current["name"]).fillna(""),
        level=ids.map(current["level"]).fillna(""),
        revenue_cents=ids.map(current["revenue_cents"]).fillna(0).astype("int64"),
        gross_margin_cents=ids.map(current["gross_margin_cents"]).fillna(0).astype("int64"),
        profit_cents=ids.map(current["profit_cents"]).fillna(0).astype("int64"),
        profit_prev_cents=ids.map(prev["profit_cents"]).astype("float64"),
        revenue_prev_cents=ids.map(prev["revenue_cents"]).fillna(0).astype("int64"),
        level_prev=ids.map(prev["level"]),
    )
    for customer_id, values in (overrides or {}).items():
        mask = frame["customer_id"] == customer_id
        for column, value in values.items():
            frame.loc[mask, column] = int(value)
    frame["active"] = frame["revenue_cents"] > 0
    frame["active_prev"] = frame["level_prev"].isin(ACTIVE_LEVELS)
    frame["level_rank"] = frame["level"].map(LEVEL_RANK).fillna(OTHER_LEVEL_RANK).astype("float64")
    frame.loc[frame["active"] & ~frame["level"].isin(ACTIVE_LEVELS), "level_rank"] = LEVEL_RANK["small"]
    frame["level_rank_prev"] = frame["level_prev"].map(LEVEL_RANK).astype("float64")
    frame.loc[frame["level_prev"].notna() & frame["level_rank_prev"].isna(), "level_rank_prev"] = OTHER_LEVEL_RANK
    return frame.drop(columns="level_prev").reset_index(drop=True)


@dataclass
class KpiLine:
    kpi_id: int | None
    metric: str
    label: str
    weight: Decimal
    threshold: Decimal
    target: Decimal
    cap: Decimal
    base_amount: Decimal
    actual: Decimal | None
    attainment: Decimal
    amount: Decimal
    drivers: list[dict] = field(default_factory=list)


@dataclass
class SubjectBonus:
    """The bonus of one pair or rep in a period: one line per KPI, the total in euros."""

    kind: str  # "pair" or "rep"
    subject_id: int
    label: str
    lines: list[KpiLine]
    total: Decimal
    actuals: dict[str, Decimal | None]

    @property
    def weight_total(self) -> Decimal:
        """The sum of this subject's KPI weights, a fraction (1 = 100 %)."""
        return sum((line.weight for line in self.lines), Decimal(0))

    @property
    def weights_add_up(self) -> bool:
        return bonus.weights_add_up([line.weight for line in self.lines])


def kpis_of(*, period: Period) -> list[BonusKpi]:
    return list(BonusKpi.objects.filter(period=period).select_related("rep", "pair").order_by("id"))


def kpi_weight_total(
    *, period: Period, weight: Decimal, rep_id: int | None = None, pair_id: int | None = None, kpi_id: int | None = None
) -> Decimal:
    """The weights of a rep's (or pair's) KPIs in ``period`` if KPI ``kpi_id`` (None: a new one) gets
    ``weight``: the sum after that save, a fraction (1 = 100 %). One query."""
    others = BonusKpi.objects.filter(period=period).exclude(pk=kpi_id)
    others = others.filter(rep_id=rep_id) if rep_id else others.filter(pair_id=pair_id)
    return sum(others.values_list("weight", flat=True), Decimal(0)) + weight


def metric_label(metric: str) -> str:
    return str(dict(BonusKpi.Metric.choices).get(metric, bonus.METRIC_LABELS.get(metric, metric)))


def score_kpis(frame: pd.DataFrame, kpis: list, *, with_drivers: bool = False) -> tuple[list[KpiLine], Decimal, dict]:
    """Attainment and bonus of ``kpis`` (BonusKpi rows or objects with the same fields) on a portfolio.

    KPIs with the same base amount are scored together by :func:`bonus.bonus`; the total is the
    sum over those groups.
    """
    actuals = bonus.kpi_actuals(frame)
    lines: list[KpiLine | None] = [None] * len(kpis)
    groups: dict[Decimal, list[int]] = {}
    for i, kpi in enumerate(kpis):
        groups.setdefault(Decimal(kpi.base_amount), []).append(i)
    total = Decimal("0.00")
    for base_amount, indexes in groups.items():
        inputs = [
            bonus.KpiInput(
                metric=kpis[i].metric,
                weight=Decimal(kpis[i].weight),
                threshold=Decimal(kpis[i].threshold),
                target=Decimal(kpis[i].target),
                cap=Decimal(kpis[i].cap),
                actual=actuals[kpis[i].metric],
            )
            for i in indexes
        ]
        result = bonus.bonus(base_amount=base_amount, kpis=inputs)
        total += result.total
        for i, line in zip(indexes, result.lines, strict=True):
            kpi = kpis[i]
            lines[i] = KpiLine(
                kpi_id=getattr(kpi, "id", None),
                metric=kpi.metric,
                label=metric_label(kpi.metric),
                weight=Decimal(kpi.weight),
                threshold=Decimal(kpi.threshold),
                target=Decimal(kpi.target),
                cap=Decimal(kpi.cap),
                base_amount=base_amount,
                actual=line.actual,
                attainment=line.attainment,
                amount=line.amount,
                drivers=kpi_drivers(frame, kpi.metric) if with_drivers else [],
            )
    return [line for line in lines if line is not None], total, actuals


def kpi_drivers(frame: pd.DataFrame, metric: str, n: int = 3) -> list[dict]:
    """The customers that move a KPI most: the largest credited contributions up and down for money
    metrics, the lost customers for retention, the customers moved up for 'customers moved up'."""

    def listed(rows: pd.DataFrame, values: pd.Series | None, note: str = "") -> list[dict]:
        out = []
        for idx, r in rows.iterrows():
            value = None if values is None else Decimal(int(round(values.loc[idx]))).scaleb(-2)
            out.append({"customer_id": int(r.customer_id), "name": r["name"], "value": value, "note": note})
        return out

    share = frame["credit_share"]
    if metric in ("portfolio_profit", "revenue", "gross_margin", "profit_growth"):
        if metric == "profit_growth":
            known = frame["profit_prev_cents"].notna()
            values = (share * (frame["profit_cents"] - frame["profit_prev_cents"])).where(known)
        else:
            column = {
                "portfolio_profit": "profit_cents",
                "revenue": "revenue_cents",
                "gross_margin": "gross_margin_cents",
            }
            values = share * frame[column[metric]]
        values = values.dropna()
        up = values[values > 0].sort_values(ascending=False).head(n)
        down = values[values < 0].sort_values().head(n)
        return listed(frame.loc[up.index], up) + listed(frame.loc[down.index], down)
    if metric == "customer_retention":
        lost = frame[frame["active_prev"] & ~frame["active"]].sort_values("revenue_prev_cents", ascending=False)
        return listed(lost.head(n * 2), None, "lost")
    if metric == "customers_moved_up":
        moved = frame[frame["active"] & (frame["level_rank"] < frame["level_rank_prev"])]
        return listed(moved.sort_values("revenue_cents", ascending=False).head(n * 2), None, "moved up")
    return []


def subject_bonus(
    pp: PeriodPortfolio,
    kpis: list,
    *,
    pair_id: int | None = None,
    rep_id: int | None = None,
    overrides: dict | None = None,
    with_drivers: bool = False,
) -> SubjectBonus:
    frame = subject_portfolio(pp, pair_id=pair_id, rep_id=rep_id, overrides=overrides)
    lines, total, actuals = score_kpis(frame, kpis, with_drivers=with_drivers)
    if pair_id is not None:
        codes = pp.pairs.set_index("pair_id")["code"]
        label = str(codes.get(pair_id, pair_id))
        return SubjectBonus("pair", pair_id, label, lines, total, actuals)
    return SubjectBonus("rep", rep_id, pp.rep_names.get(rep_id, str(rep_id)), lines, total, actuals)


def split_pair_bonus(total: Decimal, outside_share: float) -> tuple[Decimal, Decimal]:
    """A pair's bonus split over its outside and inside rep by the pair's credit %, to the cent."""
    outside = (total * Decimal(str(outside_share))).quantize(CENT, rounding=ROUND_HALF_UP)
    return outside, total - outside


def bonus_overview(*, period: Period, user, pp: PeriodPortfolio | None = None, with_drivers: bool = False) -> dict:
    """Every pair's and rep's bonus the user may see.

    A rep's bonus = the bonus of the KPIs set on the rep + its share of its pair's bonus (the
    pair's outside rep credit %; the inside rep gets the rest).
    """
    pp = pp or period_portfolio(period=period)
    kpis = kpis_of(period=period)
    visible_pairs = set(pairs_for_user(user).values_list("id", flat=True))
    visible_reps = set(bonus_reps_for_user(user).values_list("id", flat=True))  # a rep: not the partner
    by_pair: dict[int, list] = {}
    by_rep: dict[int, list] = {}
    for kpi in kpis:
        if kpi.pair_id:
            by_pair.setdefault(kpi.pair_id, []).append(kpi)
        else:
            by_rep.setdefault(kpi.rep_id, []).append(kpi)
    pairs = pp.pairs.set_index("pair_id")
    pair_bonus = {
        pid: subject_bonus(pp, items, pair_id=pid, with_drivers=with_drivers)
        for pid, items in by_pair.items()
        if pid in visible_pairs and pid in pairs.index
    }
    rep_pair = pp.reps.set_index("rep_id")["pair_id"]
    rows = []
    for rep_id in sorted(visible_reps & set(pp.reps["rep_id"]) | (visible_reps & set(by_rep))):
        own = None
        if rep_id in by_rep:
            own = subject_bonus(pp, by_rep[rep_id], rep_id=rep_id, with_drivers=with_drivers)
        from_pair = Decimal("0.00")
        pair_id = int(rep_pair[rep_id]) if rep_id in rep_pair.index else None
        if pair_id is not None and pair_id in pair_bonus:
            pair = pairs.loc[pair_id]
            outside, inside = split_pair_bonus(pair_bonus[pair_id].total, float(pair["outside_share"]))
            from_pair = outside if pair["outside_rep_id"] == rep_id else inside
        rows.append(
            {
                "rep_id": rep_id,
                "rep": pp.rep_names.get(rep_id, ""),
                "pair_id": pair_id,
                "pair": str(pairs.loc[pair_id]["code"]) if pair_id is not None else "",
                "own": own,
                "own_total": own.total if own else Decimal("0.00"),
                "from_pair": from_pair,
                "total": (own.total if own else Decimal("0.00")) + from_pair,
            }
        )
    rows.sort(key=lambda r: (r["pair"], r["rep"]))
    return {
        "period": period.name,
        "pairs": sorted(pair_bonus.values(), key=lambda b: b.label),
        "reps": rows,
        "kpis": [k for k in kpis if (k.pair_id in visible_pairs) or (k.rep_id in visible_reps)],
    }


def bonus_compare(
    *,
    pp: PeriodPortfolio,
    user,
    base_amount: Decimal,
    threshold_pct: Decimal,
    target_pct: Decimal,
    cap: Decimal,
) -> list[dict]:
    """Per pair the user sees: what a revenue-based and a profit-based bonus would pay.

    Both KPI sets hold one KPI of weight 1 on the pair's credited revenue (or customer profit)
    with threshold = last year's credited figure × ``threshold_pct`` % and target = × ``target_pct`` %
    (last year's figure of the customers the pair owns now); both use the same cap and base amount
    (:func:`bonus.compare_revenue_vs_profit_bonus`).
    """
    visible = set(pairs_for_user(user).values_list("id", flat=True))
    rows = []
    for pair in pp.pairs.sort_values("code").itertuples(index=False):
        if pair.pair_id not in visible:
            continue
        frame = subject_portfolio(pp, pair_id=pair.pair_id)
        share = frame["credit_share"]
        last_revenue = _euros_from_cents(float((share * frame["revenue_prev_cents"]).sum()))
        last_profit = _euros_from_cents(float((share * frame["profit_prev_cents"].fillna(0)).sum()))

        def spec(metric: str, last: Decimal) -> bonus.KpiSpec:
            threshold = _scaled(last, threshold_pct)
            target = _scaled(last, target_pct)
            return bonus.KpiSpec(metric=metric, weight=Decimal(1), threshold=threshold, target=target, cap=cap)

        revenue_spec = spec("revenue", last_revenue)
        profit_spec = spec("portfolio_profit", last_profit)
        result = bonus.compare_revenue_vs_profit_bonus(
            frame, base_amount=base_amount, revenue_kpis=[revenue_spec], profit_kpis=[profit_spec]
        )
        rows.append(
            {
                "pair_id": int(pair.pair_id),
                "pair": pair.code,
                "team": pp.team_names.get(pair.team_id, ""),
                "revenue_last": last_revenue,
                "revenue": result.actuals["revenue"],
                "revenue_threshold": revenue_spec.threshold,
                "revenue_target": revenue_spec.target,
                "revenue_attainment": result.revenue_based.lines[0].attainment,
                "revenue_bonus": result.revenue_based.total,
                "profit_last": last_profit,
                "profit": result.actuals["portfolio_profit"],
                "profit_threshold": profit_spec.threshold,
                "profit_target": profit_spec.target,
                "profit_attainment": result.profit_based.lines[0].attainment,
                "profit_bonus": result.profit_based.total,
                "difference": result.difference,
            }
        )
    return rows


def _euros_from_cents(cents: float) -> Decimal:
    return (Decimal(repr(round(cents, 6))) / 100).quantize(CENT, rounding=ROUND_HALF_UP) + 0


def _scaled(amount: Decimal, pct: Decimal) -> Decimal:
    """``amount`` × pct %, away from zero for a loss: a loss target of 110 % is a smaller loss."""
    factor = pct / 100
    if amount < 0:
        factor = 2 - factor
    return (amount * factor).quantize(CENT, rounding=ROUND_HALF_UP)


# --- targets ----------------------------------------------------------------------------------


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
    results = (pp.results if pp else customer_results(period=period)).set_index("customer_id")
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
    cur = _levels_frame(period=period, team_ids=team_ids)
    prev = _levels_frame(period=previous, team_ids=team_ids) if previous else cur.iloc[0:0]
    merged = cur.merge(
        prev[["customer_id", "level"]].rename(columns={"level": "level_prev"}),
        on="customer_id",
        how="left",
    )
    developed = (merged["level"] == "top") & (
        merged["level_prev"].isin(["prospect", "suspect"]) | merged["level_prev"].isna()
    )
    active_prev = prev.assign(active=prev["level"].isin(ACTIVE_LEVELS))
    active_prev = active_prev[active_prev["active"]]
    still = active_prev["customer_id"].isin(cur.loc[cur["level"].isin(ACTIVE_LEVELS), "customer_id"])
    out: dict[int, dict[str, Decimal | None]] = {}
    for team_id in team_ids:
        before = active_prev["team_id"] == team_id
        retained = (
            (Decimal(int((still & before).sum())) * 100 / Decimal(int(before.sum()))).quantize(
                CENT, rounding=ROUND_HALF_UP
            )
            if before.any()
            else None
        )
        out[team_id] = {
            "new_suspects": Decimal(suspects.get(team_id, 0)),
            "prospects_to_top": Decimal(int((developed & (merged["team_id"] == team_id)).sum())),
            "retention": retained if previous else None,
        }
    return out


def _levels_frame(*, period: Period, team_ids: list[int]) -> pd.DataFrame:
    rows = CustomerPeriod.objects.filter(period=period, customer__pair__team_id__in=team_ids).values_list(
        "customer_id", "level", "existing", "customer__pair__team_id"
    )
    return pd.DataFrame.from_records(list(rows), columns=["customer_id", "level", "existing", "team_id"])


# --- the rep's start page ---------------------------------------------------------------------


def monthly_revenue(*, customer_ids, periods: list[Period]) -> dict[int, list[int]]:
    """Net revenue in cents per month of each period (12 values, from the period's first month) for
    the given customers (a list or a subquery): one aggregate query."""
    from customers.models import OrderLine

    out = {p.id: [0] * 12 for p in periods}
    if not periods:
        return out
    starts = {p.id: p.start for p in periods}
    rows = (
        OrderLine.objects.filter(period__in=[p.id for p in periods], customer_id__in=customer_ids)
        .annotate(month=TruncMonth("order__date"))
        .values("period_id", "month")
        .annotate(revenue=sum_cents("amount"))
        .values_list("period_id", "month", "revenue")
    )
    for period_id, month, revenue in rows:
        start = starts[period_id]
        index = (month.year - start.year) * 12 + month.month - start.month
        if 0 <= index < 12:
            out[period_id][index] += int(revenue or 0)
    return out


def monthly_target_cents(*, period: Period, customer_ids) -> list[int]:
    """The monthly revenue targets of the customers' targets (seasonality or an even split), summed."""
    months = np.zeros(12, dtype=np.int64)
    rows = CustomerTarget.objects.filter(
        period=period, customer_id__in=customer_ids, target_revenue__isnull=False
    ).values_list(cents_sql(F("target_revenue")), "seasonality")
    even_total = 0
    for cents, seasonality in rows:
        if seasonality:
            try:
                months += np.asarray(portfolio.monthly_targets(int(cents), [float(x) for x in seasonality]))
                continue
            except (TypeError, ValueError):
                pass
        even_total += int(cents)
    if even_total:
        months += np.asarray(portfolio.monthly_targets(even_total, None))
    return [int(m) for m in months]


def month_labels(period: Period) -> list[str]:
    """'Jan 2025' .. 'Dec 2025' (in the active language) for the period's 12 months."""
    from django.utils.formats import date_format

    first = period.start.year * 12 + period.start.month - 1
    return [date_format(dt.date((first + i) // 12, (first + i) % 12 + 1, 1), "M Y") for i in range(12)]


def portfolio_rows(*, pp: PeriodPortfolio, customer_ids: list[int]) -> pd.DataFrame:
    """The rep's customers with level, revenue, profit, visits and target progress (3 queries)."""
    customers = pd.DataFrame.from_records(
        list(Customer.objects.filter(id__in=customer_ids).values_list("id", "external_id", "name", "status")),
        columns=["customer_id", "external_id", "name", "status"],
    )
    results = pp.results[
        ["customer_id", "level", "revenue_cents", "gross_margin_cents", "profit_cents", "profit_computed"]
    ]
    frame = customers.merge(results, on="customer_id", how="left")
    frame["level"] = frame["level"].fillna(frame["status"].where(frame["status"] != "customer", "inactive"))
    for column in ("revenue_cents", "gross_margin_cents", "profit_cents"):
        frame[column] = frame[column].fillna(0).astype("int64")
    targets = pd.DataFrame.from_records(
        list(
            CustomerTarget.objects.filter(period=pp.period, customer_id__in=customer_ids).values_list(
                "customer_id",
                cents_sql(F("target_revenue")),
                cents_sql(F("target_profit")),
                "target_level",
                "proposed_by_pair",
            )
        ),
        columns=["customer_id", "target_revenue_cents", "target_profit_cents", "target_level", "proposed_by_pair"],
    )
    frame = frame.merge(targets, on="customer_id", how="left")
    drivers = visit_drivers_for(period=pp.period, customer_ids=customer_ids)
    frame = frame.merge(drivers, on="customer_id", how="left")
    frame[["visits", "visit_minutes"]] = frame[["visits", "visit_minutes"]].fillna(0).astype("int64")
    target = frame["target_revenue_cents"].astype("float64")
    frame["revenue_progress"] = (frame["revenue_cents"] / target).where(target > 0)
    return frame.sort_values(["revenue_cents", "name"], ascending=[False, True], kind="stable").reset_index(drop=True)


def visit_drivers_for(*, period: Period, customer_ids) -> pd.DataFrame:
    rows = (
        Visit.objects.filter(period=period, customer_id__in=customer_ids)
        .values("customer_id")
        .annotate(visits=Count("id"), visit_minutes=Sum("minutes"))
        .values_list("customer_id", "visits", "visit_minutes")
    )
    return pd.DataFrame.from_records(list(rows), columns=["customer_id", "visits", "visit_minutes"]).astype("int64")


def visit_plan_rows(*, frame: pd.DataFrame, today: dt.date) -> pd.DataFrame:
    """:func:`portfolio.visit_plan` over a portfolio frame (customer_id, level, profit_cents,
    visit_minutes, name): the last visit read in one query, norms from VisitNorm or the defaults."""
    if frame.empty:
        return frame.assign(last_visit=pd.NaT, next_due=None, days_overdue=0, status="no_norm")
    last = last_visits(customer_ids=list(frame["customer_id"]), until=today)
    customers = frame[["customer_id", "external_id", "name", "level", "profit_cents", "visit_minutes"]].merge(
        last, on="customer_id", how="left"
    )
    return portfolio.visit_plan(customers, today=today, norms=visit_norms())


# --- visit effectiveness ----------------------------------------------------------------------


def visit_effectiveness(*, period: Period, user, pp: PeriodPortfolio | None = None) -> dict:
    """Per customer and per rep: visits and minutes against revenue and profit, with the
    over-/under-served flags of :func:`portfolio.service_flags` (reference day: today, or the
    period's last day for a past period)."""
    pp = pp or period_portfolio(period=period)
    today = min(timezone.localdate(), period.end)
    scope = customer_scope_ids(user)
    # The norms (median visit minutes per level, high-value threshold) are the company's: the
    # flags are computed over every customer of the period, then only the rows are scoped.
    all_visits = Visit.objects.filter(period=period)
    visits = all_visits if scope is None else all_visits.filter(customer_id__in=scope)
    per_customer = pd.DataFrame.from_records(
        list(
            all_visits.values("customer_id")
            .annotate(visits=Count("id"), visit_minutes=Sum("minutes"))
            .values_list("customer_id", "visits", "visit_minutes")
        ),
        columns=["customer_id", "visits", "visit_minutes"],
    )
    frame = pp.results.merge(per_customer, on="customer_id", how="left")
    frame[["visits", "visit_minutes"]] = frame[["visits", "visit_minutes"]].fillna(0).astype("int64")
    # Customers of the period that matter: active ones and any that were visited.
    frame = frame[(frame["revenue_cents"] != 0) | (frame["visits"] > 0)].reset_index(drop=True)
    last = last_visits(customer_ids=list(frame["customer_id"]), until=today) if len(frame) else None
    if last is not None:
        frame = frame.merge(last, on="customer_id", how="left")
    else:
        frame = frame.assign(last_visit=pd.NaT)
    if len(frame):
        flags = portfolio.service_flags(
            frame[["customer_id", "level", "visit_minutes", "profit_cents", "last_visit"]], today=today
        )
        frame = frame.merge(flags, on="customer_id", how="left")
    else:
        frame = frame.assign(
            over_served=False,
            under_served=False,
            reason="",
            median_minutes=0.0,
            days_since=float("nan"),
            under_limit_days=0,
        )
    if scope is not None:
        allowed = set(customer_scope(user).values_list("id", flat=True))
        frame = frame[frame["customer_id"].isin(allowed)].reset_index(drop=True)
    hours = frame["visit_minutes"] / 60
    frame["revenue_per_hour_cents"] = (frame["revenue_cents"] / hours).where(hours > 0)
    frame["profit_per_hour_cents"] = (frame["profit_cents"] / hours).where(hours > 0)

    per_rep = pd.DataFrame.from_records(
        list(
            visits.values("rep_id")
            .annotate(visits=Count("id"), visit_minutes=Sum("minutes"), customers=Count("customer_id", distinct=True))
            .values_list("rep_id", "visits", "visit_minutes", "customers")
        ),
        columns=["rep_id", "visits", "visit_minutes", "visited_customers"],
    )
    results_by_rep = {r["rep_id"]: r for r in rep_results(period=period, user=user, pp=pp)["reps"]}
    rep_rows = []
    visits_by_rep = per_rep.set_index("rep_id") if len(per_rep) else None
    for rep_id in sorted(set(results_by_rep) | (set(per_rep["rep_id"]) if len(per_rep) else set())):
        credited = results_by_rep.get(rep_id)
        v = visits_by_rep.loc[rep_id] if visits_by_rep is not None and rep_id in visits_by_rep.index else None
        minutes = int(v["visit_minutes"]) if v is not None else 0
        revenue = credited["revenue"] if credited else None
        profit = credited["profit"] if credited else None
        rep_rows.append(
            {
                "rep_id": int(rep_id),
                "rep": pp.rep_names.get(rep_id, ""),
                "pair": credited["pair"] if credited else "",
                "visits": int(v["visits"]) if v is not None else 0,
                "visit_minutes": minutes,
                "visited_customers": int(v["visited_customers"]) if v is not None else 0,
                "revenue": revenue,
                "profit": profit,
                "revenue_per_hour": (revenue / Decimal(minutes) * 60).quantize(CENT) if revenue and minutes else None,
                "profit_per_hour": (profit / Decimal(minutes) * 60).quantize(CENT) if profit and minutes else None,
                "loss_making_customers": credited["loss_making_customers"] if credited else 0,
            }
        )
    return {"customers": frame, "reps": rep_rows, "today": today}
