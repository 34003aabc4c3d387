"""The organisation API: teams, reps, pairs, invitations and periods, with the same rules as the pages."""

import pytest
from django.core import mail

from customers.models import Period
from salesforce_tasks.models import RepPair, SalesRep, Team
from tests.conftest import client_for, make_user

pytestmark = pytest.mark.django_db


def test_a_manager_builds_a_team_with_a_pair_and_invites_a_rep(manager_user, django_capture_on_commit_callbacks):
    api = client_for(manager_user)
    assert api.post("/api/v1/teams/", {"name": "Oost"}, format="json").status_code == 201
    for code, kind in (("o1", "outside"), ("i1", "inside"), ("o2", "outside")):
        response = api.post("/api/v1/reps/", {"code": code, "name": code.upper(), "kind": kind, "team": "Oost"})
        assert response.status_code == 201, response.json()
    bad = api.post("/api/v1/pairs/", {"code": "P1", "team": "Oost", "outside_rep": "o1", "inside_rep": "o2"})
    assert bad.status_code == 400 and "inside_rep" in bad.json()
    good = api.post("/api/v1/pairs/", {"code": "P1", "team": "Oost", "outside_rep": "o1", "inside_rep": "i1"})
    assert good.status_code == 201
    assert RepPair.objects.get(code="P1").team.manager == manager_user
    with django_capture_on_commit_callbacks(execute=True):
        invited = api.post(
            "/api/v1/users/",
            {"username": "oscar", "name": "Oscar O", "email": "oscar@example.com", "role": "rep", "rep": "o1"},
        )
    assert invited.status_code == 201, invited.json()
    assert invited.json()["roles"] == ["rep"]
    assert SalesRep.objects.get(code="o1").user.username == "oscar"
    assert "/accounts/reset/" in mail.outbox[0].body
    promoted = api.post("/api/v1/users/", {"username": "x", "name": "X", "email": "x@example.com", "role": "finance"})
    assert promoted.status_code == 403


def test_other_managers_and_reps_cannot_touch_a_team(manager_user, rep_user):
    team = Team.objects.create(name="Zuid", manager=manager_user)
    other = client_for(make_user("m2", "manager"))
    assert other.patch(f"/api/v1/teams/{team.pk}/", {"name": "Mine"}, format="json").status_code == 404
    assert other.post("/api/v1/reps/", {"code": "z", "name": "Z", "kind": "inside", "team": "Zuid"}).status_code == 404
    assert client_for(rep_user).post("/api/v1/teams/", {"name": "Rogue"}).status_code == 403
    assert client_for(rep_user).get("/api/v1/users/").status_code == 403
    assert Team.objects.get(pk=team.pk).name == "Zuid"


def test_finance_opens_closes_and_reopens_periods(finance_user, manager_user, small_dataset):
    api = client_for(finance_user)
    opened = api.post("/api/v1/years/", {"name": 2026, "copy_pools_from": 2025}, format="json")
    assert opened.status_code == 201 and opened.json()["closed"] is False
    assert client_for(manager_user).post("/api/v1/years/2024/close/").status_code == 403
    closed = api.post("/api/v1/years/2024/close/")
    assert closed.status_code == 200 and closed.json()["closed"] is True
    again = api.post("/api/v1/years/2024/close/")
    assert again.status_code == 400 and "already closed" in str(again.json())
    assert api.post("/api/v1/years/2024/reopen/").json()["closed"] is False
    assert api.post("/api/v1/years/1999/close/").status_code == 404
    assert not Period.objects.get(name=2024).closed
