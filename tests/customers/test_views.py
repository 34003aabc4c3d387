"""Pages of the customers app: roles and scope, numbers shown, htmx partials, exports, the scheme form."""

import csv
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from customers.models import Customer, CustomerPeriod, Period, PyramidSettings

MANAGER_PAGES = [
    "customers:dashboard",
    "customers:pyramid",
    "customers:migration",
    "customers:retention",
    "accounting:concentration",  # the 80/20 page needs profit: accounting's (issue 16)
    "customers:import",
]
HX = {"HTTP_HX_REQUEST": "true"}


def hx(target: str) -> dict:
    return {**HX, "HTTP_HX_TARGET": target}


def csv_rows(response) -> list[list[str]]:
    text = response.content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def xlsx_rows(response) -> list[tuple]:
    ws = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    return [tuple(row) for row in ws.iter_rows(values_only=True)]


@pytest.fixture
def scoped_pair(rep_user, manager_user):
    """A team of manager1 with a pair of which rep1 is the outside rep; C1 is the pair's customer."""
    from salesforce_tasks.models import RepPair, SalesRep, Team

    team = Team.objects.create(name="North", manager=manager_user)
    outside = SalesRep.objects.create(code="R1", name="Rita", kind="outside", team=team, user=rep_user)
    inside = SalesRep.objects.create(code="R2", name="Ivo", kind="inside", team=team)
    pair = RepPair.objects.create(code="P1", team=team, outside_rep=outside, inside_rep=inside)
    Customer.objects.filter(external_id="C1").update(pair=pair)
    return pair


# --- rendering and numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", MANAGER_PAGES)
def test_manager_pages_render(client, small_dataset, manager_user, name):
    client.force_login(manager_user)
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert b"<html" in response.content


def test_dashboard_shows_the_kpis_of_the_period(client, small_dataset, manager_user):
    client.force_login(manager_user)
    html = client.get(reverse("customers:dashboard"), {"period": 2025}).content.decode()
    assert 'data-kpi="active_customers">3<' in html
    assert 'data-kpi="revenue">€2,580<' in html
    assert 'data-kpi="gross_margin">€1,380<' in html
    # Cost to serve = allocated pools (1,200) + financing cost, so margin - cost to serve = profit.
    from customers.models import CustomerProfit
    from customers.templatetags.kw import money

    rows = CustomerProfit.objects.filter(period=small_dataset[2025])
    cost_to_serve = sum(r.allocated + r.financing for r in rows)
    assert sum(r.allocated for r in rows) == 1200 and cost_to_serve > 1200
    assert f'data-kpi="allocated_cost">{money(cost_to_serve, 0)}<' in html
    assert f'data-kpi="profit">{money(1380 - cost_to_serve, 0)}<' in html
    assert 'data-kpi="customer_retention">66.7 %<' in html
    assert 'data-kpi="top20_revenue_share">76.9 %<' in html
    assert "no cost pools yet" not in html
    assert 'hx-get="/progress/?period=2025"' in html


def test_dashboard_without_cost_pools_shows_a_dash_and_a_hint(client, small_dataset, manager_user):
    from customers.models import CustomerProfit

    CustomerProfit.objects.filter(period=small_dataset[2025]).delete()
    client.force_login(manager_user)
    html = client.get(reverse("customers:dashboard")).content.decode()
    assert 'data-kpi="profit">–<' in html
    assert "no cost pools yet" in html


def test_dashboard_partial_for_figures_updated(client, small_dataset, manager_user):
    client.force_login(manager_user)
    response = client.get(reverse("customers:dashboard"), {"period": 2024}, **hx("dashboard-figures"))
    html = response.content.decode()
    assert "<html" not in html
    assert html.strip().startswith('<section id="dashboard-figures"')
    assert response["Vary"] and "HX-Request" in response["Vary"]


