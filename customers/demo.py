"""Seeded, repeatable demo data: a Dutch B2B wholesaler over the fiscal years 2023-2025.

Two parts:

- :func:`demo_frames` is pure and seeded: one ``numpy.random.Generator(seed)`` draws every
  number, so the same ``customers`` and ``seed`` give the same frames, row for row. It builds
  users, the sales force, customers, orders, order lines, invoices, visits, surveys, cost pools,
  targets, bonus KPIs and proposed actions as DataFrames (money in integer cents).
- :func:`demo_load` writes those frames in bulk (``bulk_create`` in batches, no per-customer
  queries), marks every period dirty and recomputes in-process (pyramid, then profit and value
  when those services exist).

The story the data tells: revenue is Pareto-shaped (a handful of customers at EUR 1-3M a year,
most at EUR 2-30k), customers move up and down the pyramid (a random walk on log revenue), about
8 % churn each year and some come back, about 8 % are new each year, a few churned customers only
return goods, credit notes are sprinkled in, gross margins run 15-40 % per customer, and the cost
to serve is about 60-80 % of gross margin, so many small customers who order often or are visited
a lot lose money.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from config.accounts import DEMO_PASSWORDS  # the published demo passwords live in config (re-exported)
from customers.pyramid import PyramidScheme, assign_levels

YEARS: tuple[int, ...] = (2023, 2024, 2025)
LAST_YEAR = YEARS[-1]
FIRST_DAY = dt.date(YEARS[0], 1, 1)
BATCH = 5000
CENTS_PER_100_EUR = 10_000

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
         "Both teams: customer profit per rep, targets, bonus KPIs; approves actions"),
        ("finance", DEMO_PASSWORDS["finance"], "finance", "Joost", "Hendriks", False, "", "", "",
         "Everything read-only; cost pools, allocation keys, interest rate, imports"),
    ]
    # fmt: on
    for i, (first, last) in enumerate(REP_NAMES):
        pair, team = PAIRS[i // 2]
        kind = "outside" if i % 2 == 0 else "inside"
        sees = f"Pair {pair} (team {team}, {kind} rep): its customers, profit, targets, visits, actions"
        rows.append((f"rep{i + 1}", DEMO_PASSWORDS["rep"], "rep", first, last, False, kind, pair, team, sees))
    sees = "Everything, plus the Django admin"
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

# --- sales force texts --------------------------------------------------------------------------

OUTCOMES = _names(
    "Assortiment doorgenomen|Offerte besproken|Bestelling opgenomen|Klacht over levertijd afgehandeld|"
    "Jaarafspraken besproken|Nieuwe producten gepresenteerd|Prijsverhoging toegelicht|Geen interesse op dit moment|"
    "Kennismaking met nieuwe inkoper|Voorraadbeheer besproken"
)
NEXT_STEPS = _names(
    "Offerte sturen|Terugbellen over levertijden|Volgend kwartaal opnieuw bezoeken|Proefzending regelen|"
    "Jaarcontract voorbereiden|Binnendienst belt na|||"  # a third of the visits have no next step
)
SURVEY_COMMENTS = _names(
    "Snelle levering, prettig contact.|Prijzen zijn de laatste tijd fors gestegen.|Binnendienst denkt goed mee.|"
    "Levertijden kunnen beter.|Breed assortiment, alles op één adres.|Facturen zijn soms onduidelijk.|"
    "Vertegenwoordiger komt vaker dan nodig.|Goede technische kennis."
)
SURVEY_ROUNDS: tuple[tuple[int, str], ...] = ((2024, "2024-najaar"), (2025, "2025-najaar"))

# visits per year by level (Poisson mean) and the outside rep's share of them
VISIT_RATE = {"top": 24.0, "big": 12.0, "medium": 4.0, "small": 0.5, "inactive": 0.3, "prospect": 1.2, "suspect": 0.0}
OUTSIDE_SHARE = {"top": 0.7, "big": 0.65, "medium": 0.5, "small": 0.2, "inactive": 0.2, "prospect": 0.5, "suspect": 0.5}
OVERVISITED_RATE = 12.0
VISIT_NORMS: tuple[tuple[str, int, str], ...] = (
    ("top", 30, "visit"), ("big", 91, "visit"), ("medium", 182, "visit"), ("small", 365, "phone"),
)  # fmt: skip

# --- cost pools ---------------------------------------------------------------------------------

CTS_RATIO = {2023: 0.76, 2024: 0.77, 2025: 0.79}  # cost to serve / gross margin
LOGISTICS_CAPACITY = {2023: 1.10, 2024: 1.10, 2025: 0.96}  # practical capacity / demand
MINUTES_PER_ORDER = 12
MINUTES_PER_LINE = 2
# name, share of the spread pools, key, nature
POOLS: tuple[tuple[str, float, str, str], ...] = (
    ("Buitendienst", 0.26, "visit_minutes", "fixed"),
    ("Binnendienst", 0.15, "orders", "fixed"),
    ("Orderverwerking", 0.12, "order_lines", "variable"),
    ("Logistiek", 0.25, "time_driven", "variable"),
    ("Marketing", 0.05, "per_level", "fixed"),
    ("Klantenservice", 0.05, "per_customer", "fixed"),
    ("Debiteurenbeheer", 0.12, "revenue", "variable"),
)
LEVEL_WEIGHTS = {"top": 4, "big": 3, "medium": 2, "small": 1}
INTEREST_RATE = Decimal("6")

# the action a rep proposes for a loss-making customer, by what makes it lose money
ACTIONS: dict[str, tuple[Decimal | None, str]] = {
    "move_to_inside": (None, "Overdragen aan de binnendienst; bezoeken vervangen door telefonisch contact"),
    "part_ways": (None, "Afscheid nemen: veel bezoeken, weinig omzet, ook na eerdere afspraken verlieslatend"),
    "min_order_size": (Decimal("250.00"), "Minimale ordergrootte van EUR 250 afspreken"),
    "order_surcharge": (Decimal("12.50"), "Orderkosten van EUR 12,50 per order onder EUR 250"),
    "discount_change": (Decimal("3.00"), "Korting met 3 procentpunt verlagen"),
    "min_revenue": (Decimal("10000.00"), "Minimale jaaromzet van EUR 10.000 vastleggen in de jaarafspraak"),
}
N_ACTIONS = 6


@dataclass
class DemoData:
    """Every table of the demo as a frame; customers and orders are referred to by position.

    customers: external_id, name, status, industry, city, team, pair, created (date), first_year (index into
        YEARS, -1 for prospects and suspects), new, pay_type (0 good, 1 moderate, 2 late payer), demanding
    products: code, name, group
    orders: external_id, customer (position), date, year, credit
    lines: order (position), line_no, amount_cents, cost_cents, quantity, product (position), customer, year
    invoices: external_id, customer, amount_cents, issued, due, paid (NaT when open), year
    visits: rep (username), customer, date, minutes, kind, outcome, next_step, year
    surveys: customer, date, round, score, comment
    pools: year, name, amount_cents, nature, key, weight_top..weight_small, capacity_minutes,
        minutes_per_order, minutes_per_line, customer (position or -1)
    facts: per year and customer known by the year's end: year, customer, external_id, status,
        revenue_cents, gross_margin_cents, orders, order_lines, visits, visit_minutes, level, rank,
        active, estimated_profit_cents (a float approximation of the allocation, for targets)
    customer_targets: customer, year, target_level, target_revenue_cents, target_profit_cents, proposed_by_pair
    team_targets: team, year, kind, target
    bonus_kpis: pair, year, metric, weight, threshold, target, cap, base_amount
    actions: customer, year, type, parameter, description, proposed_by (username)
    """

    users: pd.DataFrame
    customers: pd.DataFrame
    products: pd.DataFrame
    orders: pd.DataFrame
    lines: pd.DataFrame
    invoices: pd.DataFrame
    visits: pd.DataFrame
    surveys: pd.DataFrame
    pools: pd.DataFrame
    facts: pd.DataFrame
    customer_targets: pd.DataFrame
    team_targets: pd.DataFrame
    bonus_kpis: pd.DataFrame
    actions: pd.DataFrame


@dataclass
class DemoSummary:
    customers: int
    orders: int
    lines: int
    periods: int
    seconds: float = 0.0
    revenue_by_period: dict[int, Decimal] = field(default_factory=dict)
    recompute_warning: str = ""

    def line(self) -> str:
        revenue = ", ".join(f"{year}: EUR {amount:,.0f}" for year, amount in self.revenue_by_period.items())
        return (
            f"Demo loaded: {self.customers} customers, {self.orders} orders, {self.lines} order lines, "
            f"{self.periods} periods ({revenue}) in {self.seconds:.1f} s."
        )


# ================================================================================ pure part


def demo_frames(*, customers: int = 2000, seed: int = 42) -> DemoData:
    """Build the whole demo as frames. Pure: the same arguments give the same frames."""
    if customers < 20:
        raise ValueError("The demo needs at least 20 customers.")
    rng = np.random.Generator(np.random.PCG64(seed))
    cust = _customers(rng, customers)
    products = _products(rng)
    revenue, active = _yearly_revenue(rng, cust)
    orders, lines = _orders_and_lines(rng, cust, revenue, active, products)
    invoices = _invoices(rng, cust, orders, lines)
    facts = _facts_before_visits(cust, lines)
    visits = _visits(rng, cust, facts)
    facts = _with_visits(facts, visits)
    surveys = _surveys(rng, cust, facts)
    pools = _pools(rng, cust, facts)
    facts = _with_estimated_profit(facts, pools)
    return DemoData(
        users=demo_users(),
        customers=cust,
        products=products,
        orders=orders,
        lines=lines,
        invoices=invoices,
        visits=visits,
        surveys=surveys,
        pools=pools,
        facts=facts,
        customer_targets=_customer_targets(rng, facts),
        team_targets=_team_targets(customers),
        bonus_kpis=_bonus_kpis(cust, facts),
        actions=_actions(cust, facts),
    )


def _weights(values) -> np.ndarray:
    w = np.asarray(values, dtype=float)
    return w / w.sum()


def _dates_between(rng: np.random.Generator, start: np.datetime64, end: np.datetime64, size: int) -> np.ndarray:
    span = (end - start).astype(int) + 1
    return start + rng.integers(0, span, size).astype("timedelta64[D]")


def _customers(rng: np.random.Generator, n: int) -> pd.DataFrame:
    n_customer = round(0.85 * n)
    n_prospect = round(0.10 * n)
    status = rng.permutation(
        np.array(["customer"] * n_customer + ["prospect"] * n_prospect + ["suspect"] * (n - n_customer - n_prospect))
    )
    industries = list(INDUSTRIES)
    industry = rng.choice(industries, size=n, p=_weights([INDUSTRIES[i][0] for i in industries]))
    cities = list(CITIES)
    city = rng.choice(cities, size=n, p=_weights([CITIES[c][0] for c in cities]))
    team = np.array([CITIES[c][1] for c in city])
    pair_in_team = rng.integers(0, 2, n)
    pair = np.array([f"P{2 * (t == 'Zuid') + k + 1}" for t, k in zip(team, pair_in_team, strict=True)])

    template_u = rng.random(n)
    last_name = rng.choice(LAST_NAMES, size=n)
    noun = rng.choice(NOUNS, size=n)
    forms = rng.choice(list(LEGAL_FORMS), size=n, p=_weights(list(LEGAL_FORMS.values())))
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
    created = _dates_between(rng, np.datetime64("2012-01-01"), np.datetime64("2022-12-31"), n)
    new_created = _year_start(np.array(YEARS)[first_year]) + rng.integers(0, 304, n).astype("timedelta64[D]")
    late = _dates_between(rng, np.datetime64(f"{LAST_YEAR}-01-01"), np.datetime64(f"{LAST_YEAR}-12-15"), n)
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


def _invoices(rng: np.random.Generator, cust: pd.DataFrame, orders: pd.DataFrame, lines: pd.DataFrame) -> pd.DataFrame:
    totals = np.bincount(lines["order"], weights=lines["amount_cents"], minlength=len(orders)).astype(np.int64)
    pick = (totals > 0) & (rng.random(len(orders)) < 1 / 3)
    chosen = orders.loc[pick, ["customer", "year", "date"]].reset_index(names="order")
    pay_type = cust["pay_type"].to_numpy()[chosen["customer"]]
    mean_delay = np.array([3.0, 14.0, 40.0])[pay_type]
    delay = np.clip(np.round(rng.exponential(mean_delay)), 0, 90).astype(np.int64)
    open_p = np.array([0.01, 0.04, 0.15])[pay_type]
    is_open = (chosen["year"].to_numpy() == LAST_YEAR) & (rng.random(len(chosen)) < open_p)
    issued = chosen["date"].to_numpy().astype("datetime64[D]")
    due = issued + np.timedelta64(30, "D")
    paid = due + delay.astype("timedelta64[D]")
    seq = chosen.groupby("year").cumcount() + 1
    return pd.DataFrame(
        {
            "external_id": [f"F{y}-{s:06d}" for y, s in zip(chosen["year"], seq, strict=True)],
            "customer": chosen["customer"].to_numpy(),
            "order": chosen["order"].to_numpy(),
            "amount_cents": totals[chosen["order"].to_numpy()],
            "issued": issued,
            "due": due,
            "paid": np.where(is_open, np.datetime64("NaT"), paid),
            "year": chosen["year"].to_numpy(),
        }
    )


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


def _visits(rng: np.random.Generator, cust: pd.DataFrame, facts: pd.DataFrame) -> pd.DataFrame:
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
    outcome = rng.choice(OUTCOMES, size=len(row))
    next_step = rng.choice(NEXT_STEPS, size=len(row))
    return (
        pd.DataFrame(
            {
                "rep": [f"rep{r}" for r in rep],
                "customer": v_customer,
                "date": date,
                "minutes": minutes.astype(np.int64),
                "kind": kind,
                "outcome": outcome,
                "next_step": next_step,
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


def _surveys(rng: np.random.Generator, cust: pd.DataFrame, facts: pd.DataFrame) -> pd.DataFrame:
    product_value = rng.normal(7.0, 1.4, len(cust))
    frames = []
    for year, round_name in SURVEY_ROUNDS:
        active = facts.loc[(facts["year"] == year) & facts["active"], "customer"].to_numpy()
        chosen = active[rng.random(len(active)) < 0.4]
        score = np.clip(np.round(product_value[chosen] + rng.normal(0, 0.7, len(chosen))), 3, 10)
        date = _dates_between(rng, np.datetime64(f"{year}-10-01"), np.datetime64(f"{year}-11-30"), len(chosen))
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


def _pools(rng: np.random.Generator, cust: pd.DataFrame, facts: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for year in YEARS:
        f = facts[(facts["year"] == year) & facts["active"]]
        cost_to_serve = CTS_RATIO[year] * f["gross_margin_cents"].sum()
        demand = MINUTES_PER_ORDER * f["orders"].sum() + MINUTES_PER_LINE * f["order_lines"].sum()
        demand += f["visit_minutes"].sum()
        for name, share, key, nature in POOLS:
            amount = int(round(cost_to_serve * share / CENTS_PER_100_EUR)) * CENTS_PER_100_EUR
            row = {"year": year, "name": name, "amount_cents": amount, "nature": nature, "key": key, "customer": -1}
            if key == "per_level":
                row.update({f"weight_{level}": w for level, w in LEVEL_WEIGHTS.items()})
            if key == "time_driven":
                row.update(
                    capacity_minutes=round(demand * LOGISTICS_CAPACITY[year]),
                    minutes_per_order=MINUTES_PER_ORDER,
                    minutes_per_line=MINUTES_PER_LINE,
                )
            rows.append(row)
        # direct pools: a bad-debt write-off on a late payer, special logistics for a big customer
        late = f[(cust["pay_type"].to_numpy()[f["customer"]] == 2) & (f["revenue_cents"] > 1_000_000)]
        debtor = (late if len(late) else f).iloc[int(rng.integers(0, len(late) if len(late) else len(f)))]
        write_off = int(np.clip(debtor["revenue_cents"] * rng.uniform(0.15, 0.4), 150_000, 1_500_000))
        rows.append(
            {
                "year": year,
                "name": f"Afschrijving debiteur {debtor['external_id']}",
                "amount_cents": write_off,
                "nature": "variable",
                "key": "direct",
                "customer": int(debtor["customer"]),
            }
        )
        bigs = f[f["level"].isin(["top", "big"])]
        special = bigs.iloc[int(rng.integers(0, len(bigs)))]
        rows.append(
            {
                "year": year,
                "name": f"Spoedleveringen {special['external_id']}",
                "amount_cents": int(rng.integers(80, 200)) * CENTS_PER_100_EUR,
                "nature": "variable",
                "key": "direct",
                "customer": int(special["customer"]),
            }
        )
    pools = pd.DataFrame(rows)
    for level in LEVEL_WEIGHTS:
        pools[f"weight_{level}"] = pools.get(f"weight_{level}", pd.Series(dtype=float)).fillna(1)
    for col in ("minutes_per_order", "minutes_per_line"):
        pools[col] = pools[col].fillna(0)
    return pools


def _with_estimated_profit(facts: pd.DataFrame, pools: pd.DataFrame) -> pd.DataFrame:
    """A float approximation of DOMAIN section 5 (no financing cost): good enough to pick targets."""
    parts = []
    for year in YEARS:
        f = facts[facts["year"] == year]
        active = f["active"].to_numpy()
        cost = np.zeros(len(f))
        drivers = {
            "per_customer": active.astype(float),
            "revenue": np.maximum(f["revenue_cents"].to_numpy(), 0),
            "orders": f["orders"].to_numpy(),
            "order_lines": f["order_lines"].to_numpy(),
            "visit_minutes": f["visit_minutes"].to_numpy(),
        }
        for pool in pools[pools["year"] == year].itertuples(index=False):
            if pool.key == "direct":
                cost += np.where(f["customer"].to_numpy() == pool.customer, pool.amount_cents, 0)
                continue
            if pool.key == "per_level":
                driver = f["level"].map(LEVEL_WEIGHTS).fillna(0).to_numpy()
            elif pool.key == "time_driven":
                minutes = (
                    pool.minutes_per_order * f["orders"] + pool.minutes_per_line * f["order_lines"] + f["visit_minutes"]
                ).to_numpy()
                driver = np.where(active, minutes, 0)
                cost += pool.amount_cents * driver / max(driver.sum(), pool.capacity_minutes)
                continue
            else:
                driver = drivers[pool.key]
            driver = np.where(active, driver, 0)
            cost += pool.amount_cents * driver / max(driver.sum(), 1)
        parts.append(pd.Series(f["gross_margin_cents"].to_numpy() - cost, index=f.index))
    return facts.assign(estimated_profit_cents=pd.concat(parts).round().astype("int64"))


def _round_100(cents) -> np.ndarray:
    return (np.round(np.asarray(cents, dtype=float) / CENTS_PER_100_EUR) * CENTS_PER_100_EUR).astype(np.int64)


def _customer_targets(rng: np.random.Generator, facts: pd.DataFrame) -> pd.DataFrame:
    before = facts[(facts["year"] == LAST_YEAR - 1) & facts["level"].isin(["big", "medium", "small"])]
    k = min(100, len(before) // 10)
    p = _weights(before["level"].map({"big": 4, "medium": 3, "small": 1}).to_numpy())
    chosen = before.iloc[np.sort(rng.choice(len(before), size=k, replace=False, p=p))]
    up = {"big": "top", "medium": "big", "small": "medium"}
    profit = _round_100(np.maximum(chosen["estimated_profit_cents"].to_numpy(), 0) * 1.15 + 50_000)
    return pd.DataFrame(
        {
            "customer": chosen["customer"].to_numpy(),
            "year": LAST_YEAR,
            "target_level": chosen["level"].map(up).to_numpy(),
            "target_revenue_cents": _round_100(chosen["revenue_cents"].to_numpy() * rng.uniform(1.05, 1.3, k)),
            "target_profit_cents": np.where(rng.random(k) < 0.7, profit, -1),
            "proposed_by_pair": rng.random(k) < 0.5,
        }
    )


def _team_targets(n_customers: int) -> pd.DataFrame:
    rows = []
    for team in TEAMS:
        rows += [
            (team, LAST_YEAR, "new_suspects", Decimal(max(10, n_customers // 10))),
            (team, LAST_YEAR, "prospects_to_top", Decimal(5)),
            (team, LAST_YEAR, "retention", Decimal(90)),
        ]
    return pd.DataFrame(rows, columns=["team", "year", "kind", "target"])


def _bonus_kpis(cust: pd.DataFrame, facts: pd.DataFrame) -> pd.DataFrame:
    """Per pair for the last period, thresholds and targets from the year before."""
    level_rank = {"top": 1, "big": 2, "medium": 3, "small": 4}
    prev2 = facts[facts["year"] == LAST_YEAR - 2].set_index("customer")
    prev = facts[facts["year"] == LAST_YEAR - 1].set_index("customer")
    pair = cust["pair"]
    rows = []
    for code, _team in PAIRS:
        mine = pair.index[pair == code]
        profit = prev["estimated_profit_cents"].reindex(mine).fillna(0).sum() / 100
        margin = abs(profit) + 1000
        was = prev2["active"].reindex(mine, fill_value=False)
        still = prev["active"].reindex(mine, fill_value=False)
        retention = float((was & still).sum() / max(was.sum(), 1))
        rank_now = prev["level"].map(level_rank).reindex(mine)
        rank_before = prev2["level"].map(level_rank).reindex(mine)
        moved_up = int((rank_now < rank_before).sum())
        rows += [
            (
                code,
                "portfolio_profit",
                Decimal("0.6"),
                round(profit - 0.05 * margin, -2),
                round(profit + 0.15 * margin, -2),
            ),
            (
                code,
                "customer_retention",
                Decimal("0.2"),
                round(max(retention - 0.04, 0), 2),
                round(min(retention + 0.03, 1), 2),
            ),
            (code, "customers_moved_up", Decimal("0.2"), round(0.8 * moved_up), round(1.25 * moved_up) + 1),
        ]
    frame = pd.DataFrame(rows, columns=["pair", "metric", "weight", "threshold", "target"])
    return frame.assign(
        year=LAST_YEAR,
        threshold=[Decimal(str(v)) for v in frame["threshold"]],
        target=[Decimal(str(v)) for v in frame["target"]],
        cap=Decimal("1.5"),
        base_amount=Decimal("5000.00"),
    )


def _action_kind(facts: pd.DataFrame) -> np.ndarray:
    """The action that fits what makes a customer lose money: visits, small orders, discounts or low revenue."""
    revenue = facts["revenue_cents"].to_numpy() / 100
    orders = facts["orders"].to_numpy()
    visit_heavy = facts["visit_minutes"].to_numpy() >= 600
    margin_rate = facts["gross_margin_cents"].to_numpy() / np.maximum(facts["revenue_cents"].to_numpy(), 1)
    return np.select(
        [
            visit_heavy & (revenue < 5000),
            visit_heavy,
            (orders >= 20) & (revenue / np.maximum(orders, 1) < 500),
            orders >= 20,
            margin_rate < 0.2,
        ],
        ["part_ways", "move_to_inside", "min_order_size", "order_surcharge", "discount_change"],
        "min_revenue",
    )


def _actions(cust: pd.DataFrame, facts: pd.DataFrame) -> pd.DataFrame:
    """Proposed actions in the last period: the worst loss-making customer for each kind of action."""
    last = facts[(facts["year"] == LAST_YEAR) & facts["active"] & facts["level"].isin(["medium", "small"])]
    last = last.assign(kind=_action_kind(last)).sort_values(["estimated_profit_cents", "external_id"])
    losing = last[last["estimated_profit_cents"] < 0]
    chosen = losing.groupby("kind", sort=False).head(1)
    if len(chosen) < 2:
        chosen = last.head(2)
    chosen = chosen.head(N_ACTIONS)
    kind = chosen["kind"].tolist()
    pair_no = cust["pair"].to_numpy()[chosen["customer"]]
    return pd.DataFrame(
        {
            "customer": chosen["customer"].to_numpy(),
            "year": LAST_YEAR,
            "type": kind,
            "parameter": [ACTIONS[k][0] for k in kind],
            "description": [ACTIONS[k][1] for k in kind],
            "proposed_by": [f"rep{2 * int(p[1:]) - 1}" for p in pair_no],
        }
    )


# ================================================================================ writing


def _money(cents) -> list[Decimal]:
    return [Decimal(int(c)).scaleb(-2) for c in np.asarray(cents).tolist()]


def _dates(values) -> list[dt.date | None]:
    series = pd.Series(pd.to_datetime(np.asarray(values)))
    return [None if pd.isna(v) else v.date() for v in series]


def _users_ensure(users: pd.DataFrame) -> dict[str, object]:
    """Create the demo users and groups that do not exist yet; existing users are left untouched."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group, User

    from config.roles import ROLES

    Group.objects.bulk_create([Group(name=r) for r in ROLES], ignore_conflicts=True)
    groups = {g.name: g for g in Group.objects.filter(name__in=ROLES)}
    existing = set(User.objects.filter(username__in=users["username"].tolist()).values_list("username", flat=True))
    hashes = {pw: make_password(pw) for pw in users["password"].unique()}
    new = users[~users["username"].isin(existing)]
    User.objects.bulk_create(
        [
            User(
                username=u.username,
                first_name=u.first_name,
                last_name=u.last_name,
                email=f"{u.username}@klantwaarde.example",
                password=hashes[u.password],
                is_superuser=u.is_superuser,
                is_staff=u.is_superuser,
            )
            for u in new.itertuples(index=False)
        ]
    )
    by_name = {u.username: u for u in User.objects.filter(username__in=users["username"].tolist())}
    membership = User.groups.through
    membership.objects.bulk_create(
        [
            membership(user_id=by_name[u.username].id, group_id=groups[u.role].id)
            for u in new.itertuples(index=False)
            if u.role
        ],
        ignore_conflicts=True,
    )
    return by_name


