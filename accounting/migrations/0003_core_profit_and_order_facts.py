"""``CustomerProfit`` left this app for the core (customers 0006): state only, the table is kept.

The content type (so permissions and admin log entries) moves to the customers app, and the core's
``PeriodCosts`` is filled for the periods whose profit was already computed.
"""

from django.db import migrations


def _move_content_type(apps, source: str, target: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    old = ContentType.objects.filter(app_label=source, model="customerprofit").first()
    if old is None:
        return
    ContentType.objects.filter(app_label=target, model="customerprofit").delete()
    old.app_label = target
    old.save(update_fields=["app_label"])


def content_type_to_core(apps, schema_editor):
    _move_content_type(apps, "accounting", "customers")


def content_type_back(apps, schema_editor):
    _move_content_type(apps, "customers", "accounting")


def period_costs_backfill(apps, schema_editor):
    """Pools, unused capacity and unallocated amounts of every period with stored profit."""
    CustomerProfit = apps.get_model("customers", "CustomerProfit")
    CostPool = apps.get_model("accounting", "CostPool")
    PoolResult = apps.get_model("accounting", "PoolResult")
    PeriodCosts = apps.get_model("customers", "PeriodCosts")
    for period_id in CustomerProfit.objects.values_list("period_id", flat=True).distinct():
        results = PoolResult.objects.filter(pool__period_id=period_id)
        PeriodCosts.objects.update_or_create(
            period_id=period_id,
            defaults={
                "pools": sum((p.amount for p in CostPool.objects.filter(period_id=period_id)), 0),
                "unused": sum((r.unused for r in results), 0),
                "unallocated": sum((r.unallocated for r in results), 0),
            },
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounting", "0002_initial"),
        ("customers", "0006_core_profit_and_order_facts"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[migrations.DeleteModel(name="CustomerProfit")],
        ),
        migrations.RunPython(content_type_to_core, content_type_back),
        migrations.RunPython(period_costs_backfill, migrations.RunPython.noop),
    ]
