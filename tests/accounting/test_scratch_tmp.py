from accounting.models import CustomerProfit, PoolResult, ProfitSnapshot
from customers.models import CustomerPeriod


def test_peek(small_dataset, client, finance_user):
    for p in small_dataset.values():
        print(p.name, list(CustomerPeriod.objects.filter(period=p).values_list("customer__external_id", "level", "revenue")))
        print(list(CustomerProfit.objects.filter(period=p).values_list("customer__external_id", "level", "profit", "financing", "by_pool")))
        print(list(PoolResult.objects.filter(pool__period=p).values_list("pool__name", "allocated", "driver_total", "rate")))
        print(ProfitSnapshot.objects.filter(period=p).count())
    client.force_login(finance_user)
    for url in ["/accounting/pools/?period=2025", "/accounting/profit/?period=2025", "/accounting/pools/new/?period=2025",
                "/accounting/profit/?period=2025&format=csv", "/accounting/profit/?period=2025&format=csv&table=levels",
                "/accounting/profit/loss-making/?period=2025"]:
        r = client.get(url)
        print(url, r.status_code, len(r.content))
        if url.endswith("csv") or "table=levels" in url:
            print(r.content.decode())
    from customers.models import Customer
    c1 = Customer.objects.get(external_id="C1")
    r = client.get(f"/accounting/customers/{c1.pk}/waterfall/?period=2025")
    print(r.status_code)
    import re
    print(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", r.content.decode().split('id="waterfall"')[1]))[:3000])
