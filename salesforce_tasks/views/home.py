"""The rep's start page: portfolio, KPIs, the month's progress and the latest visits."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from config.money import as_float_euros
from config.roles import REP
from customers import policy

from .. import selectors
from .common import (
    PORTFOLIO_ROWS,
    _chart,
    _euros,
    _no_data,
    _period,
    roles_required,
)


@login_required
@roles_required(REP)
@require_GET
@vary_on_headers("HX-Request")
def rep_home(request):
    rep = policy.rep_for_user(request.user)
    period = _period(request)
    if period is None:
        return _no_data(request, _("My portfolio"))
    if rep is None:
        return render(request, "salesforce_tasks/rep_home.html", {"rep": None, "period": period})
    pp = selectors.period_portfolio(period=period)
    customer_ids = list(policy.customer_scope(request.user).values_list("id", flat=True))
    frame = selectors.portfolio_rows(pp=pp, customer_ids=customer_ids)

    show_all = request.GET.get("portfolio") == "all"
    customers = [
        {
            "id": int(r.customer_id),
            "name": r.name,
            "external_id": r.external_id,
            "level": r.level,
            "revenue": _euros(r.revenue_cents),
            "profit": _euros(r.profit_cents),
            "target_revenue": _euros(r.target_revenue_cents)
            if r.target_revenue_cents == r.target_revenue_cents
            else None,
            "target_level": r.target_level if isinstance(r.target_level, str) else "",
            "progress": None
            if r.revenue_progress != r.revenue_progress
            else Decimal(str(round(r.revenue_progress, 4))),
            "progress_bar": min(100, int(round(r.revenue_progress * 100)))
            if r.revenue_progress == r.revenue_progress
            else 0,
            "visits": int(r.visits),
        }
        for r in frame.itertuples(index=False)
    ]
    if request.htmx and request.GET.get("portfolio"):
        return render(
            request,
            "salesforce_tasks/rep_home.html#portfolio",
            {"customers": customers, "show_all": show_all, "period": period, "portfolio_rows": PORTFOLIO_ROWS},
        )

    today = timezone.localdate()
    plan = selectors.visit_plan_rows(frame=frame, today=today)
    due = plan[plan["status"].isin(["overdue", "due_soon"])].head(10)
    plan_rows = [
        {
            "id": int(r.customer_id),
            "name": r.name,
            "level": r.level,
            "status": r.status,
            "next_due": r.next_due,
            "days_overdue": int(r.days_overdue),
            "last_visit": None if r.last_visit != r.last_visit else r.last_visit.date(),
        }
        for r in due.itertuples(index=False)
    ]
    counts = plan["status"].value_counts().to_dict() if len(plan) else {}

    overview = selectors.bonus_overview(period=period, user=request.user, pp=pp, with_drivers=True)
    mine = next((row for row in overview["reps"] if row["rep_id"] == rep.id), None)
    pair_bonus = next((b for b in overview["pairs"] if mine and b.subject_id == mine["pair_id"]), None)
    _hide_other_portfolios(
        [s for s in (pair_bonus, mine["own"] if mine else None) if s is not None], allowed=set(customer_ids)
    )

    previous = pp.previous
    monthly = selectors.monthly_revenue(
        customer_ids=customer_ids, periods=[p for p in (period, previous) if p is not None]
    )
    targets = selectors.monthly_target_cents(period=period, customer_ids=customer_ids)
    labels = selectors.month_labels(period)
    actual = monthly[period.id]
    last_year = monthly[previous.id] if previous else [0] * 12
    months = [
        {
            "label": labels[i],
            "actual": _euros(actual[i]),
            "target": _euros(targets[i]),
            "last_year": _euros(last_year[i]) if previous else None,
        }
        for i in range(12)
    ]
    datasets = [
        {
            "type": "bar",
            "label": _("Actual"),
            "data": [as_float_euros(v) for v in actual],
            "backgroundColor": "#2f7ed8",
        },
        {
            "type": "line",
            "label": _("Target"),
            "data": [as_float_euros(v) for v in targets],
            "borderColor": "#067647",
            "backgroundColor": "#067647",
        },
    ]
    if previous:
        datasets.append(
            {
                "type": "line",
                "label": _("Last year"),
                "data": [as_float_euros(v) for v in last_year],
                "borderColor": "#98a2b3",
                "backgroundColor": "#98a2b3",
                "borderDash": [4, 4],
            }
        )
    visits = list(selectors.visit_list(user=request.user, rep=rep)[:8])
    period_visits = [v for v in visits if v.period_id == period.id]
    context = {
        "rep": rep,
        "period": period,
        "periods": selectors.period_names(),
        "pairs": list(
            policy.pairs_for_user(request.user)
            .filter(id__in=[p for p in pp.pairs["pair_id"]])
            .select_related("outside_rep", "inside_rep", "team")
        ),
        "totals": {
            "customers": len(customers),
            "active": int((frame["revenue_cents"] > 0).sum()),
            "revenue": _euros(int(frame["revenue_cents"].sum())),
            "profit": _euros(int(frame["profit_cents"].sum())),
            "loss_making": int((frame["profit_cents"] < 0).sum()),
            "visits": int(frame["visits"].sum()),
            "minutes": int(frame["visit_minutes"].sum()),
            "target_revenue": _euros(sum(targets)) if any(targets) else None,
            "target_customers": int(frame["target_revenue_cents"].notna().sum()),
            "ytd_target": _euros(sum(targets)),
        },
        "profit_computed": bool(pp.results["profit_computed"].all()) if len(pp.results) else False,
        "customers": customers,
        "show_all": show_all,
        "portfolio_rows": PORTFOLIO_ROWS,
        "plan": plan_rows,
        "plan_counts": {"overdue": counts.get("overdue", 0), "due_soon": counts.get("due_soon", 0)},
        "mine": mine,
        "pair_bonus": pair_bonus,
        "months": months,
        "chart_json": _chart(labels, datasets),
        "visits": visits,
        "period_visit_count": len(period_visits),
        "has_previous": previous is not None,
    }
    return render(request, "salesforce_tasks/rep_home.html", context)


def _hide_other_portfolios(subjects, *, allowed: set[int]) -> None:
    """A KPI may be driven by a customer that has since moved out of the rep's scope: keep its
    contribution, not its name."""
    for subject in subjects:
        for line in subject.lines:
            line.drivers = [
                d
                if d["customer_id"] in allowed
                else {**d, "customer_id": None, "name": _("A customer now in another portfolio")}
                for d in line.drivers
            ]
