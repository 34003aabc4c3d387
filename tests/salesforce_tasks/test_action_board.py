"""The action board, its API, transitions and exports on the small data set.

2025 of the small data set: C1 profitable; C4 and C5 loss-making (C5: 200 - 300 Sales - 150
Handling = -250.00; C4: 200 - 300 - 75 - its open invoice's financing). The rep's pair owns C1
and C4; C5 belongs to another team, so neither the rep nor the manager sees it.
"""

import json
from decimal import Decimal

import pytest
from django.core.management import call_command

from customers.models import Customer, CustomerProfit
from customers.templatetags.kw import money
from salesforce_tasks.models import Action, RepPair, SalesRep, Team
from tests.conftest import client_for, make_user

BOARD = "/sales/actions/"
API = "/api/v1/actions/"


@pytest.fixture
def sales(small_dataset, rep_user, manager_user):
    other_manager = make_user("manager2", "manager")
    north = Team.objects.create(name="Noord", manager=manager_user)
    south = Team.objects.create(name="Zuid", manager=other_manager)

    def pair(code, team, user=None):
        outside = SalesRep.objects.create(code=f"{code}o", name=f"{code} out", kind="outside", team=team, user=user)
        inside = SalesRep.objects.create(code=f"{code}i", name=f"{code} in", kind="inside", team=team)
        return RepPair.objects.create(code=code, team=team, outside_rep=outside, inside_rep=inside)

    p1, p2 = pair("P1", north, rep_user), pair("P2", south)
    Customer.objects.filter(external_id__in=["C1", "C4"]).update(pair=p1)
    Customer.objects.filter(external_id__in=["C2", "C5"]).update(pair=p2)
    return {"periods": small_dataset, "customers": {c.external_id: c for c in Customer.objects.all()}}


def stored_profit(external_id: str, period: int = 2025) -> Decimal:
    return CustomerProfit.objects.get(customer__external_id=external_id, period__name=period).profit


def test_board_shows_the_reps_loss_making_customers_only(sales, client, rep_user, django_assert_max_num_queries):
    client.force_login(rep_user)
    with django_assert_max_num_queries(25):
        response = client.get(BOARD)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Delta BV" in html  # C4, loss-making, in the rep's pair
    assert "Epsilon BV" not in html  # C5: another team
    suggestions = response.context["suggestions"]
    assert [c["external_id"] for c in suggestions["loss_making"]] == ["C4"]
    assert suggestions["loss_making_count"] == 1
    # C4 has one order and no visits: min revenue, discount, surcharge and part ways are suggested.
    types = [s["type"] for s in suggestions["loss_making"][0]["suggestions"]]
    assert set(types) == {"min_revenue", "discount_change", "order_surcharge", "part_ways"}
    assert types[0] == "min_revenue" and types[-1] == "part_ways"


def test_board_for_a_manager_and_its_htmx_fragments(sales, client, manager_user, finance_user):
    client.force_login(manager_user)
    response = client.get(BOARD, {"period": 2025})
    assert response.status_code == 200
    assert [c["external_id"] for c in response.context["suggestions"]["loss_making"]] == ["C4"]
    fragment = client.get(BOARD, {"period": 2025}, headers={"HX-Request": "true", "HX-Target": "action-list"})
    assert fragment.status_code == 200
    assert b'id="action-list"' in fragment.content and b"<html" not in fragment.content
    assert "HX-Request" in fragment["Vary"]
    fragment = client.get(BOARD, {"period": 2025}, headers={"HX-Request": "true", "HX-Target": "suggestions"})
    assert b'id="suggestions"' in fragment.content and b"<html" not in fragment.content
    assert client.get(BOARD, {"period": 1999}).status_code == 404
    client.force_login(finance_user)
    assert client.get(BOARD).status_code == 403


