"""Reads of the scenarios app."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import F, OuterRef, QuerySet, Subquery

from config.bulk import query_frame, remembered_frame
from config.money import as_float_euros, cents_sql
from config.snapshot import read_once
from customers.models import CustomerPeriod, Period

from . import projection, valuation
from .models import CustomerValue, Scenario, SegmentTarget, SurveyResponse, ValueSettings


def value_settings_get() -> ValueSettings:
    obj, _ = ValueSettings.objects.get_or_create(pk=1)
    return obj


def level_pairs(*, up_to: Period) -> pd.DataFrame:
    """customer_id, from_level, to_level for every consecutive pair of periods up to ``up_to``.

    Only customers in the chain (from level top/big/medium/small/inactive) count. Each period's
    levels are read again only when they changed (``config.bulk.remembered_frame``): after an order
    only the latest period's.
    """
    periods = list(Period.objects.filter(name__lte=up_to.name).order_by("name").values_list("id", "name"))
    levels = {period_id: _stored_levels(period_id) for period_id, _ in periods}
    pairs = []
    for (prev_id, _), (cur_id, _) in zip(periods, periods[1:], strict=False):
        prev = levels[prev_id].rename(columns={"level": "from_level"})
        cur = levels[cur_id].rename(columns={"level": "to_level"})
        pair = prev.merge(cur, on="customer_id", how="inner")
        pairs.append(pair[pair["from_level"].isin(valuation.STATES)])
    if not pairs:
        return pd.DataFrame(columns=["customer_id", "from_level", "to_level"])
    result = pd.concat(pairs, ignore_index=True)
    # A chain customer seen again as prospect/suspect cannot happen; guard against bad data anyway.
    return result[result["to_level"].isin(valuation.STATES)]


def _stored_levels(period_id: int) -> pd.DataFrame:
    """customer_id, level of a period's stored pyramid."""

    def read() -> pd.DataFrame:
        rows = CustomerPeriod.objects.filter(period_id=period_id).values_list("customer_id", "level")
        return query_frame(rows, ["customer_id", "level"], int_columns=("customer_id",))

    return remembered_frame(CustomerPeriod, {"period_id": period_id}, read)


def survey_frame(*, up_to: Period | None = None) -> pd.DataFrame:
    """customer_id, round, date, score of the survey answers known at the end of ``up_to``.

    The latest period knows every answer (as ``customers.selectors.customers_known`` knows every
    customer): an answer recorded today counts for today's segments even after the period's last day.
    """
    qs = SurveyResponse.objects.all()
    if up_to is not None and Period.objects.filter(name__gt=up_to.name).exists():
        qs = qs.filter(date__lte=up_to.end)
    rows = qs.values_list("customer_id", "round", "date", "score")
    frame = pd.DataFrame.from_records(list(rows), columns=["customer_id", "round", "date", "score"])
    frame["date"] = pd.to_datetime(frame["date"])
    frame["score"] = frame["score"].astype(float)
    return frame


@read_once
def customer_value_frame(*, period: Period) -> pd.DataFrame:
    rows = CustomerValue.objects.filter(period=period).values_list(
        "customer_id", cents_sql(F("clv")), "method", "product_value", "segment"
    )
    frame = pd.DataFrame.from_records(
        list(rows), columns=["customer_id", "clv_cents", "method", "product_value", "segment"]
    )
    frame["product_value"] = pd.to_numeric(frame["product_value"].astype(object), errors="coerce")
    return frame


# --- value segments of a period: pages, API and the report ----------------------------------------

SEGMENT_FRAME_COLUMNS = [
    "customer_id",
    "external_id",
    "name",
    "level",
    "revenue_cents",
    "profit_cents",
    "existing",
    "clv_cents",
    "product_value",
    "segment",
]


