"""The organisation models left this app for the core (customers 0005): state only, tables kept.

Foreign keys of visits, KPIs and team targets now point at customers' models (same tables), and the
content types (so permissions and admin log entries) are renamed to the customers app.
"""

import django.db.models.deletion
from django.db import migrations, models

ORGANISATION_MODELS = (
    "team",
    "salesrep",
    "reppair",
    "portfolioassignment",
    "historicalteam",
    "historicalsalesrep",
    "historicalreppair",
    "historicalportfolioassignment",
)


def _move_content_types(apps, source: str, target: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in ORGANISATION_MODELS:
        old = ContentType.objects.filter(app_label=source, model=model).first()
        if old is None:
            continue
        # A content type the target app got already (a post_migrate in between) gives way to the old one,
        # which keeps the permissions and log entries that point at it.
        ContentType.objects.filter(app_label=target, model=model).delete()
        old.app_label = target
        old.save(update_fields=["app_label"])


def content_types_to_core(apps, schema_editor):
    _move_content_types(apps, "salesforce_tasks", "customers")


def content_types_back(apps, schema_editor):
    _move_content_types(apps, "customers", "salesforce_tasks")


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0005_organisation_in_core"),
        ("salesforce_tasks", "0004_visit_facts_backfill"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.RemoveField(
                    model_name="historicalreppair",
                    name="history_user",
                ),
                migrations.RemoveField(
                    model_name="historicalreppair",
                    name="inside_rep",
                ),
                migrations.RemoveField(
                    model_name="historicalreppair",
                    name="outside_rep",
                ),
                migrations.RemoveField(
                    model_name="historicalreppair",
                    name="team",
                ),
                migrations.RemoveField(
                    model_name="historicalsalesrep",
                    name="history_user",
                ),
                migrations.RemoveField(
                    model_name="historicalsalesrep",
                    name="team",
                ),
                migrations.RemoveField(
                    model_name="historicalsalesrep",
                    name="user",
                ),
                migrations.RemoveField(
                    model_name="historicalteam",
                    name="history_user",
                ),
                migrations.RemoveField(
                    model_name="historicalteam",
                    name="manager",
                ),
                migrations.RemoveField(
                    model_name="portfolioassignment",
                    name="customer",
                ),
                migrations.RemoveField(
                    model_name="portfolioassignment",
                    name="pair",
                ),
                migrations.RemoveField(
                    model_name="reppair",
                    name="inside_rep",
                ),
                migrations.RemoveField(
                    model_name="reppair",
                    name="outside_rep",
                ),
                migrations.RemoveField(
                    model_name="reppair",
                    name="team",
                ),
                migrations.AlterField(
                    model_name="bonuskpi",
                    name="pair",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="kpis",
                        to="customers.reppair",
                    ),
                ),
                migrations.AlterField(
                    model_name="historicalbonuskpi",
                    name="pair",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="customers.reppair",
                    ),
                ),
                migrations.RemoveField(
                    model_name="salesrep",
                    name="team",
                ),
                migrations.RemoveField(
                    model_name="salesrep",
                    name="user",
                ),
                migrations.AlterField(
                    model_name="visit",
                    name="rep",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="visits", to="customers.salesrep"
                    ),
                ),
                migrations.AlterField(
                    model_name="historicalvisit",
                    name="rep",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="customers.salesrep",
                    ),
                ),
                migrations.AlterField(
                    model_name="historicalbonuskpi",
                    name="rep",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="customers.salesrep",
                    ),
                ),
                migrations.AlterField(
                    model_name="bonuskpi",
                    name="rep",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="kpis",
                        to="customers.salesrep",
                    ),
                ),
                migrations.RemoveField(
                    model_name="team",
                    name="manager",
                ),
                migrations.AlterField(
                    model_name="historicalteamtarget",
                    name="team",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="customers.team",
                    ),
                ),
                migrations.AlterField(
                    model_name="teamtarget",
                    name="team",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="targets", to="customers.team"
                    ),
                ),
                migrations.DeleteModel(
                    name="HistoricalPortfolioAssignment",
                ),
                migrations.DeleteModel(
                    name="HistoricalRepPair",
                ),
                migrations.DeleteModel(
                    name="HistoricalSalesRep",
                ),
                migrations.DeleteModel(
                    name="HistoricalTeam",
                ),
                migrations.DeleteModel(
                    name="PortfolioAssignment",
                ),
                migrations.DeleteModel(
                    name="RepPair",
                ),
                migrations.DeleteModel(
                    name="SalesRep",
                ),
                migrations.DeleteModel(
                    name="Team",
                ),
            ],
        ),
        migrations.RunPython(content_types_to_core, content_types_back),
    ]
