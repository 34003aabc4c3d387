from decimal import Decimal

from customers.models import CustomerPeriod, CustomerProfit


def test_small_dataset_levels_and_profit(small_dataset):
    p25 = small_dataset[2025]
    levels = dict(CustomerPeriod.objects.filter(period=p25).values_list("customer__external_id", "level"))
    # 2025 actives: C1 2000, C4 300, C5 300 (tie broken by external id: C4 before C5); N=3 -> top 1.
    assert levels["C1"] == "top"
    assert levels["C2"] == "inactive"  # only a return in 2025, bought in 2024
    assert levels["C3"] == "prospect"
    profit = dict(CustomerProfit.objects.filter(period=p25).values_list("customer__external_id", "profit"))
    # C1: margin 1000 - sales 300 - handling 300*1/4 = 75 - financing 2000*30d*6%/365 = 9.86
    assert profit["C1"] == Decimal("1000") - Decimal("300") - Decimal("75") - Decimal("9.86")