@read_once
def period_segment_frame(*, period: Period) -> pd.DataFrame:
    """Every customer with stored values in the period: ``SEGMENT_FRAME_COLUMNS`` (3 queries).

    ``profit_cents`` is a float with NaN while profit is not computed; ``product_value`` NaN = unmeasured.
    """
    from customers.reports import stored_with_profit  # the stored pyramid joined with profit (read-only)

    values = customer_value_frame(period=period)
    stored = stored_with_profit(period)
    cols = ["customer_id", "external_id", "name", "level", "revenue_cents", "profit_cents", "existing"]
    frame = stored[cols].merge(values[["customer_id", "clv_cents", "product_value", "segment"]], on="customer_id")
    frame["profit_cents"] = pd.to_numeric(frame["profit_cents"].astype("Float64"), errors="coerce").astype("float64")
    frame["clv_cents"] = frame["clv_cents"].astype("int64")
    return frame[SEGMENT_FRAME_COLUMNS]


def _scope_filter(frame: pd.DataFrame, scope_ids) -> pd.DataFrame:
    if scope_ids is None:
        return frame
    ids = set(scope_ids.values_list("id", flat=True)) if hasattr(scope_ids, "values_list") else set(scope_ids)
    return frame[frame["customer_id"].isin(ids)]


def segment_overview(*, period: Period, scope_ids=None) -> dict:
    """The 2 x 2 segmentation of the active customers of a period (net revenue > 0).

    Returns ``frame`` (active customers, ``SEGMENT_FRAME_COLUMNS``, scoped), ``summary`` (per segment:
    ``segment, customers, revenue_cents, profit_cents, clv_cents`` from ``valuation.segment_summary``),
    ``clv_threshold_cents`` (the threshold in use: the setting, or the median CLV of all active customers),
    ``clv_threshold_is_median``, ``product_value_threshold``, ``has_profit``, ``computed`` (values stored)
    and ``not_active`` (customers with values but no net revenue in the period, not shown).
    """
    settings = value_settings_get()
    everyone = period_segment_frame(period=period)
    active = everyone[everyone["revenue_cents"] > 0]
    if settings.clv_threshold is None:
        _, threshold = valuation.segment_customers(
            active.assign(active=True)[["customer_id", "clv_cents", "product_value", "active"]],
            product_value_threshold=float(settings.product_value_threshold),
        )
    else:
        threshold = int(round(settings.clv_threshold * 100))
    scoped = _scope_filter(active, scope_ids)
    summary = valuation.segment_summary(
        scoped.assign(profit_cents=scoped["profit_cents"].fillna(0))[
            ["customer_id", "segment", "revenue_cents", "profit_cents", "clv_cents"]
        ]
    )
    return {
        "frame": scoped,
        "summary": summary,
        "clv_threshold_cents": threshold,
        "clv_threshold_is_median": settings.clv_threshold is None,
        "product_value_threshold": float(settings.product_value_threshold),
        "has_profit": bool(scoped["profit_cents"].notna().any()),
        "computed": not everyone.empty,
        "not_active": int(len(_scope_filter(everyone, scope_ids)) - len(scoped)),
    }


def segment_customer_list(*, period: Period, segment: str, scope_ids=None) -> QuerySet[CustomerPeriod]:
    """Active customers of a segment in a period, highest customer value first (one query per page).

    Rows are ``customers.selectors.customer_period_list`` rows (customer, level, revenue, profit) with
    ``clv`` and ``product_value`` annotated.
    """
    from customers.selectors import customer_period_list

    values = CustomerValue.objects.filter(period=period, customer_id=OuterRef("customer_id"))
    return (
        customer_period_list(period=period, scope_ids=scope_ids)
        .filter(
            revenue__gt=0,
            customer_id__in=CustomerValue.objects.filter(period=period, segment=segment).values("customer_id"),
        )
        .annotate(clv=Subquery(values.values("clv")[:1]), product_value=Subquery(values.values("product_value")[:1]))
        .order_by(F("clv").desc(nulls_last=True), "customer__external_id")
    )


