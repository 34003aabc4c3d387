"""One bonus KPI per metric for a rep (or a pair) and period (issue 14).

Existing data may hold duplicates (nothing refused them before). They are NOT removed here: a KPI
decides part of someone's pay, and which of two KPIs is the right one is the manager's call, not the
migration's. So the migration refuses, naming every duplicate (period, rep or pair, metric, the KPIs'
ids), and applies once they are gone (delete or change one of each: `DELETE /api/v1/bonus-kpis/<id>/`,
the KPI form, or /admin/). Nothing is written when it refuses.
"""

from django.db import migrations, models


def refuse_duplicates(apps, schema_editor):
    BonusKpi = apps.get_model("salesforce_tasks", "BonusKpi")
    groups = {}
    rows = BonusKpi.objects.using(schema_editor.connection.alias).values_list(
        "id", "period__name", "rep__code", "pair__code", "metric"
    )
    for pk, period, rep, pair, metric in rows.order_by("id"):
        subject = f"rep {rep}" if rep is not None else f"pair {pair}"
        groups.setdefault((period, subject, metric), []).append(pk)
    duplicates = [
        f"{period}, {subject}, {metric}: KPIs {', '.join(str(pk) for pk in ids)}"
        for (period, subject, metric), ids in sorted(groups.items(), key=lambda item: item[1][0])
        if len(ids) > 1
    ]
    if duplicates:
        raise RuntimeError(
            "Cannot add the rule 'one bonus KPI per metric for a rep or pair and period': these KPIs repeat "
            "a metric (period, rep or pair, metric: ids):\n  "
            + "\n  ".join(duplicates)
            + "\nKeep one of each (delete the others, or give them another metric, with "
            "DELETE /api/v1/bonus-kpis/<id>/, the KPI form or /admin/) and run migrate again. Nothing was changed."
        )


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0005_organisation_in_core"),
        ("salesforce_tasks", "0005_organisation_in_core"),
    ]

    operations = [
        migrations.RunPython(refuse_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="bonuskpi",
            constraint=models.UniqueConstraint(
                condition=models.Q(("rep__isnull", False)),
                fields=("period", "rep", "metric"),
                name="bonuskpi_unique_rep_metric",
            ),
        ),
        migrations.AddConstraint(
            model_name="bonuskpi",
            constraint=models.UniqueConstraint(
                condition=models.Q(("pair__isnull", False)),
                fields=("period", "pair", "metric"),
                name="bonuskpi_unique_pair_metric",
            ),
        ),
    ]
