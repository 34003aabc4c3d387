"""The URL/role matrix: every URL pattern and every API operation, tried as every kind of wrong user.

The list of what to try is DERIVED, never written by hand: every pattern of the URLconf
(``get_resolver``, walked recursively) and every operation of the OpenAPI schema (drf-spectacular's
generator). ``RULES`` below declares, per URL name, who may read, who may write and whether the URL
names an object of a team (object-scoped). A URL or operation without a rule fails the test, so a new
path cannot skip it.

Each is tried as anonymous, a signed-in user without a role, a rep of another pair (rep3, pair S,
team South), a manager of another team (manager2, South) and finance, with GET and with every write
method (the schema's for API operations, POST for pages). Object URLs are filled with objects of
team North (pair A, customer C1), outside the rep's and the manager's scope, and must answer 404
(403 is accepted where the role may not use the URL at all). Pages send anonymous users to the
login page; the API answers 401/403. Every refused write leaves the database as it was (a
fingerprint of every table of the four apps). Every import kind and the Import page are tried with a
file that touches North's customers, orders or invoices; every page that answers also answers its
CSV export without showing a North customer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from rest_framework.test import APIClient

from config.intake import IMPORT_KINDS
from tests.conftest import make_user

# --- the rules --------------------------------------------------------------------------------

PUBLIC = "*"  # anyone, signed in or not (login, password reset, language, token)


@dataclass(frozen=True)
class Rule:
    read: str  # role letters that may GET: r(ep) m(anager) f(inance); "*" public; "" nobody
    write: str  # role letters that may POST/PUT/PATCH/DELETE
    scoped: bool = False  # the URL names an object of a team: outside your scope it is a 404


def R(read: str, write: str = "", scoped: bool = False) -> Rule:
    return Rule(read, write, scoped)


RULES: dict[str, Rule] = {
    # accounts, language, docs
    "login": R(PUBLIC, PUBLIC),
    "logout": R(PUBLIC, PUBLIC),
    "password_reset": R(PUBLIC, PUBLIC),
    "password_reset_done": R(PUBLIC, PUBLIC),
    "password_reset_confirm": R(PUBLIC, PUBLIC),
    "password_reset_complete": R(PUBLIC, PUBLIC),
    "set_language": R(PUBLIC, PUBLIC),
    "api-token": R(PUBLIC, PUBLIC),
    "home": R("rmf"),
    "progress": R("rmf"),
    "schema": R("rmf"),
    "api-docs": R("rmf"),
    "api-root": R("rmf"),
    # customers
    "customers-period-list": R("rmf"),
    "customers-api-list": R("rmf"),
    "customers-api-detail": R("rmf", scoped=True),
    "customers-api-report": R("mf"),
    "customers-api-import": R("", "mf"),
    "api-orders": R("", "mf"),
    "api-order-detail": R("rmf", "mf", scoped=True),
    "customers:list": R("rmf"),
    "customers:dashboard": R("mf"),
    "customers:pyramid": R("mf", "m"),
    "customers:migration": R("mf"),
    "customers:retention": R("mf"),
    "customers:concentration_moved": R("mf"),  # redirects to accounting:concentration
    "customers:import": R("mf", "mf"),
    "customers:import_example": R("mf"),
    "customers:detail": R("rmf", scoped=True),
    # accounting
    "api-profit": R("rmf"),
    "api-customer-waterfall": R("rmf", scoped=True),
    "api-customer-profit-change": R("rmf", scoped=True),
    "api-cost-pools-list": R("mf", "f"),
    "api-cost-pools-detail": R("mf", "f"),
    "api-cost-pools-history": R("mf", "f"),
    "api-cost-pools-revert": R("mf", "f"),
    "api-invoices-list": R("mf"),
    "api-invoices-detail": R("mf", scoped=True),
    "accounting:concentration": R("mf"),
    "accounting:pools": R("mf", "f"),
    "accounting:pool_create": R("f", "f"),
    "accounting:pool_validate": R("f", "f"),
    "accounting:pool_preview": R("f", "f"),
    "accounting:pool_customer_options": R("f", "f"),
    "accounting:interest_rate_update": R("f", "f"),
    "accounting:pool_update": R("f", "f"),
    "accounting:pool_delete": R("f", "f"),
    "accounting:pool_history": R("f"),  # HISTORY_RULES: a pool's history is finance's
    "accounting:pool_revert": R("f", "f"),
    "accounting:profit": R("mf"),
    "accounting:profit_lossmaking": R("mf"),
    "accounting:customer_waterfall": R("rmf", scoped=True),
    # scenarios
    "api-segments": R("rmf"),
    "api-customer-values": R("rmf"),
    "segment-target-list": R("mf", "m"),
    "segment-target-actuals": R("mf"),
    "segment-target-detail": R("mf", "m"),
    "scenario-list": R("mf", "m"),
    "scenario-detail": R("mf", "m"),
    "scenario-copy": R("mf", "m"),
    "scenario-plan": R("mf", "m"),
    "scenario-projection": R("mf"),
    "survey-list": R("rmf", "rm"),
    "survey-detail": R("rmf", "rm", scoped=True),
    "scenarios:scenarios": R("mf", "m"),
    "scenarios:segments": R("mf", "m"),
    "scenarios:segment_targets": R("mf", "m"),
    "scenarios:survey_new": R("rm", "rm"),
    "scenarios:scenario": R("mf", "m"),
    "scenarios:scenario_preview": R("mf", "mf"),
    "scenarios:scenario_copy": R("m", "m"),
    "scenarios:scenario_plan": R("m", "m"),
    "scenarios:scenario_delete": R("m", "m"),
    # sales force
    "salesforce-rep-results": R("rmf"),
    "salesforce-bonus": R("rmf"),
    "salesforce-reassign": R("m", "m"),
    "salesforce-visit-list": R("rmf", "rm"),
    "salesforce-visit-detail": R("rmf", "rm", scoped=True),
    "salesforce-customer-target-list": R("rmf", "rm"),
    "salesforce-customer-target-detail": R("rmf", "rm", scoped=True),
    "salesforce-customer-target-approve": R("rmf", "m", scoped=True),
    "salesforce-customer-target-reject": R("rmf", "m", scoped=True),
    "salesforce-team-target-list": R("rmf", "m"),
    "salesforce-team-target-detail": R("rmf", "m", scoped=True),
    "salesforce-bonus-kpi-list": R("rmf", "m"),
    "salesforce-bonus-kpi-detail": R("rmf", "m", scoped=True),
    "api-actions-list": R("rmf", "rm"),
    "api-actions-suggestions": R("rmf"),
    "api-actions-whatif": R("rmf", "rm"),
    "api-actions-detail": R("rmf", "rm", scoped=True),
    "api-actions-transition": R("rmf", "rm", scoped=True),
    "actions:board": R("rm", "rm"),
    "actions:propose": R("rm", "rm"),
    "actions:preview": R("rm", "rm"),
    "actions:transition": R("rm", "rm", scoped=True),
    "actions:undo_drop": R("rm", "m", scoped=True),
    "salesforce:rep_home": R("r"),
    "salesforce:visits": R("rmf"),
    "salesforce:visit_new": R("r", "r"),
    "salesforce:customer_search": R("rmf"),
    "salesforce:visit_edit": R("r", "r", scoped=True),
    "salesforce:visit_delete": R("r", "r", scoped=True),
    "salesforce:effectiveness": R("rmf"),
    "salesforce:norms": R("m", "m"),
    "salesforce:targets": R("rmf"),
    "salesforce:target_edit": R("rm", "rm", scoped=True),
    "salesforce:target_approve": R("m", "m", scoped=True),
    "salesforce:target_reject": R("m", "m", scoped=True),
    "salesforce:target_delete": R("rm", "rm", scoped=True),
    "salesforce:team_target_save": R("m", "m"),
    "salesforce:team_target_delete": R("m", "m", scoped=True),
    "salesforce:target_restore": R("rm", "rm", scoped=True),
    "salesforce:team_target_restore": R("m", "m", scoped=True),
    "salesforce:bonus": R("mf"),
    "salesforce:kpi_new": R("m", "m"),
    "salesforce:kpi_edit": R("m", "m", scoped=True),
    "salesforce:kpi_delete": R("m", "m", scoped=True),
    "salesforce:bonus_compare": R("mf"),
    "salesforce:bonus_estimate": R("rmf"),
    "salesforce:reps": R("mf"),
    "salesforce:pair": R("mf", scoped=True),
    "salesforce:customer": R("rmf", scoped=True),
    "salesforce:customer_reassign": R("m", "m", scoped=True),
    # organisation and periods
    "organisation-team-list": R("rmf", "m"),
    "organisation-team-detail": R("rmf", "m", scoped=True),
    "organisation-rep-list": R("rmf", "m"),
    "organisation-rep-detail": R("rmf", "m", scoped=True),
    "organisation-rep-deactivate": R("rmf", "m", scoped=True),
    "organisation-pair-list": R("rmf", "m"),
    "organisation-pair-detail": R("rmf", "m", scoped=True),
    "organisation-user-list": R("m", "m"),
    "organisation-user-detail": R("m", "m", scoped=True),
    "organisation-year-list": R("mf", "f"),
    "organisation-year-detail": R("mf", "f"),
    "organisation-year-close": R("mf", "f"),
    "organisation-year-reopen": R("mf", "f"),
    "salesforce:organisation:teams": R("m", "m"),
    "salesforce:organisation:team": R("m", "m", scoped=True),
    "salesforce:organisation:rep_new": R("m", "m", scoped=True),
    "salesforce:organisation:pair_new": R("m", "m", scoped=True),
    "salesforce:organisation:rep_invite": R("m", "m", scoped=True),
    "salesforce:organisation:rep_deactivate": R("m", "m", scoped=True),
    "salesforce:organisation:user_invite": R("m", "m"),
    "salesforce:organisation:team_manager": R("m", "m", scoped=True),
    "salesforce:organisation:users": R("m"),
    "salesforce:organisation:user_roles": R("m", "m", scoped=True),
    "salesforce:organisation:periods": R("f", "f"),
    "salesforce:organisation:period_state": R("f", "f"),
    "salesforce:organisation:waiting": R("m", "m"),
    "salesforce:organisation:decide": R("m", "m", scoped=True),
    "salesforce:organisation:history": R("mf"),
    "salesforce:organisation:record_history": R("mf", scoped=True),
}
#: The Django admin has its own login and permissions (staff only): none of the testers is staff.
ADMIN_PREFIX = "admin/"

LETTER = {"rep": "r", "manager": "m", "finance": "f"}
NORTH_CUSTOMER = "Alpha BV"  # C1, pair A, team North: never shown to South's rep or manager
NORTH_MARKERS = (NORTH_CUSTOMER, '"C1"', "A-OUT")  # its name, its external id in JSON, pair A's outside rep
WRITE_METHODS = ("post", "put", "patch", "delete")
EXAMPLES = {"customers:import_example"}  # example import files: fixed made-up rows (the same names as C1)


# --- the URLs, derived ------------------------------------------------------------------------


@dataclass
class Route:
    template: str
    name: str
    params: list[str]


def _walk(resolver, prefix="", namespace=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = namespace + (f"{entry.namespace}:" if entry.namespace else "")
            yield from _walk(entry, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), (namespace + entry.name) if entry.name else ""


def routes() -> list[Route]:
    out = []
    for template, name in _walk(get_resolver()):
        template = template.replace("^", "").replace("$", "")
        if template.startswith(ADMIN_PREFIX) or "(?P<format>" in template:
            continue  # the admin: staff only; DRF's ".json" suffix twins answer like their route
        params = re.findall(r"<(?:\w+:)?(\w+)>", template) + re.findall(r"\(\?P<(\w+)>", template)
        out.append(Route(template, name, params))
    return out


def schema_operations() -> list[tuple[str, str]]:
    """(path template, method) of every operation of the OpenAPI schema."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        (path, method) for path, item in schema["paths"].items() for method in item if method in ("get", *WRITE_METHODS)
    ]


