"""The shared, seeded plan of the demo: a Dutch B2B wholesaler over the fiscal years 2023-2025.

Pure (numpy/pandas, no ORM): the same ``customers`` and ``seed`` give the same frames, row for row.
This is the core of the plan, computed in the lowest layer that needs it and passed up as data
(:class:`DemoPlan`) to every app's seeder (``<app>/demo.py``, listed in ``settings.DEMO_SEEDERS``):

- the people of the demo (``demo_users``): logins, reps, pairs and teams;
- customers (with the pair that owns them), products, orders and order lines;
- the contacts the sales force has with each customer (who, when, how, how long): the service
  facts the cost allocation needs (visit minutes drive a pool and the logistics capacity), so they
  are planned here; the sales force writes them as visits;
- ``facts``: per year and customer known by the year's end: revenue, margin, orders, lines,
  visits, visit minutes, pyramid level, active.

One ``numpy.random.Generator(PCG64(seed))`` draws the core in a fixed order; a higher app draws
its own data from its own stream (:func:`app_rng`), so adding a draw to one app never shifts the
numbers of another.

The story the data tells: revenue is Pareto-shaped (a handful of customers at EUR 1-3M a year,
most at EUR 2-30k), customers move up and down the pyramid (a random walk on log revenue), about
8 % churn each year and some come back, about 8 % are new each year, a few churned customers only
return goods, credit notes are sprinkled in, gross margins run 15-40 % per customer, and the cost
to serve is about 60-80 % of gross margin, so many small customers who order often or are visited
a lot lose money.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from config.accounts import DEMO_PASSWORDS
from customers.pyramid import PyramidScheme, assign_levels

YEARS: tuple[int, ...] = (2023, 2024, 2025)
LAST_YEAR = YEARS[-1]
FIRST_DAY = dt.date(YEARS[0], 1, 1)
CENTS_PER_100_EUR = 10_000

#: the random streams of the apps (``app_rng``); the core uses the seed itself
STREAMS = {"accounting": 1, "scenarios": 2, "salesforce_tasks": 3}

# --- people -------------------------------------------------------------------------------------

TEAMS: tuple[str, ...] = ("Noord", "Zuid")
PAIRS: tuple[tuple[str, str], ...] = (("P1", "Noord"), ("P2", "Noord"), ("P3", "Zuid"), ("P4", "Zuid"))
# rep1 is the outside rep of P1, rep2 its inside rep, rep3 the outside rep of P2, ...
REP_NAMES: tuple[tuple[str, str], ...] = (
    ("Pieter", "de Vries"), ("Lotte", "Jansen"), ("Bram", "Bakker"), ("Fleur", "Smit"),
    ("Thijs", "Mulder"), ("Eva", "de Boer"), ("Daan", "Vermeulen"), ("Anouk", "Peters"),
)  # fmt: skip
USER_COLUMNS = ["username", "password", "role", "first_name", "last_name", "is_superuser", "rep_kind", "pair", "team",
                "sees"]  # fmt: skip


def demo_users() -> pd.DataFrame:
    """The demo logins, one row each: username, password, role (group; '' for the superuser),
    first_name, last_name, is_superuser, rep_kind (outside/inside/''), pair, team, sees."""
    # fmt: off
    rows = [
        ("manager", DEMO_PASSWORDS["manager"], "manager", "Marieke", "van den Berg", False, "", "", "Noord, Zuid",
         "Both teams: customer profit per rep, targets, bonus KPIs; approves proposed targets and actions "
         "(Waiting for me); the teams' reps, pairs and invitations (Organisation)"),
        ("finance", DEMO_PASSWORDS["finance"], "finance", "Joost", "Hendriks", False, "", "", "",
         "Everything read-only; cost pools, allocation keys, interest rate, imports; "
         "periods: open the next year, period close and reopen (Periods)"),
    ]
    # fmt: on
    for i, (first, last) in enumerate(REP_NAMES):
        pair, team = PAIRS[i // 2]
        kind = "outside" if i % 2 == 0 else "inside"
        sees = f"Pair {pair} (team {team}, {kind} rep): its customers, profit, targets, visits, actions"
        rows.append((f"rep{i + 1}", DEMO_PASSWORDS["rep"], "rep", first, last, False, kind, pair, team, sees))
    sees = "Everything, plus users and their roles, team managers, and the Django admin"
    rows.append(("admin", DEMO_PASSWORDS["admin"], "", "Sanne", "Visser", True, "", "", "", sees))
    return pd.DataFrame(rows, columns=USER_COLUMNS)


def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split("|"))


def _weighted(text: str) -> dict[str, float]:
    """'Amsterdam:9|Groningen:5' -> {'Amsterdam': 9.0, 'Groningen': 5.0}."""
    return {name: float(weight) for name, weight in (item.rsplit(":", 1) for item in text.split("|"))}


# --- companies ----------------------------------------------------------------------------------

LAST_NAMES = _names(
    "De Vries|Jansen|Van den Berg|Bakker|Visser|Smit|Meijer|De Boer|Mulder|De Groot|Bos|Vos|Peters|Hendriks|"
    "Van Leeuwen|Dekker|Brouwer|De Wit|Dijkstra|Smits|De Graaf|Van der Meer|Van der Linden|Kok|Jacobs|De Haan|"
    "Vermeulen|Van den Heuvel|Van der Veen|Van den Broek|De Bruijn|De Jong|Schouten|Van Beek|Willems|Van Dijk|"
    "Hoekstra|Koster|Prins|Huisman|Kuipers|Van Wijk|Postma|Verhoeven|Timmermans|Groen|Gerritsen|Bosman|Maas|"
    "Evers|Verbeek|Wouters|Martens|Kramer|Sanders|Vink|Brink|Scholten|Post|Hermans|Van Dam|Koning|Van Vliet|"
    "Boersma|Steenbergen"
)
NOUNS = _names("Zwaan|Gouden Leeuw|Molen|Eik|Linde|Hoeve|Zonnebloem|Kroon|Brug|Haven|Kastanje|Akker|Posthoorn|Ster")
# industry: (weight, name templates); {ln} a last name, {city} the city, {noun} a noun after "De"
# fmt: off
INDUSTRIES: dict[str, tuple[float, tuple[str, ...]]] = {
    "bouw": (0.22, _names("Bouwbedrijf {ln}|Aannemersbedrijf {ln}|{ln} Bouw|Bouwgroep {city}|Timmerbedrijf {ln}|"
                          "{ln} Renovatie|Dakdekkersbedrijf {ln}")),
    "installatie": (0.18, _names("Installatiebedrijf {ln}|{ln} Installatietechniek|Loodgietersbedrijf {ln}|"
                                 "{ln} Elektrotechniek|Klimaattechniek {city}|{ln} Verwarming")),
    "horeca": (0.12, _names("Restaurant De {noun}|Hotel {city}|Eetcafé {ln}|Brasserie De {noun}|Grand Café {city}|"
                            "Partycentrum {ln}")),
    "zorg": (0.10, _names("Zorggroep {city}|Tandartspraktijk {ln}|Huisartsenpraktijk {city}|Fysiotherapie {ln}|"
                          "Thuiszorg {city}|Woonzorgcentrum De {noun}")),
    "industrie": (0.14, _names("Metaalbewerking {ln}|Machinefabriek {ln}|{ln} Kunststoffen|{city} Staalbouw|"
                               "{ln} Precisietechniek|Houtindustrie {ln}")),
    "retail": (0.10, _names("Bouwmarkt {ln}|{ln} Tuincentrum|IJzerhandel {ln}|Fietsenhandel {ln}|Warenhuis {ln}|"
                            "Doe-het-zelf {city}")),
    "transport": (0.06, _names("Transportbedrijf {ln}|{ln} Logistiek|Koeriersdienst {city}")),
    "schoonmaak": (0.04, _names("Schoonmaakbedrijf {ln}|{ln} Facilitair|Glazenwassersbedrijf {ln}")),
    "onderwijs": (0.02, _names("Scholengemeenschap {city}|Basisschool De {noun}")),
    "agrarisch": (0.02, _names("Loonbedrijf {ln}|Kwekerij {ln}|Melkveebedrijf {ln}")),
}
# fmt: on
LEGAL_FORMS = _weighted(" BV:55| VOF:10| & Zn.:5|:30")
# city: (weight, team): Noord serves the north and east, Zuid the west and south
CITIES: dict[str, tuple[float, str]] = {
    **{
        city: (weight, "Noord")
        for city, weight in _weighted(
            "Amsterdam:9|Groningen:5|Zwolle:4|Leeuwarden:3|Assen:2|Emmen:2|Enschede:4|Hengelo:2|Apeldoorn:4|"
            "Deventer:3|Almere:4|Haarlem:4|Alkmaar:3|Hoorn:2|Zaandam:3|Lelystad:2|Drachten:2|Heerenveen:2|Amersfoort:4"
        ).items()
    },
    **{
        city: (weight, "Zuid")
        for city, weight in _weighted(
            "Rotterdam:9|Den Haag:7|Utrecht:6|Eindhoven:5|Tilburg:4|Breda:4|'s-Hertogenbosch:3|Nijmegen:4|Arnhem:4|"
            "Maastricht:3|Venlo:2|Roermond:2|Helmond:2|Dordrecht:3|Middelburg:1|Goes:1|Bergen op Zoom:1|Oss:2|Heerlen:2"
        ).items()
    },
}

# --- products -----------------------------------------------------------------------------------

# group: (gross margin offset, item names)
# fmt: off
PRODUCT_GROUPS: dict[str, tuple[float, tuple[str, ...]]] = {
    "Bevestigingsmaterialen": (0.06, _names("Spaanplaatschroef|Houtdraadbout|Nylon plug|Keilbout|Popnagel")),
    "Handgereedschap": (0.04, _names("Waterpomptang|Schroevendraaierset|Klauwhamer|Waterpas|Rolmaat")),
    "Elektrisch gereedschap": (-0.06, _names("Accuboormachine|Cirkelzaag|Haakse slijper|Klopboormachine")),
    "Elektra": (0.0, _names("Installatiekabel|Wandcontactdoos|Lasdoos|Installatieautomaat|Buis 16mm")),
    "Sanitair": (-0.02, _names("Toiletpot|Wastafelkraan|Sifon|Douchekraan|Afvoerbuis PVC")),
    "Verwarming & klimaat": (-0.04, _names("Radiator|Thermostaatkraan|Cv-ketel|Vloerverwarmingsverdeler")),
    "Verlichting": (0.02, _names("LED-paneel|LED-buis|Bouwlamp|Armatuur IP65")),
    "Persoonlijke bescherming": (0.08, _names("Werkhandschoenen|Veiligheidsbril|Gehoorbescherming|Stofmasker FFP2|"
                                              "Werkschoenen S3")),
    "Schoonmaak & hygiëne": (0.05, _names("Handzeep|Allesreiniger|Poetsdoeken|Desinfectiemiddel")),
    "Verpakking": (0.03, _names("Verhuisdoos|Stretchfolie|Tape bruin|Pallethoes")),
    "Lijmen & kitten": (0.07, _names("Montagekit|Siliconenkit|Houtlijm|PUR-schuim")),
    "Verf & coatings": (0.01, _names("Grondverf|Muurverf wit|Beits|Lakverf hoogglans")),
}
# fmt: on
N_PRODUCTS = 200

# --- contacts (visits) ----------------------------------------------------------------------------

# contacts per year by level (Poisson mean) and the outside rep's share of them
VISIT_RATE = {"top": 24.0, "big": 12.0, "medium": 4.0, "small": 0.5, "inactive": 0.3, "prospect": 1.2, "suspect": 0.0}
OUTSIDE_SHARE = {"top": 0.7, "big": 0.65, "medium": 0.5, "small": 0.2, "inactive": 0.2, "prospect": 0.5, "suspect": 0.5}
OVERVISITED_RATE = 12.0


@dataclass
class DemoPlan:
    """The core plan, passed up from seeder to seeder; customers and orders are referred to by position.

    customers: external_id, name, status, industry, city, team, pair, created (date), first_year (index into
        YEARS, -1 for prospects and suspects), new, pay_type (0 good, 1 moderate, 2 late payer), demanding
    products: code, name, group
    orders: external_id, customer (position), date, year, credit
    lines: order (position), line_no, amount_cents, cost_cents, quantity, product (position), customer, year
    contacts: rep (username), customer, date, minutes, kind, year (the sales force's visits, without texts)
    facts: per year and customer known by the year's end: year, customer, external_id, status,
        revenue_cents, gross_margin_cents, orders, order_lines, visits, visit_minutes, level, rank, active.
        The accounting seeder adds ``estimated_profit_cents`` (a float approximation of the allocation).

    ``customer_ids`` (database ids by position) is filled by the customers seeder; ``parts`` is where a
    seeder leaves what it planned for the seeders after it (``parts["accounting"]``: its frames).
    """

    seed: int
    users: pd.DataFrame
    customers: pd.DataFrame
    products: pd.DataFrame
    orders: pd.DataFrame
    lines: pd.DataFrame
    contacts: pd.DataFrame
    facts: pd.DataFrame
    customer_ids: np.ndarray | None = None
    parts: dict = field(default_factory=dict)


def demo_plan(*, customers: int = 2000, seed: int = 42) -> DemoPlan:
    """The core of the demo as frames. Pure: the same arguments give the same frames."""
    if customers < 20:
        raise ValueError("The demo needs at least 20 customers.")
    rng = np.random.Generator(np.random.PCG64(seed))
    cust = _customers(rng, customers)
    products = _products(rng)
    revenue, active = _yearly_revenue(rng, cust)
    orders, lines = _orders_and_lines(rng, cust, revenue, active, products)
    facts = _facts_before_visits(cust, lines)
    contacts = _contacts(rng, cust, facts)
    return DemoPlan(
        seed=seed,
        users=demo_users(),
        customers=cust,
        products=products,
        orders=orders,
        lines=lines,
        contacts=contacts,
        facts=_with_visits(facts, contacts),
    )


def app_rng(seed: int, app: str) -> np.random.Generator:
    """The random stream of one app's part of the demo (``STREAMS``), independent of the core's."""
    return np.random.Generator(np.random.PCG64([seed, STREAMS[app]]))


def weights(values) -> np.ndarray:
    w = np.asarray(values, dtype=float)
    return w / w.sum()


def dates_between(rng: np.random.Generator, start: np.datetime64, end: np.datetime64, size: int) -> np.ndarray:
    span = (end - start).astype(int) + 1
    return start + rng.integers(0, span, size).astype("timedelta64[D]")


def _customers(rng: np.random.Generator, n: int) -> pd.DataFrame:
    n_customer = round(0.85 * n)
    n_prospect = round(0.10 * n)
    status = rng.permutation(
        np.array(["customer"] * n_customer + ["prospect"] * n_prospect + ["suspect"] * (n - n_customer - n_prospect))
    )
    industries = list(INDUSTRIES)
    industry = rng.choice(industries, size=n, p=weights([INDUSTRIES[i][0] for i in industries]))
    cities = list(CITIES)
    city = rng.choice(cities, size=n, p=weights([CITIES[c][0] for c in cities]))
    team = np.array([CITIES[c][1] for c in city])
    pair_in_team = rng.integers(0, 2, n)
    pair = np.array([f"P{2 * (t == 'Zuid') + k + 1}" for t, k in zip(team, pair_in_team, strict=True)])

    template_u = rng.random(n)
    last_name = rng.choice(LAST_NAMES, size=n)
    noun = rng.choice(NOUNS, size=n)
    forms = rng.choice(list(LEGAL_FORMS), size=n, p=weights(list(LEGAL_FORMS.values())))
    bases = []
    for ind, u, ln, c, nn in zip(industry, template_u, last_name, city, noun, strict=True):
        templates = INDUSTRIES[ind][1]
        base = templates[int(u * len(templates))].format(ln=ln, city=c, noun=nn)
        bases.append(base[0].upper() + base[1:])
    base = pd.Series(bases)
    # a name that is taken gets its city ("Bouwbedrijf Bos Zwolle BV"), or a district when it has one already
    taken = (base + forms).groupby(base + forms).cumcount()
    district = np.array(["Noord", "Oost", "Zuid", "West", "Centrum"])[(taken.to_numpy() - 1) % 5]
    renamed = [
        b.replace(c, f"{c}-{d}", 1) if c in b else f"{b} {c}" for b, c, d in zip(bases, city, district, strict=True)
    ]
    base = base.where(taken == 0, pd.Series(renamed))
    taken = (base + forms).groupby(base + forms).cumcount()
    name = (base + np.where(taken == 0, "", " " + (taken + 1).astype(str))) + forms

    # first year with orders: existing customers (known before 2023) and ~8 % new ones per year
    kind = rng.choice(4, size=n, p=[0.76, 0.08, 0.08, 0.08])
    first_year = np.where(kind == 0, 0, kind - 1)
    created = dates_between(rng, np.datetime64("2012-01-01"), np.datetime64("2022-12-31"), n)
    new_created = _year_start(np.array(YEARS)[first_year]) + rng.integers(0, 304, n).astype("timedelta64[D]")
    late = dates_between(rng, np.datetime64(f"{LAST_YEAR}-01-01"), np.datetime64(f"{LAST_YEAR}-12-15"), n)
    is_customer = status == "customer"
    created = np.where(is_customer & (kind > 0), new_created, created)
    created = np.where(is_customer, created, late)
    pay_type = rng.choice(3, size=n, p=[0.6, 0.3, 0.1])  # good, moderate, late payer
    demanding = rng.random(n) < 0.15  # deep discounts, many small orders, wants to be visited
    return pd.DataFrame(
        {
            "external_id": [f"C{i + 1:05d}" for i in range(n)],
            "name": name.to_numpy(),
            "status": status,
            "industry": industry,
            "city": city,
            "team": team,
            "pair": pair,
            "created": created.astype("datetime64[D]"),
            "first_year": np.where(is_customer, first_year, -1),
            "new": is_customer & (kind > 0),
            "pay_type": pay_type,
            "demanding": demanding,
        }
    )


def _products(rng: np.random.Generator) -> pd.DataFrame:
    groups = list(PRODUCT_GROUPS)
    group_of = np.sort(np.arange(N_PRODUCTS) % len(groups))
    item = rng.integers(0, 1000, N_PRODUCTS)
    names = []
    for i, g in enumerate(group_of):
        items = PRODUCT_GROUPS[groups[g]][1]
        names.append(f"{items[item[i] % len(items)]} type {i + 1:03d}")
    popularity = 1.0 / (rng.permutation(N_PRODUCTS) + 4.0) ** 0.9
    return pd.DataFrame(
        {
            "code": [f"P-{i + 1:03d}" for i in range(N_PRODUCTS)],
            "name": names,
            "group": [groups[g] for g in group_of],
            "margin_offset": [PRODUCT_GROUPS[groups[g]][0] for g in group_of],
            "price": np.round(np.clip(rng.lognormal(np.log(25), 1.0, N_PRODUCTS), 0.5, 900), 2),
            "popularity": popularity / popularity.sum(),
        }
    )


def _yearly_revenue(rng: np.random.Generator, cust: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Revenue in euros per customer and year (n x 3) and whether the customer buys that year."""
    n = len(cust)
    base = 3500 * (1 + rng.pareto(1.1, n)) * rng.lognormal(0, 0.45, n)
    base = np.where(base > 1.0e6, 1.0e6 * (base / 1.0e6) ** 0.3, base)  # a soft ceiling around EUR 3M
    log_rev = np.log(np.clip(base, 600, 3.0e6)) - 0.4 * cust["new"].to_numpy()
    cap = np.log(3.2e6)
    logs = np.empty((n, len(YEARS)))
    logs[:, 0] = log_rev
    for t in range(1, len(YEARS)):
        sd = np.clip(0.42 - 0.035 * (logs[:, t - 1] - np.log(8000)), 0.10, 0.50)
        logs[:, t] = np.minimum(logs[:, t - 1] + rng.normal(0.03, 1.0, n) * sd, cap)

    first = cust["first_year"].to_numpy()
    is_customer = cust["status"].to_numpy() == "customer"
    active = np.zeros((n, len(YEARS)), dtype=bool)
    for t in range(len(YEARS)):
        u = rng.random(n)
        if t == 0:
            active[:, 0] = is_customer & (first == 0)
            continue
        churn = np.clip(0.075 - 0.025 * (logs[:, t - 1] - np.log(8000)), 0.01, 0.20)
        started = is_customer & (first >= 0) & (first < t)
        stay = active[:, t - 1] & (u >= churn)
        back = ~active[:, t - 1] & (u < 0.25)
        active[:, t] = (is_customer & (first == t)) | (started & (stay | back))

    revenue = np.exp(logs)
    # new customers buy only after they became known: part of their first year
    created = cust["created"].to_numpy()
    for t, year in enumerate(YEARS):
        starts = cust["new"].to_numpy() & (first == t)
        days_left = (np.datetime64(f"{year}-12-31") - created).astype(int) + 1
        revenue[starts, t] *= np.clip(days_left[starts] / 365, 0.1, 1)
    return np.where(active, revenue, 0.0), active


def _business_days() -> np.ndarray:
    days = np.arange(np.datetime64(f"{YEARS[0]}-01-01"), np.datetime64(f"{LAST_YEAR + 1}-01-01"))
    return days[np.is_busday(days)]


def _draw_business_days(
    rng: np.random.Generator, year_idx: np.ndarray, not_before: np.ndarray, not_after: np.ndarray | None = None
) -> np.ndarray:
    """A business day in the given year (index into YEARS), on or after ``not_before``, per row."""
    days = _business_days()
    years = np.array(YEARS)[year_idx]
    first = np.maximum(np.searchsorted(days, not_before), np.searchsorted(days, _year_start(years)))
    last = np.searchsorted(days, _year_start(years + 1)) - 1
    if not_after is not None:
        last = np.minimum(last, np.searchsorted(days, not_after, side="right") - 1)
    first = np.minimum(first, last)
    return days[first + np.floor(rng.random(len(first)) * (last - first + 1)).astype(np.int64)]


def _year_start(years: np.ndarray) -> np.ndarray:
    return (np.asarray(years) - 1970).astype("datetime64[Y]").astype("datetime64[D]")


def _orders_and_lines(
    rng: np.random.Generator, cust: pd.DataFrame, revenue: np.ndarray, active: np.ndarray, products: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    n = len(cust)
    n_years = len(YEARS)
    size = revenue.max(axis=1)
    demanding = cust["demanding"].to_numpy()
    habit = rng.lognormal(np.log(1.3), 0.55, n) * np.where(demanding, 3.0, 1.0)  # orders for its size
    lines_per_order = np.clip(0.5 + 1.0 * np.log10(np.maximum(size, 1000) / 1000), 0.3, 7) * rng.lognormal(0, 0.3, n)
    margin = 0.31 - 0.045 * np.log10(np.maximum(size, 1000) / 10000) - 0.08 * demanding
    margin = np.clip(margin + rng.normal(0, 0.055, n), 0.15, 0.40)

    # customer-years with orders, and churned customer-years that only return goods
    ct = np.flatnonzero(active.ravel())
    churned = np.zeros_like(active)
    churned[:, 1:] = ~active[:, 1:] & active[:, :-1]
    returns_ct = np.flatnonzero(churned.ravel() & (rng.random(n * n_years) < 0.06))
    c_of = ct // n_years
    n_orders = np.clip(np.round(habit[c_of] * (revenue.ravel()[ct] / 2000) ** 0.78), 1, 400).astype(np.int64)
    n_returns = rng.integers(1, 3, len(returns_ct))
    order_ct = np.concatenate([np.repeat(ct, n_orders), np.repeat(returns_ct, n_returns)])
    returns_only = np.concatenate([np.zeros(n_orders.sum(), bool), np.ones(n_returns.sum(), bool)])
    order_c, order_t = order_ct // n_years, order_ct % n_years
    orders_in_ct = np.bincount(order_ct, minlength=n * n_years)
    credit = returns_only | ((orders_in_ct[order_ct] >= 3) & (rng.random(len(order_ct)) < 0.025))

    created = cust["created"].to_numpy().astype("datetime64[D]")
    dates = _draw_business_days(rng, order_t, created[order_c])
    orders = (
        pd.DataFrame(
            {
                "customer": order_c,
                "year": np.array(YEARS)[order_t],
                "date": dates,
                "credit": credit,
                "returns_only": returns_only,
                "ct": order_ct,
            }
        )
        .sort_values(["date", "customer", "credit"], kind="stable")
        .reset_index(drop=True)
    )
    seq = orders.groupby(["year", "credit"]).cumcount() + 1
    prefix = np.where(orders["credit"], "CN-", "VO-")
    orders["external_id"] = [f"{p}{y}-{s:06d}" for p, y, s in zip(prefix, orders["year"], seq, strict=True)]

    # lines
    lam = np.where(orders["returns_only"], 0.7, lines_per_order[orders["customer"].to_numpy()])
    n_lines = 1 + rng.poisson(lam)
    line_order = np.repeat(np.arange(len(orders)), n_lines)
    starts = np.repeat(np.cumsum(n_lines) - n_lines, n_lines)
    line_no = np.arange(len(line_order)) - starts + 1
    line_ct = orders["ct"].to_numpy()[line_order]
    weight = rng.lognormal(0, 0.8, len(line_order))
    weight_sum = np.bincount(line_ct, weights=weight, minlength=n * n_years)
    returns_total = -rng.uniform(80, 1500, n * n_years)
    target = np.where(active.ravel(), revenue.ravel(), returns_total)
    amount = target[line_ct] * weight / weight_sum[line_ct]
    is_credit = orders["credit"].to_numpy()[line_order]
    amount = np.where(is_credit & ~orders["returns_only"].to_numpy()[line_order], -0.5 * amount, amount)
    amount_cents = np.round(amount * 100).astype(np.int64)
    amount_cents = np.where(amount_cents >= 0, np.maximum(amount_cents, 100), np.minimum(amount_cents, -100))

    product = rng.choice(N_PRODUCTS, size=len(line_order), p=products["popularity"].to_numpy())
    line_customer = orders["customer"].to_numpy()[line_order]
    line_margin = margin[line_customer] + products["margin_offset"].to_numpy()[product]
    line_margin = np.clip(line_margin + rng.normal(0, 0.02, len(line_order)), 0.05, 0.55)
    cost_cents = np.round(amount_cents * (1 - line_margin)).astype(np.int64)
    price = products["price"].to_numpy()[product]
    quantity = np.maximum(1, np.round(np.abs(amount_cents) / 100 / price)) * np.sign(amount_cents)

    lines = pd.DataFrame(
        {
            "order": line_order,
            "line_no": line_no,
            "amount_cents": amount_cents,
            "cost_cents": cost_cents,
            "quantity": quantity.astype(np.int64),
            "product": product,
            "customer": line_customer,
            "year": orders["year"].to_numpy()[line_order],
        }
    )
    return orders.drop(columns=["ct", "returns_only"]), lines


def _facts_before_visits(cust: pd.DataFrame, lines: pd.DataFrame) -> pd.DataFrame:
    """Per year: the customers known by the year's end with their revenue, margin and pyramid level."""
    per = (
        lines.assign(gross_margin_cents=lines["amount_cents"] - lines["cost_cents"])
        .groupby(["year", "customer"])
        .agg(
            revenue_cents=("amount_cents", "sum"),
            gross_margin_cents=("gross_margin_cents", "sum"),
            orders=("order", "nunique"),
            order_lines=("order", "size"),
        )
        .reset_index()
    )
    frames = []
    bought_before = np.zeros(len(cust), dtype=bool)
    for year in YEARS:
        known = cust.index[cust["created"] <= np.datetime64(f"{year}-12-31")]
        frame = (
            pd.DataFrame({"customer": known})
            .merge(per[per["year"] == year].drop(columns="year"), on="customer", how="left")
            .fillna(0)
            .astype("int64")
        )
        frame = frame.assign(
            year=year,
            customer_id=frame["customer"],
            external_id=cust["external_id"].to_numpy()[frame["customer"]],
            status=cust["status"].to_numpy()[frame["customer"]],
            bought_before=bought_before[frame["customer"]],
        )
        frame = assign_levels(frame, scheme=PyramidScheme())
        frame["active"] = frame["revenue_cents"] > 0
        bought_before[frame.loc[frame["active"], "customer"].to_numpy()] = True
        frames.append(frame.drop(columns=["customer_id", "bought_before"]))
    return pd.concat(frames, ignore_index=True)


def _contacts(rng: np.random.Generator, cust: pd.DataFrame, facts: pd.DataFrame) -> pd.DataFrame:
    n = len(cust)
    margin_rate = facts.groupby("customer")["gross_margin_cents"].sum() / facts.groupby("customer")[
        "revenue_cents"
    ].sum().replace(0, np.nan)
    low_margin = margin_rate.reindex(range(n)).fillna(1).to_numpy() < margin_rate.median()
    overvisited = (cust["status"].to_numpy() == "customer") & low_margin & (rng.random(n) < 0.08)

    level = facts["level"].to_numpy()
    customer = facts["customer"].to_numpy()
    prospect_now = (level == "prospect") & (facts["year"].to_numpy() >= LAST_YEAR - 1)
    rate = pd.Series(level).map(VISIT_RATE).to_numpy()
    rate = np.where(level == "prospect", np.where(prospect_now, rate, 0.0), rate)
    over = overvisited[customer] & np.isin(level, ("small", "medium"))
    rate = np.where(over, OVERVISITED_RATE, rate * np.where(cust["demanding"].to_numpy()[customer], 3.0, 1.0))
    count = rng.poisson(rate)
    row = np.repeat(np.arange(len(facts)), count)
    v_customer = customer[row]
    v_level = level[row]
    v_over = over[row]
    outside_share = np.where(v_over, 0.85, pd.Series(v_level).map(OUTSIDE_SHARE).to_numpy())
    outside = rng.random(len(row)) < outside_share
    pair_no = pd.Series(cust["pair"].to_numpy()[v_customer]).str[1:].astype(int).to_numpy()
    rep = np.where(outside, 2 * pair_no - 1, 2 * pair_no)
    u = rng.random(len(row))
    kind = np.where(outside, np.where(u < 0.85, "visit", "video"), np.where(u < 0.85, "phone", "video"))
    visit_minutes = rng.choice([45, 60, 60, 75, 90, 90, 120], size=len(row))
    visit_minutes = np.where(v_over, np.maximum(visit_minutes, 75), visit_minutes)
    minutes = np.select(
        [kind == "visit", kind == "phone"],
        [visit_minutes, rng.choice([15, 15, 20, 30], size=len(row))],
        rng.choice([30, 30, 45, 60], size=len(row)),
    )
    year = facts["year"].to_numpy()[row]
    year_idx = np.searchsorted(np.array(YEARS), year)
    date = _draw_business_days(rng, year_idx, cust["created"].to_numpy().astype("datetime64[D]")[v_customer])
    return (
        pd.DataFrame(
            {
                "rep": [f"rep{r}" for r in rep],
                "customer": v_customer,
                "date": date,
                "minutes": minutes.astype(np.int64),
                "kind": kind,
                "year": year,
            }
        )
        .sort_values(["date", "customer", "rep"], kind="stable")
        .reset_index(drop=True)
    )


def _with_visits(facts: pd.DataFrame, visits: pd.DataFrame) -> pd.DataFrame:
    per = visits.groupby(["year", "customer"]).agg(visits=("minutes", "size"), visit_minutes=("minutes", "sum"))
    out = facts.merge(per.reset_index(), on=["year", "customer"], how="left")
    return out.assign(
        visits=out["visits"].fillna(0).astype("int64"), visit_minutes=out["visit_minutes"].fillna(0).astype("int64")
    )


@contextmanager
def csv_file(frame: pd.DataFrame) -> Iterator[Path]:
    """The frame as a temporary UTF-8 CSV file (for a seeder that writes through an import service)."""
    with tempfile.TemporaryDirectory(prefix="kw-demo-") as folder:
        path = Path(folder) / "rows.csv"
        frame.to_csv(path, index=False)
        yield path
