"""Every page of the organisation, periods, waiting-for-me and history is Dutch for a Dutch browser:
each is rendered with ``Accept-Language: nl`` and the text of its ``<main>`` (and the attributes a
person reads) holds none of a list of English words that the pages would show untranslated."""

import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from customers.models import Customer, Period
from salesforce_tasks.models import Action, CustomerTarget
from salesforce_tasks.organisation import services
from tests.salesforce_tasks.test_services import build_sales_force
from tests.test_i18n import compiled_catalogues  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

#: English words of these pages (labels, buttons, headings, values) that a Dutch page must not show.
ENGLISH = (
    "the and for with your you no yet none true false "
    "organisation teams reps rep pairs pair history periods period reopen close closed open waiting approve "
    "approved reject rejected proposed targets actions invite invitation create add save send users roles role "
    "inactive active created changed deleted before after field when who kind username name email login change "
    "record system outside inside customer revenue profit level action year from until filter all leaves hand "
    "deactivate share credit"
).split()
#: Words the same in both languages (or names from the data), allowed anyway.
SAME = {"team", "teams", "manager", "code", "open", "filter", "level"}
VISIBLE_ATTRIBUTES = {"placeholder", "title", "aria-label", "alt"}


class _MainText(HTMLParser):
    def __init__(self):
        super().__init__()
        self.depth, self.skip, self.parts = 0, 0, []

    def handle_starttag(self, tag, attrs):
        if tag == "main":
            self.depth += 1
        if tag in ("script", "style"):
            self.skip += 1
        if self.depth or tag == "span":
            attrs = dict(attrs)
            self.parts += [v for k, v in attrs.items() if k in VISIBLE_ATTRIBUTES and v]
            if tag == "input" and attrs.get("type") in ("submit", "button"):
                self.parts.append(attrs.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "main":
            self.depth -= 1
        if tag in ("script", "style"):
            self.skip -= 1

    def handle_data(self, data):
        if (self.depth or self.whole) and not self.skip:
            self.parts.append(data)


def english_words(html: str, *, whole: bool = False) -> list[str]:
    parser = _MainText()
    parser.whole = whole
    parser.feed(html)
    text = " ".join(parser.parts)
    words = {w.lower() for w in re.findall(r"\b[A-Za-z]+\b", text)}  # not "rep" of a username "rep1"
    return sorted((words & set(ENGLISH)) - SAME)


def _client(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="nl")
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def url(name, *args):
    return reverse(f"salesforce:organisation:{name}", args=args)


@pytest.fixture
def world(small_dataset, rep_user, manager_user, finance_user, compiled_catalogues):  # noqa: F811
    sf = build_sales_force(rep_user=rep_user, manager_user=manager_user)
    c1 = Customer.objects.get(external_id="C1")
    target = CustomerTarget.objects.create(
        customer=c1, period=small_dataset[2025], target_revenue=Decimal("5000"), proposed_by_pair=True
    )
    action = Action.objects.create(customer=c1, period=small_dataset[2025], type="other", proposed_by=rep_user)
    admin = User.objects.create_superuser("beheer", "beheer@example.com", "pw-beheer")
    services.user_roles_set(user=rep_user, roles=["rep", "finance"], acting_user=admin)
    services.team_update(team=sf.north, name="Noord", acting_user=admin)
    from salesforce_tasks.organisation.periods import year_close

    year_close(name=2024, acting_user=finance_user)
    return {"sf": sf, "target": target, "action": action, "admin": admin, "c1": c1}


def _context(response, words):
    text = re.sub(r"<[^>]+>", " ", response.content.decode())
    return [m.group(0) for w in words for m in re.finditer(r".{0,60}\b" + w + r"\b.{0,40}", text, re.I | re.S)][:6]


def _dutch(response, *, whole=False):
    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    if not whole:
        assert '<html lang="nl">' in html
    return english_words(html, whole=whole)


def test_the_organisation_pages_are_dutch(world, manager_user):
    sf, admin = world["sf"], world["admin"]
    pages = {
        "teams (manager)": _client(manager_user).get(url("teams")),
        "team (manager)": _client(manager_user).get(url("team", sf.north.pk)),
        "users (manager)": _client(manager_user).get(url("users")),
        "teams (admin)": _client(admin).get(url("teams")),
        "team (admin)": _client(admin).get(url("team", sf.north.pk)),
        "users (admin)": _client(admin).get(url("users")),
    }
    found = {name: _dutch(response) for name, response in pages.items()}
    if any(found.values()):
        print({n: _context(r, found[n]) for n, r in pages.items() if found[n]})
    assert not any(found.values()), found
    # A refused form is Dutch too (its errors and the form around them).
    refused = _client(manager_user).post(url("pair_new", sf.north.pk), {"code": "X"})
    assert not _dutch(refused), _dutch(refused)


def test_periods_waiting_and_history_pages_are_dutch(world, manager_user, finance_user):
    target, action = world["target"], world["action"]
    period = Period.objects.get(name=2024)
    manager, finance = _client(manager_user), _client(finance_user)
    pages = {
        "periods": finance.get(url("periods")),
        "waiting": manager.get(url("waiting")),
        "history log (manager)": manager.get(url("history")),
        "history log (finance)": finance.get(url("history")),
        "history of a period": finance.get(url("record_history", "period", period.pk)),
        "history of a team": manager.get(url("record_history", "team", world["sf"].north.pk)),
        "history of a user": _client(world["admin"]).get(url("record_history", "user", world["sf"].a_out.user_id)),
    }
    found = {name: _dutch(response) for name, response in pages.items()}
    if any(found.values()):
        print({n: _context(r, found[n]) for n, r in pages.items() if found[n]})
    assert not any(found.values()), found
    decided = manager.post(url("decide", "target", target.pk, "approve"), HTTP_HX_REQUEST="true")
    assert not _dutch(decided, whole=True), _dutch(decided, whole=True)
    rejected = manager.post(url("decide", "action", action.pk, "reject"), HTTP_HX_REQUEST="true")
    assert not _dutch(rejected, whole=True), _dutch(rejected, whole=True)
    history = _dutch(manager.get(url("record_history", "target", target.pk)))
    assert not history, history


def test_the_checker_finds_english():
    html = "<main><h1>History of changes</h1><p>No reps yet, rep1.</p></main><footer>Close</footer>"
    assert english_words(html) == ["history", "no", "reps", "yet"]
    assert english_words('<main><input placeholder="username"><p>Geschiedenis</p></main>') == ["username"]
