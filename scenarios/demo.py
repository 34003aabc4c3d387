"""The scenarios app's part of the demo: survey answers, the value settings and the built-in scenarios.

``seed(*, plan, progress)`` (run by ``customers.demo.demo_load``, see ``settings.DEMO_SEEDERS``)
draws the survey answers from this app's own random stream and writes them through the surveys
import; the value settings and scenarios come from their services with their defaults.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from customers.demo_plan import DemoPlan, app_rng, csv_file, dates_between

SURVEY_COMMENTS = tuple(
    "Snelle levering, prettig contact.|Prijzen zijn de laatste tijd fors gestegen.|Binnendienst denkt goed mee.|"
    "Levertijden kunnen beter.|Breed assortiment, alles op één adres.|Facturen zijn soms onduidelijk.|"
    "Vertegenwoordiger komt vaker dan nodig.|Goede technische kennis.".split("|")
)
SURVEY_ROUNDS: tuple[tuple[int, str], ...] = ((2024, "2024-najaar"), (2025, "2025-najaar"))


def surveys_plan(plan: DemoPlan) -> pd.DataFrame:
    """customer (position), date, round, score, comment. Pure: the same plan gives the same frame."""
    return _surveys(app_rng(plan.seed, "scenarios"), plan.customers, plan.facts)


def seed(*, plan: DemoPlan, progress=None) -> None:
    from .selectors import value_settings_get
    from .services import scenarios_builtin_ensure, surveys_import

    surveys = surveys_plan(plan)
    rows = pd.DataFrame(
        {
            "customer_id": plan.customers["external_id"].to_numpy()[surveys["customer"].to_numpy()],
            "date": pd.to_datetime(surveys["date"]).dt.strftime("%Y-%m-%d"),
            "score": surveys["score"],
            "round": surveys["round"],
            "comment": surveys["comment"],
        }
    )
    with csv_file(rows) as path:
        surveys_import(path=path, acting_user=None)
    value_settings_get()  # the defaults, stored
    scenarios_builtin_ensure()


def _surveys(rng: np.random.Generator, cust: pd.DataFrame, facts: pd.DataFrame) -> pd.DataFrame:
    product_value = rng.normal(7.0, 1.4, len(cust))
    frames = []
    for year, round_name in SURVEY_ROUNDS:
        active = facts.loc[(facts["year"] == year) & facts["active"], "customer"].to_numpy()
        chosen = active[rng.random(len(active)) < 0.4]
        score = np.clip(np.round(product_value[chosen] + rng.normal(0, 0.7, len(chosen))), 3, 10)
        date = dates_between(rng, np.datetime64(f"{year}-10-01"), np.datetime64(f"{year}-11-30"), len(chosen))
        comment = np.where(rng.random(len(chosen)) < 0.25, rng.choice(SURVEY_COMMENTS, size=len(chosen)), "")
        frames.append(
            pd.DataFrame(
                {
                    "customer": chosen,
                    "date": date,
                    "round": round_name,
                    "score": score.astype(np.int64),
                    "comment": comment,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