def test_preview_shows_the_whatif_and_saves_nothing(sales, client, rep_user):
    client.force_login(rep_user)
    c4 = sales["customers"]["C4"]
    form = client.get("/sales/actions/propose/", {"period": 2025, "customer": c4.pk, "type": "discount_change"})
    assert form.status_code == 200
    # The suggested points aim at break-even but stay within the bound (C4's loss needs more than 5).
    assert form.context["form"].initial["parameter"] == Decimal(5)
    response = client.post(
        "/sales/actions/preview/",
        {"period": 2025, "customer": c4.pk, "type": "discount_change", "parameter": "2"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    # +2 points on 300.00 of revenue: +6.00 for C4 and for the company; nothing moves to others.
    before = stored_profit("C4")
    assert f"now {money(before)}" in html
    assert money(before + 6) in html
    assert "+€6.00" in html and "€0.00" in html
    assert "<html" not in html
    bad = client.post(
        "/sales/actions/preview/", {"period": 2025, "customer": c4.pk, "type": "discount_change", "parameter": "0"}
    )
    assert "between -100 and 100" in bad.content.decode()
    assert not Action.objects.exists()
    c5 = sales["customers"]["C5"]
    assert client.get("/sales/actions/propose/", {"period": 2025, "customer": c5.pk}).status_code == 404


def test_propose_approve_done_flow(sales, client, rep_user, manager_user):
    c4 = sales["customers"]["C4"]
    client.force_login(rep_user)
    response = client.post(
        "/sales/actions/propose/",
        {"period": 2025, "customer": c4.pk, "type": "order_surcharge", "parameter": "15", "note": "Call first"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and response["HX-Trigger"] == "actionsChanged"
    action = Action.objects.get()
    assert (action.state, action.type, action.parameter, action.proposed_by) == (
        "proposed",
        "order_surcharge",
        Decimal("15.00"),
        rep_user,
    )
    # 15.00 × 1 order on revenue and margin; C4's revenue-keyed share: none (no revenue pools).
    assert action.whatif_customer_profit == stored_profit("C4") + Decimal("15")
    assert action.whatif_company_profit_change == Decimal("15.00")
    assert "Call first" in action.notes

    # The rep cannot approve.
    denied = client.post(f"/sales/actions/{action.pk}/transition/", {"state": "agreed"})
    assert denied.status_code == 403
    action.refresh_from_db()
    assert action.state == "proposed"

    client.force_login(manager_user)
    row = client.post(
        f"/sales/actions/{action.pk}/transition/",
        {"state": "agreed", "note": "Fine"},
        headers={"HX-Request": "true"},
    )
    assert row.status_code == 200 and f'id="action-{action.pk}"'.encode() in row.content
    action.refresh_from_db()
    assert action.state == "agreed" and action.agreed_at and action.decided_by == manager_user
    assert "Fine" in action.notes

    client.force_login(rep_user)
    client.post(f"/sales/actions/{action.pk}/transition/", {"state": "done"}, headers={"HX-Request": "true"})
    action.refresh_from_db()
    assert action.state == "done" and action.done_at

    # Done is final: a clear message in the row, nothing changes.
    client.force_login(manager_user)
    again = client.post(f"/sales/actions/{action.pk}/transition/", {"state": "dropped"}, headers={"HX-Request": "true"})
    assert "cannot change any more" in again.content.decode()
    action.refresh_from_db()
    assert action.state == "done"
    history = list(action.history.order_by("history_id").values_list("state", "history_user__username"))
    assert history == [("proposed", "rep1"), ("agreed", "manager1"), ("done", "rep1")]


def test_api_create_transition_and_errors(sales, rep_user, manager_user, finance_user):
    rep, manager, finance = client_for(rep_user), client_for(manager_user), client_for(finance_user)
    created = rep.post(
        API, {"customer": "C4", "period": 2025, "type": "min_revenue", "parameter": "1000"}, format="json"
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["state"] == "proposed" and body["customer"] == "C4" and body["period"] == 2025
    pk = body["id"]

    assert rep.post(f"{API}{pk}/transition/", {"state": "agreed"}, format="json").status_code == 403
    wrong = manager.post(f"{API}{pk}/transition/", {"state": "done"}, format="json")
    assert wrong.status_code == 400 and "agreed or dropped" in wrong.json()["state"][0]
    assert manager.post(f"{API}{pk}/transition/", {"state": "agreed"}, format="json").json()["state"] == "agreed"
    assert rep.post(f"{API}{pk}/transition/", {"state": "done"}, format="json").json()["state"] == "done"

    out_of_scope = rep.post(API, {"customer": "C5", "type": "part_ways"}, format="json")
    assert out_of_scope.status_code == 400 and "customer" in out_of_scope.json()
    assert rep.post(API, {"customer": "C4", "type": "discount_change"}, format="json").status_code == 400
    other = rep.post(API, {"customer": "C4", "type": "other"}, format="json")
    assert other.status_code == 400 and "description" in other.json()

    # Finance reads everything and writes nothing.
    assert finance.post(API, {"customer": "C4", "type": "part_ways"}, format="json").status_code == 403
    assert finance.post(f"{API}{pk}/transition/", {"state": "dropped"}, format="json").status_code == 403
    listed = finance.get(API, {"period": 2025, "state": "done"})
    assert listed.status_code == 200 and [a["id"] for a in listed.json()["results"]] == [pk]
    assert finance.get(API, {"period": 1999}).status_code == 400
    assert rep.get(API, {"state": "proposed"}).json()["count"] == 0


def test_api_whatif_of_parting_with_a_loss_maker(sales, rep_user):
    response = client_for(rep_user).post(
        f"{API}whatif/", {"customer": "C4", "period": 2025, "type": "part_ways"}, format="json"
    )
    assert response.status_code == 200, response.content
    data = response.json()
    financing = CustomerProfit.objects.get(customer__external_id="C4", period__name=2025).financing
    # C4 leaves: -200.00 margin, +75.00 of variable Handling, + its financing cost. Its 300.00 of
    # fixed Sales falls on C1 and C5.
    assert Decimal(data["company_profit_change"]) == Decimal("-125.00") + financing
    assert data["customer_profit_after"] is None
    assert Decimal(data["others_change"]) == Decimal(data["company_profit_change"]) + stored_profit("C4")
    assert Action.objects.count() == 0
    assert client_for(rep_user).get(f"{API}suggestions/", {"period": 2025}).json()["loss_making_count"] == 1


def test_realised_effect_once_the_next_period_has_figures(sales, rep_user, manager_user):
    c1 = sales["customers"]["C1"]
    action = Action.objects.create(
        customer=c1, period=sales["periods"][2024], type="discount_change", parameter=2, proposed_by=rep_user
    )
    Action.objects.filter(pk=action.pk).update(state="done")
    listed = client_for(manager_user).get(API, {"period": 2024}).json()["results"]
    # C1: 2024 600 - 200 = 400.00; 2025 1000 - 300 - 75 - 9.86 = 615.14.
    expected = stored_profit("C1", 2025) - stored_profit("C1", 2024)
    assert Decimal(listed[0]["realised_effect"]) == expected == Decimal("215.14")


def test_exports_and_report(sales, client, manager_user, rep_user, capsys):
    client_for(rep_user).post(API, {"customer": "C4", "type": "discount_change", "parameter": "3"}, format="json")
    client.force_login(manager_user)
    csv_response = client.get(BOARD, {"period": 2025, "format": "csv"})
    assert csv_response["Content-Type"].startswith("text/csv")
    text = csv_response.content.decode("utf-8-sig")
    assert "C4" in text and "discount_change" in text
    xlsx = client.get(BOARD, {"period": 2025, "format": "xlsx"})
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    suggestions = client.get(BOARD, {"period": 2025, "format": "csv", "table": "suggestions"}).content.decode(
        "utf-8-sig"
    )
    assert "part_ways" in suggestions and "C5" not in suggestions and "Company profit change" in suggestions

    call_command("report", "actions", "--period", "2025", "--format", "json")
    data = json.loads(capsys.readouterr().out)
    assert data["counts"]["proposed"] == 1
    assert data["actions"][0]["whatif_company_profit_change"] == 9.0
    call_command("report", "actions", "--period", "2025", "--format", "csv")
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("id,period,customer") and len(lines) == 2


# --- issue 14: tiles follow propose/agree; the form keeps what was typed; suggestions within bounds -----


def test_tiles_update_after_propose_and_agree_without_a_reload(sales, client, rep_user, manager_user):
    c4 = sales["customers"]["C4"]
    client.force_login(rep_user)
    page = client.get(BOARD, {"period": 2025}).content.decode()
    # The tiles listen for the event a proposal and a decision send, and redraw from the board.
    assert 'id="action-tiles"' in page and "actionsChanged from:body" in page.split('id="action-tiles"')[1][:400]

    def tiles() -> str:
        response = client.get(BOARD, {"period": 2025}, headers={"HX-Request": "true", "HX-Target": "action-tiles"})
        assert response.status_code == 200
        html = response.content.decode()
        assert html.lstrip().startswith('<div class="kpis" id="action-tiles"') and "<html" not in html
        return html

    html = tiles()
    assert ">0 / 0<" in html and ">1<" in html  # one loss-making customer
    assert money(stored_profit("C4"), 0) in html  # their loss

    proposed = client.post(
        "/sales/actions/propose/",
        {"period": 2025, "customer": c4.pk, "type": "discount_change", "parameter": "2"},
        headers={"HX-Request": "true"},
    )
    assert proposed.status_code == 200 and proposed["HX-Trigger"] == "actionsChanged"
    assert ">1 / 0<" in tiles()

    action = Action.objects.get()
    client.force_login(manager_user)
    agreed = client.post(f"/sales/actions/{action.pk}/transition/", {"state": "agreed"}, headers={"HX-Request": "true"})
    assert agreed.status_code == 200 and agreed["HX-Trigger"] == "actionsChanged"
    assert ">0 / 1<" in tiles()
    # The manager of another team: no loss-making customer and no action in the tiles.
    client.force_login(make_user("manager3", "manager"))
    html = tiles()
    assert ">0 / 0<" in html and money(stored_profit("C4"), 0) not in html


@pytest.mark.parametrize("typed", ["-5", "12.345", "0"])
def test_the_propose_form_keeps_the_value_typed_after_an_error(sales, client, rep_user, typed):
    c4 = sales["customers"]["C4"]
    client.force_login(rep_user)
    for headers in ({"HX-Request": "true"}, {}):
        response = client.post(
            "/sales/actions/propose/",
            {"period": 2025, "customer": c4.pk, "type": "min_revenue", "parameter": typed, "note": "n"},
            headers=headers,
        )
        assert response.status_code == 200
        html = response.content.decode()
        assert 'class="errorlist' in html
        assert f'name="parameter" id="id_parameter" inputmode="decimal"\n               value="{typed}"' in html
    assert not Action.objects.exists()


def test_board_suggestions_state_their_bound_and_break_even(sales, client, rep_user):
    client.force_login(rep_user)
    response = client.get(BOARD, {"period": 2025})
    c4 = response.context["suggestions"]["loss_making"][0]
    by_type = {s["type"]: s for s in c4["suggestions"]}
    revenue = c4["revenue_cents"]
    best = by_type["min_revenue"]
    assert best["parameter"] * 100 <= revenue * Decimal("1.5")  # never an inflated agreement
    assert best["note"] and ("+50 %" in best["note"])
    assert best["capped"] == (best["break_even"] > best["bound"])
    if best["capped"]:
        assert "stays loss-making" in best["note"] and not best["breaks_even"]
    html = response.content.decode()
    assert best["note"].split(";")[0] in html
    data = client_for(rep_user).get(API + "suggestions/", {"period": 2025}).json()
    first = data["loss_making"][0]["suggestions"][0]
    assert {"bound", "break_even", "breaks_even", "assumption"} <= set(first)


def test_the_shared_whatif_inputs_are_not_changed_by_the_board_the_form_and_the_preview(
    sales, client, rep_user, manager_user
):
    """The what-if inputs are built once per version and shared: using them for suggestions, the
    proposal form and the preview of every action type leaves them equal to a fresh read."""
    from customers.models import Period
    from salesforce_tasks.actions import selectors

    period = Period.objects.get(name=2025)
    shared = selectors.whatif_inputs(period=period)
    c4 = sales["customers"]["C4"]
    client.force_login(rep_user)
    assert client.get(BOARD).status_code == 200
    assert client.get("/sales/actions/propose/", {"customer": c4.pk, "period": 2025}).status_code == 200
    for action_type, parameter in (
        ("min_revenue", "500"),
        ("discount_change", "2"),
        ("order_surcharge", "10"),
        ("min_order_size", "100"),
        ("move_to_inside", "50"),
        ("part_ways", ""),
    ):
        client.post(
            "/sales/actions/preview/",
            {"customer": c4.pk, "period": 2025, "type": action_type, "parameter": parameter},
        )
    assert selectors.whatif_inputs(period=period) is shared  # the same object: nothing rebuilt
    fresh = selectors._whatif_inputs_read(period)
    for name in ("drivers", "pools", "financing", "profit"):
        assert getattr(shared, name).equals(getattr(fresh, name)), name
    assert shared.before.allocations.equals(fresh.before.allocations)
    assert shared.before.pools.equals(fresh.before.pools)


def test_falling_customers_are_the_companys_shared_and_each_viewer_sees_their_own(sales, rep_user, finance_user):
    """Profit falling two periods running towards zero: C1 (the rep's pair) and C5 (another team).
    The company's list is built once and shared; the rep sees C1 only, finance both."""
    from customers.models import Period
    from salesforce_tasks.actions import selectors

    p2023 = Period.objects.create(name=2023, start="2023-01-01", end="2023-12-31")
    p2024, p2025 = Period.objects.get(name=2024), Period.objects.get(name=2025)
    zero = Decimal("0")
    for external_id, profits in (("C1", ("900", "500", "100")), ("C5", ("800", "400", "50"))):
        customer = sales["customers"][external_id]
        for period, profit in zip((p2023, p2024, p2025), profits, strict=True):
            CustomerProfit.objects.update_or_create(
                period=period,
                customer=customer,
                defaults={
                    "level": "small",
                    "revenue": Decimal("1000"),
                    "gross_margin": Decimal(profit),
                    "allocated": zero,
                    "financing": zero,
                    "profit": Decimal(profit),
                },
            )
    company = selectors.period_frames_get("falling_customers", p2025)
    assert sorted(company["customer_id"]) == sorted([sales["customers"]["C1"].pk, sales["customers"]["C5"].pk])
    rep = selectors.action_suggestions(user=rep_user, period=p2025)
    assert [c["external_id"] for c in rep["falling"]] == ["C1"]
    finance = selectors.action_suggestions(user=finance_user, period=p2025)
    assert [c["external_id"] for c in finance["falling"]] == ["C5", "C1"]  # closest to zero first
