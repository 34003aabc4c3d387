"""Every write of the scenarios app: customer value and segments, surveys, targets, scenarios."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from config.bulk import replace_rows
from config.eventbus import publish
from config.intake import ErrorList, Layout, parse_date, parse_number, read_chunks, too_long
from customers import policy
from customers.models import Customer, Period
from customers.profit import customer_profit_cents
from customers.selectors import period_levels
from customers.services import ImportResult

from . import projection, selectors, valuation
from .events import SurveysChanged, ValueSettingsChanged
from .models import CustomerValue, Scenario, Segment, SegmentTarget, SurveyResponse, ValueSettings
from .valuation import ACTIVE

Progress = Callable[[int], None] | None


def customer_value_compute(*, period: Period) -> tuple[pd.DataFrame, int]:
    """CLV (Markov chain over levels), product value and the 2×2 segment of every customer."""
    settings = selectors.value_settings_get()
    pairs = selectors.level_pairs(up_to=period)
    matrix = valuation.transition_matrix(pairs) if len(pairs) else None
    levels = period_levels(period=period)
    profit = customer_profit_cents(period=period)
    customers = levels.merge(profit, on="customer_id", how="left")
    customers["profit_cents"] = customers["profit_cents"].fillna(0).astype("int64")
    clv = valuation.customer_value(
        customers[["customer_id", "level", "profit_cents"]],
        matrix=matrix,
        horizon=settings.horizon_years,
        discount_rate=float(settings.discount_rate) / 100,
    )
    pv = valuation.product_value(selectors.survey_frame(up_to=period))
    frame = customers.merge(clv, on="customer_id").merge(
        pv[["customer_id", "product_value"]], on="customer_id", how="left"
    )
    frame["active"] = frame["revenue_cents"] > 0
    threshold = None if settings.clv_threshold is None else int(settings.clv_threshold * 100)
    segments, used = valuation.segment_customers(
        frame[["customer_id", "clv_cents", "product_value", "active"]],
        clv_threshold_cents=threshold,
        product_value_threshold=float(settings.product_value_threshold),
    )
    frame = frame.merge(segments[["customer_id", "segment"]], on="customer_id")
    return frame, used


def customer_value_store(period_id: int) -> int:
    period = Period.objects.get(pk=period_id)
    frame, _ = customer_value_compute(period=period)
    frame = frame.rename(columns={"clv_cents": "clv"})
    # to cents, each distinct value once (a missing value stays missing: stored as NULL)
    as_decimal = {v: Decimal(str(v)).quantize(Decimal("0.01")) for v in frame["product_value"].dropna().unique()}
    frame["product_value"] = frame["product_value"].map(as_decimal).astype(object)
    with transaction.atomic():
        replace_rows(
            CustomerValue,
            where={"period_id": period.id},
            frame=frame,
            columns={
                "customer_id": "int",
                "clv": "money",
                "method": "str",
                "product_value": "decimal",
                "segment": "str",
            },
        )
    return len(frame)


# --- surveys ----------------------------------------------------------------------------------

SURVEY_LAYOUT = Layout(("customer_id", "date", "score"), ("round", "comment"))
_SCORE_STEP = Decimal("0.01")


def _all_period_ids() -> tuple[int, ...]:
    return tuple(Period.objects.values_list("id", flat=True))


def _validate_surveys_chunk(chunk: pd.DataFrame, errors: ErrorList, customers: dict, seen: set) -> pd.DataFrame:
    customer_pk = chunk["customer_id"].map(customers)
    errors.add_mask(
        chunk,
        customer_pk.isna(),
        "customer_id",
        "unknown customer; import the customer first (customers file) or correct the id",
    )
    date, bad_date = parse_date(chunk["date"])
    errors.add_mask(chunk, bad_date, "date", "not a date; write it as YYYY-MM-DD")
    score, bad_score = parse_number(chunk["score"], required=True)
    errors.add_mask(chunk, bad_score, "score", "not a number; write the score like 7 or 7,5")
    errors.add_mask(chunk, ~bad_score & ((score < 0) | (score > 10)), "score", "the score must be between 0 and 10")
    round_name = chunk["round"].where(chunk["round"] != "", date.dt.year.astype("Int64").astype(str))
    errors.add_mask(chunk, too_long(chunk["round"], 50), "round", "longer than 50 characters")
    key = chunk["customer_id"] + "|" + date.astype(str) + "|" + round_name.astype(str)
    dup = key.duplicated(keep=False) | key.isin(seen)
    errors.add_mask(
        chunk,
        dup & customer_pk.notna() & ~bad_date,
        "customer_id",
        "this customer, date and round appear more than once in the file; keep one row",
    )
    seen.update(key)
    return chunk.assign(customer_pk=customer_pk, date_parsed=date, score_num=score, round_name=round_name)


def _score_decimal(value: float) -> Decimal:
    return Decimal(repr(float(value))).quantize(_SCORE_STEP, rounding=ROUND_HALF_UP)


def _existing_surveys(customer_ids: list[int]) -> dict[tuple, SurveyResponse]:
    """Stored answers of these customers by (customer_id, date, round); batched for large files."""
    found: dict[tuple, SurveyResponse] = {}
    for i in range(0, len(customer_ids), 5000):
        for obj in SurveyResponse.objects.filter(customer_id__in=customer_ids[i : i + 5000]).order_by("id"):
            found.setdefault((obj.customer_id, obj.date, obj.round), obj)
    return found


def surveys_import(*, path: str | Path, acting_user=None, progress: Progress = None) -> ImportResult:
    """Upsert survey answers from a CSV/XLSX file; all or nothing.

    Columns ``customer_id`` (external id), ``date`` (YYYY-MM-DD), ``score`` (0-10, rounded to two
    decimals), optional ``round`` (default: the year of the date) and ``comment``. The key is
    (customer, date, round): importing the same file again changes nothing. When anything changed,
    ``SurveysChanged`` for every period is published in the transaction, so product value and segments
    are recomputed after commit.
    """
    customers = policy.import_scope(acting_user, "surveys").customers()
    errors, seen = ErrorList(), set()
    total = 0
    for chunk in read_chunks(path, SURVEY_LAYOUT):
        _validate_surveys_chunk(chunk, errors, customers, seen)
        total += len(chunk)
    errors.raise_if_any()
    result = ImportResult("surveys")
    with transaction.atomic():
        for chunk in read_chunks(path, SURVEY_LAYOUT):
            chunk = _validate_surveys_chunk(chunk, ErrorList(), customers, set())
            existing = _existing_surveys(sorted({int(c) for c in chunk["customer_pk"]}))
            new, changed = [], []
            for r in chunk.itertuples(index=False):
                key = (int(r.customer_pk), r.date_parsed.date(), r.round_name)
                score = _score_decimal(r.score_num)
                obj = existing.get(key)
                if obj is None:
                    new.append(
                        SurveyResponse(customer_id=key[0], date=key[1], round=key[2], score=score, comment=r.comment)
                    )
                elif obj.score != score or obj.comment != r.comment:
                    obj.score, obj.comment = score, r.comment
                    changed.append(obj)
            SurveyResponse.objects.bulk_create(new, batch_size=2000)
            SurveyResponse.objects.bulk_update(changed, ["score", "comment"], batch_size=2000)
            result.rows += len(chunk)
            result.created += len(new)
            result.updated += len(changed)
            result.unchanged += len(chunk) - len(new) - len(changed)
            if progress:
                progress(int(90 * result.rows / max(total, 1)))
        if result.created or result.updated:
            period_ids = _all_period_ids()
            publish(SurveysChanged(period_ids=period_ids))
            result.periods = sorted(Period.objects.filter(id__in=period_ids).values_list("name", flat=True))
    return result


def survey_response_record(
    *,
    customer: Customer,
    date: dt.date,
    score: Decimal,
    round: str = "",
    comment: str = "",
    acting_user=None,
) -> SurveyResponse:
    """Record one survey answer for a customer in the acting user's scope (upsert by customer, date, round)."""
    from customers.policy import customer_scope  # who may see which customers: one place

    if acting_user is not None and not customer_scope(acting_user).filter(pk=customer.pk).exists():
        raise PermissionDenied("This customer is not in your portfolio.")
    round = (round or "").strip() or str(date.year)
    obj = SurveyResponse.objects.filter(customer=customer, date=date, round=round).order_by("id").first()
    obj = obj or SurveyResponse(customer=customer, date=date, round=round)
    obj.score = score if isinstance(score, Decimal) else Decimal(str(score))
    obj.score = obj.score.quantize(_SCORE_STEP, rounding=ROUND_HALF_UP)
    obj.comment = comment or ""
    obj.full_clean()
    with transaction.atomic():
        obj.save()
        publish(SurveysChanged(period_ids=_all_period_ids()))
    return obj


