"""The API against its own OpenAPI schema, on a live server: schemathesis generates requests
for every operation; no response may be a 5xx, break the schema or answer a status code the
schema does not document. Anonymous requests get
401/403 on every operation."""

import re

import pytest
import requests
import schemathesis
from django.contrib.auth.models import User
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(900)]


@pytest.fixture
def api_world(live_server, tmp_path):
    from tests import dataset

    dataset.build(tmp_path)
    admin = User.objects.create_superuser("schema-admin", "a@example.com", "pw-schema-admin")
    token = Token.objects.create(user=admin)
    client = APIClient()
    client.force_authenticate(admin)
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return {"schema": response.json(), "token": token.key, "url": live_server.url}


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


#: Operations open to anonymous requests: logging in for an API token (locked out like the login page).
PUBLIC_OPERATIONS = {("post", "/api/v1/auth/token/")}


def test_anonymous_requests_are_refused_everywhere(api_world):
    refused = []
    for path, ops in api_world["schema"]["paths"].items():
        for method in ops:
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            if (method, path) in PUBLIC_OPERATIONS:
                r = requests.request(method, api_world["url"] + path, timeout=30)
                assert r.status_code == 400, f"{method.upper()} {path} without credentials: {r.status_code}"
                continue
            r = requests.request(method, api_world["url"] + _concrete(path), timeout=30)
            if r.status_code not in (401, 403):
                refused.append(f"{method.upper()} {path}: {r.status_code}")
    assert not refused, "anonymous access allowed: " + ", ".join(refused)
    # The schema and docs themselves need a login too.
    assert requests.get(api_world["url"] + "/api/schema/", timeout=30).status_code in (401, 403)


def test_every_operation_conforms_to_the_schema(api_world):
    schema = schemathesis.openapi.from_dict(api_world["schema"])
    headers = {"Authorization": f"Token {api_world['token']}"}
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, "the schema lists no operations"
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=12,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case):
            case.call_and_validate(
                base_url=api_world["url"],
                headers=headers,
                checks=[
                    not_a_server_error,
                    response_schema_conformance,
                    content_type_conformance,
                    status_code_conformance,
                ],
            )

        try:
            exercise()
        except Exception as exc:  # noqa: BLE001 - collect every failing operation, then report
            failures.append(f"{operation.label}: {str(exc)[:800]}")
    assert not failures, "\n\n".join(failures)
