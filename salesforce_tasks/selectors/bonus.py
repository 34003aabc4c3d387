"""Bonus: the KPIs of a period, their scores and drivers, the bonus per rep and pair and the comparison."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from customers.figures_cache import period_frames, period_frames_get
from customers.models import Period
from customers.policy import (  # who sees what: one place
    bonus_reps_for_user,
    pairs_for_user,
)

from .. import bonus
from ..models import BonusKpi
from .common import ACTIVE_LEVELS, CENT, LEVEL_RANK, OTHER_LEVEL_RANK
from .results import PeriodPortfolio, period_portfolio


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
    current = pp.results_by_customer
    prev = pp.previous_by_customer
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


#: The comparison's defaults (the form's initial values): the page opens with them, so their rows
#: for every pair are built once per version (ahead, by the value stage's task) and shared.
COMPARE_DEFAULTS = {
    "threshold_pct": Decimal("100"),
    "target_pct": Decimal("110"),
    "cap": Decimal("1.5"),
    "base_amount": Decimal("5000"),
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
    (:func:`bonus.compare_revenue_vs_profit_bonus`). Callers never change the rows they get.
    """
    params = {"threshold_pct": threshold_pct, "target_pct": target_pct, "cap": cap, "base_amount": base_amount}
    if params == COMPARE_DEFAULTS:
        rows = period_frames_get("bonus_compare", pp.period)
    else:
        rows = _compare_rows(pp, **params)
    visible = set(pairs_for_user(user).values_list("id", flat=True))
    return [row for row in rows if row["pair_id"] in visible]


@period_frames("bonus_compare")
def _compare_defaults(period: Period) -> list[dict]:
    return _compare_rows(period_portfolio(period=period), **COMPARE_DEFAULTS)


def _compare_rows(
    pp: PeriodPortfolio, *, base_amount: Decimal, threshold_pct: Decimal, target_pct: Decimal, cap: Decimal
) -> list[dict]:
    """The comparison's rows of every pair, by pair code."""
    rows = []
    for pair in pp.pairs.sort_values("code").itertuples(index=False):
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
