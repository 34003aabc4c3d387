"""Two web processes (gunicorn) and three worker processes (one per app queue) on one
PostgreSQL and one Redis: orders fed through the API into both web processes converge."""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path

import pytest
import requests
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token

from tests.services.test_pipeline import assert_matches_from_scratch, build_data, wait_converged

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True), pytest.mark.timeout(600)]
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"web process on port {port} did not start")


def test_two_web_nodes_three_workers_converge(pipeline, tmp_path):
    from tests.services.conftest import free_port

    pipeline.start("customers", queues="customers,default")
    pipeline.start_beat()
    pipeline.start("accounting", queues="accounting")
    pipeline.start("scenarios", queues="scenarios,salesforce")
    ports = [free_port(), free_port()]
    for i, port in enumerate(ports):
        pipeline.spawn(
            f"web{i}",
            [GUNICORN, "config.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "1", "--timeout", "60"],
            extra_env={"ALLOWED_HOSTS": "127.0.0.1,localhost"},
        )
    build_data(tmp_path)
    admin = User.objects.create_superuser("feeder", "f@example.com", "pw-feeder")
    token = Token.objects.create(user=admin).key
    for port in ports:
        wait_port(port)
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    for i in range(40):
        port = ports[i % 2]
        r = session.post(
            f"http://127.0.0.1:{port}/api/v1/orders/",
            json={
                "order_id": f"API-{i}",
                "customer_id": f"K{i % 120:04d}",
                "date": f"2025-{1 + i % 12:02d}-05",
                "lines": [{"amount": f"{100 + i}.50", "cost": "40.00"}, {"amount": "20.00"}],
            },
            timeout=60,
        )
        assert r.status_code == 201, r.text
    wait_converged(pipeline)
    assert_matches_from_scratch()
    # Both web nodes serve the converged figures.
    for port in ports:
        r = session.get(f"http://127.0.0.1:{port}/api/v1/orders/API-3/", timeout=30)
        assert r.status_code == 200 and r.json()["lines"] == 2