def route_name_of(schema_path: str) -> str:
    match = resolve(re.sub(r"\{\w+\}", "1", schema_path))
    return f"{match.namespace}:{match.url_name}" if match.namespace else match.url_name


# --- the data set: two teams, one of every scoped object per team ----------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Built once for the module inside a transaction that is rolled back at the end."""
    from accounting.models import CostPool, Invoice
    from customers.models import Order
    from salesforce_tasks import services
    from salesforce_tasks.models import Action, BonusKpi, CustomerTarget, TeamTarget, Visit
    from scenarios.models import Scenario, SegmentTarget, SurveyResponse
    from tests import dataset
    from tests.salesforce_tasks.test_services import build_sales_force

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            dataset.build(tmp_path_factory.mktemp("matrix"))
            rep1, manager1 = make_user("rep1", "rep"), make_user("manager1", "manager")
            sf = build_sales_force(rep_user=rep1, manager_user=manager1)
            finance, nobody = make_user("finance1", "finance"), make_user("nobody", None)
            for rep, customer, user in ((sf.a_out, sf.c["C1"], rep1), (sf.s_out, sf.c["C4"], sf.rep3)):
                services.visit_log(rep=rep, customer=customer, date=dt.date(2025, 5, 5), minutes=15, acting_user=user)
            for customer in (sf.c["C1"], sf.c["C4"]):
                CustomerTarget.objects.create(
                    customer=customer, period=sf.p2025, target_revenue=Decimal("5000"), proposed_by_pair=True
                )
                Action.objects.create(customer=customer, period=sf.p2025, type="other")
                SurveyResponse.objects.create(customer=customer, date=dt.date(2025, 5, 5), score=Decimal("7"))
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
            # Deleted records of North to restore (the Undo URLs take the deletion's history id).
            gone = CustomerTarget.objects.create(customer=sf.c["C2"], period=sf.p2025, target_revenue=Decimal("100"))
            gone_pk = gone.pk
            gone.delete()
            gone_team = TeamTarget.objects.create(
                team=sf.north, period=sf.p2025, kind="new_suspects", target=Decimal("3")
            )
            gone_team_pk = gone_team.pk
            gone_team.delete()
            scenario = Scenario.objects.first() or Scenario.objects.create(name="Matrix")
            segment_target = SegmentTarget.objects.first()
            pool = CostPool.objects.order_by("pk").first()
            north = sf.c["C1"]
            objects = {
                "customer": north.pk,
                "order": Order.objects.filter(customer=north).first().external_id,
                "invoice": Invoice.objects.get(customer=north).pk,
                "visit": Visit.objects.get(customer=north).pk,
                "target": CustomerTarget.objects.get(customer=north).pk,
                "team_target": TeamTarget.objects.get(team=sf.north).pk,
                "kpi": BonusKpi.objects.get(pair=sf.pair_a).pk,
                "action": Action.objects.get(customer=north).pk,
                "survey": SurveyResponse.objects.get(customer=north).pk,
                "pair": sf.pair_a.pk,
                "team": sf.north.pk,
                "rep": sf.a_out.pk,
                "user": rep1.pk,
                "pool": pool.pk,
                "pool_history": pool.history.order_by("history_id").first().history_id,
                "target_deleted": CustomerTarget.history.get(id=gone_pk, history_type="-").history_id,
                "team_target_deleted": TeamTarget.history.get(id=gone_team_pk, history_type="-").history_id,
                "scenario": scenario.pk,
                "segment_target": segment_target.pk if segment_target else 999999,
            }
            users = {"nobody": nobody, "rep": sf.rep3, "manager": sf.manager2, "finance": finance}
            yield {"objects": objects, "users": users}
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def matrix(world, db):
    return world