# --- value settings ---------------------------------------------------------------------------


def value_settings_update(
    *,
    acting_user,
    horizon_years: int,
    discount_rate: Decimal,
    clv_threshold: Decimal | None,
    product_value_threshold: Decimal,
) -> ValueSettings:
    """Change the CLV horizon, discount rate or segment thresholds; every period's values are recomputed."""
    settings = selectors.value_settings_get()
    settings.horizon_years = horizon_years
    settings.discount_rate = discount_rate
    settings.clv_threshold = clv_threshold
    settings.product_value_threshold = product_value_threshold
    settings.full_clean()
    with transaction.atomic():
        settings._history_user = acting_user
        settings.save()
        publish(ValueSettingsChanged(period_ids=_all_period_ids()))
    return settings


# --- segment targets --------------------------------------------------------------------------

#: Metrics given as a share (fraction 0..1 in the database and the API; the page shows %).
SHARE_METRICS = ("revenue_retention", "customer_retention", "profitability")


def _check_target(segment: str, metric: str, target: Decimal) -> None:
    if segment not in Segment.values:
        raise ValidationError({"segment": [f"Unknown segment '{segment}'; use one of {', '.join(Segment.values)}."]})
    if metric not in SegmentTarget.Metric.values:
        raise ValidationError(
            {"metric": [f"Unknown metric '{metric}'; use one of {', '.join(SegmentTarget.Metric.values)}."]}
        )
    if not isinstance(target, Decimal) or not target.is_finite():
        raise ValidationError({"target": ["Give the target as a number."]})
    if target < 0:
        raise ValidationError({"target": ["A target cannot be negative."]})
    if metric in ("customer_retention", "profitability") and target > 1:
        raise ValidationError({"target": ["A share is a fraction between 0 and 1 (0.85 for 85 %)."]})
    if metric == "revenue_retention" and target > 10:
        raise ValidationError({"target": ["Revenue retention is a fraction (1.05 for 105 %)."]})
    if metric == "acquisition" and target != target.to_integral_value():
        raise ValidationError({"target": ["Acquisition is a number of new customers: give a whole number."]})


