"""Reads for the actions on loss-making customers: suggestions with their what-if, the action list.

The what-if inputs of a period (drivers, pools, the stored financing cost and the allocation) are
read and computed once per request (``whatif_inputs``); every suggestion of the page is then
evaluated vectorised by ``whatif.suggested_actions``. A single action (the preview and
what a proposal stores) is computed exactly by ``whatif.action_whatif``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pandas as pd
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, QuerySet
from django.utils.translation import gettext_lazy as _

from accounting import allocation
from accounting import selectors as accounting_selectors
from config.money import sum_cents, to_decimal
from customers.figures_cache import period_frames, period_frames_get
from customers.models import Customer, CustomerProfit, Period
from customers.policy import customer_scope, customer_scope_ids
from customers.selectors import period_get, period_previous

from . import whatif
from .models import Action

SUGGESTIONS_PER_PAGE = 20
FALLING_SHOWN = 20
OPEN_STATES = (Action.State.PROPOSED, Action.State.AGREED)

NOT_APPLICABLE_MESSAGES = {
    "unknown_type": _("Choose one of the listed actions."),
    "parameter_required": _("Enter the parameter of this action as a number with at most two decimals."),
    "parameter_not_positive": _("The parameter of this action must be more than 0."),
    "points_out_of_range": _("Enter the margin points as a number between -100 and 100, not 0 (e.g. 2)."),
    "percent_out_of_range": _("Enter the share of visit minutes that goes: more than 0 and at most 100 %."),
    "no_revenue": _("This customer has no revenue in the period, so there is no margin rate to scale."),
    "unknown_customer": _("This customer has no figures in the period; choose another period."),
}
PARAMETER_LABELS = {
    Action.Type.MIN_REVENUE: _("Minimum annual revenue (€)"),
    Action.Type.DISCOUNT_CHANGE: _("Margin points (+)"),
    Action.Type.MIN_ORDER_SIZE: _("Minimum order value (€)"),
    Action.Type.ORDER_SURCHARGE: _("Surcharge per order (€)"),
    Action.Type.MOVE_TO_INSIDE: _("Visit minutes that go (%)"),
}

# The assumption behind each suggestion's figures (whatif.ASSUMPTIONS), shown next to it.
ASSUMPTION_TEXTS = {
    "same_margin_rate_same_orders": _(
        "Assumes the customer buys more at its current margin rate, on the same orders; "
        "at most +%(growth)s %% of its revenue this period."
    ),
    "same_revenue_and_orders": _(
        "Assumes the customer keeps buying as much, at the higher margin; at most +%(points)s points."
    ),
    "same_revenue_fewer_orders": _("Assumes the customer buys as much, in fewer, larger orders."),
    "keeps_ordering_as_often": _(
        "Assumes the customer keeps ordering as often; at most %(share)s %% of its average order value."
    ),
    "inside_calls_fit_existing_pools": _("Assumes the inside rep's calls fit in the existing costs."),
    "fixed_pools_stay": _("The customer's margin and variable costs go; fixed costs fall on the others."),
}


def _parameter_text(action_type: str, value) -> str:
    from customers.templatetags.kw import money, number

    if value is None:
        return "–"
    if action_type == whatif.DISCOUNT_CHANGE:
        return _("%(points)s points") % {"points": number(value, 2)}
    if action_type == whatif.MOVE_TO_INSIDE:
        return f"{number(value)} %"
    return money(value, 2 if action_type == whatif.ORDER_SURCHARGE else 0)


def suggestion_note(suggestion: dict) -> str:
    """The assumption and the break-even of a suggestion, in words (translated)."""
    kind = suggestion["type"]
    assumption = ASSUMPTION_TEXTS.get(suggestion.get("assumption") or "", "")
    text = str(assumption) % {
        "growth": whatif.MAX_REVENUE_GROWTH_PERCENT,
        "points": _parameter_text(whatif.DISCOUNT_CHANGE, whatif.MAX_DISCOUNT_POINTS).split()[0],
        "share": whatif.MAX_SURCHARGE_SHARE_PERCENT,
    }
    even = suggestion.get("break_even")
    if kind == whatif.PART_WAYS:
        return text
    if suggestion.get("capped"):
        extra = _("Break-even needs %(even)s, beyond what the customer plausibly does: it stays loss-making.") % {
            "even": _parameter_text(kind, even)
        }
    elif suggestion.get("breaks_even"):
        extra = (
            _("Break-even at %(even)s: reached.") % {"even": _parameter_text(kind, even)}
            if even is not None
            else _("The customer breaks even.")
        )
    else:
        extra = _("The customer does not break even with this alone.")
    return f"{text} {extra}".strip()


@dataclass(frozen=True)
class WhatIfInputs:
    """A period's inputs of the what-if: drivers, pools, financing and the allocation now."""

    period: Period
    drivers: pd.DataFrame
    pools: pd.DataFrame
    financing: pd.DataFrame
    profit: pd.DataFrame
    before: allocation.AllocationResult


