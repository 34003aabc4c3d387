"""PostgreSQL cannot store NUL characters: every entry point answers 400 instead of a 500."""

from tests.conftest import client_for


def test_json_body_with_nul_is_a_400(small_dataset, finance_user):
    r = client_for(finance_user).post(
        "/api/v1/orders/",
        {"order_id": "A\x00", "customer_id": "C1", "date": "2025-01-01", "lines": [{"amount": "1"}]},
        format="json",
    )
    assert r.status_code == 400
    assert "NUL" in r.json()["detail"]


def test_query_parameter_with_nul_is_a_400(small_dataset, client, manager_user):
    client.force_login(manager_user)
    assert client.get("/customers/", {"q": "x\x00y"}).status_code == 400


def test_form_field_with_nul_on_the_import_api_is_a_400_in_the_import_error_shape(small_dataset, finance_user):
    r = client_for(finance_user).post("/api/v1/imports/costs/", {"note": "a\x00b"}, format="multipart")
    assert r.status_code == 400
    body = r.json()
    assert body["total"] == 1 and "NUL" in body["errors"][0]["reason"] and "NUL" in body["detail"]