def segment_target_set(
    *, period: Period, segment: str, metric: str, target: Decimal | None, acting_user
) -> SegmentTarget | None:
    """Set (or, with ``target=None``, remove) one target of a segment in a period."""
    obj = SegmentTarget.objects.filter(period=period, segment=segment, metric=metric).first()
    with transaction.atomic():
        if target is None:
            if obj is not None:
                obj._history_user = acting_user
                obj.delete()
            return None
        _check_target(segment, metric, target)
        obj = obj or SegmentTarget(period=period, segment=segment, metric=metric)
        obj.target = target
        obj._history_user = acting_user
        obj.save()
    return obj


def segment_targets_update(*, period: Period, targets: dict[tuple[str, str], Decimal | None], acting_user) -> int:
    """Set the grid of targets of a period at once: {(segment, metric): target or None}. Returns rows changed."""
    for (segment, metric), target in targets.items():
        if target is not None:
            _check_target(segment, metric, target)
    changed = 0
    with transaction.atomic():
        current = {(t.segment, t.metric): t for t in SegmentTarget.objects.filter(period=period)}
        for key, target in targets.items():
            old = current.get(key)
            if (old is None and target is None) or (old is not None and old.target == target):
                continue
            segment_target_set(period=period, segment=key[0], metric=key[1], target=target, acting_user=acting_user)
            changed += 1
    return changed


