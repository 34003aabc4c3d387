"""Customer results and the credit split: who is credited with which customer's figures in a period
(``PeriodPortfolio``), the roll-up per rep and pair and one pair's customers.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pandas as pd
from django.db.models import Exists, OuterRef

from config.roles import MANAGER, user_roles
from customers.figures_cache import period_frames, period_frames_get
from customers.models import Customer, Period
from customers.policy import (  # who sees what: one place
    managed_teams,
    pairs_for_user,
    sees_everything,
)

from .. import portfolio
from ..models import PortfolioAssignment, RepPair, SalesRep, Team
from .common import period_previous

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

    @functools.cached_property
    def results_by_customer(self) -> pd.DataFrame:
        """``results`` indexed by customer_id, built once: lookups per pair reuse its hash table."""
        return self.results.set_index("customer_id")

    @functools.cached_property
    def previous_by_customer(self) -> pd.DataFrame:
        return self.previous_results.set_index("customer_id")


def period_portfolio(*, period: Period) -> PeriodPortfolio:
    """Who is credited with what in the period, from the stored figures and the organisation:
    kept until either changes (``customers.figures_cache``: both are in its version), and built
    ahead by the value stage's task. Callers filter and merge its frames into new ones, never
    change them."""
    return period_frames_get("period_portfolio", period)


@period_frames("period_portfolio")
def _period_portfolio(period: Period) -> PeriodPortfolio:
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


@period_frames("period_rollup")
def _period_rollup(period: Period) -> dict[str, pd.DataFrame]:
    return rollup(period_portfolio(period=period))


def period_rollup(*, period: Period) -> dict[str, pd.DataFrame]:
    """``rollup`` of the period's portfolio: the same for every viewer, so built once per version
    (ahead, by the value stage's task) and shared. Callers never change what they get."""
    return period_frames_get("period_rollup", period)


def rep_results(*, period: Period, user, pp: PeriodPortfolio | None = None) -> dict:
    """Customer profit credited per rep, pair and team (and the company), limited to what the user
    sees: finance everything (with the company total and the unassigned customers), a manager
    their teams, a rep their own pair and its reps. Money in Decimal euros."""
    pp = pp or period_portfolio(period=period)
    frames = period_rollup(period=pp.period)
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