def value_explanation(*, period: Period) -> dict:
    """The Markov chain behind CLV for a period: what ``services.customer_value_compute`` uses.

    Returns ``method`` ("markov" or "fallback"), ``matrix`` (5 x 5 frame, ``STATES``), ``counts``
    (customers per cell), ``survival`` (``ACTIVE`` x years), ``factor`` (per level: sum of s_t / (1+d)^t,
    the multiple of this year's profit that is the CLV), ``horizon``, ``discount_rate`` (fraction), ``pairs``
    (number of customer moves observed).
    """
    settings = value_settings_get()
    horizon = int(settings.horizon_years)
    rate = float(settings.discount_rate) / 100
    pairs = level_pairs(up_to=period)
    if len(pairs):
        counts = valuation.transition_counts(pairs)
        matrix = valuation.transition_matrix(pairs)
        surv = valuation.survival(matrix, horizon)
        method = "markov"
    else:
        counts, matrix = None, None
        surv = valuation._fallback_survival(0.8, horizon)
        method = "fallback"
    discount = (1.0 + rate) ** -np.arange(1, horizon + 1, dtype="float64")
    factor = pd.Series(surv.to_numpy() @ discount, index=surv.index)
    return {
        "method": method,
        "matrix": matrix,
        "counts": counts,
        "survival": surv,
        "factor": factor,
        "horizon": horizon,
        "discount_rate": rate,
        "pairs": int(len(pairs)),
    }


# --- segment targets: actual against target ---------------------------------------------------------


def segment_actuals(cur: pd.DataFrame, prev: pd.DataFrame | None) -> pd.DataFrame:
    """Actual figures per value segment for the targets (pure: frames in, frame out).

    ``cur``: every customer with a segment in period P: ``customer_id, segment, revenue_cents,
    profit_cents (NaN = not computed), existing`` (had net revenue before P). ``prev``: ``customer_id,
    revenue_cents`` of P-1, or None when P is the first period. Active = net revenue > 0.

    Per segment S (customers in S now):
    - base: those active in P-1; ``customer_retention`` = base customers active in P / base;
      ``revenue_retention`` = their revenue in P / their revenue in P-1;
    - ``acquisition``: customers in S active in P that never had net revenue before P (new);
    - ``profitability``: share of S's active customers with profit > 0.

    Returns one row per ``valuation.SEGMENTS``: ``segment, base_customers, retained_customers,
    customer_retention, revenue_prev_cents, revenue_cur_cents, revenue_retention, acquisition,
    active_customers, profitable_customers, profitability``; a ratio is NaN when its denominator is 0,
    the retention figures are NaN without P-1, profitability is NaN without profit figures.
    """
    active_now = cur["revenue_cents"] > 0
    frame = pd.DataFrame(
        {
            "segment": cur["segment"].to_numpy(),
            "active": active_now.to_numpy(),
            "new": (active_now & ~cur["existing"].astype(bool)).to_numpy(),
            "profitable": (active_now & (cur["profit_cents"] > 0)).to_numpy(),
            "revenue_cur_cents": cur["revenue_cents"].to_numpy(dtype="int64"),
        }
    )
    if prev is not None:
        prev_revenue = pd.Series(prev["revenue_cents"].to_numpy(dtype="int64"), index=prev["customer_id"].to_numpy())
        before = cur["customer_id"].map(prev_revenue).fillna(0).to_numpy(dtype="int64")
    else:
        before = np.zeros(len(cur), dtype="int64")
    base = before > 0
    frame = frame.assign(
        base=base,
        retained=base & frame["active"].to_numpy(),
        revenue_prev_base=np.where(base, before, 0),
        revenue_cur_base=np.where(base, frame["revenue_cur_cents"], 0),
    )
    grouped = (
        frame.groupby("segment", sort=False)
        .agg(
            base_customers=("base", "sum"),
            retained_customers=("retained", "sum"),
            revenue_prev_cents=("revenue_prev_base", "sum"),
            revenue_cur_cents=("revenue_cur_base", "sum"),
            acquisition=("new", "sum"),
            active_customers=("active", "sum"),
            profitable_customers=("profitable", "sum"),
        )
        .reindex(list(valuation.SEGMENTS), fill_value=0)
        .astype("int64")
    )

    def ratio(num: pd.Series, den: pd.Series) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(den.to_numpy() > 0, num.to_numpy() / den.to_numpy().clip(min=1), np.nan)

    out = grouped.reset_index(names="segment")
    out["customer_retention"] = ratio(out["retained_customers"], out["base_customers"])
    out["revenue_retention"] = ratio(out["revenue_cur_cents"], out["revenue_prev_cents"])
    out["profitability"] = ratio(out["profitable_customers"], out["active_customers"])
    if prev is None:
        out["customer_retention"] = np.nan
        out["revenue_retention"] = np.nan
    if not cur.loc[active_now, "profit_cents"].notna().any():
        out["profitability"] = np.nan
    return out[
        [
            "segment",
            "base_customers",
            "retained_customers",
            "customer_retention",
            "revenue_prev_cents",
            "revenue_cur_cents",
            "revenue_retention",
            "acquisition",
            "active_customers",
            "profitable_customers",
            "profitability",
        ]
    ]


