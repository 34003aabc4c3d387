"""The organisation pages: teams, reps, pairs, invitations, periods, waiting for me, history."""

from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from customers.models import Customer, Period
from salesforce_tasks.models import CustomerTarget, RepPair, SalesRep, Team
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def _client(user):
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def url(name, *args):
    return reverse(f"salesforce:organisation:{name}", args=args)


def test_manager_builds_a_team_pair_and_invites_in_the_pages(manager_user, django_capture_on_commit_callbacks):
    client = _client(manager_user)
    response = client.post(url("teams"), {"name": "Oost"})
    team = Team.objects.get(name="Oost")
    assert response.status_code == 302 and team.manager == manager_user
    for code, kind in (("o1", "outside"), ("i1", "inside")):
        assert (
            client.post(url("rep_new", team.pk), {"code": code, "name": code.upper(), "kind": kind}).status_code == 302
        )
    out, ins = SalesRep.objects.get(code="o1"), SalesRep.objects.get(code="i1")
    wrong = client.post(url("pair_new", team.pk), {"code": "P1", "outside_rep": ins.pk, "inside_rep": ins.pk})
    assert wrong.status_code == 200 and not RepPair.objects.exists()
    assert (
        client.post(url("pair_new", team.pk), {"code": "P1", "outside_rep": out.pk, "inside_rep": ins.pk}).status_code
        == 302
    )
    with django_capture_on_commit_callbacks(execute=True):
        invited = client.post(url("rep_invite", out.pk), {"username": "olga", "email": "olga@example.com"})
    assert invited.status_code == 302
    assert mail.outbox[0].to == ["olga@example.com"] and "/accounts/reset/" in mail.outbox[0].body
    page = client.get(url("team", team.pk)).content.decode()
    assert "olga" in page and "P1" in page


def test_organisation_pages_are_scoped(manager_user, rep_user, finance_user):
    team = Team.objects.create(name="Zuid", manager=manager_user)
    assert _client(make_user("m2", "manager")).get(url("team", team.pk)).status_code == 404
    assert _client(rep_user).get(url("teams")).status_code == 403
    assert _client(rep_user).get(url("periods")).status_code == 403
    assert _client(manager_user).get(url("periods")).status_code == 403
    assert _client(finance_user).get(url("periods")).status_code == 200
    assert _client(rep_user).get(url("history")).status_code == 403


def test_finance_closes_a_period_in_the_page(finance_user, small_dataset):
    client = _client(finance_user)
    assert client.post(url("period_state", 2024, "close")).status_code == 302
    assert Period.objects.get(name=2024).closed
    opened = client.post(url("periods"), {"name": 2026, "copy_pools_from": 2025})
    assert opened.status_code == 302 and Period.objects.filter(name=2026, closed=False).exists()
    assert "2026" in client.get(url("periods")).content.decode()


def test_waiting_for_me_counts_and_decides_inline_and_history_shows_who(manager_user, small_dataset):
    team = Team.objects.create(name="Noord", manager=manager_user)
    out = SalesRep.objects.create(code="o", name="O", kind="outside", team=team)
    ins = SalesRep.objects.create(code="i", name="I", kind="inside", team=team)
    pair = RepPair.objects.create(code="N1", team=team, outside_rep=out, inside_rep=ins)
    c1 = Customer.objects.get(external_id="C1")
    c1.pair = pair
    c1.save()
    target = CustomerTarget.objects.create(
        customer=c1, period=small_dataset[2025], target_revenue=Decimal("5000"), proposed_by_pair=True
    )
    client = _client(manager_user)
    home = client.get(url("waiting")).content.decode()
    assert 'id="menu-waiting-badge" class="badge" aria-label="1">1<' in home
    other = _client(make_user("m2", "manager"))
    assert other.post(url("decide", "target", target.pk, "approve"), HTTP_HX_REQUEST="true").status_code == 404
    decided = client.post(url("decide", "target", target.pk, "approve"), HTTP_HX_REQUEST="true")
    assert decided.status_code == 200 and "Approved" in decided.content.decode()
    target.refresh_from_db()
    assert not target.proposed_by_pair
    history = client.get(url("record_history", "target", target.pk)).content.decode()
    assert manager_user.username in history
    log = client.get(url("history"), {"user": manager_user.username, "kind": "target"}).content.decode()
    assert f"/history/target/{target.pk}/" in log
    assert 'aria-label="0">0<' in client.get(url("waiting")).content.decode()
