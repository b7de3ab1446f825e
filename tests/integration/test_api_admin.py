"""What the admin scope does through the REST API: policies applied, API keys managed and
notices approved; and what read and write keys may (and may not) see of it."""

from __future__ import annotations

import uuid

import pytest
from api_support import AS_OF, World
from test_api_access import assert_problem

from pastdue.policies import standard_policy_toml
from pastdue.services.dunning_run import run_dunning

pytest_plugins = ["api_fixtures"]

APPROVAL = standard_policy_toml("step").replace(
    'after_days = 1\nchannels = ["email"]', 'after_days = 1\nchannels = ["email"]\nrequires_approval = true', 1
)


def test_policies_are_listed_and_shown_with_levels_version_and_digest(world: World) -> None:
    [listed] = world.get("/policies").json()["data"]
    standard = world.get("/policies/standard", key="a_read").json()
    assert standard == listed
    assert (standard["object"], standard["name"], standard["version"], standard["default"]) == (
        "policy",
        "standard",
        1,
        True,
    )
    assert len(standard["digest"]) == 64
    assert [(lvl["number"], lvl["after_days"], lvl["channels"]) for lvl in standard["levels"]][:2] == [
        (1, 1, ["email"]),
        (2, 8, ["email"]),
    ]
    assert_problem(world.get("/policies/nothing"), 404, "not_found")
    assert [p["name"] for p in world.get("/policies", key="b").json()["data"]] == ["standard"]


def test_applying_a_policy_needs_the_admin_scope_and_makes_a_new_version(world: World) -> None:
    body = {"toml": APPROVAL}
    for key in ("a", "a_write", "a_read"):
        assert_problem(world.post("/policies", body, key=key), 403, "insufficient_scope")
    created = world.post("/policies", body, key="a_admin")
    assert created.status_code == 201, created.text
    policy = created.json()
    assert (policy["version"], policy["levels"][0]["requires_approval"]) == (2, True)
    assert policy["digest"] != world.get("/policies/standard", key="b").json()["digest"]  # B keeps its own
    same = world.post("/policies", body, key="a_admin")
    assert same.status_code == 200 and same.json()["version"] == 2
    [event] = world.get("/audit-events", kind="policy", limit=100).json()["data"][-1:]
    assert (event["actor"], event["payload"]["version"]) == (f"api:{world.key_ids['a_admin']}", 2)


def test_a_bad_policy_is_refused_with_every_problem(world: World) -> None:
    broken = 'name = "x"\nescalation = "sideways"\n[[levels]]\nname = "r"\nafter_days = "one"\nchannels = ["pigeon"]\n'
    body = assert_problem(world.post("/policies", {"toml": broken}, key="a_admin"), 422, "invalid_request")
    assert len(body["errors"]) >= 2  # type: ignore[arg-type]
    not_toml = assert_problem(world.post("/policies", {"toml": "name = "}, key="a_admin"), 422, "invalid_request")
    assert "TOML" in str(not_toml["errors"])
    assert [p["name"] for p in world.get("/policies").json()["data"]] == ["standard"]


def test_notices_awaiting_approval_are_listed_and_decided_by_an_admin(world: World) -> None:
    assert world.post("/policies", {"toml": APPROVAL}, key="a_admin").status_code == 201
    run_dunning(world.a, AS_OF)
    [waiting] = world.get("/approvals", key="a_read").json()["data"]
    assert (waiting["status"], waiting["customer_id"], waiting["invoices"]) == ("awaiting_approval", "acme", ["INV-1"])
    path = f"/approvals/{waiting['id']}"
    assert_problem(world.post(f"{path}/approve", {}, key="a"), 403, "insufficient_scope")
    approved = world.post(f"{path}/approve", {"note": "fine"}, key="a_admin")
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "pending"
    assert world.get("/approvals").json()["data"] == []
    again = assert_problem(world.post(f"{path}/reject", {}, key="a_admin"), 409, "not_awaiting_approval")
    assert waiting["id"] in str(again["detail"])
    [event] = world.get("/audit-events", kind="approval").json()["data"]
    assert (event["actor"], event["payload"]["decision"], event["payload"]["note"]) == (
        f"api:{world.key_ids['a_admin']}",
        "approved",
        "fine",
    )


def test_a_rejected_notice_is_stopped_for_good(world: World) -> None:
    world.post("/policies", {"toml": APPROVAL}, key="a_admin")
    run_dunning(world.a, AS_OF)
    [waiting] = world.get("/approvals").json()["data"]
    rejected = world.post(f"/approvals/{waiting['id']}/reject", {"note": "customer called"}, key="a_admin")
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert_problem(world.post("/approvals/nobody/approve", {}, key="a_admin"), 404, "not_found")
    # Tenant B's notice does not exist for tenant A's admin.
    assert_problem(world.post(f"/approvals/{world.b_ids['notice']}/approve", {}, key="a_admin"), 404, "not_found")


def test_api_keys_are_created_once_listed_without_secrets_and_revoked(world: World) -> None:
    assert_problem(world.get("/api-keys", key="a"), 403, "insufficient_scope")
    idem = str(uuid.uuid4())
    created = world.post("/api-keys", {"name": "zapier", "scopes": ["read"]}, key="a_admin", idempotency_key=idem)
    assert created.status_code == 201, created.text
    key = created.json()
    assert (key["object"], key["name"], key["scopes"], key["active"]) == ("api_key", "zapier", ["read"], True)
    assert key["secret"].startswith(f"{key['id']}.{world.a.tenant}.")
    assert world.get("/customers", key=key["secret"]).status_code == 200
    # A retry never shows the secret again, and creates nothing.
    retry = world.post("/api-keys", {"name": "zapier", "scopes": ["read"]}, key="a_admin", idempotency_key=idem)
    body = assert_problem(retry, 409, "api_key_created")
    assert key["secret"] not in retry.text and key["id"] in str(body["detail"])
    listed = world.get("/api-keys", key="a_admin", limit=100).json()["data"]
    assert len(listed) == 5 and all("secret" not in k for k in listed)
    assert {k["id"] for k in listed} == {*world.key_ids.values(), key["id"]} - {world.key_ids["b"]}
    revoked = world.post(f"/api-keys/{key['id']}/revoke", key="a_admin")
    assert revoked.status_code == 200 and (revoked.json()["active"], bool(revoked.json()["revoked_at"])) == (
        False,
        True,
    )
    assert_problem(world.get("/customers", key=key["secret"]), 401, "unauthenticated")
    assert_problem(world.post(f"/api-keys/{key['id']}/revoke", key="a_admin"), 409, "api_key_revoked")
    assert_problem(world.post(f"/api-keys/{world.key_ids['b']}/revoke", key="a_admin"), 404, "not_found")
    assert world.get("/customers", key="b").status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "scopes": []}, "scopes"),
        ({"name": "x", "scopes": ["root"]}, "scopes"),
        ({"name": "", "scopes": ["read"]}, "name"),
        ({"scopes": ["read"]}, "name"),
    ],
)
def test_a_bad_api_key_request_is_refused(world: World, body: dict[str, object], field: str) -> None:
    refused = assert_problem(world.post("/api-keys", body, key="a_admin"), 422, "invalid_request")
    assert {e["field"] for e in refused["errors"]} == {field}  # type: ignore[union-attr]
