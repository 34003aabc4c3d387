"""Scenario levers out of bounds: the preview shows the error beside the lever and in place of the
projection (never the figures of the last valid levers), and the form asks the server, not the
browser, so a value like +500 points is never silently ignored."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.test import Client

from scenarios import services

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def scenario_page(db):
    call_command("load_demo", customers=150, seed=7, verbosity=0)
    from django.contrib.auth.models import User

    manager = User.objects.get(username="manager")
    scenario = services.scenario_create(name="Try", base_period=None, levers={}, acting_user=manager)
    client = Client()
    client.force_login(manager, backend=MODEL_BACKEND)
    return client, scenario


def _levers(**changes) -> dict:
    data = {
        "name": "Try",
        "base_period": "",
        "retention_top": "0",
        "retention_big": "0",
        "retention_medium": "0",
        "retention_small": "0",
        "upward_migration_points": "0",
        "acquisition_growth": "0",
        "spend_growth": "0",
        "cost_to_serve_change": "0",
        "discount_rate": "8",
        "horizon": "5",
    }
    data.update(changes)
    return data


def test_retention_plus_500_points_is_an_inline_error_not_a_stale_preview(scenario_page):
    client, scenario = scenario_page
    url = f"/scenarios/{scenario.pk}/preview/"
    good = client.post(url, _levers(), **HX).content.decode()
    assert 'class="kpis mini"' in good
    assert re.search(r'<div id="errors-retention_top" class="field-errors" hx-swap-oob="true">\s*</div>', good)
    bad = client.post(url, _levers(retention_top="500"), **HX).content.decode()
    assert 'class="kpis mini"' not in bad  # no projection of other levers under the bad one
    errors = re.search(r'<div id="errors-retention_top" class="field-errors" hx-swap-oob="true">(.*?)</div>', bad, re.S)
    assert "less than or equal to 50" in errors.group(1)
    assert "Correct the highlighted levers" in bad
    for value in ("abc", "1e9", "-51"):
        assert client.post(url, _levers(retention_big=value), **HX).status_code == 200


def test_the_lever_form_lets_the_server_validate(scenario_page):
    client, scenario = scenario_page
    html = client.get(f"/scenarios/{scenario.pk}/").content.decode()
    form = re.search(r'<form[^>]*id="scenario-form"[^>]*>', html).group(0)
    assert "novalidate" in form  # htmx skips a form the browser finds invalid: the preview went stale
    assert 'id="errors-retention_top"' in html