def _sales_force_ensure(users: pd.DataFrame, by_name: dict) -> tuple[dict, dict[str, int], dict[str, int]]:
    """Teams, reps and pairs (a dozen rows, reused when they exist).

    Returns ({team name: Team}, {pair code: id}, {rep code: id}).
    """
    from salesforce_tasks.models import RepPair, SalesRep, Team

    manager = by_name["manager"]
    teams = {name: Team.objects.get_or_create(name=name, defaults={"manager": manager})[0] for name in TEAMS}
    reps = {}
    for u in users[users["rep_kind"] != ""].itertuples(index=False):
        reps[u.username] = SalesRep.objects.get_or_create(
            code=u.username,
            defaults={
                "name": f"{u.first_name} {u.last_name}",
                "kind": u.rep_kind,
                "team": teams[u.team],
                "user": by_name[u.username],
            },
        )[0]
    pairs = {}
    for i, (code, team) in enumerate(PAIRS):
        pairs[code] = RepPair.objects.get_or_create(
            code=code,
            defaults={
                "team": teams[team],
                "outside_rep": reps[f"rep{2 * i + 1}"],
                "inside_rep": reps[f"rep{2 * i + 2}"],
            },
        )[0].id
    return teams, pairs, {k: r.id for k, r in reps.items()}