#: Which object a URL's path parameter names (by URL name); parameters not listed use PARAM_VALUES.
OBJECT_OF = {
    "customers-api-detail": "customer",
    "customers:detail": "customer",
    "api-customer-waterfall": "customer",
    "api-customer-profit-change": "customer",
    "accounting:customer_waterfall": "customer",
    "salesforce:customer": "customer",
    "salesforce:customer_reassign": "customer",
    "salesforce:target_edit": "customer",
    "api-order-detail": "order",
    "api-invoices-detail": "invoice",
    "salesforce-visit-detail": "visit",
    "salesforce:visit_edit": "visit",
    "salesforce:visit_delete": "visit",
    "salesforce-customer-target-detail": "target",
    "salesforce-customer-target-approve": "target",
    "salesforce-customer-target-reject": "target",
    "salesforce:target_approve": "target",
    "salesforce:target_reject": "target",
    "salesforce:target_delete": "target",
    "salesforce:organisation:decide": "target",
    "salesforce-team-target-detail": "team_target",
    "salesforce:team_target_delete": "team_target",
    "salesforce-bonus-kpi-detail": "kpi",
    "salesforce:kpi_edit": "kpi",
    "salesforce:kpi_delete": "kpi",
    "api-actions-detail": "action",
    "api-actions-transition": "action",
    "actions:transition": "action",
    "actions:undo_drop": "action",
    "survey-detail": "survey",
    "salesforce:pair": "pair",
    "organisation-pair-detail": "pair",
    "organisation-team-detail": "team",
    "salesforce:organisation:team": "team",
    "salesforce:organisation:rep_new": "team",
    "salesforce:organisation:pair_new": "team",
    "organisation-rep-detail": "rep",
    "organisation-rep-deactivate": "rep",
    "salesforce:organisation:rep_invite": "rep",
    "salesforce:organisation:rep_deactivate": "rep",
    "organisation-user-detail": "user",
    "salesforce:organisation:user_roles": "user",
    "salesforce:organisation:team_manager": "team",
    "salesforce:organisation:record_history": "customer",
    "api-cost-pools-detail": "pool",
    "api-cost-pools-history": "pool",
    "api-cost-pools-revert": "pool",
    "accounting:pool_update": "pool",
    "accounting:pool_delete": "pool",
    "accounting:pool_history": "pool",
    "accounting:pool_revert": "pool",
    "scenario-detail": "scenario",
    "scenario-copy": "scenario",
    "scenario-plan": "scenario",
    "scenario-projection": "scenario",
    "scenarios:scenario": "scenario",
    "scenarios:scenario_preview": "scenario",
    "scenarios:scenario_copy": "scenario",
    "scenarios:scenario_plan": "scenario",
    "scenarios:scenario_delete": "scenario",
    "segment-target-detail": "segment_target",
}
PARAM_VALUES = {
    "kind": "customers",
    "name": "2025",
    "action": "close",
    "decision": "approve",
    "history_id": "pool_history",
    "uidb64": "MQ",
    "token": "set-password",
}
#: Which history row a URL's ``history_id`` names: a pool's first version, or the deletion of a
#: North target (the restore URLs).
HISTORY_OF = {"salesforce:target_restore": "target_deleted", "salesforce:team_target_restore": "team_target_deleted"}
KIND_OF = {"customers-api-report": "profit", "salesforce:organisation:decide": "target"}
KIND_OF.update({"salesforce:organisation:record_history": "customer"})