def action_period(*, name=None) -> Period | None:
    """The period by name; without a name the default period (the latest with orders)."""
    return period_get(name=name)


def whatif_inputs(*, period: Period) -> WhatIfInputs:
    """A period's drivers, pools and stored profit, allocated once: the same for every customer and
    viewer, so built once per version (ahead, by the value stage's task) and shared by the board,
    the proposal form and its live preview. Callers never change what they get."""
    return period_frames_get("whatif_inputs", period)


@period_frames("whatif_inputs")
def _whatif_inputs_read(period: Period) -> WhatIfInputs:
    """Read a period's drivers, pools and stored profit (4 queries) and allocate once."""
    drivers = accounting_selectors.drivers_frame(period=period)
    pools = accounting_selectors.pools_frame(period=period)
    profit = accounting_selectors.customer_profit_frame(period=period)
    financing = profit[["customer_id", "financing_cents"]].rename(columns={"financing_cents": "financing_cost_cents"})
    return WhatIfInputs(period, drivers, pools, financing, profit, allocation.allocate_pools(drivers, pools))


def action_whatif_get(
    *, customer: Customer, period: Period, action_type: str, parameter, inputs: WhatIfInputs | None = None
) -> whatif.ActionWhatIf | None:
    """The exact what-if of one action; None for 'other'. A ValidationError on the parameter says why
    it cannot be computed."""
    try:
        whatif.parameter_check(action_type, parameter)
        if action_type == whatif.OTHER:
            return None
        inputs = inputs or whatif_inputs(period=period)
        return whatif.action_whatif(
            inputs.drivers,
            inputs.pools,
            inputs.financing,
            customer_id=customer.pk,
            action_type=action_type,
            parameter=parameter,
            before=inputs.before,
        )
    except whatif.NotApplicable as exc:
        raise ValidationError({"parameter": [NOT_APPLICABLE_MESSAGES.get(exc.code, str(exc))]}) from None


def action_default_parameters(*, customer: Customer, inputs: WhatIfInputs) -> dict[str, Decimal | None]:
    """The suggested parameter per action type for one customer (None where not suggested)."""
    if customer.pk not in set(inputs.drivers["customer_id"]):
        return {}
    frame = whatif.default_parameters(inputs.drivers, inputs.pools, inputs.before, inputs.financing, [customer.pk])
    defaults: dict[str, Decimal | None] = dict.fromkeys(whatif.COMPUTED_TYPES)
    defaults.update(dict(zip(frame["action_type"], frame["parameter"], strict=True)))
    defaults[whatif.MOVE_TO_INSIDE] = defaults[whatif.MOVE_TO_INSIDE] or Decimal(100)
    return defaults


def customer_profit_row(*, customer: Customer, inputs: WhatIfInputs) -> dict | None:
    row = inputs.profit[inputs.profit["customer_id"] == customer.pk]
    if row.empty:
        return None
    return {k: (v.item() if hasattr(v, "item") else v) for k, v in row.iloc[0].to_dict().items()}


# --------------------------------------------------------------------------- suggestions


def _loss_making(user, period: Period) -> QuerySet:
    """The period's stored loss-making profit rows of the customers the user sees (scoped in SQL:
    a manager's 50,000 customer ids are never read into Python)."""
    qs = CustomerProfit.objects.filter(period=period, profit__lt=0)
    if customer_scope_ids(user) is not None:
        qs = qs.filter(customer__in=customer_scope(user))
    return qs


def _first_in_scope(user, customer_ids: list[int], limit: int) -> list[int]:
    """The first ``limit`` of ``customer_ids`` (in their order) that the user sees; the scope is
    asked in SQL, a block of ids at a time, until enough are found."""
    if customer_scope_ids(user) is None:
        return customer_ids[:limit]
    found: list[int] = []
    for start in range(0, len(customer_ids), 1000):
        block = customer_ids[start : start + 1000]
        seen = set(customer_scope(user).filter(id__in=block).values_list("id", flat=True))
        found += [cid for cid in block if cid in seen]
        if len(found) >= limit:
            break
    return found[:limit]


