"""Visit effectiveness: the norms are the company's (not the viewer's scope) and the reasons
are said in the page's language with formatted numbers."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import translation

from customers.models import Period
from salesforce_tasks import selectors

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@pytest.fixture
def demo(db):
    call_command("load_demo", customers=150, seed=7, verbosity=0)
    from django.contrib.auth.models import User

    return {u.username: u for u in User.objects.filter(username__in=["manager", "rep1"])}


def test_median_is_the_companys_whoever_looks(demo):
    period = Period.objects.order_by("-name").first()
    for_manager = selectors.visit_effectiveness(period=period, user=demo["manager"])["customers"]
    for_rep = selectors.visit_effectiveness(period=period, user=demo["rep1"])["customers"]
    assert 0 < len(for_rep) < len(for_manager)
    both = for_rep.merge(for_manager, on="customer_id", suffixes=("_rep", "_manager"))
    assert len(both) == len(for_rep)
    assert (both["median_minutes_rep"] == both["median_minutes_manager"]).all()
    assert (both["over_served_rep"] == both["over_served_manager"]).all()
    assert (both["under_served_rep"] == both["under_served_manager"]).all()


ENGLISH = re.compile(r"Over-served|Under-served|never visited|not visited for|while profit is|high-value customer")


def test_reasons_in_dutch_with_formatted_money(demo):
    client = Client()
    client.force_login(demo["manager"], backend=MODEL_BACKEND)
    client.cookies["django_language"] = "nl"
    html = client.get("/sales/effectiveness/?flag=all", headers={"Accept-Language": "nl"}).content.decode()
    reasons = re.findall(r'<td class="reason"[^>]*>(.*?)</td>', html, re.S)
    assert reasons, "no rows"
    text = " ".join(reasons)
    assert not ENGLISH.search(text), ENGLISH.search(text)
    assert not re.search(r"-€\d+\.\d\d", text)  # the old unformatted "-€89352.00"
    with translation.override("nl"):
        assert "Onderbediend" in text or "Overbediend" in text