def fill(template: str, name: str, params: list[str], objects: dict) -> str:
    path = template
    for param in params:
        if param in ("kind",) and name in KIND_OF:
            value = KIND_OF[name]
        elif param in PARAM_VALUES and param not in ("history_id",):
            value = PARAM_VALUES[param]
        elif param == "history_id":
            value = objects[HISTORY_OF.get(name, "pool_history")]
        else:
            value = objects.get(OBJECT_OF.get(name, ""), 999999)
        path = re.sub(r"<(?:\w+:)?" + param + r">|\(\?P<" + param + r">[^)]*\)", str(value), path)
    return "/" + path


def fill_schema_path(path: str, name: str, objects: dict) -> str:
    params = re.findall(r"\{(\w+)\}", path)
    template = re.sub(r"\{(\w+)\}", r"<\1>", path.lstrip("/"))
    return fill(template, name, params, objects)


# --- the database fingerprint -----------------------------------------------------------------

APPS = ("customers", "accounting", "scenarios", "salesforce_tasks")
MOVING = {"computation"}  # recompute bookkeeping a read may touch; not data anyone owns


def fingerprint() -> str:
    digest = hashlib.sha256()
    for model in sorted(apps.get_models(), key=lambda m: m._meta.label):
        meta = model._meta
        if meta.app_label not in APPS or meta.model_name.startswith("historical") or meta.model_name in MOVING:
            continue
        digest.update(meta.label.encode())
        for row in model.objects.order_by("pk").values_list(*[f.attname for f in meta.concrete_fields]):
            digest.update(repr(row).encode())
    return digest.hexdigest()