def test_pages_without_any_period_say_what_to_do(client, db, manager_user):
    client.force_login(manager_user)
    for name in [
        "customers:dashboard",
        "customers:pyramid",
        "customers:migration",
        "customers:retention",
        "accounting:concentration",
        "customers:list",
    ]:
        response = client.get(reverse(name))
        assert response.status_code == 200
        assert "import customers and orders first" in response.content.decode()


def test_unknown_period_is_404(client, small_dataset, manager_user):
    client.force_login(manager_user)
    assert client.get(reverse("customers:pyramid"), {"period": 1999}).status_code == 404
    assert client.get(reverse("customers:list"), {"period": "abc"}).status_code == 404


def test_pyramid_page_table_and_tiers(client, small_dataset, manager_user):
    client.force_login(manager_user)
    html = client.get(reverse("customers:pyramid"), {"period": 2025}).content.decode()
    assert 'class="pyramid"' in html and 'class="tier top"' in html
    top_row = html.split('<tr data-level="top">')[1].split("</tr>")[0]
    assert ">1<" in top_row and "€2,000.00" in top_row and "77.5 %" in top_row and "€375.00" in top_row
    assert "data-chart=" in html


def test_migration_matrix_and_cell_customers(client, small_dataset, manager_user, finance_user):
    client.force_login(finance_user)
    html = client.get(reverse("customers:migration"), {"period": 2025}).content.decode()
    assert "2024 → 2025" in html
    assert 'class="heat migration"' in html
    assert html.count('<td class="cell') == 8 * 7
    # C4 had no row in 2024 and is small in 2025: the new -> small cell lists it.
    response = client.get(
        reverse("customers:migration"), {"period": 2025, "from": "new", "to": "small"}, **hx("cell-customers")
    )
    part = response.content.decode()
    assert part.strip().startswith('<section id="cell-customers">')
    assert "Delta BV" in part and "Alpha BV" not in part
    top_top = client.get(reverse("customers:migration"), {"period": 2025, "from": "top", "to": "top"})
    assert "Alpha BV" in top_top.content.decode()
    csv_cells = csv_rows(client.get(reverse("customers:migration"), {"period": 2025, "format": "csv"}))
    assert len(csv_cells) == 1 + 8 * 7
    new_small = [r for r in csv_cells if r[2] == "new" and r[3] == "small"]
    assert new_small == [["2024", "2025", "new", "small", "1", "300.0"]]


def test_migration_of_the_first_period_explains(client, small_dataset, manager_user):
    client.force_login(manager_user)
    response = client.get(reverse("customers:migration"), {"period": 2024})
    assert response.status_code == 200
    assert "first period" in response.content.decode()


def test_retention_page_and_export(client, small_dataset, manager_user):
    client.force_login(manager_user)
    html = client.get(reverse("customers:retention"), {"period": 2025}).content.decode()
    assert 'data-kpi="customer_retention">66.7 %<' in html
    assert "2 of 3 customers kept" in html
    rows = csv_rows(client.get(reverse("customers:retention"), {"period": 2025, "format": "csv"}))
    assert rows[1][:4] == ["2024", "2025", "3", "2"]
    levels = csv_rows(client.get(reverse("customers:retention"), {"period": 2025, "format": "csv", "table": "levels"}))
    assert [r[1] for r in levels[1:]] == ["Top", "Big", "Medium", "Small"]


def test_concentration_page_and_export(client, small_dataset, manager_user):
    client.force_login(manager_user)
    html = client.get(reverse("accounting:concentration"), {"period": 2025}).content.decode()
    assert 'data-kpi="customers_for_80pct_revenue">2/3<' in html
    assert 'data-kpi="bottom20_revenue_cost_share">68.8 %<' in html
    assert "whale curve" in html
    rows = {r[0]: r[1] for r in csv_rows(client.get(reverse("accounting:concentration"), {"format": "csv"}))}
    assert rows["Customers for 80 % of revenue"] == "2/3"
    assert rows["Cost share of the bottom 20 % of revenue"] == "0.6875"


