"""Issue 16/17: profit is stored in the core, and the order facts join the per customer-period facts.

- ``CustomerProfit`` moves into the core: state only, the table keeps its name
  (``accounting_customerprofit``); accounting 0003 drops its old state and moves the content type.
- ``PeriodCosts``: per period what the profit stage charged to no customer (accounting 0003 fills it
  for periods already computed).
- ``CustomerPeriodFacts`` gets the order facts (revenue and gross margin in cents, orders, lines),
  filled here from the stored order lines.
"""

import django.db.models.deletion
from django.db import migrations, models


def order_facts_backfill(apps, schema_editor):
    """The order facts of every customer and period from the stored lines (one statement)."""
    facts = apps.get_model("customers", "CustomerPeriodFacts")._meta.db_table
    lines = apps.get_model("customers", "OrderLine")._meta.db_table
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {facts} (period_id, customer_id, visits, visit_minutes,
                                 revenue_cents, gross_margin_cents, orders, order_lines)
            SELECT period_id, customer_id, 0, 0,
                   SUM(CAST(ROUND(amount * 100) AS BIGINT)),
                   SUM(CAST(ROUND(amount * 100) AS BIGINT) - CAST(ROUND(cost * 100) AS BIGINT)),
                   COUNT(DISTINCT order_id), COUNT(*)
            FROM {lines} WHERE 1 = 1 GROUP BY period_id, customer_id
            ON CONFLICT (period_id, customer_id) DO UPDATE SET
                revenue_cents = excluded.revenue_cents, gross_margin_cents = excluded.gross_margin_cents,
                orders = excluded.orders, order_lines = excluded.order_lines
            """
        )


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0005_organisation_in_core"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="CustomerProfit",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("level", models.CharField(max_length=10)),
                        ("revenue", models.DecimalField(decimal_places=2, max_digits=16)),
                        ("gross_margin", models.DecimalField(decimal_places=2, max_digits=16)),
                        ("allocated", models.DecimalField(decimal_places=2, max_digits=16)),
                        ("financing", models.DecimalField(decimal_places=2, max_digits=16)),
                        ("profit", models.DecimalField(decimal_places=2, max_digits=16)),
                        ("orders", models.PositiveIntegerField(default=0)),
                        ("order_lines", models.PositiveIntegerField(default=0)),
                        ("visits", models.PositiveIntegerField(default=0)),
                        ("visit_minutes", models.PositiveIntegerField(default=0)),
                        ("by_pool", models.JSONField(default=dict)),
                    ],
                    options={
                        "db_table": "accounting_customerprofit",
                    },
                ),
                migrations.AddField(
                    model_name="customerprofit",
                    name="customer",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="profits", to="customers.customer"
                    ),
                ),
                migrations.AddField(
                    model_name="customerprofit",
                    name="period",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="profits", to="customers.period"
                    ),
                ),
                migrations.AddIndex(
                    model_name="customerprofit",
                    index=models.Index(fields=["period", "profit"], name="accounting__period__0f683d_idx"),
                ),
                migrations.AddConstraint(
                    model_name="customerprofit",
                    constraint=models.UniqueConstraint(fields=("period", "customer"), name="customerprofit_unique"),
                ),
            ],
        ),
        migrations.CreateModel(
            name="PeriodCosts",
            fields=[
                (
                    "period",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="costs",
                        serialize=False,
                        to="customers.period",
                    ),
                ),
                ("pools", models.DecimalField(decimal_places=2, max_digits=16)),
                ("unused", models.DecimalField(decimal_places=2, max_digits=16)),
                ("unallocated", models.DecimalField(decimal_places=2, max_digits=16)),
            ],
        ),
        migrations.AddField(
            model_name="customerperiodfacts",
            name="gross_margin_cents",
            field=models.BigIntegerField(default=0, db_default=0, verbose_name="gross margin (cents)"),
        ),
        migrations.AddField(
            model_name="customerperiodfacts",
            name="order_lines",
            field=models.IntegerField(default=0, db_default=0, verbose_name="order lines"),
        ),
        migrations.AddField(
            model_name="customerperiodfacts",
            name="orders",
            field=models.IntegerField(default=0, db_default=0, verbose_name="orders"),
        ),
        migrations.AddField(
            model_name="customerperiodfacts",
            name="revenue_cents",
            field=models.BigIntegerField(default=0, db_default=0, verbose_name="net revenue (cents)"),
        ),
        migrations.AlterField(
            model_name="customerperiodfacts",
            name="visits",
            field=models.IntegerField(default=0, db_default=0, verbose_name="visits"),
        ),
        migrations.AlterField(
            model_name="customerperiodfacts",
            name="visit_minutes",
            field=models.BigIntegerField(default=0, db_default=0, verbose_name="visit minutes"),
        ),
        migrations.AddConstraint(
            model_name="customerperiodfacts",
            constraint=models.CheckConstraint(
                condition=models.Q(("order_lines__gte", 0), ("orders__gte", 0)),
                name="customerperiodfacts_orders_not_negative",
            ),
        ),
        migrations.RunPython(order_facts_backfill, migrations.RunPython.noop),
    ]