# --- the probes -------------------------------------------------------------------------------


def client_for(persona: str, users: dict):
    client = APIClient()
    client.raise_request_exception = False
    if persona != "anonymous":
        client.force_login(users[persona])
    return client


def expected(persona: str, rule: Rule, *, write: bool, api: bool) -> set[int] | None:
    """The statuses allowed for this persona, or None when any non-5xx answer is fine (allowed use)."""
    allowed_roles = rule.write if write else rule.read
    if allowed_roles == PUBLIC:
        return None
    if persona == "anonymous":
        return {401, 403, 405} if api else {302, 405}
    if persona == "nobody":
        return {403}
    may = LETTER[persona] in allowed_roles
    if not may:
        return {403, 404, 405} if rule.scoped else {403, 405}
    if rule.scoped and persona != "finance":
        return {404, 405}
    return None


def check(response, persona, rule, *, write, api, url, method, failures):
    status = response.status_code
    if status >= 500:
        failures.append(f"{persona} {method.upper()} {url}: {status}")
        return
    allowed = expected(persona, rule, write=write, api=api)
    if allowed is not None and status not in allowed:
        failures.append(f"{persona} {method.upper()} {url}: {status}, expected one of {sorted(allowed)}")
    if persona == "anonymous" and not api and status == 302 and allowed is not None:
        if "/accounts/login/" not in response["Location"]:
            failures.append(f"anonymous {method.upper()} {url}: redirected to {response['Location']}")


