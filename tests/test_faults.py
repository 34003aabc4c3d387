"""Inputs and faults that were 500s (issue 13, finding 11): each answers a 4xx or goes on.

The cost-pool delete race needs two PostgreSQL connections: tests/services/test_cost_pool_delete_race.py.
"""

import pytest
from django.core.management import call_command
from django.db.models import F

from config.sanitize import JSON_MAX_DEPTH
from customers.models import Computation
from customers.selectors import computation_status
from scenarios.models import Scenario, SegmentTarget
from tests.conftest import client_for

# Nothing listens on this port: Redis is "down".
REDIS_DOWN = "redis://127.0.0.1:6390/0"


@pytest.fixture
def manager_api(small_dataset, manager_user):
    return client_for(manager_user)


@pytest.fixture
def scenario(manager_api):
    response = manager_api.post("/api/v1/scenarios/", {"name": "Groei", "levers": {}}, format="json")
    assert response.status_code == 201
    return Scenario.objects.get(pk=response.json()["id"])


def test_patch_of_a_segment_target_with_an_empty_body_changes_nothing(manager_api, small_dataset):
    created = manager_api.post(
        "/api/v1/segment-targets/",
        {"period": 2025, "segment": "partners", "metric": "customer_retention", "target": "0.8500"},
        format="json",
    )
    assert created.status_code == 201
    target_id = created.json()["id"]
    response = manager_api.patch(f"/api/v1/segment-targets/{target_id}/", {}, format="json")
    assert response.status_code == 200
    assert str(SegmentTarget.objects.get(pk=target_id).target) == "0.8500"


@pytest.mark.parametrize("body", ["[1, 2]", '"a name"', "7", "null"])
def test_copy_of_a_scenario_with_a_body_that_is_no_object_is_a_400(manager_api, scenario, body):
    response = manager_api.post(f"/api/v1/scenarios/{scenario.pk}/copy/", body, content_type="application/json")
    assert response.status_code == 400


def test_copy_of_a_scenario_still_copies(manager_api, scenario):
    response = manager_api.post(f"/api/v1/scenarios/{scenario.pk}/copy/", {"name": "Groei 2"}, format="json")
    assert response.status_code == 201 and response.json()["name"] == "Groei 2"


def test_projection_of_a_scenario_id_that_is_no_number_is_a_404(manager_api):
    assert manager_api.get("/api/v1/scenarios/abc/projection/").status_code == 404


@pytest.mark.parametrize("opening,closing", [("[", "]"), ('{"a":', "}")])
def test_json_nested_hundreds_of_levels_deep_is_a_400(manager_api, scenario, opening, closing):
    body = opening * 400 + "1" + closing * 400
    for url in ("/api/v1/orders/", f"/api/v1/scenarios/{scenario.pk}/copy/", "/api/v1/segment-targets/"):
        response = manager_api.post(url, body, content_type="application/json")
        assert response.status_code == 400, url
        assert "nest" in response.json()["detail"]


def test_json_nested_within_the_limit_is_parsed(manager_api, scenario):
    body = '{"name": "x", "deep": ' + "[" * (JSON_MAX_DEPTH - 2) + "]" * (JSON_MAX_DEPTH - 2) + "}"
    response = manager_api.post(f"/api/v1/scenarios/{scenario.pk}/copy/", body, content_type="application/json")
    assert response.status_code == 201


@pytest.fixture
def redis_down(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.TolerantRedisCache",
            "LOCATION": REDIS_DOWN,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


def test_progress_is_read_without_redis(small_dataset, redis_down):
    Computation.objects.filter(period=small_dataset[2025], stage="profit").update(requested=F("computed") + 1)
    status = computation_status(period=small_dataset[2025])
    assert status["stale"] and status["stage"] == "profit" and status["percent"] == 5


def test_recompute_command_runs_without_redis(small_dataset, redis_down, capsys):
    Computation.objects.update(requested=F("computed") + 1)
    call_command("recompute", "--period", "2025")
    assert "Recomputed 2025" in capsys.readouterr().out
    assert not Computation.objects.filter(period=small_dataset[2025], computed__lt=F("requested")).exists()


def test_the_redis_cache_is_the_tolerant_one_when_redis_is_configured():
    import subprocess
    import sys

    code = (
        "import django; django.setup(); from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**__import__("os").environ, "REDIS_URL": REDIS_DOWN, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip() == "config.cache.TolerantRedisCache"