def _ids_after_bulk(model, objs: list, key: str) -> list[int]:
    """Primary keys of just-created rows (returned by the insert where the database can)."""
    if all(o.pk is not None for o in objs):
        return [o.pk for o in objs]
    values = [getattr(o, key) for o in objs]
    found: dict = {}
    for i in range(0, len(values), BATCH):
        found.update(model.objects.filter(**{f"{key}__in": values[i : i + BATCH]}).values_list(key, "id"))
    return [found[v] for v in values]


def demo_write(data: DemoData) -> dict[int, int]:
    """Write the frames in bulk, in the caller's transaction. Returns {period name: id}."""
    from django.conf import settings
    from django.contrib.auth.models import User
    from simple_history.utils import bulk_create_with_history

    from accounting.models import CostPool, Invoice, PeriodFinance
    from salesforce_tasks.models import (
        Action,
        BonusKpi,
        CustomerTarget,
        PortfolioAssignment,
        TeamTarget,
        Visit,
        VisitNorm,
    )
    from scenarios.models import Scenario, SurveyResponse, ValueSettings

    from .models import Customer, Order, OrderLine, Product, ProductGroup
    from .services import periods_ensure

    periods = periods_ensure(names=set(YEARS))
    by_name = _users_ensure(data.users)
    teams, pairs, reps = _sales_force_ensure(data.users, by_name)

    ProductGroup.objects.bulk_create([ProductGroup(name=g) for g in PRODUCT_GROUPS], ignore_conflicts=True)
    group_ids = dict(ProductGroup.objects.filter(name__in=list(PRODUCT_GROUPS)).values_list("name", "id"))
    prods = data.products
    Product.objects.bulk_create(
        [Product(code=p.code, name=p.name, group_id=group_ids[p.group]) for p in prods.itertuples(index=False)],
        ignore_conflicts=True,
    )
    product_ids = dict(Product.objects.filter(code__in=prods["code"].tolist()).values_list("code", "id"))
    product_pk = np.array([product_ids[c] for c in prods["code"]], dtype=np.int64)

    tz = ZoneInfo(settings.TIME_ZONE)
    cust = data.customers
    customer_objs = [
        Customer(
            external_id=c.external_id,
            name=c.name,
            status=c.status,
            industry=c.industry,
            city=c.city,
            pair_id=pairs[c.pair],
            created_at=dt.datetime.combine(d, dt.time(9, 0), tzinfo=tz),
        )
        for c, d in zip(cust.itertuples(index=False), _dates(cust["created"]), strict=True)
    ]
    Customer.objects.bulk_create(customer_objs, batch_size=BATCH)
    customer_pk = np.array(_ids_after_bulk(Customer, customer_objs, "external_id"), dtype=np.int64)
    PortfolioAssignment.objects.bulk_create(
        [
            PortfolioAssignment(customer_id=int(cid), pair_id=pairs[p], start=FIRST_DAY)
            for cid, p in zip(customer_pk, cust["pair"], strict=True)
        ],
        batch_size=BATCH,
    )

    period_of = np.array([periods[y] for y in YEARS], dtype=np.int64)
    year_idx = {y: i for i, y in enumerate(YEARS)}

    def period_ids(years: pd.Series) -> list[int]:
        return period_of[years.map(year_idx).to_numpy()].tolist()

    orders = data.orders
    order_objs = [
        Order(external_id=e, customer_id=c, date=d, period_id=p)
        for e, c, d, p in zip(
            orders["external_id"],
            customer_pk[orders["customer"]].tolist(),
            _dates(orders["date"]),
            period_ids(orders["year"]),
            strict=True,
        )
    ]
    Order.objects.bulk_create(order_objs, batch_size=BATCH)
    order_pk = np.array(_ids_after_bulk(Order, order_objs, "external_id"), dtype=np.int64)

    lines = data.lines
    line_periods = period_ids(lines["year"])
    line_customers = customer_pk[lines["customer"]].tolist()
    line_orders = order_pk[lines["order"]].tolist()
    line_products = product_pk[lines["product"]].tolist()
    amounts, costs = _money(lines["amount_cents"]), _money(lines["cost_cents"])
    quantities = [Decimal(q) for q in lines["quantity"].tolist()]
    line_nos = lines["line_no"].tolist()
    for start in range(0, len(lines), BATCH * 4):
        stop = start + BATCH * 4
        OrderLine.objects.bulk_create(
            [
                OrderLine(
                    order_id=o, line_no=n, amount=a, cost=c, quantity=q, product_id=pr, customer_id=cu, period_id=pe
                )
                for o, n, a, c, q, pr, cu, pe in zip(
                    line_orders[start:stop],
                    line_nos[start:stop],
                    amounts[start:stop],
                    costs[start:stop],
                    quantities[start:stop],
                    line_products[start:stop],
                    line_customers[start:stop],
                    line_periods[start:stop],
                    strict=True,
                )
            ],
            batch_size=BATCH,
        )

    inv = data.invoices
    Invoice.objects.bulk_create(
        [
            Invoice(external_id=e, customer_id=c, amount=a, issued=i, due=d, paid=p, period_id=pe)
            for e, c, a, i, d, p, pe in zip(
                inv["external_id"],
                customer_pk[inv["customer"]].tolist(),
                _money(inv["amount_cents"]),
                _dates(inv["issued"]),
                _dates(inv["due"]),
                _dates(inv["paid"]),
                period_ids(inv["year"]),
                strict=True,
            )
        ],
        batch_size=BATCH,
    )

    vis = data.visits
    Visit.objects.bulk_create(
        [
            Visit(rep_id=reps[r], customer_id=c, date=d, minutes=m, kind=k, outcome=o, next_step=ns, period_id=pe)
            for r, c, d, m, k, o, ns, pe in zip(
                vis["rep"],
                customer_pk[vis["customer"]].tolist(),
                _dates(vis["date"]),
                vis["minutes"].tolist(),
                vis["kind"],
                vis["outcome"],
                vis["next_step"],
                period_ids(vis["year"]),
                strict=True,
            )
        ],
        batch_size=BATCH,
    )

    sur = data.surveys
    SurveyResponse.objects.bulk_create(
        [
            SurveyResponse(customer_id=c, date=d, round=r, score=Decimal(s), comment=cm)
            for c, d, r, s, cm in zip(
                customer_pk[sur["customer"]].tolist(),
                _dates(sur["date"]),
                sur["round"],
                sur["score"].tolist(),
                sur["comment"],
                strict=True,
            )
        ],
        batch_size=BATCH,
    )

    pools = data.pools
    # With history: the pools' first version is the original one (shown and restorable).
    bulk_create_with_history(
        [
            CostPool(
                period_id=periods[p.year],
                name=p.name,
                amount=Decimal(int(p.amount_cents)).scaleb(-2),
                nature=p.nature,
                key=p.key,
                weight_top=Decimal(str(p.weight_top)),
                weight_big=Decimal(str(p.weight_big)),
                weight_medium=Decimal(str(p.weight_medium)),
                weight_small=Decimal(str(p.weight_small)),
                capacity_minutes=None if pd.isna(p.capacity_minutes) else Decimal(int(p.capacity_minutes)),
                minutes_per_order=Decimal(str(p.minutes_per_order)),
                minutes_per_line=Decimal(str(p.minutes_per_line)),
                customer_id=None if p.customer < 0 else int(customer_pk[p.customer]),
            )
            for p in pools.itertuples(index=False)
        ],
        CostPool,
    )
    PeriodFinance.objects.bulk_create(
        [PeriodFinance(period_id=pid, interest_rate=INTEREST_RATE) for pid in periods.values()], ignore_conflicts=True
    )

    VisitNorm.objects.bulk_create(
        [VisitNorm(level=level, days_between=days, kind=kind) for level, days, kind in VISIT_NORMS],
        ignore_conflicts=True,
    )
    ct = data.customer_targets
    CustomerTarget.objects.bulk_create(
        [
            CustomerTarget(
                customer_id=int(customer_pk[t.customer]),
                period_id=periods[t.year],
                target_level=t.target_level,
                target_revenue=Decimal(int(t.target_revenue_cents)).scaleb(-2),
                target_profit=None if t.target_profit_cents < 0 else Decimal(int(t.target_profit_cents)).scaleb(-2),
                proposed_by_pair=bool(t.proposed_by_pair),
            )
            for t in ct.itertuples(index=False)
        ]
    )
    TeamTarget.objects.bulk_create(
        [
            TeamTarget(team=teams[t.team], period_id=periods[t.year], kind=t.kind, target=t.target)
            for t in data.team_targets.itertuples(index=False)
        ],
        ignore_conflicts=True,
    )
    BonusKpi.objects.bulk_create(
        [
            BonusKpi(
                period_id=periods[k.year],
                pair_id=pairs[k.pair],
                metric=k.metric,
                weight=k.weight,
                threshold=k.threshold,
                target=k.target,
                cap=k.cap,
                base_amount=k.base_amount,
            )
            for k in data.bonus_kpis.itertuples(index=False)
        ]
    )
    ValueSettings.objects.bulk_create([ValueSettings(pk=1)], ignore_conflicts=True)
    Scenario.objects.bulk_create(
        [Scenario(name=name, built_in=True, levers={}) for name in ("Do nothing", "Conservative", "Ambitious")],
        ignore_conflicts=True,
    )
    proposers = dict(
        User.objects.filter(username__in=data.actions["proposed_by"].tolist()).values_list("username", "id")
    )
    Action.objects.bulk_create(
        [
            Action(
                customer_id=int(customer_pk[a.customer]),
                period_id=periods[a.year],
                type=a.type,
                parameter=a.parameter,
                description=a.description,
                state=Action.State.PROPOSED,
                proposed_by_id=proposers.get(a.proposed_by),
            )
            for a in data.actions.itertuples(index=False)
        ]
    )
    return periods