PERSONAS = ("anonymous", "nobody", "rep", "manager", "finance")


# --- the tests --------------------------------------------------------------------------------


def test_every_url_and_operation_has_a_rule(matrix):
    missing = sorted({r.name or r.template for r in routes()} - set(RULES))
    missing += sorted({route_name_of(p) for p, _ in schema_operations()} - set(RULES))
    assert not missing, "URLs without an access rule in tests/test_access_matrix.py RULES:\n" + "\n".join(missing)
    assert len(routes()) > 100 and len(schema_operations()) > 50


@pytest.mark.parametrize("persona", PERSONAS)
def test_reads_of_every_url(matrix, persona):
    client = client_for(persona, matrix["users"])
    failures = []
    for route in routes():
        rule = RULES.get(route.name)
        if rule is None:
            continue  # reported by test_every_url_and_operation_has_a_rule
        url = fill(route.template, route.name, route.params, matrix["objects"])
        api = url.startswith("/api/")
        response = client.get(url)
        check(response, persona, rule, write=False, api=api, url=url, method="get", failures=failures)
        if route.name in EXAMPLES:
            continue  # an example file of made-up rows, not data
        if persona in ("rep", "manager") and response.status_code == 200 and not response.streaming:
            body = response.content.decode("utf-8", errors="replace")
            shown = [marker for marker in NORTH_MARKERS if marker in body]
            if shown:
                failures.append(f"{persona} GET {url}: shows {shown} of team North")
            if not api:  # the page's export answers the same rule and shows no more
                export = client.get(url + ("&" if "?" in url else "?") + "format=csv")
                body = b"".join(export.streaming_content) if export.streaming else export.content
                if export.status_code >= 500 or NORTH_CUSTOMER.encode() in body:
                    failures.append(f"{persona} GET {url}?format=csv: {export.status_code} or leaks")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("persona", PERSONAS)
