"""The organisation models move into the core without moving a row (customers 0005 and
salesforce_tasks 0005 are state only): a database migrated before the move keeps its teams, reps,
pairs, assignments and their history, and its content types follow the models."""

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("customers", "0004_customerperiodfacts"), ("salesforce_tasks", "0004_visit_facts_backfill")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_migrating_across_the_move_keeps_the_organisation():
    latest = [
        key
        for key in MigrationExecutor(connection).loader.graph.leaf_nodes()
        if key[0] in {"customers", "salesforce_tasks"}
    ]
    old = _migrate(BEFORE)
    ContentType.objects.clear_cache()
    OldCT = old.get_model("contenttypes", "ContentType")
    team_ct = OldCT.objects.get_or_create(app_label="salesforce_tasks", model="team")[0].pk
    Team = old.get_model("salesforce_tasks", "Team")
    SalesRep = old.get_model("salesforce_tasks", "SalesRep")
    RepPair = old.get_model("salesforce_tasks", "RepPair")
    Assignment = old.get_model("salesforce_tasks", "PortfolioAssignment")
    Customer = old.get_model("customers", "Customer")
    HistoricalTeam = old.get_model("salesforce_tasks", "HistoricalTeam")
    north = Team.objects.create(name="North")
    HistoricalTeam.objects.create(
        id=north.pk, name="North", history_date=dt.datetime(2025, 1, 1, tzinfo=dt.UTC), history_type="+"
    )
    out = SalesRep.objects.create(code="o", name="Out", kind="outside", team=north)
    ins = SalesRep.objects.create(code="i", name="In", kind="inside", team=north)
    pair = RepPair.objects.create(code="P1", team=north, outside_rep=out, inside_rep=ins)
    customer = Customer.objects.create(external_id="C1", name="One", pair=pair)
    Assignment.objects.create(customer=customer, pair=pair, start=dt.date(2025, 1, 1))

    new = _migrate(latest)

    NewPair = new.get_model("customers", "RepPair")
    assert NewPair._meta.db_table == "salesforce_tasks_reppair"
    moved = NewPair.objects.get(code="P1")
    assert (moved.outside_rep.code, moved.inside_rep.code, moved.team.name) == ("o", "i", "North")
    assert new.get_model("customers", "Customer").objects.get(external_id="C1").pair_id == moved.pk
    assert new.get_model("customers", "PortfolioAssignment").objects.get().pair_id == moved.pk
    assert new.get_model("customers", "HistoricalTeam").objects.get().name == "North"
    NewCT = new.get_model("contenttypes", "ContentType")
    assert NewCT.objects.get(pk=team_ct).app_label == "customers"
    assert not NewCT.objects.filter(app_label="salesforce_tasks", model="team").exists()


@pytest.mark.django_db(transaction=True)
def test_the_move_migrates_back():
    latest = [
        key
        for key in MigrationExecutor(connection).loader.graph.leaf_nodes()
        if key[0] in {"customers", "salesforce_tasks"}
    ]
    old = _migrate(BEFORE)
    assert old.get_model("salesforce_tasks", "Team")._meta.db_table == "salesforce_tasks_team"
    new = _migrate(latest)
    assert new.get_model("customers", "Team").objects.count() == 0
