"""Changing an existing user's roles (page and API) and a team's manager (administrators).

Administrators change anyone's roles; a manager changes only the rep role, of the reps of the teams
they manage, and can neither grant nor take away manager or finance. Every change is in the user's
(or the team's) history, with who made it.
"""

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from salesforce_tasks.models import SalesRep, Team
from salesforce_tasks.organisation import selectors, services
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(db):
    return User.objects.create_superuser("root", "root@example.com", "pw-root")


@pytest.fixture
def teams(manager_user):
    north = Team.objects.create(name="Noord", manager=manager_user)
    south = Team.objects.create(name="Zuid", manager=make_user("manager2", "manager"))
    anna, zoe = make_user("anna", "rep"), make_user("zoe", "rep")
    SalesRep.objects.create(code="anna", name="Anna", kind="outside", team=north, user=anna)
    SalesRep.objects.create(code="zoe", name="Zoe", kind="outside", team=south, user=zoe)
    return north, south, anna, zoe


def _roles(user):
    return set(User.objects.get(pk=user.pk).groups.values_list("name", flat=True))


def _client(user):
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def url(name, *args):
    return reverse(f"salesforce:organisation:{name}", args=args)


def test_an_administrator_changes_roles_in_the_page_and_the_history_says_who(admin, teams):
    _north, _south, anna, _zoe = teams
    client = _client(admin)
    page = client.get(url("users")).content.decode()
    assert 'data-user="anna"' in page and 'data-user="zoe"' in page
    response = client.post(url("user_roles", anna.pk), {"roles": ["rep", "finance"]})
    assert response.status_code == 302
    assert _roles(anna) == {"rep", "finance"}
    history = selectors.record_history(user=admin, kind="user", pk=anna.pk)
    latest = history["changes"][0]
    assert latest["who"] == "root"
    assert latest["fields"][0]["old"] == "rep" and latest["fields"][0]["new"] == "rep, finance"
    assert "rep, finance" in client.get(url("record_history", "user", anna.pk)).content.decode()


def test_a_manager_changes_only_the_rep_role_of_their_teams_reps(manager_user, teams):
    _north, _south, anna, zoe = teams
    client = _client(manager_user)
    page = client.get(url("users")).content.decode()
    assert 'data-user="anna"' in page
    assert 'data-user="zoe"' not in page and f'data-user="{manager_user.username}"' not in page
    assert 'value="manager"' not in page and 'value="finance"' not in page  # only the rep role is offered
    # Granting manager through the form: not a choice, refused with the field's error, nothing changed.
    refused = client.post(url("user_roles", anna.pk), {"roles": ["rep", "manager"]})
    assert refused.status_code == 400 and 'class="errorlist"' in refused.content.decode()
    assert _roles(anna) == {"rep"}
    assert client.post(url("user_roles", zoe.pk), {"roles": []}).status_code == 404
    assert client.post(url("user_roles", manager_user.pk), {"roles": []}).status_code == 404
    assert client.post(url("user_roles", anna.pk), {}).status_code == 302  # the rep role taken away
    assert _roles(anna) == set()
    with pytest.raises(PermissionDenied):
        services.user_roles_set(user=anna, roles=["finance"], acting_user=manager_user)
    with pytest.raises(Http404):
        services.user_roles_set(user=zoe, roles=[], acting_user=manager_user)
    assert _roles(zoe) == {"rep"}


def test_a_manager_cannot_take_manager_or_finance_away(manager_user, teams):
    _north, _south, anna, _zoe = teams
    anna.groups.add(*User.objects.get(username="manager2").groups.all())  # anna also holds manager
    with pytest.raises(PermissionDenied):
        services.user_roles_set(user=anna, roles=["rep"], acting_user=manager_user)
    # The page keeps the roles the manager may not grant when it saves the rep role.
    assert _client(manager_user).post(url("user_roles", anna.pk), {}).status_code == 302
    assert _roles(anna) == {"manager"}


def test_roles_through_the_api(admin, manager_user, teams):
    _north, _south, anna, zoe = teams
    api = APIClient()
    api.force_login(admin)
    response = api.patch(f"/api/v1/users/{anna.pk}/", {"roles": ["rep", "finance"]}, format="json")
    assert response.status_code == 200 and response.json()["roles"] == ["finance", "rep"]
    assert api.patch(f"/api/v1/users/{anna.pk}/", {"roles": ["boss"]}, format="json").status_code == 400
    assert api.patch(f"/api/v1/users/{anna.pk}/", {"roles": "rep"}, format="json").status_code == 400
    api.force_login(manager_user)
    assert api.put(f"/api/v1/users/{anna.pk}/", {"roles": ["rep"]}, format="json").status_code == 403
    assert _roles(anna) == {"rep", "finance"}
    assert api.patch(f"/api/v1/users/{zoe.pk}/", {"roles": []}, format="json").status_code == 404
    assert api.patch("/api/v1/users/abc/", {"roles": []}, format="json").status_code == 404
    User.objects.get(pk=anna.pk).groups.remove(*User.objects.get(pk=anna.pk).groups.filter(name="finance"))
    response = api.patch(f"/api/v1/users/{anna.pk}/", {"roles": []}, format="json")
    assert response.status_code == 200 and response.json()["roles"] == []


def test_an_administrator_changes_a_teams_manager_in_the_pages(admin, manager_user, teams):
    north, _south, _anna, _zoe = teams
    other = User.objects.get(username="manager2")
    assert 'id="manager-form"' in _client(admin).get(url("team", north.pk)).content.decode()
    assert 'id="manager-form"' not in _client(manager_user).get(url("team", north.pk)).content.decode()
    assert _client(manager_user).post(url("team_manager", north.pk), {"manager": other.pk}).status_code == 404
    not_a_manager = User.objects.get(username="anna")
    bad = _client(admin).post(url("team_manager", north.pk), {"manager": not_a_manager.pk})
    assert bad.status_code == 200 and 'class="errorlist' in bad.content.decode()
    assert Team.objects.get(pk=north.pk).manager == manager_user
    assert _client(admin).post(url("team_manager", north.pk), {"manager": other.pk}).status_code == 302
    north.refresh_from_db()
    assert north.manager == other and north.history.first().history_user == admin