def test_writes_of_every_url_and_operation(matrix, persona):
    """Every refused write (role or scope) leaves the database unchanged."""
    client = client_for(persona, matrix["users"])
    objects = matrix["objects"]
    probes = []
    for route in routes():
        if route.name in RULES and not route.template.startswith("api/"):
            probes.append((route.name, fill(route.template, route.name, route.params, objects), "post"))
    for path, method in schema_operations():
        if method in WRITE_METHODS:
            name = route_name_of(path)
            if name in RULES:
                probes.append((name, fill_schema_path(path, name, objects), method))
    failures = []
    for name, url, method in probes:
        rule = RULES[name]
        allowed = expected(persona, rule, write=True, api=url.startswith("/api/"))
        if allowed is None:
            continue  # an allowed write by its own scope is not an authorization question
        api = url.startswith("/api/")
        before = fingerprint()
        response = getattr(client, method)(url, {}, format="json") if api else client.post(url)
        check(response, persona, rule, write=True, api=api, url=url, method=method, failures=failures)
        if fingerprint() != before:
            failures.append(f"{persona} {method.upper()} {url}: changed the database")
    assert len(probes) > 80
    assert not failures, "\n".join(failures)


#: One file per import kind, every row touching team North (customer C1, order O1, invoice I1).
NORTH_FILES = {
    "customers": "external_id,name,owner\nC1,Alpha BV,S\n",
    "orders": "order_id,customer_id,date,amount\nO1,C1,2025-01-02,500000\n",
    "costs": "period,pool,amount,key\n2025,Sales,1,per_customer\n",
    "invoices": "customer_id,invoice_id,amount,issued,due\nC1,I1,1,2025-01-02,2025-02-01\n",
    "visits": "rep,customer_id,date,minutes,kind\ns-out,C1,2025-05-06,10,visit\n",
    "surveys": "customer_id,date,score\nC1,2025-05-06,1\n",
    "organisation": "username,name,email,role,rep_kind,pair,team\nrep1,Rep One,r1@example.com,rep,outside,S,South\n",
}


@pytest.mark.parametrize("persona", ("anonymous", "nobody", "rep", "manager"))
def test_every_import_kind_refuses_another_teams_rows(matrix, persona):
    """The API and the Import page, every kind: refused (403) or the North row named (400), nothing written."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    assert set(NORTH_FILES) == set(IMPORT_KINDS), "an import kind without a probe file"
    client = client_for(persona, matrix["users"])
    failures = []
    for kind, text in NORTH_FILES.items():
        for url, data in (
            (f"/api/v1/imports/{kind}/", {}),
            ("/customers/import/", {"kind": kind}),
        ):
            before = fingerprint()
            upload = SimpleUploadedFile(f"{kind}.csv", text.encode(), content_type="text/csv")
            response = client.post(url, {**data, "file": upload}, format="multipart")
            if fingerprint() != before:
                failures.append(f"{persona} import {kind} via {url}: changed the database")
            ok = {"anonymous": {302, 401, 403}, "nobody": {403}, "rep": {403}}.get(persona, {400, 403, 200})
            if response.status_code not in ok:
                failures.append(f"{persona} import {kind} via {url}: {response.status_code}")
            if persona == "manager" and response.status_code in (200, 400) and kind != "costs":
                body = response.content.decode()
                if url.startswith("/api/"):
                    rows = {e["row"] for e in response.json().get("errors", [])}
                    if rows != {2}:
                        failures.append(f"manager import {kind}: errors {response.json()}")
                elif "import-result" in body:
                    failures.append(f"manager import {kind} via the page: imported")
    assert not failures, "\n".join(failures)


def test_finance_may_import_every_kind_the_rule_says(matrix):
    """The probe files are valid: finance (every customer) imports the kinds its role may, so the refusals
    above are the scope; a kind the role may not import (organisation: administrators and managers) is 403."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from customers.policy import import_kinds_for

    finance = matrix["users"]["finance"]
    client = client_for("finance", matrix["users"])
    allowed = import_kinds_for(finance)
    assert {"customers", "orders", "invoices", "costs", "visits", "surveys"} <= set(allowed)
    for kind, text in NORTH_FILES.items():
        with transaction.atomic():
            upload = SimpleUploadedFile(f"{kind}.csv", text.encode(), content_type="text/csv")
            response = client.post(f"/api/v1/imports/{kind}/", {"file": upload}, format="multipart")
            assert response.status_code == (201 if kind in allowed else 403), (kind, response.content)
            transaction.set_rollback(True)