# --- scenarios --------------------------------------------------------------------------------

#: The built-in scenarios: name shown -> key of ``projection.BUILT_IN``.
BUILT_IN_NAMES: dict[str, str] = {"Do nothing": "do_nothing", "Conservative": "conservative", "Ambitious": "ambitious"}
#: "Do nothing" holds everything at today's values: its levers cannot change.
LOCKED_BUILT_INS = ("Do nothing",)


def scenarios_builtin_ensure() -> list[Scenario]:
    """Create the built-in scenarios when missing; fill the default levers of a built-in that has none."""
    with transaction.atomic():
        existing = {s.name: s for s in Scenario.objects.filter(name__in=BUILT_IN_NAMES)}
        for name, key in BUILT_IN_NAMES.items():
            obj = existing.get(name)
            if obj is None:
                Scenario.objects.create(name=name, built_in=True, levers=levers_to_json(projection.BUILT_IN[key]))
            elif not obj.levers or not obj.built_in:
                obj.built_in = True
                obj.levers = obj.levers or levers_to_json(projection.BUILT_IN[key])
                obj.save(update_fields=["built_in", "levers"])
    return list(Scenario.objects.filter(name__in=BUILT_IN_NAMES))


def levers_to_json(levers: projection.Levers) -> dict:
    return {
        "retention_change_points": {level: float(levers.retention_change_points.get(level, 0.0)) for level in ACTIVE},
        "upward_migration_points": float(levers.upward_migration_points),
        "acquisition_growth": float(levers.acquisition_growth),
        "spend_growth": float(levers.spend_growth),
        "cost_to_serve_change": float(levers.cost_to_serve_change),
        "discount_rate": float(levers.discount_rate),
        "horizon": int(levers.horizon),
    }


#: Bounds of the levers (stored units: points, fractions, years); outside them a projection means little.
LEVER_BOUNDS: dict[str, tuple[float, float]] = {
    "retention_change_points": (-50.0, 50.0),
    "upward_migration_points": (-50.0, 50.0),
    "acquisition_growth": (-0.9, 2.0),
    "spend_growth": (-0.9, 2.0),
    "cost_to_serve_change": (-0.9, 2.0),
    "discount_rate": (0.0, 0.5),
    "horizon": (1, 10),
}


def levers_clean(data: dict) -> projection.Levers:
    """Levers from their JSON form, checked against ``LEVER_BOUNDS``; ValidationError says what is wrong."""
    if not isinstance(data, dict):
        raise ValidationError({"levers": ["Levers must be an object."]})
    unknown = set(data) - set(LEVER_BOUNDS)
    if unknown:
        raise ValidationError({"levers": [f"Unknown levers: {', '.join(sorted(unknown))}."]})
    errors: dict[str, list[str]] = {}
    values: dict = {}
    retention = data.get("retention_change_points") or {}
    if not isinstance(retention, dict) or set(retention) - set(ACTIVE):
        errors["retention_change_points"] = [f"Give points per level: {', '.join(ACTIVE)}."]
    else:
        lo, hi = LEVER_BOUNDS["retention_change_points"]
        points = {}
        for level in ACTIVE:
            try:
                points[level] = float(retention.get(level, 0.0))
            except (TypeError, ValueError):
                points[level] = float("nan")
            if not lo <= points[level] <= hi:
                errors["retention_change_points"] = [f"Retention change must be between {lo:g} and {hi:g} points."]
        values["retention_change_points"] = points
    for name, (lo, hi) in LEVER_BOUNDS.items():
        if name == "retention_change_points" or name not in data:
            continue
        try:
            value = float(data[name])
        except (TypeError, ValueError):
            errors[name] = ["Give a number."]
            continue
        if not lo <= value <= hi:
            errors[name] = [f"Must be between {lo:g} and {hi:g}."]
        values[name] = value
    if "horizon" in values:
        if values["horizon"] != int(values["horizon"]):
            errors["horizon"] = ["Give a whole number of years."]
        values["horizon"] = int(values["horizon"])
    if errors:
        raise ValidationError(errors)
    try:
        return projection.Levers(**values)
    except ValueError as exc:
        raise ValidationError({"levers": [str(exc)]}) from None


