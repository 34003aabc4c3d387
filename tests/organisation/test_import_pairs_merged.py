"""The organisation import checks the pair rule (one outside and one inside rep) on the pair as it will
be after the import: the database's pair merged with the file's rows, not the file alone.

A stored pair always has both reps (the model requires them), so "one row for one rep" means: one rep
of a complete stored pair, listed alone (an upsert of that rep), or a new rep replacing the stored rep
of its kind.
"""

import pytest
from django.contrib.auth.models import User

from config.intake import ImportFailed, run_import
from salesforce_tasks.models import RepPair, SalesRep

pytestmark = pytest.mark.django_db

HEADER = "username,name,email,role,rep_kind,pair,team\n"
BOTH = HEADER + (
    "anna,Anna Buiten,anna@example.com,rep,outside,N1,Noord\nbert,Bert Binnen,bert@example.com,rep,inside,N1,Noord\n"
)


@pytest.fixture
def admin(db):
    return User.objects.create_superuser("root", "root@example.com", "pw-root")


@pytest.fixture
def stored_pair(tmp_path, admin):
    run_import("organisation", _write(tmp_path, BOTH, "both.csv"), acting_user=admin)
    return RepPair.objects.get(code="N1")


def _write(tmp_path, text, name="org.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_one_rep_of_a_complete_stored_pair_is_an_upsert(tmp_path, admin, stored_pair):
    renamed = HEADER + "anna,Anna van Buiten,anna@example.com,rep,outside,N1,Noord\n"
    result = run_import("organisation", _write(tmp_path, renamed), acting_user=admin)
    assert (result.created, result.updated, result.unchanged) == (0, 1, 0)
    pair = RepPair.objects.get(code="N1")
    assert (pair.outside_rep.user.username, pair.inside_rep.user.username) == ("anna", "bert")
    assert SalesRep.objects.get(user__username="anna").name == "Anna van Buiten"
    unchanged = run_import("organisation", _write(tmp_path, renamed), acting_user=admin)
    assert (unchanged.created, unchanged.updated, unchanged.unchanged) == (0, 0, 1)


def test_a_new_inside_rep_replaces_the_stored_inside_rep_of_the_pair(tmp_path, admin, stored_pair):
    carl = HEADER + "carl,Carl Nieuw,carl@example.com,rep,inside,N1,Noord\n"
    result = run_import("organisation", _write(tmp_path, carl), acting_user=admin)
    assert result.created == 1
    pair = RepPair.objects.get(code="N1")
    assert (pair.outside_rep.user.username, pair.inside_rep.user.username) == ("anna", "carl")
    assert pair.history.first().history_user == admin
    bert = SalesRep.objects.get(user__username="bert")
    assert bert.active and not RepPair.objects.filter(inside_rep=bert).exists()


def test_a_second_outside_rep_for_a_stored_pair_is_refused_against_the_merged_pair(tmp_path, admin, stored_pair):
    # Two outside reps for a stored pair: refused, and the reason names the stored inside rep too.
    two = HEADER + (
        "carl,Carl,carl@example.com,rep,outside,N1,Noord\ndirk,Dirk,dirk@example.com,rep,outside,N1,Noord\n"
    )
    users = User.objects.count()
    with pytest.raises(ImportFailed) as failed:
        run_import("organisation", _write(tmp_path, two), acting_user=admin)
    reasons = [e.reason for e in failed.value.errors if e.column == "pair"]
    assert reasons and all("exactly one outside and one inside" in r for r in reasons)
    assert "bert" in reasons[0] and "already in the pair" in reasons[0]
    assert User.objects.count() == users
    pair = RepPair.objects.get(code="N1")
    assert (pair.outside_rep.user.username, pair.inside_rep.user.username) == ("anna", "bert")


def test_a_stored_rep_switching_kind_leaves_its_place_empty(tmp_path, admin, stored_pair):
    # anna becomes the inside rep: the outside place is empty (the file moves her), bert is replaced.
    switched = HEADER + "anna,Anna Buiten,anna@example.com,rep,inside,N1,Noord\n"
    with pytest.raises(ImportFailed) as failed:
        run_import("organisation", _write(tmp_path, switched), acting_user=admin)
    assert any(e.row == 2 and "exactly one outside and one inside" in e.reason for e in failed.value.errors)
    swapped = HEADER + (
        "anna,Anna Buiten,anna@example.com,rep,inside,N1,Noord\n"
        "bert,Bert Binnen,bert@example.com,rep,outside,N1,Noord\n"
    )
    run_import("organisation", _write(tmp_path, swapped), acting_user=admin)
    pair = RepPair.objects.get(code="N1")
    assert (pair.outside_rep.user.username, pair.inside_rep.user.username) == ("bert", "anna")


def test_a_new_pair_still_needs_both_reps_in_the_file(tmp_path, admin, stored_pair):
    lone = HEADER + "eva,Eva,eva@example.com,rep,outside,N2,Noord\n"
    with pytest.raises(ImportFailed) as failed:
        run_import("organisation", _write(tmp_path, lone), acting_user=admin)
    assert any(e.row == 2 and "exactly one outside and one inside" in e.reason for e in failed.value.errors)
    assert not RepPair.objects.filter(code="N2").exists()
