"""Issue 13, authorization findings 1, 2, 3, 4, 9, 13 and 15: each reproduced, each refused.

Teams as in ``tests.salesforce_tasks.test_services.sales_force``: North (manager1; pair A = rep1 +
rep2 owns C1, C2; pair B owns C3, C5) and South (manager2; pair S = rep3 + rep4 owns C4).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from accounting.models import Invoice
from customers.models import Customer, Order, OrderLine
from customers.policy import REPORT_RULES
from salesforce_tasks.models import BonusKpi, CustomerTarget, Visit
from tests.conftest import client_for, make_user
from tests.salesforce_tasks.test_services import sales_force  # noqa: F401  (fixture)

ORDER = {"order_id": "O1", "customer_id": "C4", "date": "2025-03-01", "lines": [{"amount": "500000"}]}


def _upload(name: str, text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


# --- 1 and 2: orders come from the ERP ---------------------------------------------------------


def test_another_teams_order_id_is_a_404_and_stays_where_it_was(sales_force):  # noqa: F811
    """Finding 1: manager2 (South) posting North's order O1 onto South's C4 took it over (201)."""
    before = list(OrderLine.objects.filter(order__external_id="O1").values_list("id", "amount", "customer_id"))
    response = client_for(sales_force.manager2).post("/api/v1/orders/", ORDER, format="json")
    assert response.status_code == 404
    assert Order.objects.get(external_id="O1").customer.external_id == "C1"
    assert list(OrderLine.objects.filter(order__external_id="O1").values_list("id", "amount", "customer_id")) == before
    # the same answer as a GET of an order id that does not exist, or of another team's
    assert client_for(sales_force.manager2).get("/api/v1/orders/O1/").status_code == 404
    assert client_for(sales_force.manager2).get("/api/v1/orders/NOPE/").status_code == 404


def test_a_manager_writes_orders_for_their_own_teams_customers(sales_force):  # noqa: F811
    response = client_for(sales_force.manager2).post("/api/v1/orders/", {**ORDER, "order_id": "S-1"}, format="json")
    assert response.status_code == 201
    response = client_for(sales_force.manager2).post(
        "/api/v1/orders/", {**ORDER, "order_id": "S-2", "customer_id": "C1"}, format="json"
    )
    assert response.status_code == 400 and "customer_id" in response.json()


def test_reps_never_write_orders_or_invoices(sales_force, rep_user):  # noqa: F811
    """Finding 2: a rep posted a 500,000 order on their own customer and raised their pair's bonus."""
    lines = OrderLine.objects.count()
    client = client_for(rep_user)
    response = client.post("/api/v1/orders/", {**ORDER, "order_id": "R-1", "customer_id": "C1"}, format="json")
    assert response.status_code == 403
    assert client.delete("/api/v1/orders/O1/").status_code == 403
    for kind, text in (
        ("orders", "order_id,customer_id,date,amount\nR-2,C1,2025-03-01,500000\n"),
        ("invoices", "customer_id,invoice_id,amount,issued,due\nC1,R-3,1,2025-01-02,2025-02-01\n"),
    ):
        response = client.post(f"/api/v1/imports/{kind}/", {"file": _upload(f"{kind}.csv", text)}, format="multipart")
        assert response.status_code == 403
    assert OrderLine.objects.count() == lines and not Invoice.objects.filter(external_id="R-3").exists()


def test_the_integration_role_writes_orders_for_every_customer(sales_force):  # noqa: F811
    erp = make_user("erp", "integration")
    response = client_for(erp).post("/api/v1/orders/", {**ORDER, "order_id": "E-1", "customer_id": "C1"}, format="json")
    assert response.status_code == 201
    assert client_for(erp).get("/api/v1/orders/E-1/").status_code == 200
    assert client_for(erp).get("/api/v1/customers/").status_code == 403  # no customer pages or lists


# --- 3: imports check every row against the importer's scope ------------------------------------


def test_a_manager_cannot_move_another_teams_customer_by_import(sales_force):  # noqa: F811
    """Finding 3: manager2 (South) moved North's C1 into pair S through the customers import."""
    client = client_for(sales_force.manager2)
    text = "external_id,name,owner\nC4,Delta BV,S\nC1,Alpha BV,S\n"
    response = client.post("/api/v1/imports/customers/", {"file": _upload("c.csv", text)}, format="multipart")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {(e["row"], e["column"]) for e in errors} == {(3, "external_id")}
    assert Customer.objects.get(external_id="C1").pair == sales_force.pair_a