def falling_customers(*, period: Period, profit: pd.DataFrame, scope: set[int] | None) -> pd.DataFrame:
    """Customers just above zero whose profit fell in each of the last two periods.

    profit(P) >= 0, profit(P) < profit(P-1) < profit(P-2), and profit(P) below the last fall
    (profit(P-1) - profit(P)): at the same pace it is loss-making next period. Closest to zero
    first. Columns: those of ``profit`` plus profit_prev_cents, profit_prev2_cents.
    """
    previous = period_previous(period)
    before_previous = period_previous(previous) if previous else None
    if before_previous is None:
        return profit.iloc[0:0].assign(profit_prev_cents=0, profit_prev2_cents=0)
    p1 = accounting_selectors.customer_profit_frame(period=previous)[["customer_id", "profit_cents"]]
    p2 = accounting_selectors.customer_profit_frame(period=before_previous)[["customer_id", "profit_cents"]]
    merged = profit.merge(p1.rename(columns={"profit_cents": "profit_prev_cents"}), on="customer_id").merge(
        p2.rename(columns={"profit_cents": "profit_prev2_cents"}), on="customer_id"
    )
    if scope is not None:
        merged = merged[merged["customer_id"].isin(scope)]
    now, prev, prev2 = merged["profit_cents"], merged["profit_prev_cents"], merged["profit_prev2_cents"]
    falling = merged[(now >= 0) & (now < prev) & (prev < prev2) & (now < prev - now)]
    return falling.sort_values(["profit_cents", "customer_id"], ignore_index=True)


@period_frames("falling_customers")
def _falling_customers_of_company(period: Period) -> pd.DataFrame:
    """``falling_customers`` over every customer (a viewer's are a filter of it): built once per
    version, ahead, by the value stage's task; it reads the two previous periods' profit."""
    return falling_customers(period=period, profit=whatif_inputs(period=period).profit, scope=None)


def action_loss_summary(*, user, period: Period) -> dict:
    """The loss-making customers the user sees in a period: loss_making_count and total_loss_cents
    (the board's tiles, without computing any suggestion; 2 queries)."""
    totals = _loss_making(user, period).aggregate(count=Count("id"), loss=sum_cents("profit"))
    return {"loss_making_count": totals["count"], "total_loss_cents": int(totals["loss"] or 0)}


def action_suggestions(
    *, user, period: Period, page: int | str | None = 1, per_page: int | None = SUGGESTIONS_PER_PAGE
) -> dict:
    """The board's suggestions: scoped loss-making customers by loss (paginated) and the customers
    whose profit is falling to zero, each with its actions ranked by the what-if on company profit.

    Returns page (a Paginator page of customer ids), loss_making, falling (lists of customer dicts
    with ``suggestions`` and ``best``), loss_making_count and total_loss_cents. ``per_page``
    None puts every loss-making customer on one page (downloads).
    """
    inputs = whatif_inputs(period=period)
    profit = inputs.profit
    summary = action_loss_summary(user=user, period=period)
    count = summary["loss_making_count"]
    # Paginated over positions (a range, cheap to keep in the figures cache), then the page's ids are
    # read: one short ordered query, whatever the number of loss-making customers.
    page_obj = Paginator(range(count), per_page or max(1, count)).get_page(page)
    loss_ids = _loss_making(user, period).order_by("profit", "customer_id").values_list("customer_id", flat=True)
    page_obj.object_list = list(loss_ids[page_obj.start_index() - 1 : page_obj.end_index()]) if count else []
    falling = period_frames_get("falling_customers", period)  # the company's, shared: filtered, never changed
    falling = (
        falling.set_index("customer_id")
        .loc[_first_in_scope(user, falling["customer_id"].tolist(), FALLING_SHOWN)]
        .reset_index()
    )
    result = {"page": page_obj, "loss_making": [], "falling": [], **summary}
    shown = list(page_obj.object_list) + falling["customer_id"].tolist()
    if not shown:
        return result
    known = set(inputs.drivers["customer_id"])
    ranked = whatif.suggested_actions(
        inputs.drivers, inputs.pools, inputs.financing, inputs.before, sorted(set(shown) & known)
    )
    names = {
        pk: (external_id, name)
        for pk, external_id, name in Customer.objects.filter(id__in=shown).values_list("id", "external_id", "name")
    }
    open_actions = _open_actions(period=period, customer_ids=shown)
    by_customer = dict(tuple(ranked.groupby("customer_id")))
    rows = profit[profit["customer_id"].isin(page_obj.object_list)].set_index("customer_id")
    falling_rows = falling.set_index("customer_id")

    def customer_dict(cid: int, source: pd.DataFrame) -> dict:
        r = source.loc[cid]
        suggestions = _suggestion_dicts(by_customer.get(cid))
        external_id, name = names.get(cid, ("", ""))
        return {
            "customer_id": int(cid),
            "external_id": external_id,
            "name": name,
            "level": r["level"],
            "revenue_cents": int(r["revenue_cents"]),
            "gross_margin_cents": int(r["gross_margin_cents"]),
            "allocated_cents": int(r["allocated_cents"]),
            "financing_cents": int(r["financing_cents"]),
            "profit_cents": int(r["profit_cents"]),
            "profit_prev_cents": int(r["profit_prev_cents"]) if "profit_prev_cents" in r else None,
            "profit_prev2_cents": int(r["profit_prev2_cents"]) if "profit_prev2_cents" in r else None,
            "suggestions": suggestions,
            "best": suggestions[0] if suggestions else None,
            "open_actions": open_actions.get(cid, []),
        }

    # A customer stored loss-making but not in the inputs' version (a recompute committed between the
    # two reads) is left out of this one view rather than shown with figures of another version.
    result["loss_making"] = [customer_dict(cid, rows) for cid in page_obj.object_list if cid in rows.index]
    result["falling"] = [customer_dict(cid, falling_rows) for cid in falling["customer_id"]]
    return result


