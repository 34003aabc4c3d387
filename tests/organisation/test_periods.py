"""Periods: open ahead (pools and targets copied), close (writes refused, figures frozen), reopen."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command

from accounting.models import CostPool, PeriodFinance
from accounting.services import cost_pool_update
from config.eventbus import drain, request_stage
from config.intake import ImportFailed, run_import
from customers.facts import order_facts_rebuild
from customers.models import Customer, CustomerPeriod, OrderLine, Period
from salesforce_tasks.models import CustomerTarget
from salesforce_tasks.organisation.periods import year_close, year_open, year_reopen
from salesforce_tasks.services import customer_target_set

pytestmark = pytest.mark.django_db


def test_open_next_year_copies_pools_interest_and_rolls_targets(small_dataset, finance_user, manager_user):
    c1 = Customer.objects.get(external_id="C1")
    CustomerTarget.objects.create(customer=c1, period=small_dataset[2025], target_revenue=Decimal("1000.00"))
    PeriodFinance.objects.update_or_create(period=small_dataset[2025], defaults={"interest_rate": Decimal("4.5")})
    opened = year_open(name=2026, copy_pools_from=2025, roll_targets_growth=Decimal("5"), acting_user=finance_user)
    assert (opened.pools_copied, opened.targets_rolled) == (2, 1)
    period = opened.period
    assert sorted(CostPool.objects.filter(period=period).values_list("name", "amount", "key")) == sorted(
        CostPool.objects.filter(period=small_dataset[2025]).values_list("name", "amount", "key")
    )
    assert PeriodFinance.objects.get(period=period).interest_rate == Decimal("4.5")
    assert CustomerTarget.objects.get(customer=c1, period=period).target_revenue == Decimal("1050.00")
    assert period.history.first().history_user == finance_user
    # Opened ahead: targets for the coming year can be set now.
    c1.pair = None
    target = customer_target_set(
        customer=c1, period=period, target_level="top", target_revenue=Decimal("2000"), acting_user=_superuser()
    )
    assert target.period == period
    with pytest.raises(PermissionDenied):
        year_open(name=2027, acting_user=manager_user)


def _superuser():
    from django.contrib.auth.models import User

    return User.objects.filter(is_superuser=True).first() or User.objects.create_superuser("root", "r@e.com", "pw")


def test_a_closed_period_refuses_writes_and_names_the_period(small_dataset, finance_user, tmp_path):
    year_close(name=2024, acting_user=finance_user)
    pool = CostPool.objects.get(period=small_dataset[2024], name="Sales")
    with pytest.raises(ValidationError) as err:
        cost_pool_update(pool=pool, amount=Decimal("1"), acting_user=finance_user)
    assert "period 2024 is closed" in str(err.value)
    with pytest.raises(ValidationError) as err:
        customer_target_set(
            customer=Customer.objects.get(external_id="C1"),
            period=small_dataset[2024],
            target_level="top",
            acting_user=_superuser(),
        )
    assert "period 2024 is closed" in err.value.message_dict["period"][0]
    costs = tmp_path / "costs.csv"
    costs.write_text("period,pool,amount,key\n2025,Sales,950,per_customer\n2024,Sales,700,per_customer\n")
    with pytest.raises(ImportFailed) as failed:
        run_import("costs", costs, acting_user=finance_user)
    assert [(e.row, e.column) for e in failed.value.errors] == [(3, "period")]
    assert "period 2024 is closed" in failed.value.errors[0].reason
    assert CostPool.objects.get(period=small_dataset[2025], name="Sales").amount == Decimal("900.00")


def test_a_closed_periods_figures_do_not_change_on_recompute(small_dataset, finance_user):
    p2024 = small_dataset[2024]
    c1 = Customer.objects.get(external_id="C1")
    before = CustomerPeriod.objects.get(period=p2024, customer=c1).revenue
    year_close(name=2024, acting_user=finance_user)
    OrderLine.objects.filter(period=p2024, customer=c1).update(amount=Decimal("9999.00"))  # behind the services' back
    order_facts_rebuild(period_ids=[p2024.pk])  # and its facts with them (the pyramid reads the facts)
    request_stage(period_ids=[p2024.pk], stage="pyramid")
    drain()
    assert CustomerPeriod.objects.get(period=p2024, customer=c1).revenue == before
    # Reopened, the same recompute does change them (so the test above can fail).
    year_reopen(name=2024, acting_user=finance_user)
    drain()
    assert CustomerPeriod.objects.get(period=p2024, customer=c1).revenue == Decimal("19998.00")


def test_reopen_is_finance_only_and_audited(small_dataset, finance_user, manager_user):
    year_close(name=2024, acting_user=finance_user)
    with pytest.raises(PermissionDenied):
        year_reopen(name=2024, acting_user=manager_user)
    year_reopen(name=2024, acting_user=finance_user)
    history = list(Period.objects.get(name=2024).history.order_by("history_date").values_list("closed", "history_user"))
    assert history[-2:] == [(True, finance_user.pk), (False, finance_user.pk)]


def test_period_command(small_dataset, capsys):
    call_command("period", "open", "2026", "--copy-pools-from", "2025", "--roll-targets-growth", "2,5")
    assert "Period 2026 is open" in capsys.readouterr().out
    call_command("period", "close", "2024")
    assert Period.objects.get(name=2024).closed
    with pytest.raises(CommandError, match="already closed"):
        call_command("period", "close", "2024")
    with pytest.raises(CommandError, match="Unknown period"):
        call_command("period", "close", "1999")
    call_command("period", "reopen", "2024")
    assert not Period.objects.get(name=2024).closed


def test_closed_period_refuses_orders_invoices_and_visits_in_imports_and_services(
    small_dataset, finance_user, tmp_path
):
    import datetime as dt

    from customers.models import Order
    from customers.services import LineInput, order_delete, order_upsert

    year_close(name=2024, acting_user=finance_user)
    orders = tmp_path / "orders.csv"
    orders.write_text("order_id,customer_id,date,amount\nN1,C1,2025-05-01,10\nLATE,C1,2024-12-30,99\n")
    with pytest.raises(ImportFailed) as failed:
        run_import("orders", orders, acting_user=finance_user)
    assert [(e.row, e.column) for e in failed.value.errors] == [(3, "date")]
    assert "period 2024 is closed" in failed.value.errors[0].reason
    assert not Order.objects.filter(external_id__in=["N1", "LATE"]).exists()
    invoices = tmp_path / "invoices.csv"
    invoices.write_text("customer_id,invoice_id,amount,issued,due\nC1,I9,10,2024-06-01,2024-07-01\n")
    with pytest.raises(ImportFailed) as failed:
        run_import("invoices", invoices, acting_user=finance_user)
    assert [(e.row, e.column) for e in failed.value.errors] == [(2, "issued")]
    c1 = Customer.objects.get(external_id="C1")
    with pytest.raises(ValidationError) as err:
        order_upsert(external_id="LATE", customer=c1, date=dt.date(2024, 12, 30), lines=[LineInput(Decimal("5"))])
    assert "period 2024 is closed" in err.value.message_dict["date"][0]
    with pytest.raises(ValidationError):
        order_delete(order=Order.objects.get(external_id="O1"))
    assert Order.objects.filter(external_id="O1").exists()


def test_a_closed_period_accepts_unchanged_invoice_rows_and_refuses_changed_ones(small_dataset, finance_user, tmp_path):
    """Re-importing an invoice file that holds a closed period's invoices as they are stored changes
    nothing and is accepted (as the orders import does); a changed one, or one moved out of the
    closed period, is a row error naming the period."""
    from accounting.models import Invoice

    invoice = Invoice.objects.select_related("customer", "period").order_by("issued", "external_id").first()
    name = invoice.period.name
    year_close(name=name, acting_user=finance_user)

    def row(amount, issued):
        paid = invoice.paid.isoformat() if invoice.paid else ""
        return f"{invoice.customer.external_id},{invoice.external_id},{amount},{issued},{invoice.due},{paid}\n"

    header = "customer_id,invoice_id,amount,issued,due,paid\n"
    same = tmp_path / "same.csv"
    same.write_text(header + row(invoice.amount, invoice.issued))
    result = run_import("invoices", same, acting_user=finance_user)
    assert (result.unchanged, result.created, result.updated) == (1, 0, 0)
    changed = tmp_path / "changed.csv"
    changed.write_text(header + row(invoice.amount + 1, invoice.issued))
    with pytest.raises(ImportFailed) as failed:
        run_import("invoices", changed, acting_user=finance_user)
    assert [(e.row, e.column) for e in failed.value.errors] == [(2, "issued")]
    assert f"period {name} is closed" in failed.value.errors[0].reason
    moved = tmp_path / "moved.csv"
    later = f"{name + 1}-06-01"
    moved.write_text(header + row(invoice.amount, later).replace(str(invoice.due), f"{name + 1}-07-01"))
    with pytest.raises(ImportFailed) as failed:
        run_import("invoices", moved, acting_user=finance_user)
    assert f"period {name} is closed" in failed.value.errors[0].reason
    invoice.refresh_from_db()
    assert invoice.period.name == name


def test_a_closed_period_accepts_unchanged_cost_pool_rows(small_dataset, finance_user, tmp_path):
    """The costs import: a closed period's pools re-imported as they are stored are unchanged and
    accepted; a changed amount is a row error naming the period, and nothing is written."""
    from accounting.models import CostPool

    pool = CostPool.objects.select_related("period", "customer").order_by("pk").first()
    name = pool.period.name
    year_close(name=name, acting_user=finance_user)
    columns = ["weight_top", "weight_big", "weight_medium", "weight_small", "minutes_per_order", "minutes_per_line"]
    header = "period,pool,amount,key,nature,customer_id,capacity_minutes," + ",".join(columns) + "\n"

    def row(amount):
        customer = pool.customer.external_id if pool.customer_id else ""
        capacity = "" if pool.capacity_minutes is None else pool.capacity_minutes
        rest = ",".join(str(getattr(pool, c)) for c in columns)
        return f"{name},{pool.name},{amount},{pool.key},{pool.nature},{customer},{capacity},{rest}\n"

    same = tmp_path / "same.csv"
    same.write_text(header + row(pool.amount))
    result = run_import("costs", same, acting_user=finance_user)
    assert (result.unchanged, result.created, result.updated) == (1, 0, 0)
    changed = tmp_path / "changed.csv"
    changed.write_text(header + row(pool.amount + 1))
    with pytest.raises(ImportFailed) as failed:
        run_import("costs", changed, acting_user=finance_user)
    assert [(e.row, e.column) for e in failed.value.errors] == [(2, "period")]
    assert f"period {name} is closed" in failed.value.errors[0].reason
    assert CostPool.objects.get(pk=pool.pk).amount == pool.amount