def test_a_manager_cannot_assign_a_customer_to_another_teams_pair(sales_force):  # noqa: F811
    client = client_for(sales_force.manager2)
    text = "external_id,name,owner\nC4,Delta BV,A\n"
    response = client.post("/api/v1/imports/customers/", {"file": _upload("c.csv", text)}, format="multipart")
    assert response.status_code == 400
    assert response.json()["errors"][0]["column"] == "owner" and "S" in response.json()["errors"][0]["reason"]
    assert Customer.objects.get(external_id="C4").pair == sales_force.pair_s


@pytest.mark.parametrize(
    "kind,text",
    [
        ("orders", "order_id,customer_id,date,amount\nS-9,C4,2025-03-01,10\nS-10,C1,2025-03-01,10\n"),
        ("orders", "order_id,customer_id,date,amount\nS-9,C4,2025-03-01,10\nO1,C4,2025-03-01,10\n"),
        (
            "invoices",
            "customer_id,invoice_id,amount,issued,due\nC4,S-9,1,2025-01-02,2025-02-01\nC1,S-10,1,2025-01-02,2025-02-01\n",
        ),
        (
            "invoices",
            "customer_id,invoice_id,amount,issued,due\nC4,S-9,1,2025-01-02,2025-02-01\nC4,I1,1,2025-01-02,2025-02-01\n",
        ),
        ("visits", "rep,customer_id,date,minutes,kind\ns-out,C4,2025-05-06,10,visit\ns-out,C1,2025-05-06,10,visit\n"),
        ("surveys", "customer_id,date,score\nC4,2025-05-06,7\nC1,2025-05-06,1\n"),
    ],
)
def test_a_managers_import_of_another_teams_row_writes_nothing(sales_force, kind, text):  # noqa: F811
    """Finding 3: row 2 is South's own, row 3 is North's (its customer, order id or invoice id): all or nothing."""
    counts = (Order.objects.count(), Invoice.objects.count(), Visit.objects.count())
    response = client_for(sales_force.manager2).post(
        f"/api/v1/imports/{kind}/", {"file": _upload(f"{kind}.csv", text)}, format="multipart"
    )
    assert response.status_code == 400, response.content
    assert {e["row"] for e in response.json()["errors"]} == {3}
    assert (Order.objects.count(), Invoice.objects.count(), Visit.objects.count()) == counts
    assert Order.objects.get(external_id="O1").customer.external_id == "C1"
    assert Invoice.objects.get(external_id="I1").customer.external_id == "C1"


def test_the_import_page_checks_the_scope_too(sales_force):  # noqa: F811
    client = Client()
    client.force_login(sales_force.manager2)
    text = "external_id,name,owner\nC1,Alpha BV,S\n"
    response = client.post("/customers/import/", {"kind": "customers", "file": _upload("c.csv", text)})
    assert response.status_code in (200, 400) and "import-result" not in response.content.decode()
    assert Customer.objects.get(external_id="C1").pair == sales_force.pair_a
    response = client.post("/customers/import/", {"kind": "costs", "file": _upload("c.csv", "period,pool\n")})
    assert response.status_code == 403  # cost pools: finance only


# --- 4: the reports API is scoped like the pages ------------------------------------------------


#: Every report kind whose rows are scoped (customers or reps): derived from the policy, so a new
#: scoped kind is tried here without anyone adding it.
SCOPED_REPORT_KINDS = sorted(kind for kind, rule in REPORT_RULES.items() if rule.scope != "company")


@pytest.mark.parametrize("kind", SCOPED_REPORT_KINDS)
def test_reports_api_shows_a_manager_only_their_teams(sales_force, kind):  # noqa: F811
    """Finding 4: /api/v1/reports/* returned every team's customers, reps and bonuses to manager2."""
    from salesforce_tasks.models import Action

    Action.objects.create(customer=sales_force.c["C1"], period=sales_force.p2025, type="other")
    Action.objects.create(customer=sales_force.c["C4"], period=sales_force.p2025, type="other")
    BonusKpi.objects.create(
        period=sales_force.p2025,
        pair=sales_force.pair_a,
        metric="revenue",
        weight=Decimal("1"),
        threshold=Decimal("0"),
        target=Decimal("1000"),
        base_amount=Decimal("100"),
    )
    response = client_for(sales_force.manager2).get(f"/api/v1/reports/{kind}/?period=2025")
    assert response.status_code == 200, response.content
    body = response.content.decode()
    for north in ('"C1"', '"C2"', "Alpha BV", "A-OUT", '"A"', "North"):
        assert north not in body, (kind, north)
    finance = client_for(make_user("fin", "finance")).get(f"/api/v1/reports/{kind}/?period=2025").content.decode()
    assert any(north in finance for north in ('"C1"', "A-OUT", '"A"', "North", "Alpha BV")) or kind == "segments"


