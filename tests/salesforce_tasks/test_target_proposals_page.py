"""Issue 13 finding 9 on the page: a rep's change to an APPROVED target waits beside it; the targets
page shows it ("proposed: X", by whom, when) and lets the team's manager approve or reject it inline."""

from decimal import Decimal

import pytest

from salesforce_tasks import services
from salesforce_tasks.models import CustomerTarget
from tests.salesforce_tasks.test_services import sales_force  # noqa: F401  (fixture)

D = Decimal


@pytest.fixture
def proposed_change(sales_force, rep_user, manager_user):  # noqa: F811
    """C1 (pair A, team North) has an approved target of 32,100; rep1 (A-OUT) proposes 40,000."""
    c1, period = sales_force.c["C1"], sales_force.p2025
    services.customer_target_set(
        customer=c1, period=period, acting_user=manager_user, target_level="top", target_revenue=D("32100")
    )
    return services.customer_target_set(
        customer=c1,
        period=period,
        acting_user=rep_user,
        target_level="top",
        target_revenue=D("40000"),
        target_profit=D("4000"),
    )


def page(client, *query, **headers) -> str:
    return client.get("/sales/targets/?period=2025" + "".join(query), **headers).content.decode()


def test_the_page_shows_the_pending_change_beside_the_approved_values(client, manager_user, proposed_change):
    assert proposed_change.proposal_pending and proposed_change.target_revenue == D("32100")
    client.force_login(manager_user)
    html = page(client)
    assert "€32,100" in html and "proposed: €40,000" in html and "proposed: €4,000" in html
    assert "change proposed by A-OUT, " in html
    assert f'hx-post="/sales/targets/{proposed_change.pk}/reject/"' in html
    assert f'hx-post="/sales/targets/{proposed_change.pk}/approve/"' in html
    assert "Proposed by pairs (1)" in html
    assert "proposed: €40,000" in page(client, "&show=pending")  # the pending list holds changes too
    html = page(client, HTTP_ACCEPT_LANGUAGE="nl")
    assert "voorgesteld:" in html and "wijziging voorgesteld door A-OUT" in html


def test_the_rep_sees_the_proposal_but_no_decision_buttons(client, rep_user, proposed_change):
    client.force_login(rep_user)
    html = page(client)
    assert "proposed: €40,000" in html
    assert "/reject/" not in html and "/approve/" not in html


def test_the_manager_rejects_the_change_inline_and_the_approved_target_stays(client, manager_user, proposed_change):
    client.force_login(manager_user)
    response = client.post(f"/sales/targets/{proposed_change.pk}/reject/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith(f'<tr id="target-{proposed_change.pk}"')
    assert "Proposed change for Alpha BV rejected; the approved target stays." in html
    assert "€32,100" in html and "proposed:" not in html and "/reject/" not in html
    target = CustomerTarget.objects.get()
    assert (target.target_revenue, target.proposal_pending, target.proposal_revenue) == (D("32100"), False, None)
    assert target.history.first().history_user == manager_user


def test_the_manager_approves_the_change_inline(client, manager_user, proposed_change):
    client.force_login(manager_user)
    html = client.post(f"/sales/targets/{proposed_change.pk}/approve/", HTTP_HX_REQUEST="true").content.decode()
    assert "Target for Alpha BV approved." in html and "€40,000" in html and "proposed:" not in html
    target = CustomerTarget.objects.get()
    assert (target.target_revenue, target.target_profit, target.proposal_pending) == (D("40000"), D("4000"), False)
    again = client.post(f"/sales/targets/{proposed_change.pk}/reject/", HTTP_HX_REQUEST="true")
    assert again.status_code == 200 and "Nothing is proposed for this target." in again.content.decode()


def test_rejecting_a_proposed_new_target_removes_its_row(client, sales_force, rep_user, manager_user):  # noqa: F811
    target = services.customer_target_set(
        customer=sales_force.c["C1"], period=sales_force.p2025, acting_user=rep_user, target_revenue=D("5000")
    )
    client.force_login(manager_user)
    html = client.post(f"/sales/targets/{target.pk}/reject/", HTTP_HX_REQUEST="true").content.decode()
    assert "Proposed target for Alpha BV rejected and removed." in html and "<tr>" in html
    assert not CustomerTarget.objects.exists()


def test_only_the_teams_manager_decides(client, sales_force, rep_user, proposed_change):  # noqa: F811
    client.force_login(sales_force.manager2)  # manages South; C1 is North's
    assert client.post(f"/sales/targets/{proposed_change.pk}/reject/").status_code == 404
    assert client.post(f"/sales/targets/{proposed_change.pk}/approve/").status_code == 404
    client.force_login(rep_user)
    assert client.post(f"/sales/targets/{proposed_change.pk}/reject/").status_code == 403
    assert CustomerTarget.objects.get().proposal_pending


def test_the_plain_form_post_still_redirects(client, manager_user, proposed_change):
    client.force_login(manager_user)
    response = client.post(f"/sales/targets/{proposed_change.pk}/reject/")
    assert response.status_code == 302 and response["Location"].endswith("?period=2025&show=pending")
    assert not CustomerTarget.objects.get().proposal_pending