def _check_base_period(base_period: Period | None) -> None:
    if base_period is not None and not Period.objects.filter(name__lt=base_period.name).exists():
        raise ValidationError(
            {
                "base_period": [
                    f"Period {base_period.name} has no previous period to learn level moves from; choose a later one."
                ]
            }
        )


def scenario_create(*, name: str, base_period: Period | None, levers: dict, acting_user) -> Scenario:
    _check_base_period(base_period)
    clean = levers_clean(levers)
    scenario = Scenario(name=(name or "").strip(), base_period=base_period, levers=levers_to_json(clean))
    scenario.full_clean()
    with transaction.atomic():
        scenario._history_user = acting_user
        scenario.save()
    return scenario


def scenario_update(
    *, scenario: Scenario, name: str | None = None, base_period=..., levers: dict | None = None, acting_user
) -> Scenario:
    """Change a scenario's name, base period or levers. Built-ins keep their name; "Do nothing" its levers."""
    if scenario.built_in and name is not None and name.strip() != scenario.name:
        raise ValidationError({"name": ["A built-in scenario keeps its name; copy it to make your own."]})
    if scenario.name in LOCKED_BUILT_INS and scenario.built_in and levers is not None:
        if levers_to_json(levers_clean(levers)) != levers_to_json(levers_clean(scenario.levers or {})):
            raise ValidationError({"levers": ["'Do nothing' holds everything at today's values; copy it to change."]})
    if name is not None:
        scenario.name = name.strip()
    if base_period is not ...:
        _check_base_period(base_period)
        scenario.base_period = base_period
    if levers is not None:
        scenario.levers = levers_to_json(levers_clean(levers))
    scenario.full_clean()
    with transaction.atomic():
        scenario._history_user = acting_user
        scenario.save()
    return scenario


def _free_name(base: str) -> str:
    names = set(Scenario.objects.filter(name__startswith=base[:90]).values_list("name", flat=True))
    if base not in names:
        return base
    n = 2
    while f"{base[:90]} ({n})" in names:
        n += 1
    return f"{base[:90]} ({n})"


def scenario_copy(*, scenario: Scenario, acting_user, name: str | None = None) -> Scenario:
    """A user's own copy of any scenario (same base period and levers), never the plan."""
    levers = scenario.levers or levers_to_json(projection.BUILT_IN[BUILT_IN_NAMES.get(scenario.name, "do_nothing")])
    new_name = (name or "").strip() or _free_name(f"{scenario.name} – copy")
    return scenario_create(name=new_name, base_period=scenario.base_period, levers=levers, acting_user=acting_user)


def scenario_make_plan(*, scenario: Scenario, acting_user) -> Scenario:
    """Make this scenario the plan (there is one plan); the dashboard compares actual periods against it."""
    with transaction.atomic():
        for old in Scenario.objects.select_for_update().filter(is_plan=True).exclude(pk=scenario.pk):
            old.is_plan = False
            old._history_user = acting_user
            old.save(update_fields=["is_plan"])
        scenario.is_plan = True
        scenario._history_user = acting_user
        scenario.save(update_fields=["is_plan"])
    return scenario


def scenario_delete(*, scenario: Scenario, acting_user) -> None:
    if scenario.built_in:
        raise ValidationError("Built-in scenarios cannot be deleted.")
    with transaction.atomic():
        scenario._history_user = acting_user
        scenario.delete()
