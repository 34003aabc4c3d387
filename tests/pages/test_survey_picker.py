"""The survey form picks its customer with the visit form's search-as-you-type picker, not a
dropdown of every customer in scope."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.test import Client

from scenarios.models import SurveyResponse

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@pytest.fixture
def rep(db):
    call_command("load_demo", customers=150, seed=7, verbosity=0)
    from django.contrib.auth.models import User

    client = Client()
    client.force_login(User.objects.get(username="rep1"), backend=MODEL_BACKEND)
    return client


def test_survey_form_searches_instead_of_listing_every_customer(rep):
    html = rep.get("/scenarios/surveys/new/").content.decode()
    assert '<select name="customer"' not in html
    assert re.search(r'<input type="search" id="customer-q"[^>]*hx-get="/sales/visits/customers/"', html, re.S)
    found = rep.get("/sales/visits/customers/", {"q": "a"}).content.decode()
    picks = re.findall(r'name="customer" value="(\d+)"', found)
    assert 0 < len(picks) <= 10
    response = rep.post(
        "/scenarios/surveys/new/",
        {"customer": picks[0], "date": "2025-06-01", "score": "7", "round": "", "comment": ""},
    )
    assert response.status_code == 302
    assert SurveyResponse.objects.filter(customer_id=int(picks[0]), score=7).exists()
    # Opened for one customer, the picker shows that customer chosen.
    chosen = rep.get("/scenarios/surveys/new/", {"customer": picks[0]}).content.decode()
    assert re.search(rf'name="customer" value="{picks[0]}" required checked', chosen)


def test_a_survey_without_a_customer_is_an_inline_error(rep):
    response = rep.post("/scenarios/surveys/new/", {"date": "2025-06-01", "score": "7"})
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