def test_reports_api_refuses_reps(sales_force, rep_user):  # noqa: F811
    """Every registered report kind has a rule in the policy, and each refuses a rep and nobody."""
    from config import reports as report_registry

    assert set(report_registry.kinds()) == set(REPORT_RULES)
    for kind in report_registry.kinds():
        assert client_for(rep_user).get(f"/api/v1/reports/{kind}/?period=2025").status_code == 403, kind
        assert APIClient().get(f"/api/v1/reports/{kind}/?period=2025").status_code in (401, 403), kind


# --- 9: an approved target is never overwritten or deleted by a rep -----------------------------


def test_a_reps_change_to_an_approved_target_is_a_proposal_beside_it(sales_force, rep_user):  # noqa: F811
    target = CustomerTarget.objects.create(
        customer=sales_force.c["C1"], period=sales_force.p2025, target_revenue=Decimal("32100")
    )
    rep = client_for(rep_user)
    response = rep.patch(f"/api/v1/customer-targets/{target.pk}/", {"target_revenue": "1.00"}, format="json")
    assert response.status_code == 200
    assert response.json()["target_revenue"] == "32100.00"
    assert response.json()["proposal"]["target_revenue"] == "1.00"
    target.refresh_from_db()
    assert target.target_revenue == Decimal("32100") and not target.proposed_by_pair and target.proposal_pending
    assert rep.delete(f"/api/v1/customer-targets/{target.pk}/").status_code == 403
    assert CustomerTarget.objects.filter(pk=target.pk).exists()
    manager = client_for(sales_force.north.manager)
    assert manager.post(f"/api/v1/customer-targets/{target.pk}/reject/").status_code == 200
    target.refresh_from_db()
    assert target.target_revenue == Decimal("32100") and not target.proposal_pending
    rep.patch(f"/api/v1/customer-targets/{target.pk}/", {"target_revenue": "40000.00"}, format="json")
    assert manager.post(f"/api/v1/customer-targets/{target.pk}/approve/").status_code == 200
    target.refresh_from_db()
    assert target.target_revenue == Decimal("40000") and not target.proposal_pending


# --- 13: a rep sees their own and the pair's combined bonus, not the partner's -----------------


def test_a_rep_does_not_see_the_partners_individual_bonus(sales_force):  # noqa: F811
    for subject in ({"pair": sales_force.pair_s}, {"rep": sales_force.s_in}, {"rep": sales_force.s_out}):
        BonusKpi.objects.create(
            period=sales_force.p2025,
            metric="revenue",
            weight=Decimal("1"),
            threshold=Decimal("0"),
            target=Decimal("100"),
            base_amount=Decimal("100"),
            **subject,
        )
    rep3 = client_for(sales_force.rep3)  # S-OUT; the partner is S-IN (rep4)
    bonus = rep3.get("/api/v1/bonus/?period=2025").json()
    assert [r["rep"] for r in bonus["reps"]] == ["S-OUT"]
    assert [p["label"] for p in bonus["pairs"]] == ["S"]  # the pair's combined figure
    kpis = rep3.get("/api/v1/bonus-kpis/").json()["results"]
    assert sales_force.s_in.pk not in [k.get("rep") for k in kpis] and "s-in" not in str(kpis)
    assert len(kpis) == 2  # the pair's KPI and rep3's own
    manager = client_for(sales_force.manager2).get("/api/v1/bonus/?period=2025").json()
    assert {r["rep"] for r in manager["reps"]} == {"S-OUT", "S-IN"}


# --- 15: a user without a role sees only a page that says so -----------------------------------


@pytest.mark.parametrize(
    "url", ["/", "/customers/", "/progress/", "/api/schema/", "/api/docs/", "/api/v1/", "/sales/visits/"]
)
def test_a_user_without_a_role_sees_only_the_no_role_page(db, url):
    client = Client()
    client.force_login(make_user("nobody", None))
    response = client.get(url)
    assert response.status_code == 403
    if not url.startswith("/api/"):
        assert "No role yet" in response.content.decode()


def test_a_user_without_a_role_is_refused_by_token_too(db):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    token = Token.objects.create(user=make_user("nobody", None))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/schema/").status_code == 403
    assert client.get("/api/v1/").status_code == 403