def _suggestion_dicts(group: pd.DataFrame | None) -> list[dict]:
    if group is None:
        return []
    labels = dict(Action.Type.choices)
    out = [
        {
            "type": r.action_type,
            "label": labels[r.action_type],
            "parameter": r.parameter,
            "parameter_label": PARAMETER_LABELS.get(r.action_type, ""),
            "customer_profit_after_cents": None
            if pd.isna(r.customer_profit_after_cents)
            else int(r.customer_profit_after_cents),
            "company_profit_change_cents": int(r.company_profit_change_cents),
            "others_change_cents": int(r.others_change_cents),
            "rank": int(r.rank),
            "bound": r.bound,
            "break_even": r.break_even,
            "capped": bool(r.capped),
            "breaks_even": bool(r.breaks_even),
            "assumption": r.assumption,
        }
        for r in group.itertuples(index=False)
    ]
    for d in out:
        d["note"] = suggestion_note(d)
    return out


def _open_actions(*, period: Period, customer_ids: list[int]) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    rows = Action.objects.filter(period=period, customer_id__in=customer_ids, state__in=OPEN_STATES).values_list(
        "customer_id", "type", "state"
    )
    types, states = dict(Action.Type.choices), dict(Action.State.choices)
    for customer_id, kind, state in rows:
        out.setdefault(customer_id, []).append({"type": types[kind], "state": state, "state_label": states[state]})
    return out


def suggestion_euros(suggestion: dict) -> dict:
    """One suggestion with its money in Decimal euros: rank, type, parameter, customer_profit_after,
    company_profit_change, others_change."""
    return {
        "rank": suggestion["rank"],
        "type": suggestion["type"],
        "parameter": suggestion["parameter"],
        "customer_profit_after": to_decimal(suggestion["customer_profit_after_cents"]),
        "company_profit_change": to_decimal(suggestion["company_profit_change_cents"]),
        "others_change": to_decimal(suggestion["others_change_cents"]),
        "bound": suggestion.get("bound"),
        "break_even": suggestion.get("break_even"),
        "breaks_even": suggestion.get("breaks_even"),
        "assumption": str(suggestion.get("note", "")),
    }


def suggestion_rows(suggestions: dict) -> list[dict]:
    """The suggestions as one flat row per customer and action, for CSV/Excel (money in euros)."""
    rows = []
    for section, customers in (("loss_making", suggestions["loss_making"]), ("falling", suggestions["falling"])):
        for c in customers:
            for s in c["suggestions"]:
                rows.append(
                    {
                        "section": section,
                        "customer": c["external_id"],
                        "name": c["name"],
                        "level": c["level"],
                        "revenue": to_decimal(c["revenue_cents"]),
                        "profit": to_decimal(c["profit_cents"]),
                        **suggestion_euros(s),
                    }
                )
    return rows


SUGGESTION_COLUMNS = [
    ("section", _("Section")),
    ("customer", _("Customer id")),
    ("name", _("Name")),
    ("level", _("Level")),
    ("revenue", _("Revenue")),
    ("profit", _("Profit")),
    ("rank", _("Rank")),
    ("type", _("Action")),
    ("parameter", _("Parameter")),
    ("customer_profit_after", _("Customer profit after")),
    ("company_profit_change", _("Company profit change")),
    ("others_change", _("Other customers' change")),
    ("bound", _("Bound")),
    ("break_even", _("Break-even")),
    ("breaks_even", _("Breaks even")),
    ("assumption", _("Assumption")),
]


