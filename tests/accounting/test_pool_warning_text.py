"""A cost pool's warning reads in the page's language with formatted numbers (the allocation,
a pure module, writes it in English)."""

import pytest
from django.utils import translation

from accounting.allocation import allocate_pools
from accounting.templatetags.pool_warnings import pool_warning
from tests.accounting.test_allocation import TIME_DRIVEN_CUSTOMERS, drivers_frame, time_driven_pool
from tests.test_i18n import compiled_catalogues  # noqa: F401 (a fixture)


def _warning(drivers, amount_cents: int, capacity: float) -> str:
    result = allocate_pools(drivers, time_driven_pool(amount_cents, capacity))
    return str(result.pools.iloc[0]["warning"])


@pytest.mark.usefixtures("compiled_catalogues")
def test_the_allocations_warnings_are_read_back():
    """The allocation's own texts (not copies of them) are recognised, so the two stay in step."""
    over = _warning(drivers_frame(*TIME_DRIVEN_CUSTOMERS), 50_00, 100.0)
    unused = _warning(drivers_frame({"customer_id": 1}), 10_00, 500.0)
    with translation.override("nl"):
        assert pool_warning(over).startswith("De vraag van 204,5 min") and "€ 0,2445/min" in pool_warning(over)
        assert pool_warning(unused).startswith("In deze periode zijn geen minuten gevraagd")


@pytest.mark.usefixtures("compiled_catalogues")
@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            "Demand 51,203 min exceeds practical capacity 49,155.5 min; the whole pool was charged at an "
            "effective rate of €1,003.23/min. Raise the capacity or check the minutes per order/line.",
        ),
        (
            "nl",
            "De vraag van 51.203 min is groter dan de praktische capaciteit van 49.155,5 min; de hele pool is "
            "doorberekend tegen een effectief tarief van € 1.003,23/min. Verhoog de capaciteit of controleer de "
            "minuten per order/regel.",
        ),
    ],
)
def test_over_capacity_is_said_again_per_language(language, expected):
    stored = (
        "Demand 51,203 min exceeds practical capacity 49,155.5 min; the whole pool was charged at an "
        "effective rate of €1,003.23/min. Raise the capacity or check the minutes per order/line."
    )
    with translation.override(language):
        assert pool_warning(stored) == expected


def test_unknown_text_is_shown_as_stored():
    with translation.override("nl"):
        assert pool_warning("something else") == "something else"
        assert pool_warning("") == ""
