"""Teams, reps, pairs, invitations, handovers and the ``organisation`` import, through the services."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from config.intake import ImportFailed, run_import
from customers.models import Customer, Period
from salesforce_tasks import selectors
from salesforce_tasks.models import PortfolioAssignment, RepPair, SalesRep, Team
from salesforce_tasks.organisation import services as org
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

GOOD = """username,name,email,role,rep_kind,pair,team
boss,Bea Baas,bea@example.com,manager,,,Noord
anna,Anna Buiten,anna@example.com,rep,outside,N1,Noord
bert,Bert Binnen,bert@example.com,rep,inside,N1,Noord
fin,Frits Financien,frits@example.com,finance,,,
"""


def _write(tmp_path, text, name="org.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def admin(db):
    return User.objects.create_superuser("root", "root@example.com", "pw-root")


def test_organisation_import_creates_people_teams_pairs_and_invites_new_users(
    tmp_path, admin, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        result = run_import("organisation", _write(tmp_path, GOOD), acting_user=admin)
    assert (result.rows, result.created, result.updated) == (4, 4, 0)
    team = Team.objects.get(name="Noord")
    assert team.manager.username == "boss"
    pair = RepPair.objects.get(code="N1")
    assert (pair.outside_rep.user.username, pair.inside_rep.user.username, pair.team) == ("anna", "bert", team)
    assert set(User.objects.get(username="fin").groups.values_list("name", flat=True)) == {"finance"}
    assert not User.objects.get(username="anna").has_usable_password()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        ["bea@example.com", "anna@example.com", "bert@example.com", "frits@example.com"]
    )
    # Re-importing the same file changes nothing and invites nobody again.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        again = run_import("organisation", _write(tmp_path, GOOD), acting_user=admin)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("text", "row", "column", "reason"),
    [
        (GOOD.replace("rep,inside,N1", "rep,outside,N1"), 3, "pair", "exactly one outside and one inside"),
        (
            GOOD.replace("fin,Frits Financien,frits@example.com,finance", "fin,Frits,frits@example.com,boss"),
            5,
            "role",
            "unknown role",
        ),
        (GOOD + "anna,Anna Twee,anna2@example.com,finance,,,\n", 6, "username", "duplicate username"),
        (GOOD + "anna,Anna Buiten,anna@example.com,rep,outside,N2,Noord\n", 6, "pair", "a rep in two pairs"),
        (GOOD.replace("bea@example.com", "not-an-email"), 2, "email", "valid email"),
    ],
)
def test_organisation_import_refuses_bad_files_and_writes_nothing(tmp_path, admin, text, row, column, reason):
    users_before = User.objects.count()
    with pytest.raises(ImportFailed) as failed:
        run_import("organisation", _write(tmp_path, text), acting_user=admin)
    assert any(e.row == row and e.column == column and reason in e.reason for e in failed.value.errors), (
        failed.value.errors
    )
    assert User.objects.count() == users_before
    assert not Team.objects.exists() and not RepPair.objects.exists() and not SalesRep.objects.exists()


def test_a_rep_already_in_another_pair_is_refused(tmp_path, admin):
    run_import("organisation", _write(tmp_path, GOOD), acting_user=admin)
    moved = "username,name,email,role,rep_kind,pair,team\nanna,Anna Buiten,anna@example.com,rep,outside,N9,Noord\n"
    moved += "carl,Carl,carl@example.com,rep,inside,N9,Noord\n"
    with pytest.raises(ImportFailed) as failed:
        run_import("organisation", _write(tmp_path, moved), acting_user=admin)
    assert any("already" in e.reason or "in pair N1" in e.reason for e in failed.value.errors)
    assert not RepPair.objects.filter(code="N9").exists()


def test_a_manager_imports_reps_of_their_own_team_only(tmp_path, manager_user, admin):
    reps_only = "\n".join(line for line in GOOD.splitlines() if ",rep," in line or line.startswith("username"))
    result = run_import("organisation", _write(tmp_path, reps_only + "\n"), acting_user=manager_user)
    assert result.created == 2
    assert Team.objects.get(name="Noord").manager == manager_user
    with pytest.raises(ImportFailed) as failed:
        run_import("organisation", _write(tmp_path, GOOD), acting_user=manager_user)
    assert {e.column for e in failed.value.errors} == {"role"}
    other = make_user("other_manager", "manager")
    with pytest.raises(ImportFailed) as failed:
        run_import("organisation", _write(tmp_path, reps_only + "\n"), acting_user=other)
    assert any(e.column == "team" and "not one of the teams you manage" in e.reason for e in failed.value.errors)


def test_reps_and_finance_may_not_import_the_organisation(tmp_path, rep_user, finance_user):
    for user in (rep_user, finance_user):
        with pytest.raises(PermissionDenied):
            run_import("organisation", _write(tmp_path, GOOD), acting_user=user)


def _team_with_pair(manager, code="A"):
    team = org.team_create(name=f"Team {code}", acting_user=manager)
    out = org.rep_create(team=team, code=f"{code}-out", name=f"{code} Out", kind="outside", acting_user=manager)
    ins = org.rep_create(team=team, code=f"{code}-in", name=f"{code} In", kind="inside", acting_user=manager)
    return team, org.pair_create(team=team, code=code, outside_rep=out, inside_rep=ins, acting_user=manager)


def test_pair_rules_one_outside_one_inside_one_pair_per_rep(manager_user):
    team, pair = _team_with_pair(manager_user)
    extra = org.rep_create(team=team, code="x", name="Xander", kind="outside", acting_user=manager_user)
    with pytest.raises(ValidationError) as err:
        org.pair_create(team=team, code="B", outside_rep=extra, inside_rep=pair.outside_rep, acting_user=manager_user)
    assert "inside_rep" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        org.pair_create(team=team, code="B", outside_rep=extra, inside_rep=pair.inside_rep, acting_user=manager_user)
    assert "already in pair A" in err.value.message_dict["inside_rep"][0]
    other_manager = make_user("m2", "manager")
    with pytest.raises(PermissionDenied):
        org.rep_create(team=team, code="y", name="Y", kind="inside", acting_user=other_manager)
    assert team.history.first().history_user == manager_user


def test_invite_sends_a_link_that_sets_the_password(manager_user, django_capture_on_commit_callbacks):
    team, pair = _team_with_pair(manager_user)
    with django_capture_on_commit_callbacks(execute=True):
        user = org.user_invite(
            username="anna",
            name="Anna Buiten",
            email="anna@example.com",
            role="rep",
            rep=pair.outside_rep,
            acting_user=manager_user,
        )
    assert pair.outside_rep.__class__.objects.get(pk=pair.outside_rep.pk).user == user
    (message,) = mail.outbox
    link = re.search(r"https?://\S+(/accounts/reset/\S+)", message.body).group(1)
    client = Client()
    page = client.get(link, follow=True)
    form_url = page.redirect_chain[-1][0] if page.redirect_chain else link
    done = client.post(form_url, {"new_password1": "Lange-zin-42!", "new_password2": "Lange-zin-42!"})
    assert done.status_code == 302
    assert User.objects.get(username="anna").check_password("Lange-zin-42!")
    login = Client().post("/accounts/login/", {"username": "anna", "password": "Lange-zin-42!"})
    assert login.status_code == 302
    with pytest.raises(PermissionDenied):
        org.user_invite(username="m3", name="M", email="m3@example.com", role="manager", acting_user=manager_user)


def test_deactivating_a_rep_hands_the_portfolio_over_with_history(manager_user, small_dataset):
    team, old = _team_with_pair(manager_user, "OLD")
    _team2, new = _team_with_pair(manager_user, "NEW")
    Customer.objects.filter(external_id__in=["C1", "C2"]).update(pair=old)
    period = Period.objects.get(name=2025)
    on = dt.date(2025, 7, 1)
    moved = org.rep_deactivate(rep=old.outside_rep, handover_pair=new, on=on, acting_user=manager_user)
    assert moved == 2
    c1 = Customer.objects.get(external_id="C1")
    assert c1.pair == new
    rows = list(PortfolioAssignment.objects.filter(customer=c1).order_by("start").values_list("pair__code", "end"))
    assert rows == [("OLD", dt.date(2025, 6, 30)), ("NEW", None)]
    old.refresh_from_db()
    assert not old.active and not SalesRep.objects.get(pk=old.outside_rep_id).active
    # Figures: days before the handover are credited to the old pair, after it to the new one.
    pairs = selectors.pairs_frame()
    weights = selectors.pair_weights(period=period, pairs=pairs).set_index(["customer_id", "pair_id"])
    before = weights.loc[(c1.pk, old.pk), "weight_in_period"]
    after = weights.loc[(c1.pk, new.pk), "weight_in_period"]
    days = (period.end - period.start).days + 1
    assert before == pytest.approx((on - period.start).days / days)
    assert before + after == pytest.approx(1)
    assert c1.history.first().history_user == manager_user
    with pytest.raises(ValidationError):
        org.rep_deactivate(rep=old.outside_rep, handover_pair=new, acting_user=manager_user)


def test_outside_share_stays_decimal(manager_user):
    _team, pair = _team_with_pair(manager_user)
    updated = org.pair_update(pair=pair, outside_share=Decimal("60"), acting_user=manager_user)
    assert RepPair.objects.get(pk=updated.pk).outside_share == Decimal("60.00")