# --------------------------------------------------------------------------- the action list


def actions_of(*, period: Period | None = None, customer_ids=None, state: str | None = None) -> QuerySet[Action]:
    """Actions (newest first) of a period and state; ``customer_ids`` None = every customer."""
    qs = Action.objects.select_related("customer", "period", "proposed_by", "decided_by")
    if customer_ids is not None:
        qs = qs.filter(customer_id__in=customer_ids)
    if period is not None:
        qs = qs.filter(period=period)
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-proposed_at", "-id")


def action_list(*, user, period: Period | None = None, state: str | None = None) -> QuerySet[Action]:
    """The actions of the customers the user may see."""
    return actions_of(period=period, customer_ids=customer_scope_ids(user), state=state)


def realised_effects(actions) -> dict[int, int]:
    """Per done action id: customer profit in the next period minus in the action's period (cents),
    for the actions whose next period has figures (2 queries)."""
    done = [a for a in actions if a.state == Action.State.DONE]
    if not done:
        return {}
    periods = list(Period.objects.order_by("name").values_list("id", flat=True))
    following = dict(zip(periods, periods[1:], strict=False))
    wanted = {(a.customer_id, a.period_id) for a in done} | {
        (a.customer_id, following[a.period_id]) for a in done if a.period_id in following
    }
    profits = {
        (customer_id, period_id): profit
        for customer_id, period_id, profit in CustomerProfit.objects.filter(
            customer_id__in={c for c, _ in wanted}, period_id__in={p for _, p in wanted}
        ).values_list("customer_id", "period_id", "profit")
    }
    out = {}
    for a in done:
        now = profits.get((a.customer_id, a.period_id))
        after = profits.get((a.customer_id, following.get(a.period_id)))
        if now is not None and after is not None:
            out[a.id] = int(round((after - now) * 100))
    return out


def action_rows(actions) -> list[dict]:
    """One dict per action for the page, exports and the report (money as Decimal euros)."""
    actions = list(actions)
    realised = realised_effects(actions)
    rows = []
    for a in actions:
        rows.append(
            {
                "id": a.id,
                "period": a.period.name,
                "customer_id": a.customer_id,
                "customer": a.customer.external_id,
                "customer_name": a.customer.name,
                "type": a.type,
                "type_label": a.get_type_display(),
                "parameter": a.parameter,
                "parameter_label": PARAMETER_LABELS.get(a.type, ""),
                "description": a.description,
                "state": a.state,
                "state_label": a.get_state_display(),
                "notes": a.notes,
                "proposed_by": a.proposed_by.username if a.proposed_by else "",
                "proposed_at": a.proposed_at,
                "decided_by": a.decided_by.username if a.decided_by else "",
                "agreed_at": a.agreed_at,
                "done_at": a.done_at,
                "dropped_at": a.dropped_at,
                "whatif_customer_profit": a.whatif_customer_profit,
                "whatif_company_profit_change": a.whatif_company_profit_change,
                "realised_effect": to_decimal(realised.get(a.id)),
            }
        )
    return rows


ACTION_COLUMNS = [
    ("id", _("Id")),
    ("period", _("Period")),
    ("customer", _("Customer id")),
    ("customer_name", _("Name")),
    ("type", _("Action")),
    ("parameter", _("Parameter")),
    ("description", _("Description")),
    ("state", _("State")),
    ("proposed_by", _("Proposed by")),
    ("proposed_at", _("Proposed at")),
    ("decided_by", _("Decided by")),
    ("agreed_at", _("Agreed at")),
    ("done_at", _("Done at")),
    ("dropped_at", _("Dropped at")),
    ("whatif_customer_profit", _("What-if customer profit")),
    ("whatif_company_profit_change", _("What-if company profit change")),
    ("realised_effect", _("Realised effect")),
    ("notes", _("Notes")),
]


def action_counts(*, user, period: Period) -> dict:
    """Actions per state in the user's scope, and open_change: Σ what-if company profit change of
    the proposed and agreed actions (Decimal euros; None when there are none)."""
    rows = (
        action_list(user=user, period=period)
        .order_by()
        .values("state")
        .annotate(
            n=Count("id"),
            with_change=Count("whatif_company_profit_change"),
            change=sum_cents("whatif_company_profit_change"),
        )
    )
    by_state = {r["state"]: r for r in rows}
    counts: dict = {state: by_state.get(state, {}).get("n", 0) for state in Action.State.values}
    changes = [by_state[s]["change"] for s in OPEN_STATES if by_state.get(s, {}).get("with_change")]
    counts["open_change"] = to_decimal(sum(changes)) if changes else None
    return counts
