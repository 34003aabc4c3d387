"""API docs work offline (Swagger UI from the project, not a CDN) and /api/v1/ lists the endpoints."""

from __future__ import annotations

import re

from django.contrib.staticfiles import finders
from django.test import Client

from tests.conftest import client_for


def test_swagger_ui_is_served_from_the_project(manager_user):
    client = Client()
    client.force_login(manager_user)
    html = client.get("/api/docs/").content.decode()
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', html) + re.findall(r'<link[^>]+href="([^"]+)"', html)
    assert scripts, html
    assert not [s for s in scripts if s.startswith(("http:", "https:", "//"))], scripts
    assert any("swagger-ui-bundle" in s for s in scripts)
    for src in scripts:
        if src.startswith("/static/"):
            assert finders.find(src.removeprefix("/static/")), f"{src} is not a static file of the project"


def test_api_root_lists_the_endpoints(manager_user):
    response = client_for(manager_user).get("/api/v1/")
    assert response.status_code == 200
    body = response.json()
    assert body["customers-api-list"].endswith("/api/v1/customers/")
    assert body["customers-api-detail"].endswith("/api/v1/customers/{pk}/")
    assert any(url.endswith("/api/v1/visits/") for url in body.values())
    for url in body.values():
        assert "/api/v1/" in url and "<" not in url


def test_api_root_needs_a_login(db):
    from rest_framework.test import APIClient

    assert APIClient().get("/api/v1/").status_code in (401, 403)
