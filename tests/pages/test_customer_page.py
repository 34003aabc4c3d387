"""One customer page: every place a customer is named links to it, its tabs load the partials of
the apps that own them (scoped per role), old customer URLs land on the right tab, and pyramid
levels and chart bars lead to the customers behind them."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from customers.models import Customer, Period

ROOT = Path(__file__).resolve().parents[2]
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
HX = {"HTTP_HX_REQUEST": "true"}
#: Links to a customer that are not the one page: the old sales view and the waterfall page.
OLD_CUSTOMER_LINK = re.compile(r'href="(/sales/customers/\d+/(?:\?[^"]*)?|/accounting/customers/\d+/waterfall/[^"]*)"')
CUSTOMER_PAGE_LINK = re.compile(r'href="/customers/(\d+)/(?:\?[^"]*)?"')


@pytest.fixture
def demo(db):
    call_command("load_demo", customers=150, seed=7, verbosity=0)
    from django.contrib.auth.models import User

    clients = {}
    for name in ("manager", "finance", "rep1"):
        client = Client()
        client.force_login(User.objects.get(username=name), backend=MODEL_BACKEND)
        clients[name] = client
    return clients


def _rep_customer(rep_client) -> Customer:
    html = rep_client.get("/sales/").content.decode()
    pk = int(CUSTOMER_PAGE_LINK.search(html).group(1))
    return Customer.objects.get(pk=pk)


def test_no_template_links_a_customer_to_the_old_pages():
    """The sales view and the waterfall are tabs now: no template may link a customer to them."""
    offenders = []
    for path in ROOT.glob("*/templates/**/*.html"):
        if ".venv" in path.parts:
            continue
        text = path.read_text()
        for name in ("salesforce:customer'", 'salesforce:customer"'):
            if name in text:
                offenders.append(f"{path.relative_to(ROOT)}: {name}")
        if "accounting:customer_waterfall" in text and path.name != "waterfall.html":
            offenders.append(f"{path.relative_to(ROOT)}: accounting:customer_waterfall")
    assert not offenders, offenders


def test_pages_that_name_customers_link_to_the_one_page(demo):
    period = Period.objects.order_by("-name").first().name
    pair_html = demo["manager"].get("/sales/reps/").content.decode()
    pair_url = re.search(r'href="(/sales/reps/pairs/\d+/)', pair_html).group(1)
    pages = {
        "rep1": [
            "/sales/",
            "/sales/targets/",
            "/sales/visits/?who=pair",
            "/sales/effectiveness/?flag=all",
            "/sales/actions/",
        ],
        "manager": [
            f"/customers/?period={period}",
            "/customers/migration/",
            f"/accounting/profit/?period={period}",
            f"/accounting/profit/loss-making/?period={period}",
            pair_url,
            "/scenarios/segments/?segment=partners",
            "/sales/targets/",
            "/sales/effectiveness/?flag=all",
            "/sales/actions/",
            "/sales/visits/",
            "/sales/bonus/",
        ],
    }
    linked = set()
    for who, urls in pages.items():
        for url in urls:
            response = demo[who].get(url)
            assert response.status_code == 200, (who, url, response.status_code)
            html = response.content.decode()
            assert not OLD_CUSTOMER_LINK.findall(html), (who, url, OLD_CUSTOMER_LINK.findall(html)[:3])
            found = CUSTOMER_PAGE_LINK.findall(html)
            if found:
                linked.add(url)
    # Each of these pages names customers, and names them with a link to their page.
    for url in (
        "/sales/",
        "/sales/targets/",
        f"/customers/?period={period}",
        f"/accounting/profit/?period={period}",
        pair_url,
        "/scenarios/segments/?segment=partners",
        "/sales/effectiveness/?flag=all",
        "/sales/actions/",
        "/sales/visits/",
    ):
        assert url in linked, url


def test_tabs_per_role_and_their_partials(demo):
    customer = _rep_customer(demo["rep1"])
    url = reverse("customers:detail", args=[customer.pk])
    html = demo["rep1"].get(url).content.decode()
    assert re.findall(r'data-tab="(\w+)"', html) == ["overview", "profit", "sales", "visits", "actions"]
    assert 'aria-label="Breadcrumbs"' in html and 'href="/customers/?period=' in html  # crumbs: list, level
    for tab, marker in [
        ("profit", 'id="waterfall"'),
        ("sales", "Bonus estimator"),
        ("visits", "<table"),
        ("actions", 'id="action-list"'),
    ]:
        page = demo["rep1"].get(url, {"tab": tab}).content.decode()
        partial_url = re.search(r'class="customer-panel[^"]*" hx-get="([^"]+)"', page).group(1).replace("&amp;", "&")
        partial = demo["rep1"].get(partial_url, **HX)
        assert partial.status_code == 200, (tab, partial_url)
        body = partial.content.decode()
        assert marker in body and "<html" not in body, tab
    # Finance has no actions tab (the board is for reps and managers): no tab, and a 404 when asked.
    finance = demo["finance"].get(url).content.decode()
    assert "actions" not in re.findall(r'data-tab="(\w+)"', finance)
    assert demo["finance"].get(url, {"tab": "actions"}).status_code == 404
    assert demo["rep1"].get(url, {"tab": "nonsense"}).status_code == 404
    assert demo["rep1"].get(url, {"period": "1999"}).status_code == 404


def test_the_visits_and_actions_tabs_show_only_that_customer(demo):
    customer = _rep_customer(demo["rep1"])
    visits = demo["rep1"].get("/sales/visits/", {"customer": customer.pk}, **HX).content.decode()
    count = int(re.search(r"([\d,]+) visits?", visits).group(1).replace(",", ""))
    assert count == customer.visits.count()
    other = Customer.objects.exclude(pair=customer.pair).exclude(pair=None).first()
    assert demo["rep1"].get("/sales/visits/", {"customer": other.pk}, **HX).status_code == 404
    assert demo["rep1"].get("/sales/visits/", {"customer": "x"}, **HX).status_code == 404
    assert demo["rep1"].get("/sales/actions/", {"customer": other.pk}, **HX).status_code == 404
    actions = demo["rep1"].get("/sales/actions/", {"customer": customer.pk}, **HX).content.decode()
    names = set(re.findall(r'<td class="act-wrap act-who-cell"><strong><a href="/customers/(\d+)/', actions))
    assert names <= {str(customer.pk)}


def test_old_customer_urls_land_on_the_right_tab(demo):
    customer = _rep_customer(demo["rep1"])
    period = Period.objects.order_by("-name").first().name
    sales = demo["rep1"].get(f"/sales/customers/{customer.pk}/", {"period": period})
    assert sales.status_code == 302
    assert sales["Location"] == f"/customers/{customer.pk}/?tab=sales&period={period}"
    profit = demo["rep1"].get(f"/accounting/customers/{customer.pk}/waterfall/")
    assert profit.status_code == 302 and profit["Location"] == f"/customers/{customer.pk}/?tab=profit"
    other = Customer.objects.exclude(pair=customer.pair).exclude(pair=None).first()
    assert demo["rep1"].get(f"/sales/customers/{other.pk}/").status_code == 404
    assert demo["rep1"].get(f"/customers/{other.pk}/").status_code == 404


def test_pyramid_levels_and_bars_lead_to_their_customers(demo):
    period = Period.objects.order_by("-name").first().name
    html = demo["manager"].get("/customers/pyramid/", {"period": period}).content.decode()
    tiers = re.findall(r'<a class="tier [^"]*" href="([^"]+)"', html)
    assert f"/customers/?period={period}&amp;level=top" in tiers and len(tiers) == 7
    chart = json.loads(unescape(re.search(r"data-chart='([^']+)'", html).group(1)))
    assert chart["links"][0] == f"/customers/?period={period}&level=top"
    assert len(chart["links"]) == len(chart["data"]["labels"])
    profit = demo["manager"].get("/accounting/profit/", {"period": period}).content.decode()
    chart = json.loads(unescape(re.search(r"data-chart='([^']+)'", profit).group(1)))
    assert chart["links"] and all(link.startswith(f"/customers/?period={period}&level=") for link in chart["links"])
    top = demo["manager"].get(f"/customers/?period={period}&level=top").content.decode()
    assert CUSTOMER_PAGE_LINK.search(top)
    dashboard = demo["manager"].get("/customers/dashboard/", {"period": period}).content.decode()
    assert f'href="/customers/?period={period}&amp;level=big"' in dashboard