def segment_targets(*, period: Period) -> dict[tuple[str, str], Decimal]:
    return {(t.segment, t.metric): t.target for t in SegmentTarget.objects.filter(period=period)}


def segment_target_report(*, period: Period) -> dict:
    """Actual against target per segment and metric for a period (company-wide; 5 queries).

    Returns ``previous`` (name or None), ``actuals`` (``segment_actuals`` frame) and ``rows``: per segment
    ``segment`` and ``metrics`` [{metric, actual, target, met, numerator, denominator}]: shares as fractions,
    acquisition as a number of customers; ``met`` is None without a target or an actual.
    """
    from customers.selectors import customer_period_frame, period_previous

    previous = period_previous(period)
    cur = period_segment_frame(period=period)
    prev = None
    if previous is not None:
        prev = customer_period_frame(period=previous)[["customer_id", "revenue_cents"]]
    actuals = segment_actuals(cur, prev)
    targets = segment_targets(period=period)
    rows = []
    for a in actuals.itertuples(index=False):
        figures = {
            "revenue_retention": (a.revenue_retention, a.revenue_cur_cents, a.revenue_prev_cents),
            "customer_retention": (a.customer_retention, a.retained_customers, a.base_customers),
            "acquisition": (float(a.acquisition), a.acquisition, None),
            "profitability": (a.profitability, a.profitable_customers, a.active_customers),
        }
        metrics = []
        for metric in SegmentTarget.Metric.values:
            actual, numerator, denominator = figures[metric]
            actual = None if actual is None or np.isnan(actual) else float(actual)
            target = targets.get((a.segment, metric))
            met = None if target is None or actual is None else actual >= float(target)
            metrics.append(
                {
                    "metric": metric,
                    "actual": actual,
                    "target": None if target is None else float(target),
                    "met": met,
                    "numerator": int(numerator),
                    "denominator": None if denominator is None else int(denominator),
                }
            )
        rows.append({"segment": a.segment, "metrics": metrics})
    return {"previous": previous.name if previous else None, "actuals": actuals, "rows": rows}


# --- surveys ------------------------------------------------------------------------------------------


def survey_response_list(*, scope_ids=None, customer_id: int | None = None) -> QuerySet[SurveyResponse]:
    """Survey answers, newest first, with their customer (one query per page)."""
    qs = SurveyResponse.objects.select_related("customer").order_by("-date", "-id")
    if scope_ids is not None:
        qs = qs.filter(customer_id__in=scope_ids)
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    return qs


# --- scenarios ----------------------------------------------------------------------------------------


def scenario_list() -> list[Scenario]:
    return list(Scenario.objects.select_related("base_period"))


def scenario_plan() -> Scenario | None:
    return Scenario.objects.select_related("base_period").filter(is_plan=True).first()


def scenario_levers(scenario: Scenario) -> projection.Levers:
    """The scenario's levers; a built-in without stored levers uses ``projection.BUILT_IN``."""
    from .services import BUILT_IN_NAMES, levers_clean

    if not scenario.levers:
        return projection.BUILT_IN[BUILT_IN_NAMES.get(scenario.name, "do_nothing")]
    return levers_clean(scenario.levers)


def scenario_base_period(scenario: Scenario) -> Period | None:
    """The scenario's base period; the latest period when it has none."""
    from customers.selectors import period_get

    return scenario.base_period or period_get()


