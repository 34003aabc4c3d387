"""Issue 15's "Done when", end to end in real chromium: a new manager sets up a team and invites its
reps, a rep sets a password and sees only the pair's customers, the organisation import refuses a
bad pair, finance closes the oldest period and opens the next year, and an approval shows in the history.

The invitation email is captured by Django's test email backend (locmem: ``mail.outbox``), which
the test runner installs; production sends it by SMTP or prints it to the console.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import login, new_page, shot

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]


def _invite_link(address: str) -> str:
    from django.core import mail

    body = next(m.body for m in reversed(mail.outbox) if address in m.to)
    return re.search(r"https?://\S+/accounts/reset/\S+", body).group(0)


def test_run_a_company_on_it(chromium, demo_world, tmp_path):
    from django.contrib.auth.models import User

    from config.intake import run_import
    from customers.models import Customer, Order, Period
    from salesforce_tasks.models import CustomerTarget, RepPair, SalesRep
    from tests.conftest import make_user

    boss = make_user("nieuw", "manager")
    boss.set_password("Nieuwe-manager-1!")
    boss.save()

    # 1. The new manager creates a team with a pair in the pages and invites the two reps.
    page, problems = new_page(chromium)
    login(page, demo_world, "nieuw", "Nieuwe-manager-1!")
    page.goto(f"{demo_world}/sales/organisation/")
    page.fill("input[name=name]", "Team Oost")
    page.click("button[name=create_team]")
    page.wait_for_load_state("networkidle")
    for code, name, kind in (("oscar", "Oscar Buiten", "outside"), ("ida", "Ida Binnen", "inside")):
        page.fill("#rep-form input[name=code]", code)
        page.fill("#rep-form input[name=name]", name)
        page.select_option("#rep-form select[name=kind]", kind)
        page.click("#rep-form button[type=submit]")
        page.wait_for_load_state("networkidle")
    page.fill("#pair-form input[name=code]", "OOST1")
    page.select_option("#pair-form select[name=outside_rep]", label="Oscar Buiten")
    page.select_option("#pair-form select[name=inside_rep]", label="Ida Binnen")
    page.click("#pair-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    for code in ("oscar", "ida"):
        row = page.locator(f"tr[data-rep={code}]")
        row.locator("input[name=email]").fill(f"{code}@example.com")
        row.locator("button[type=submit]").click()
        page.wait_for_load_state("networkidle")
    shot(page, "org-1-team-with-pair")
    problems.check()
    pair = RepPair.objects.get(code="OOST1")
    assert (pair.outside_rep.user.username, pair.inside_rep.user.username) == ("oscar", "ida")

    # The ERP hands the pair three customers (customers file, owner column = pair code).
    mine = list(Customer.objects.order_by("name")[:3])
    owners = tmp_path / "owners.csv"
    owners.write_text("external_id,name,owner\n" + "".join(f"{c.external_id},{c.name},OOST1\n" for c in mine))
    run_import("customers", owners)
    someone_else = Customer.objects.exclude(pair=pair).order_by("name").first()

    # 2. A rep sets a password from the emailed link, logs in and sees only the pair's customers.
    rep_page, rep_problems = new_page(chromium)
    rep_page.goto(_invite_link("oscar@example.com"))
    rep_page.fill("input[name=new_password1]", "Oscar-wachtwoord-7!")
    rep_page.fill("input[name=new_password2]", "Oscar-wachtwoord-7!")
    rep_page.click("button[type=submit]")
    rep_page.wait_for_load_state("networkidle")
    login(rep_page, demo_world, "oscar", "Oscar-wachtwoord-7!")
    rep_page.goto(f"{demo_world}/customers/")
    listing = rep_page.content()
    assert all(c.name in listing for c in mine)
    assert someone_else.name not in listing
    shot(rep_page, "org-2-rep-sees-own-customers")
    rep_problems.check()

    # 3. The organisation import refuses a pair with two outside reps and writes nothing.
    bad = tmp_path / "organisatie.csv"
    bad.write_text(
        "username,name,email,role,rep_kind,pair,team\n"
        "piet,Piet,piet@example.com,rep,outside,OOST2,Team Oost\n"
        "paul,Paul,paul@example.com,rep,outside,OOST2,Team Oost\n",
        encoding="utf-8",
    )
    users_before = User.objects.count()
    page.goto(f"{demo_world}/customers/import/")
    page.select_option("select[name=kind]", "organisation")
    page.set_input_files("input[name=file]", str(bad))
    page.click("form.import-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    errors = page.locator("#import-errors").inner_text()
    assert "exactly one outside and one inside" in errors
    assert User.objects.count() == users_before and not RepPair.objects.filter(code="OOST2").exists()
    shot(page, "org-3-import-refused")
    problems.items = [p for p in problems.items if "400" not in p]  # the import answers 400 on a bad file
    problems.check()

    # 4. Finance closes the oldest period (a late order in it is refused) and opens the next year.
    oldest = Period.objects.order_by("name").first().name
    latest = Period.objects.order_by("-name").first().name
    next_year = latest + 1
    fin, fin_problems = new_page(chromium)
    login(fin, demo_world, "finance", "demo-finance")
    fin.goto(f"{demo_world}/sales/organisation/periods/")
    fin.locator(f"tr[data-period='{oldest}'] button[type=submit]").click()
    fin.wait_for_load_state("networkidle")
    assert Period.objects.get(name=oldest).closed
    late = tmp_path / "late.csv"
    late.write_text(f"order_id,customer_id,date,amount\nLATE-1,{mine[0].external_id},{oldest}-12-30,100\n")
    fin.goto(f"{demo_world}/customers/import/")
    fin.select_option("select[name=kind]", "orders")
    fin.set_input_files("input[name=file]", str(late))
    fin.click("form.import-form button[type=submit]")
    fin.wait_for_load_state("networkidle")
    assert f"period {oldest} is closed" in fin.locator("#import-errors").inner_text()
    assert not Order.objects.filter(external_id="LATE-1").exists()
    fin_problems.items = [p for p in fin_problems.items if "400" not in p]
    fin.goto(f"{demo_world}/sales/organisation/periods/")
    fin.fill("#open-form input[name=name]", str(next_year))
    fin.select_option("#open-form select[name=copy_pools_from]", str(latest))
    fin.click("#open-form button[type=submit]")
    fin.wait_for_load_state("networkidle")
    shot(fin, "org-4-periods")
    fin_problems.check()
    from accounting.models import CostPool

    assert (
        CostPool.objects.filter(period__name=next_year).count()
        == CostPool.objects.filter(period__name=latest).count()
        > 0
    )

    # 5. A target for the new year: the rep proposes it, the badge counts it, the decision is in the history.
    page.goto(f"{demo_world}/sales/organisation/waiting/")
    waiting_before = int(page.locator("#menu-waiting-badge").inner_text())
    rep_page.goto(f"{demo_world}/sales/targets/customers/{mine[0].pk}/?period={next_year}")
    rep_page.fill("input[name=target_revenue]", "12345")
    rep_page.click("#target-form button[type=submit]")
    rep_page.wait_for_load_state("networkidle")
    rep_problems.check()
    target = CustomerTarget.objects.get(customer=mine[0], period__name=next_year)
    assert target.proposed_by_pair
    page.goto(f"{demo_world}/sales/organisation/waiting/")
    assert int(page.locator("#menu-waiting-badge").inner_text()) == waiting_before + 1
    page.locator(f"form[action$='/waiting/target/{target.pk}/approve/'] button").click()
    page.locator(".decided").wait_for()
    assert int(page.locator("#menu-waiting-badge").inner_text()) == waiting_before
    page.locator(f"form[action$='/waiting/target/{target.pk}/approve/']").wait_for(state="detached")
    page.locator(".decided a").first.click()
    page.wait_for_load_state("networkidle")
    history = page.content()
    assert "nieuw" in history and "oscar" in history
    shot(page, "org-5-history")
    problems.check()
    target.refresh_from_db()
    assert not target.proposed_by_pair and SalesRep.objects.filter(team__name="Team Oost").count() == 2
