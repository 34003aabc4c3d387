"""The one customer page keeps its figures live on every tab: the recompute status widget is there,
and the profit tab's panel reloads itself when the widget says the figures changed
(the browser flow in tests/browser/test_flows.py shows it end to end)."""

from __future__ import annotations

import re

from django.urls import reverse

from customers.models import Customer

PROGRESS = re.compile(r'hx-get="/progress/\?period=(\d+)" hx-trigger="load"')


def test_every_tab_watches_the_recompute_of_the_period_it_shows(client, small_dataset, finance_user):
    client.force_login(finance_user)
    url = reverse("customers:detail", args=[Customer.objects.get(external_id="C1").pk])
    for tab in ("overview", "profit", "sales", "visits"):
        html = client.get(url, {"tab": tab}).content.decode()
        assert PROGRESS.findall(html) == ["2025"], tab
    html = client.get(url, {"tab": "profit", "period": "2024"}).content.decode()
    assert PROGRESS.findall(html) == ["2024"]
    panel = re.search(r'<div id="customer-profit"[^>]*>', html).group(0)
    assert 'hx-trigger="load, figuresUpdated from:body"' in panel
