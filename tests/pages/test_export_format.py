"""CSV exports write money with two decimals, whatever precision the database returns."""

from decimal import Decimal

from config.export import table_response


def _csv(value) -> str:
    response = table_response(rows=[{"v": value}], columns=[("v", "V")], filename="x", fmt="csv")
    return response.content.decode("utf-8-sig").splitlines()[1]


def test_money_in_csv_has_two_decimals():
    assert _csv(Decimal("235133.180000000")) == "235133.18"
    assert _csv(Decimal("-2327275")) == "-2327275.00"
    assert _csv(Decimal("12.5")) == "12.50"
    assert _csv(Decimal("0.24450000")) == "0.2445"  # a rate keeps the digits it has
    assert _csv(3) == "3"