def demo_load(*, customers: int = 2000, seed: int = 42, progress=None) -> DemoSummary:
    """Generate and write the demo, then recompute every period in-process.

    ``progress``: called with one line of text at the start of each step (generate, write,
    recompute) so a command can show where it is; None for silence.

    The recompute of stages whose service is not there yet (AttributeError/ImportError) is
    reported in ``recompute_warning`` and left dirty for later; everything else propagates.
    """

    def step(number: int, text: str) -> None:
        if progress is not None:
            progress(f"[{number}/3] {text} ({time.monotonic() - started:.0f} s)")

    from django.db import transaction

    from config.eventbus import drain, request_stage

    from .models import Period

    started = time.monotonic()
    step(1, f"Generating {customers:,} customers with their orders, costs and visits")
    data = demo_frames(customers=customers, seed=seed)
    step(2, f"Writing {len(data.customers):,} customers and {len(data.lines):,} order lines")
    with transaction.atomic():
        periods = demo_write(data)
        all_period_ids = list(Period.objects.values_list("id", flat=True))
        request_stage(period_ids=all_period_ids, stage="pyramid")
    warning = ""
    step(3, f"Recomputing pyramid, profit and customer value of {len(all_period_ids)} periods")
    try:
        drain(timeout=600)
    except (AttributeError, ImportError) as exc:
        warning = (
            f"Recomputation stopped ({type(exc).__name__}: {exc}); the dirty stages run once their service exists."
        )
    else:
        # The seeded actions carry their what-if, as a proposed one does (it needs the computed profit).
        from salesforce_tasks.action_services import actions_whatif_fill

        for period in Period.objects.filter(actions__isnull=False).distinct():
            actions_whatif_fill(period=period)
    revenue = data.lines.groupby("year")["amount_cents"].sum()
    return DemoSummary(
        customers=len(data.customers),
        orders=len(data.orders),
        lines=len(data.lines),
        periods=len(periods),
        seconds=time.monotonic() - started,
        revenue_by_period={int(y): Decimal(int(c)).scaleb(-2) for y, c in revenue.items()},
        recompute_warning=warning,
    )
