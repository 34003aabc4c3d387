"""Re-importing a file reports unchanged rows as unchanged; the customers' ``since`` is stored and used.

Issue 14: an identical file reported "3 updated", and the documented ``since`` (known since) column
was accepted but thrown away, so a prospect known since 2025 was a prospect in the 2024 pyramid.
"""

import datetime as dt

import pytest
from django.utils import timezone

from config.intake import run_import
from customers import services
from customers.models import Customer, CustomerPeriod, OrderLine, Period
from tests import dataset


def _import(tmp_path, kind, text, name=None):
    return run_import(kind, dataset.write(tmp_path, name or f"{kind}.csv", text)).as_dict()


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("customers", dataset.CUSTOMERS),
        ("orders", dataset.ORDERS),
        ("invoices", dataset.INVOICES),
        ("costs", dataset.COSTS),
        ("surveys", "customer_id,date,score\nC1,2025-03-01,8\n"),
    ],
)
def test_reimporting_an_identical_file_reports_every_row_unchanged(small_dataset, tmp_path, kind, text):
    """Every keyed import kind (visits have no key: each row is a new visit)."""
    _import(tmp_path, kind, text)
    again = _import(tmp_path, kind, text)
    assert (again["created"], again["updated"]) == (0, 0)
    assert again["unchanged"] > 0


def test_a_changed_row_is_updated_and_the_others_unchanged(small_dataset, tmp_path):
    customers = dataset.CUSTOMERS.replace("C2;Beta BV;customer;horeca;Zwolle", "C2;Beta BV;customer;horeca;Kampen")
    result = _import(tmp_path, "customers", customers)
    assert (result["created"], result["updated"], result["unchanged"]) == (0, 1, 4)
    assert Customer.objects.get(external_id="C2").city == "Kampen"

    # One line of O1 changes its amount, O6 loses nothing, a new order arrives: 1 updated, 1 new.
    orders = dataset.ORDERS.replace("O1,C1,2024-03-01,500,300,2,P2,G1", "O1,C1,2024-03-01,500.01,300,2,P2,G1")
    orders += "O9,C4,2025-09-01,10,5,1,P1,G1\n"
    result = _import(tmp_path, "orders", orders)
    assert (result["created"], result["updated"], result["unchanged"]) == (1, 1, 7)
    # An order that loses a line is updated.
    shorter = "\n".join(line for line in orders.splitlines() if not line.startswith("O1,C1,2024-03-01,500.01"))
    result = _import(tmp_path, "orders", shorter + "\n")
    assert (result["created"], result["updated"], result["unchanged"]) == (0, 1, 8)
    assert OrderLine.objects.filter(order__external_id="O1").count() == 1


def test_since_is_stored_and_decides_prospect_and_new(small_dataset, tmp_path):
    text = (
        "external_id;name;status;since\nP24;Early Prospect;prospect;2023-06-01\nP25;Late Prospect;prospect;2025-03-01\n"
    )
    assert _import(tmp_path, "customers", text)["created"] == 2
    tz = timezone.get_current_timezone()
    assert Customer.objects.get(external_id="P25").created_at == dt.datetime(2025, 3, 1, tzinfo=tz)
    for period in Period.objects.all():
        services.pyramid_store(period.id)
    levels_2024 = dict(
        CustomerPeriod.objects.filter(period__name=2024, customer__external_id__in=["P24", "P25"]).values_list(
            "customer__external_id", "level"
        )
    )
    # Known since 2023: a prospect in 2024; known since 2025: not in the 2024 pyramid (new in 2025).
    assert levels_2024 == {"P24": "prospect"}
    assert CustomerPeriod.objects.get(period__name=2025, customer__external_id="P25").level == "prospect"

    # Re-importing without since keeps the stored date; an identical file changes nothing.
    assert _import(tmp_path, "customers", "external_id;name;status\nP25;Late Prospect;prospect\n")["unchanged"] == 1
    assert _import(tmp_path, "customers", text)["unchanged"] == 2
    assert Customer.objects.get(external_id="P25").created_at == dt.datetime(2025, 3, 1, tzinfo=tz)
