"""The REST API's front door: API keys, scopes, tenant confinement and problem+json errors."""

from __future__ import annotations

import pytest
from api_support import World

from pastdue.services.api_keys import revoke_api_key

pytest_plugins = ["api_fixtures"]

PROBLEM = "application/problem+json"


def assert_problem(response: object, status: int, code: str) -> dict[str, object]:
    import httpx

    assert isinstance(response, httpx.Response)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["code"] == code
    assert body["type"] == f"urn:pastdue:problem:{code}"
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["errors"], list)
    return body


def test_the_api_documents_itself_in_openapi_3_1(world: World) -> None:
    response = world.http.get("/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.1")
    assert {
        "/customers", "/invoices/{invoice_id}", "/payments", "/holds/{hold_id}/release", "/runs", "/runs/{run_id}",
        "/policies/{name}", "/approvals/{notice_id}/approve", "/api-keys/{key_id}/revoke", "/reports/aging",
        "/reports/dso",
    } <= set(schema["paths"])  # fmt: skip
    not_found = schema["paths"]["/customers/{customer_id}"]["get"]["responses"]["404"]
    assert list(not_found["content"]) == [PROBLEM]
    assert schema["components"]["securitySchemes"]["ApiKey"] | {"description": ""} == {
        "type": "http",
        "scheme": "bearer",
        "description": "",
    }


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer nonsense", "Basic dXNlcjpwYXNz", "Bearer pd_live_AAAAAAAA.nobody.x"],
)
def test_a_request_without_a_valid_key_is_refused_with_401(world: World, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = world.http.get("/customers", headers=headers)
    body = assert_problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "pd_live" not in str(body["detail"])


def test_a_revoked_key_stops_working_at_once(world: World) -> None:
    assert world.get("/customers").status_code == 200
    revoke_api_key(world.a, world.key_ids["a"])
    assert_problem(world.get("/customers"), 401, "unauthenticated")
    assert_problem(world.post("/runs", {"as_of": "2026-06-30"}), 401, "unauthenticated")


def test_reading_needs_the_read_scope_and_writing_the_write_scope(world: World) -> None:
    assert world.get("/invoices", key="a_read").status_code == 200
    body = assert_problem(world.get("/invoices", key="a_write"), 403, "insufficient_scope")
    assert "read" in str(body["detail"])
    assert_problem(world.get("/invoices", key="a_admin"), 403, "insufficient_scope")
    refused = world.post("/holds", {"reason": "manual", "customer_id": "acme"}, key="a_read")
    assert_problem(refused, 403, "insufficient_scope")
    assert 'scope="write"' in refused.headers["www-authenticate"]
    assert world.get("/holds", key="a_read").json()["data"] == []
    created = world.post("/holds", {"reason": "manual", "customer_id": "acme"}, key="a_write")
    assert created.status_code == 201


GETS = [
    ("/customers/{customer}", "customer"),
    ("/invoices/{invoice}", "invoice"),
    ("/invoices/{invoice}?expand=customer", "invoice"),
    ("/payments/{payment}", "payment"),
    ("/notices/{notice}", "notice"),
    ("/holds/{hold}", "hold"),
    ("/matches/{match}", "match"),
    ("/notices/{notice}?expand=customer&expand=events", "notice"),
    ("/runs/{run}", "run"),
]
POSTS = [
    ("/holds/{hold}/release", {}),
    ("/matches/{match}/confirm", {"customer_id": "acme"}),
    ("/matches/{match}/reject", {"reason": "not ours"}),
]
ADMIN_POSTS = [
    ("/approvals/{notice}/approve", {}),
    ("/approvals/{notice}/reject", {}),
    ("/api-keys/{api_key}/revoke", {}),
]


@pytest.mark.parametrize(("path", "kind"), GETS)
def test_another_tenants_object_does_not_exist_for_a_key(world: World, path: str, kind: str) -> None:
    url = path.format(**world.b_ids)
    assert world.get(url, key="b").status_code == 200  # it exists, in tenant B
    assert_problem(world.get(url, key="a"), 404, "not_found")


@pytest.mark.parametrize(("path", "body"), ADMIN_POSTS)
def test_another_tenants_object_cannot_be_decided_by_an_admin_key(
    world: World, path: str, body: dict[str, str]
) -> None:
    assert_problem(world.post(path.format(**world.b_ids), body, key="a_admin"), 404, "not_found")
    assert world.get(f"/notices/{world.b_ids['notice']}", key="b").json()["status"] == "pending"
    assert world.get("/customers", key="b").status_code == 200  # B's key still works


def test_admin_routes_need_the_admin_scope_exactly(world: World) -> None:
    for key in ("a", "a_read", "a_write"):
        assert_problem(world.get("/api-keys", key=key), 403, "insufficient_scope")
        assert_problem(world.post("/api-keys", {"name": "x", "scopes": ["read"]}, key=key), 403, "insufficient_scope")
        assert_problem(world.post(f"/api-keys/{world.key_ids['a']}/revoke", key=key), 403, "insufficient_scope")
        assert_problem(world.post("/policies", {"toml": "name = 'x'"}, key=key), 403, "insufficient_scope")
        assert_problem(world.post(f"/approvals/{world.b_ids['notice']}/approve", key=key), 403, "insufficient_scope")
    assert world.get("/api-keys", key="a_admin").status_code == 200
    # Admin alone does not read or write the ledger.
    assert_problem(world.get("/policies", key="a_admin"), 403, "insufficient_scope")
    assert_problem(world.post("/runs", {"as_of": "2026-06-30"}, key="a_admin"), 403, "insufficient_scope")


@pytest.mark.parametrize(("path", "body"), POSTS)
def test_another_tenants_object_cannot_be_changed_by_a_key(world: World, path: str, body: dict[str, str]) -> None:
    url = path.format(**world.b_ids)
    assert_problem(world.post(url, body, key="a"), 404, "not_found")
    kind = path.split("/")[1]
    still = world.get(f"/{kind}/{world.b_ids[kind[:-1] if kind != 'matches' else 'match']}", key="b").json()
    assert still.get("active", True) is True and still.get("status") in (None, "unmatched")


def test_listings_and_references_never_cross_tenants(world: World) -> None:
    for path in ("/customers", "/invoices", "/payments", "/notices", "/holds", "/matches", "/runs", "/approvals"):
        ids = {item["id"] for item in world.get(path, limit=100).json()["data"]}
        assert not ids & set(world.b_ids.values()), path
    assert world.get("/invoices", customer_id="zeta").json()["data"] == []
    audit = world.get("/audit-events", limit=100).json()["data"]
    assert all(event["subject"] not in world.b_ids.values() for event in audit)
    # Naming tenant B's customer or invoice in a write is a problem in the request.
    paid = world.post("/payments", {"amount": {"amount": "1.00", "currency": "EUR"}, "received_on": "2026-06-30",
                                    "invoice_ids": ["z1"]})  # fmt: skip
    body = assert_problem(paid, 422, "invalid_request")
    assert body["errors"] == [{"field": "invoice_ids", "message": "no invoice 'z1'"}]
    held = world.post("/holds", {"reason": "dispute", "customer_id": "zeta"})
    assert assert_problem(held, 422, "invalid_request")["errors"] == [
        {"field": "customer_id", "message": "no customer 'zeta'"}
    ]


def test_every_error_is_a_problem_document(world: World) -> None:
    assert_problem(world.get("/nowhere"), 404, "not_found")
    assert_problem(world.http.put("/customers", headers=world.headers("a")), 405, "method_not_allowed")
    invalid = assert_problem(world.get("/invoices", limit=0, status="late"), 422, "invalid_request")
    assert {e["field"] for e in invalid["errors"]} == {"limit", "status"}  # type: ignore[union-attr]
    body = world.post("/payments", {"amount": {"amount": 12.5, "currency": "EUR"}, "received_on": "someday"})
    fields = {e["field"] for e in assert_problem(body, 422, "invalid_request")["errors"]}  # type: ignore[union-attr]
    assert fields == {"amount.amount", "received_on"}
    not_json = world.http.post(
        "/runs", content=b"{", headers={**world.headers("a"), "Content-Type": "application/json"}
    )
    assert_problem(not_json, 422, "invalid_request")
