"""Undo after a destructive click: a deleted customer target, a removed team target and a dropped
action come back from their history, for whoever may do the delete itself (scoped like it)."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from salesforce_tasks.models import Action, CustomerTarget, TeamTarget
from tests.salesforce_tasks.test_services import build_sales_force

pytestmark = pytest.mark.django_db


@pytest.fixture
def sf(small_dataset, rep_user, manager_user):
    return build_sales_force(rep_user=rep_user, manager_user=manager_user)


def client_of(user) -> Client:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def undo_url(html: str) -> str:
    import re

    match = re.search(r'<form method="post" action="([^"]+)" class="inline-undo">', html)
    assert match, "no Undo button on the page after the delete"
    return match.group(1)


def test_a_deleted_customer_target_comes_back_with_undo(sf, manager_user):
    target = CustomerTarget.objects.create(
        customer=sf.c["C1"], period=sf.p2025, target_level="top", target_revenue=Decimal("12345.67")
    )
    manager = client_of(manager_user)
    page = manager.post(reverse("salesforce:target_delete", args=[target.pk]), follow=True).content.decode()
    assert not CustomerTarget.objects.filter(pk=target.pk).exists()
    url = undo_url(page)
    assert client_of(sf.manager2).post(url).status_code == 404  # another team's manager: not in scope
    assert client_of(sf.rep3).post(url).status_code == 404  # another pair's rep
    assert not CustomerTarget.objects.filter(pk=target.pk).exists()

    back = manager.post(url, follow=True)
    assert back.status_code == 200 and "restored" in back.content.decode()
    restored = CustomerTarget.objects.get(pk=target.pk)
    assert (restored.customer_id, restored.period_id, restored.target_level, restored.target_revenue) == (
        sf.c["C1"].pk,
        sf.p2025.pk,
        "top",
        Decimal("12345.67"),
    )
    assert restored.history.latest("history_id").history_user == manager_user
    again = manager.post(url, follow=True).content.decode()
    assert "back already" in again and CustomerTarget.objects.filter(customer=sf.c["C1"]).count() == 1


def test_a_rep_restores_a_withdrawn_proposal_but_not_an_approved_target(sf, rep_user, manager_user):
    proposal = CustomerTarget.objects.create(
        customer=sf.c["C1"], period=sf.p2025, target_revenue=Decimal("5000"), proposed_by_pair=True
    )
    rep = client_of(rep_user)
    url = undo_url(rep.post(reverse("salesforce:target_delete", args=[proposal.pk]), follow=True).content.decode())
    assert rep.post(url).status_code == 302 and CustomerTarget.objects.filter(pk=proposal.pk).exists()

    approved = CustomerTarget.objects.create(customer=sf.c["C2"], period=sf.p2025, target_revenue=Decimal("9000"))
    page = client_of(manager_user).post(reverse("salesforce:target_delete", args=[approved.pk]), follow=True)
    assert rep.post(undo_url(page.content.decode())).status_code == 403
    assert not CustomerTarget.objects.filter(pk=approved.pk).exists()


def test_a_newer_target_is_kept_and_the_restore_refused(sf, manager_user):
    old = CustomerTarget.objects.create(customer=sf.c["C1"], period=sf.p2025, target_revenue=Decimal("1000"))
    manager = client_of(manager_user)
    url = undo_url(manager.post(reverse("salesforce:target_delete", args=[old.pk]), follow=True).content.decode())
    newer = CustomerTarget.objects.create(customer=sf.c["C1"], period=sf.p2025, target_revenue=Decimal("2000"))
    page = manager.post(url, follow=True).content.decode()
    assert "was set after the delete" in page
    assert list(CustomerTarget.objects.filter(customer=sf.c["C1"]).values_list("pk", flat=True)) == [newer.pk]


def test_a_removed_team_target_comes_back_with_undo(sf, manager_user):
    target = TeamTarget.objects.create(team=sf.north, period=sf.p2025, kind="retention", target=Decimal("90"))
    manager = client_of(manager_user)
    page = manager.post(reverse("salesforce:team_target_delete", args=[target.pk]), follow=True).content.decode()
    url = undo_url(page)
    assert client_of(sf.manager2).post(url).status_code == 404
    assert not TeamTarget.objects.filter(pk=target.pk).exists()
    assert manager.post(url).status_code == 302
    assert TeamTarget.objects.get(pk=target.pk).target == Decimal("90")


@pytest.mark.parametrize("state_before", ["proposed", "agreed"])
def test_a_dropped_action_gets_its_state_back_with_undo(sf, manager_user, rep_user, state_before):
    action = Action.objects.create(customer=sf.c["C1"], period=sf.p2025, type="other", description="call")
    manager = client_of(manager_user)
    if state_before == "agreed":
        manager.post(reverse("actions:transition", args=[action.pk]), {"state": "agreed"}, HTTP_HX_REQUEST="true")
    dropped = manager.post(
        reverse("actions:transition", args=[action.pk]), {"state": "dropped", "note": "no"}, HTTP_HX_REQUEST="true"
    )
    undo = reverse("actions:undo_drop", args=[action.pk])
    assert f'hx-post="{undo}"' in dropped.content.decode()
    assert dropped["HX-Trigger"] == "actionDropped"  # tiles redraw, the list keeps the row with its Undo
    action.refresh_from_db()
    assert action.state == "dropped"

    assert client_of(sf.manager2).post(undo, HTTP_HX_REQUEST="true").status_code == 404
    assert client_of(rep_user).post(undo, HTTP_HX_REQUEST="true").status_code == 403
    back = manager.post(undo, HTTP_HX_REQUEST="true")
    assert back.status_code == 200 and back["HX-Trigger"] == "actionsChanged"
    action.refresh_from_db()
    assert action.state == state_before and action.dropped_at is None and "no" not in action.notes

    again = manager.post(undo, HTTP_HX_REQUEST="true").content.decode()
    assert "nothing to undo" in again


def test_a_drop_without_htmx_offers_undo_in_the_message(sf, manager_user):
    action = Action.objects.create(customer=sf.c["C1"], period=sf.p2025, type="other")
    page = client_of(manager_user).post(
        reverse("actions:transition", args=[action.pk]), {"state": "dropped"}, follow=True
    )
    assert undo_url(page.content.decode()) == reverse("actions:undo_drop", args=[action.pk])
