"""Fill the core's customer-period facts (visits, visit minutes) from the stored visits.

From here on the visit services keep them in step (customers.facts); accounting reads only them.
"""

from django.db import migrations
from django.db.models import Count, Sum


def backfill(apps, schema_editor):
    Visit = apps.get_model("salesforce_tasks", "Visit")
    Facts = apps.get_model("customers", "CustomerPeriodFacts")
    rows = (
        Visit.objects.values("period_id", "customer_id")
        .annotate(visits=Count("id"), visit_minutes=Sum("minutes"))
        .order_by()
    )
    Facts.objects.bulk_create(
        [
            Facts(
                period_id=r["period_id"],
                customer_id=r["customer_id"],
                visits=r["visits"],
                visit_minutes=r["visit_minutes"],
            )
            for r in rows
        ],
        batch_size=5000,
        update_conflicts=True,
        unique_fields=["period", "customer"],
        update_fields=["visits", "visit_minutes"],
    )


class Migration(migrations.Migration):
    dependencies = [
        ("salesforce_tasks", "0003_customertarget_proposal"),
        ("customers", "0004_customerperiodfacts"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
