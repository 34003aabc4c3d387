"""Report kinds of the sales-force app: customer profit per rep/pair/team and bonus per rep.

The builders serve ``manage.py report`` (the whole company, as finance sees it); money in euros.
"""

from __future__ import annotations

from config.reports import ReportKind, register

from . import bonus, selectors


class ReportError(ValueError):
    """The report cannot be built for this request; the message says why."""


class _Everyone:
    """The command line sees the whole company, as finance does."""

    is_authenticated = True
    is_superuser = True
    pk = id = None


def _period(name):
    period = selectors.period_resolve(name=name)
    if period is None:
        known = ", ".join(str(n) for n in selectors.period_names()) or "none yet: import orders first"
        raise ReportError(f"Unknown period '{name}'. Known periods: {known}.")
    return period


def _euros(row: dict) -> dict:
    return {k: (float(v) if hasattr(v, "as_tuple") else v) for k, v in row.items()}


def rep_results_report(*, period=None, user=None) -> dict:
    period = _period(period)
    data = selectors.rep_results(period=period, user=user or _Everyone())
    return {
        "period": data["period"],
        "reps": [_euros(r) for r in data["reps"]],
        "pairs": [_euros(r) for r in data["pairs"]],
        "teams": [_euros(r) for r in data["teams"]],
        "company": _euros(data["company"]) if data["company"] else None,
        "unassigned": _euros(data["unassigned"]) if data["unassigned"] else None,
    }


def bonus_report(*, period=None, user=None) -> dict:
    period = _period(period)
    data = selectors.bonus_overview(period=period, user=user or _Everyone())
    return {
        "period": data["period"],
        "reps": [
            {
                "rep": r["rep"],
                "pair": r["pair"],
                "own": float(r["own_total"]),
                "from_pair": float(r["from_pair"]),
                "total": float(r["total"]),
            }
            for r in data["reps"]
        ],
        "pairs": [
            {
                "pair": b.label,
                "total": float(b.total),
                "lines": [
                    {
                        "metric": line.metric,
                        "weight": float(bonus.weight_percent(line.weight)),  # percent, as the API
                        "actual": None if line.actual is None else float(line.actual),
                        "attainment": float(line.attainment),
                        "amount": float(line.amount),
                    }
                    for line in b.lines
                ],
            }
            for b in data["pairs"]
        ],
    }


def _rows_rep_results(data: dict) -> list[dict]:
    return (
        [{"period": data["period"], "level": "rep", **r} for r in data["reps"]]
        + [{"period": data["period"], "level": "pair", **r} for r in data["pairs"]]
        + [{"period": data["period"], "level": "team", **r} for r in data["teams"]]
        + ([{"period": data["period"], "level": "company", **data["company"]}] if data["company"] else [])
    )


def _rows_bonus(data: dict) -> list[dict]:
    return [{"period": data["period"], **r} for r in data["reps"]]


register(ReportKind("rep_results", rep_results_report, _rows_rep_results))
register(ReportKind("bonus", bonus_report, _rows_bonus))
