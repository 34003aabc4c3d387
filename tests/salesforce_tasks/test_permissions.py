"""Permissions, checked over EVERY URL pattern of the project (data-driven: new URLs are covered).

For every pattern of ``get_resolver()`` (except the admin, login/logout, set_language and DRF
format-suffix duplicates) the path parameters are filled with existing ids, or 999999 when the
parameter cannot be tied to a model, and:

1. anonymous: pages redirect to the login page, the API answers 401/403;
2. a rep on a page or endpoint that declares it is not for reps answers 403. Declared means:
   ``required_roles`` on the view (``salesforce_tasks.views.common.roles_required``), ``read_roles`` on a
   DRF view (``config.roles.RolePermission``), or the roles of the menu entry
   (``config.context_processors.MENU``);
3. a rep (and a manager) asking for an object of another team gets 404 (403 where the view is not
   for their role; 400 for a POST whose empty body is refused before any lookup), and no page or
   endpoint a rep or manager can open shows another team's customer;
4. nothing answers 500 to a signed-in user.

A path parameter is tied to a model by the DRF view's queryset, by its name (``customer_id`` ->
Customer, ``pair_id`` -> RepPair, ``pk`` -> the model named by the URL segment before it, ...).
Objects of a model with a ``customer``, ``pair`` or ``team`` link are team-scoped: the other
team's object is used for check 3.
"""

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.apps import apps
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from config.context_processors import MENU
from config.roles import FINANCE, MANAGER, REP
from customers.models import Customer, Order
from salesforce_tasks import services
from salesforce_tasks.models import BonusKpi, CustomerTarget, RepPair, Team, TeamTarget
from tests.salesforce_tasks.test_services import sales_force  # noqa: F401  (fixture)

SKIP_PREFIXES = ("admin/", "accounts/", "i18n/", "api/v1/auth/token/")  # public: login, password reset, token
#: Open to anonymous users by design (how one gets in): password reset pages answer 200, the API token
#: endpoint 400 without credentials. Lockout on the token endpoint: tests/test_accounts.py.
PUBLIC_ROUTE_NAMES = {
    "password_reset": 200,
    "password_reset_done": 200,
    "password_reset_confirm": 200,  # with a bad link: the page says the link does not work
    "password_reset_complete": 200,
    "api-token": 400,
}
OTHER_TEAM_CUSTOMER = "Delta BV"  # C4, team South
MISSING = 999999
NAME_ALIASES = {"target": "customertarget", "kpi": "bonuskpi", "pair": "reppair", "pool": "costpool"}
TEXT_VALUES = {"kind": "customers"}


@dataclass
class Route:
    template: str  # the full pattern, e.g. "sales/visits/<int:visit_id>/edit/"
    name: str
    callback: object
    params: list[tuple[str, str]]  # (name, converter: int/str/slug/regex)