def test_the_old_concentration_address_sends_managers_on_and_refuses_reps(
    client, small_dataset, manager_user, rep_user
):
    client.force_login(manager_user)
    response = client.get("/customers/concentration/", {"period": 2025, "format": "csv"})
    assert response.status_code == 301
    assert response["Location"] == reverse("accounting:concentration") + "?period=2025&format=csv"
    client.force_login(rep_user)
    assert client.get("/customers/concentration/").status_code == 403


# --- roles and scope ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", MANAGER_PAGES)
def test_reps_get_403_on_manager_pages(client, small_dataset, rep_user, name):
    client.force_login(rep_user)
    assert client.get(reverse(name)).status_code == 403


def test_anonymous_is_sent_to_login(client, small_dataset):
    response = client.get(reverse("customers:list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_rep_sees_only_the_pairs_customers(client, small_dataset, rep_user, scoped_pair):
    client.force_login(rep_user)
    c1, c4 = Customer.objects.get(external_id="C1"), Customer.objects.get(external_id="C4")
    html = client.get(reverse("customers:list")).content.decode()
    assert "Alpha BV" in html and "Delta BV" not in html
    assert client.get(reverse("customers:detail", args=[c1.pk])).status_code == 200
    assert client.get(reverse("customers:detail", args=[c4.pk])).status_code == 404
    export = csv_rows(client.get(reverse("customers:list"), {"format": "csv"}))
    assert [r[0] for r in export[1:]] == ["C1"]


def test_manager_sees_the_teams_customers(client, small_dataset, manager_user, scoped_pair):
    client.force_login(manager_user)
    c4 = Customer.objects.get(external_id="C4")
    assert client.get(reverse("customers:detail", args=[c4.pk])).status_code == 404
    html = client.get(reverse("customers:migration"), {"period": 2025, "from": "new", "to": "small"}).content
    assert "Delta BV" not in html.decode()  # the matrix counts everyone, the cell lists only the scope


# --- customer list -----------------------------------------------------------------------------------


def test_list_filters_sorts_and_partial(client, small_dataset, finance_user):
    client.force_login(finance_user)
    url = reverse("customers:list")
    html = client.get(url, {"period": 2025}).content.decode()
    assert 'data-count="5"' in html
    small = client.get(url, {"period": 2025, "level": "small"}, **hx("customer-table")).content.decode()
    assert "<html" not in small and 'data-count="2"' in small
    assert "Delta BV" in small and "Epsilon BV" in small and "Alpha BV" not in small
    found = client.get(url, {"q": "beta"}, **hx("customer-table")).content.decode()
    assert 'data-count="1"' in found and "Beta BV" in found
    by_id = client.get(url, {"q": "c5"}, **hx("customer-table")).content.decode()
    assert "Epsilon BV" in by_id
    sorted_html = client.get(url, {"period": 2025, "sort": "-revenue"}).content.decode()
    assert sorted_html.index("Alpha BV") < sorted_html.index("Delta BV") < sorted_html.index("Beta BV")
    ascending = client.get(url, {"period": 2025, "sort": "revenue"}).content.decode()
    assert ascending.index("Beta BV") < ascending.index("Alpha BV")
    # An unknown sort key or level falls back to the defaults instead of failing.
    assert client.get(url, {"sort": "password", "level": "vip"}).status_code == 200


def test_list_history_restore_gets_the_full_page(client, small_dataset, finance_user):
    client.force_login(finance_user)
    response = client.get(reverse("customers:list"), HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HX)
    assert b"<html" in response.content


def test_list_export_csv_and_xlsx_hold_the_same_rows(client, small_dataset, finance_user):
    client.force_login(finance_user)
    url = reverse("customers:list")
    rows = csv_rows(client.get(url, {"period": 2025, "sort": "-revenue", "format": "csv"}))
    assert rows[0][:4] == ["Customer id", "Name", "Status", "Level"]
    assert [r[0] for r in rows[1:]] == ["C1", "C4", "C5", "C3", "C2"]
    c1 = rows[1]
    assert c1[3] == "top" and Decimal(c1[5]) == Decimal("2000.00") and Decimal(c1[6]) == Decimal("1000.00")
    sheet = xlsx_rows(client.get(url, {"period": 2025, "sort": "-revenue", "format": "xlsx"}))
    assert [r[0] for r in sheet[1:]] == ["C1", "C4", "C5", "C3", "C2"]
    assert sheet[1][5] == 2000.0 and sheet[1][6] == 1000.0
    assert Decimal(str(sheet[1][8])) == Decimal(c1[8])


def _bulk_customers(period: Period, n: int) -> None:
    customers = Customer.objects.bulk_create([Customer(external_id=f"X{i:04d}", name=f"Extra {i}") for i in range(n)])
    CustomerPeriod.objects.bulk_create(
        [
            CustomerPeriod(
                period=period, customer=c, level="small", rank=10 + i, revenue=Decimal(i), gross_margin=Decimal(i)
            )
            for i, c in enumerate(customers)
        ]
    )


def test_list_page_issues_the_same_queries_for_5_and_60_customers(
    client, small_dataset, finance_user, django_assert_max_num_queries
):
    client.force_login(finance_user)
    url = reverse("customers:list")
    client.get(url)  # warm the session
    with CaptureQueriesContext(connection) as five:
        assert client.get(url, {"period": 2025}).status_code == 200
    _bulk_customers(small_dataset[2025], 55)
    with django_assert_max_num_queries(len(five.captured_queries)):
        response = client.get(url, {"period": 2025})
    assert 'data-count="60"' in response.content.decode()
    assert len(five.captured_queries) <= 8


def test_list_paginates_by_50(client, small_dataset, finance_user):
    _bulk_customers(small_dataset[2025], 55)
    client.force_login(finance_user)
    html = client.get(reverse("customers:list"), {"period": 2025, "page": 2}).content.decode()
    assert "Page 2 of 2" in html
    assert html.count('<td class="hide-sm">') == 10


# --- customer detail ---------------------------------------------------------------------------------


def test_detail_header_history_and_profit_placeholder(client, small_dataset, finance_user):
    client.force_login(finance_user)
    c1 = Customer.objects.get(external_id="C1")
    html = client.get(reverse("customers:detail", args=[c1.pk])).content.decode()
    assert "Alpha BV" in html and "Utrecht" in html and "bouw" in html
    assert 'data-tab="profit"' in html  # the profit is a tab of the same page
    assert "data-chart=" in html
    assert html.count("€2,000.00") >= 1 and "€1,500.00" in html
    rows = csv_rows(client.get(reverse("customers:detail", args=[c1.pk]), {"format": "csv"}))
    assert [r[:2] for r in rows[1:]] == [["2024", "top"], ["2025", "top"]]


def test_detail_profit_tab_loads_the_waterfall(client, small_dataset, finance_user):
    c1 = Customer.objects.get(external_id="C1")
    client.force_login(finance_user)
    html = client.get(reverse("customers:detail", args=[c1.pk]), {"tab": "profit"}).content.decode()
    url = reverse("accounting:customer_waterfall", args=[c1.pk])
    assert 'id="customer-profit"' in html and f'hx-get="{url}?' in html


# --- pyramid scheme form -----------------------------------------------------------------------------


def _scheme(**changes) -> dict:
    data = {
        "scheme": "rank_share",
        "top_share": "1",
        "big_share": "4",
        "medium_share": "15",
        "top_threshold": "",
        "big_threshold": "",
        "medium_threshold": "",
        "fiscal_year_start_month": "1",
    }
    return {**data, **changes}


def test_scheme_form_rejects_bad_shares_inline(client, small_dataset, manager_user):
    client.force_login(manager_user)
    response = client.post(
        reverse("customers:pyramid"), _scheme(top_share="50", big_share="40", medium_share="30"), **hx("scheme-form")
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.strip().startswith('<section id="scheme-form"')
    assert "must not exceed 100 %" in html and 'class="errorlist' in html
    assert PyramidSettings.objects.get(pk=1).top_share == Decimal("1")


def test_scheme_form_rejects_a_share_over_100_next_to_the_field(client, small_dataset, manager_user):
    client.force_login(manager_user)
    html = client.post(reverse("customers:pyramid"), _scheme(top_share="150"), **hx("scheme-form")).content.decode()
    assert "Ensure this value is less than or equal to 100" in html


def test_scheme_form_thresholds_need_all_three(client, small_dataset, manager_user):
    client.force_login(manager_user)
    html = client.post(
        reverse("customers:pyramid"), _scheme(scheme="thresholds", top_threshold="1000"), **hx("scheme-form")
    ).content.decode()
    assert "needs a revenue threshold for big, medium" in html


def test_scheme_form_saves_and_levels_are_recomputed(
    client, small_dataset, manager_user, django_capture_on_commit_callbacks
):
    client.force_login(manager_user)
    c4 = Customer.objects.get(external_id="C4")
    assert CustomerPeriod.objects.get(period=small_dataset[2025], customer=c4).level == "small"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("customers:pyramid"),
            _scheme(top_share="10", big_share="20", medium_share="30"),
            **hx("scheme-form"),
        )
    assert response.status_code == 200
    assert "Saved." in response.content.decode()
    assert response["HX-Trigger"] == "figuresUpdated"
    assert PyramidSettings.objects.get(pk=1).medium_share == Decimal("30")
    # N=3 active customers in 2025, cumulative shares 10/30/60 %: ranks 1 top, 2 medium, 3 small.
    assert CustomerPeriod.objects.get(period=small_dataset[2025], customer=c4).level == "medium"


def test_scheme_form_without_htmx_redirects_after_saving(client, small_dataset, manager_user):
    client.force_login(manager_user)
    response = client.post(reverse("customers:pyramid"), _scheme(top_share="2"))
    assert response.status_code == 302 and response["Location"] == reverse("customers:pyramid")


def test_finance_sees_the_scheme_read_only_and_cannot_post(client, small_dataset, finance_user):
    client.force_login(finance_user)
    html = client.get(reverse("customers:pyramid")).content.decode()
    assert "finance sees it read-only" in html and "disabled" in html
    assert client.post(reverse("customers:pyramid"), _scheme(top_share="2")).status_code == 403
    assert PyramidSettings.objects.get(pk=1).top_share == Decimal("1")


def test_pyramid_figures_partial_and_exports_match(client, small_dataset, manager_user):
    client.force_login(manager_user)
    url = reverse("customers:pyramid")
    part = client.get(url, {"period": 2025}, **hx("pyramid-figures")).content.decode()
    assert part.strip().startswith('<section id="pyramid-figures"')
    rows = csv_rows(client.get(url, {"period": 2025, "format": "csv"}))
    assert rows[0] == [
        "Level",
        "Customers",
        "Revenue",
        "Revenue share",
        "Gross margin",
        "Allocated cost",
        "Profit",
        "Avg revenue",
        "Avg profit",
    ]
    top = rows[1]
    assert top[:3] == ["Top", "1", "2000.0"] and top[5] == "375.0"
    sheet = xlsx_rows(client.get(url, {"period": 2025, "format": "xlsx"}))
    assert sheet[1][:3] == ("Top", 1, 2000.0)
    assert [r[0] for r in sheet[1:]] == [r[0] for r in rows[1:]]
    assert [r[2] for r in sheet[1:]] == [float(r[2]) for r in rows[1:]]