def projection_frames(*, period: Period) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``levels_prev, levels_cur, cur_figures`` for ``projection.baseline_from_frames`` (3 queries).

    Cost to serve = allocated cost + financing cost, so year 0 reconciles with the period's profit. While
    profit is not computed, the period's stored revenue and gross margin are used with no cost.
    """
    from accounting.selectors import customer_profit_frame
    from customers.selectors import period_previous

    previous = period_previous(period)
    if previous is None:
        raise ValidationError(f"Period {period.name} has no previous period: a projection needs two periods.")
    rows = CustomerPeriod.objects.filter(period_id__in=[previous.id, period.id]).values_list(
        "period_id", "customer_id", "level", cents_sql(F("revenue")), cents_sql(F("gross_margin"))
    )
    frame = pd.DataFrame.from_records(
        list(rows), columns=["period_id", "customer_id", "level", "revenue_cents", "gross_margin_cents"]
    )
    levels_prev = frame.loc[frame["period_id"] == previous.id, ["customer_id", "level"]].reset_index(drop=True)
    cur = frame.loc[frame["period_id"] == period.id].reset_index(drop=True)
    profit = customer_profit_frame(period=period)
    if profit.empty:
        figures = cur[["customer_id", "level", "revenue_cents", "gross_margin_cents"]].assign(allocated_cents=0)
    else:
        figures = profit[["customer_id", "level", "revenue_cents", "gross_margin_cents"]].assign(
            allocated_cents=profit["allocated_cents"] + profit["financing_cents"]
        )
    return levels_prev, cur[["customer_id", "level"]], figures


def _figures_version(period_ids: list[int]) -> str:
    from customers.models import Computation

    rows = Computation.objects.filter(period_id__in=period_ids).order_by("period_id", "stage")
    return ".".join(f"{p}{s[0]}{c}" for p, s, c in rows.values_list("period_id", "stage", "computed"))


def projection_baseline(*, period: Period) -> projection.Baseline:
    """Today's model for projections from ``period`` (cached until its figures are recomputed)."""
    from customers.selectors import period_previous

    previous = period_previous(period)
    ids = [period.id] + ([previous.id] if previous else [])
    key = f"scenarios:baseline:{period.id}:{_figures_version(ids)}"
    baseline = cache.get(key)
    if baseline is None:
        baseline = projection.baseline_from_frames(*projection_frames(period=period))
        cache.set(key, baseline, timeout=3600)
    return baseline


def projection_run(*, period: Period, levers: projection.Levers) -> pd.DataFrame:
    """``projection.project`` from the stored figures of ``period`` and its previous period."""
    return projection.project(projection_baseline(period=period), levers)


def projection_rows(frame: pd.DataFrame, *, base_name: int) -> list[dict]:
    """A projection as JSON-ready rows: customers (1 decimal), money in euros, ``period`` = base + year."""
    rows = []
    for r in frame.itertuples(index=False):
        rows.append(
            {
                "year": int(r.year),
                "period": base_name + int(r.year),
                **{f"customers_{s}": round(float(getattr(r, f"customers_{s}")), 1) for s in valuation.STATES},
                "customers_active": round(float(r.customers_active), 1),
                "revenue": as_float_euros(r.revenue_cents),
                "gross_margin": as_float_euros(r.gross_margin_cents),
                "cost_to_serve": as_float_euros(r.cost_to_serve_cents),
                "profit": as_float_euros(r.profit_cents),
                "discounted_profit": as_float_euros(r.discounted_profit_cents),
                "npv": as_float_euros(r.npv_cents),
            }
        )
    return rows


def actual_figures(*, names: list[int]) -> dict[int, dict]:
    """Per period name: ``revenue``, ``profit`` (euros, profit None while not computed) and
    ``active_customers`` of the active customers (net revenue > 0), as a projection counts them:
    the ``active`` base of ``customers.profit.period_totals``, the one source of a period's
    totals. ``base_differs``, ``total_revenue`` and ``total_profit`` say what the period's totals
    are when customers without net revenue (credit notes) make them differ."""
    from accounting.selectors import period_totals  # read-only: the profit stage's stored figures

    out = {}
    for period in Period.objects.filter(name__in=names).order_by("name"):
        totals = period_totals(period=period)
        if not totals["active"]["customers"] and not totals["base_differs"]:
            continue
        active = totals["active"]
        out[period.name] = {
            "revenue": as_float_euros(active["revenue_cents"]),
            "profit": as_float_euros(active["profit_cents"]) if totals["computed"] else None,
            "active_customers": active["customers"],
            "base_differs": totals["base_differs"],
            "total_revenue": as_float_euros(totals["revenue_cents"]),
            "total_profit": as_float_euros(totals["profit_cents"]) if totals["computed"] else None,
        }
    return out