def walk(resolver, prefix=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from walk(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def routes() -> list[Route]:
    out = []
    for template, entry in walk(get_resolver()):
        template = template.replace("^", "").replace("$", "")
        if template.startswith(SKIP_PREFIXES) or "format" in template:
            continue
        params = [(m.group(2), m.group(1) or "str") for m in re.finditer(r"(?<!\?P)<(?:(\w+):)?(\w+)>", template)]
        params += [(m.group(1), "regex") for m in re.finditer(r"\(\?P<(\w+)>[^)]*\)", template)]
        out.append(Route(template, entry.name or "", entry.callback, params))
    return out


def view_class(callback):
    return getattr(callback, "cls", None) or getattr(callback, "view_class", None)


def declared_roles(route: Route, method: str = "GET") -> tuple[str, ...] | None:
    """The roles a view declares, or None when it declares nothing we can read."""
    roles = getattr(route.callback, "required_roles", None)
    if roles is not None:
        return tuple(roles)
    name = "read_roles" if method == "GET" else "write_roles"
    initkwargs = getattr(route.callback, "initkwargs", None) or {}  # a DRF @action(..., write_roles=...)
    if name in initkwargs:
        return tuple(initkwargs[name])
    cls = view_class(route.callback)
    if cls is not None and hasattr(cls, name):
        return tuple(getattr(cls, name))
    return None


def menu_roles() -> dict[str, tuple[str, ...]]:
    found = {}
    for name, _label, roles in MENU:
        try:
            found[reverse(name)] = tuple(roles)
        except Exception:  # noqa: BLE001 - a page of a later issue not there yet
            continue
    return found


def param_model(route: Route, param: str):
    """The model a path parameter names, or None."""
    cls = view_class(route.callback)
    if param == "pk" and cls is not None:
        queryset = getattr(cls, "queryset", None)
        if queryset is not None:
            return queryset.model
    stem = re.sub(r"(_id|_pk|id|pk)$", "", param).strip("_")
    if not stem:  # "pk"/"id": the URL segment before the parameter ("customers/<pk>/" -> customer)
        before = re.split(r"[<(]", route.template.split(param)[0])[0].rstrip("/").split("/")[-1]
        stem = before.replace("-", "").rstrip("s")
    stem = stem.replace("_", "")
    stem = NAME_ALIASES.get(stem, stem)
    models = {m._meta.model_name: m for m in apps.get_models()}
    if stem in models:
        return models[stem]
    app_label = getattr(route.callback, "__module__", "").split(".")[0]
    ending = [m for name, m in sorted(models.items()) if name.endswith(stem) and m._meta.app_label == app_label]
    return ending[0] if len(ending) == 1 else None


def team_of(model) -> str | None:
    """How objects of ``model`` belong to a team: 'self' (Customer), or the link field, or None."""
    if model is Customer:
        return "self"
    names = {f.name for f in model._meta.get_fields()}
    for link in ("customer", "pair", "team"):
        if link in names:
            return link
    if model in (RepPair, Team):
        return "self"
    return None


@pytest.fixture
def world(sales_force, rep_user, manager_user, finance_user):  # noqa: F811
    """The sales force plus one object of every team-scoped kind per team."""
    sf = sales_force
    for rep, customer, user in ((sf.a_out, sf.c["C1"], rep_user), (sf.s_out, sf.c["C4"], sf.rep3)):
        services.visit_log(rep=rep, customer=customer, date=dt.date(2025, 5, 5), minutes=15, acting_user=user)
    for customer in (sf.c["C1"], sf.c["C4"]):
        CustomerTarget.objects.create(
            customer=customer, period=sf.p2025, target_revenue=Decimal("5000"), proposed_by_pair=True
        )
    for team in (sf.north, sf.south):
        TeamTarget.objects.create(team=team, period=sf.p2025, kind="retention", target=Decimal("90"))
    for pair in (sf.pair_a, sf.pair_s):
        BonusKpi.objects.create(
            period=sf.p2025,
            pair=pair,
            metric="revenue",
            weight=Decimal("1"),
            threshold=Decimal("0"),
            target=Decimal("1000"),
            base_amount=Decimal("100"),
        )
    for model_name, extra in (
        ("scenarios.SurveyResponse", {"date": dt.date(2025, 5, 5), "score": Decimal("7")}),
        ("salesforce_tasks.Action", {"period": sf.p2025, "type": "other"}),
    ):
        model = apps.get_model(model_name)
        for customer in (sf.c["C1"], sf.c["C4"]):
            model.objects.create(customer=customer, **extra)
    return {
        "rep": rep_user,
        "manager": manager_user,
        "finance": finance_user,
        "own": {"customer": sf.c["C1"], "pair": sf.pair_a, "team": sf.north},
        "other": {"customer": sf.c["C4"], "pair": sf.pair_s, "team": sf.south},
    }


def object_for(model, side: dict):
    link = team_of(model)
    if link == "self":
        return side["customer"] if model is Customer else side["pair"] if model is RepPair else side["team"]
    if link is not None:
        return model.objects.filter(**{link: side[link]}).order_by("pk").first()
    return model.objects.order_by("pk").first()


def fill(route: Route, side: dict) -> tuple[str, bool]:
    """The URL with its parameters filled for ``side`` (own or other team), and whether any
    parameter is a team-scoped object."""
    path = route.template
    scoped = False
    for name, converter in route.params:
        model = param_model(route, name)
        value = TEXT_VALUES.get(name, MISSING)
        if model is not None:
            obj = object_for(model, side)
            if obj is not None:
                scoped = scoped or team_of(model) is not None
                value = obj.pk
                if converter in ("str", "slug") and model in (Customer, Order):
                    value = obj.external_id
        if model is None and name == "order_id":
            value = Order.objects.filter(customer=side["customer"]).values_list("external_id", flat=True).first()
            scoped = True
        if converter == "regex":
            path = re.sub(r"\(\?P<" + name + r">[^)]*\)", str(value), path)
        else:
            token = f"<{converter}:{name}>" if f"<{converter}:{name}>" in path else f"<{name}>"
            path = path.replace(token, str(value))
    return "/" + path, scoped


def request(client: Client, url: str, *, post_if_405: bool = True):
    response = client.get(url)
    if response.status_code == 405 and post_if_405:
        response = client.post(url, {})
    return response


def is_api(url: str) -> bool:
    return url.startswith("/api/")


def test_there_are_routes_to_check():
    names = {r.name for r in routes()}
    assert {"rep_home", "visit_new", "reps", "salesforce-visit-list"} <= names
    assert len(routes()) > 40


def test_anonymous_is_sent_to_login_or_refused(world):
    client = Client(raise_request_exception=False)
    failures = []
    for route in routes():
        url, _ = fill(route, world["other"])
        response = request(client, url)
        if route.name in PUBLIC_ROUTE_NAMES:
            ok = response.status_code == PUBLIC_ROUTE_NAMES[route.name]
        elif is_api(url):
            ok = response.status_code in (401, 403)
        else:
            ok = response.status_code == 302 and "/accounts/login/" in response["Location"]
        if not ok:
            failures.append(f"{url}: {response.status_code}")
    assert not failures, "Anonymous users reach these URLs:\n" + "\n".join(failures)


def test_reps_get_403_on_pages_that_are_not_for_reps(world):
    client = Client(raise_request_exception=False)
    client.force_login(world["rep"])
    menu = menu_roles()
    failures, checked = [], 0
    for route in routes():
        url, _ = fill(route, world["own"])
        response = client.get(url)
        method = "GET"
        if response.status_code == 405:
            method = "POST"
            response = client.post(url, {})
        roles = declared_roles(route, method)
        path = url.split("?")[0]
        if roles is None and path in menu:
            roles = menu[path]
        if roles is None or REP in roles:
            continue
        checked += 1
        if response.status_code != 403:
            failures.append(f"{method} {url} (for {', '.join(roles) or 'nobody'}): {response.status_code}")
    assert checked >= 10
    assert not failures, "A rep is not refused here:\n" + "\n".join(failures)


@pytest.mark.parametrize("who", ["rep", "manager"])
def test_another_teams_objects_are_404_and_never_shown(world, who):
    client = Client(raise_request_exception=False)
    client.force_login(world[who])
    role = {"rep": REP, "manager": MANAGER}[who]
    failures, checked = [], 0
    for route in routes():
        url, scoped = fill(route, world["other"])
        if not scoped:
            continue
        checked += 1
        response = client.get(url)
        method = "GET"
        if response.status_code == 405:
            method = "POST"
            response = client.post(url, {})
        roles = declared_roles(route, method)
        allowed = (404,) if roles is not None and role in roles else (403, 404)
        if method == "POST":
            allowed += (400,)  # an empty body refused before the object is looked up reveals nothing
        if response.status_code not in allowed:
            failures.append(f"{method} {url}: {response.status_code} (expected {allowed})")
    assert checked >= 10
    assert not failures, f"A {who} reaches another team's objects:\n" + "\n".join(failures)


@pytest.mark.parametrize("who", ["rep", "manager", "finance"])
def test_every_page_answers_without_errors_or_leaks(world, who):
    client = Client(raise_request_exception=False)
    client.force_login(world[who])
    failures = []
    for route in routes():
        url, _ = fill(route, world["own"])
        response = client.get(url)
        if response.status_code >= 500:
            failures.append(f"GET {url}: {response.status_code}")
        elif who != "finance" and response.status_code == 200 and not response.streaming:
            if OTHER_TEAM_CUSTOMER in response.content.decode("utf-8", errors="replace"):
                failures.append(f"GET {url}: shows {OTHER_TEAM_CUSTOMER} (another team's customer)")
    assert not failures, "\n".join(failures)


def test_finance_reads_the_rollup_but_cannot_set_targets(world):
    client = Client(raise_request_exception=False)
    client.force_login(world["finance"])
    assert client.get("/sales/reps/").status_code == 200
    assert FINANCE not in declared_roles(next(r for r in routes() if r.name == "kpi_new"))
    assert client.post("/sales/bonus/kpis/new/", {}).status_code == 403
