"""Changing things through the REST API: payments, holds, matches and runs, each POST
idempotent under an ``Idempotency-Key``."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import pytest
from access_support import MovingClock
from api_support import World, queue_credit

from conftest import FIXED_NOW
from pastdue import services
from pastdue.services import idempotency
from pastdue.services.api_keys import create_api_key

pytest_plugins = ["api_fixtures", "access_fixtures"]

EUR_120 = {"amount": {"amount": "120.00", "currency": "EUR"}, "received_on": "2026-06-30", "customer_id": "acme"}


def open_amounts(world: World) -> dict[str, str]:
    return {i["id"]: i["open_amount"]["amount"] for i in world.get("/invoices").json()["data"]}


def test_a_payment_is_recorded_and_allocated_at_once(world: World) -> None:
    response = world.post(
        "/payments",
        {
            "amount": {"amount": "40.00", "currency": "EUR"},
            "received_on": "2026-06-29",
            "invoice_ids": ["i3"],
            "reference": "RF18 INV-3",
        },
    )
    assert response.status_code == 201, response.text
    payment = response.json()
    assert (payment["object"], payment["source"], payment["status"], payment["customer_id"]) == (
        "payment",
        "manual",
        "applied",
        "beta",
    )
    assert payment["allocations"] == [
        {"invoice_id": "i3", "invoice_number": "INV-3", "amount": {"amount": "30.00", "currency": "EUR"}}
    ]
    assert payment["unapplied"] == {"amount": "10.00", "currency": "EUR"}
    assert open_amounts(world) == {"i1": "100.00", "i2": "0.00", "i3": "0.00"}
    [event] = world.get("/audit-events", kind="payment").json()["data"]
    assert event["actor"] == f"api:{world.key_ids['a']}"


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"amount": {"amount": "1.001", "currency": "EUR"}}, {"amount.amount"}),
        ({"amount": {"amount": "1.00", "currency": "XXY"}}, {"amount.currency"}),
        ({"amount": {"amount": "0", "currency": "EUR"}}, {"amount"}),
        ({"customer_id": "nobody"}, {"customer"}),
        ({"customer_id": None}, {"customer"}),
        ({"invoice_ids": ["i1", "nope", "gone"]}, {"invoice_ids"}),
        ({"received_on": "1066-10-14"}, {"received_on"}),
        ({"surprise": 1}, {"surprise"}),
    ],
)
def test_a_bad_payment_is_refused_whole_with_the_fields_at_fault(
    world: World, change: dict[str, object], fields: set[str]
) -> None:
    response = world.post("/payments", EUR_120 | change)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "invalid_request"
    assert {e["field"] for e in body["errors"]} == fields
    assert world.get("/payments").json()["data"] == []


def test_a_hold_is_placed_and_released(world: World) -> None:
    created = world.post("/holds", {"reason": "dispute", "invoice_id": "i1", "until": "2026-07-31", "note": "damaged"})
    assert created.status_code == 201, created.text
    hold = created.json()
    assert (hold["customer_id"], hold["invoice_id"], hold["reason"], hold["until"], hold["note"], hold["active"]) == (
        "acme",
        "i1",
        "dispute",
        "2026-07-31",
        "damaged",
        True,
    )
    assert services.run_dunning(world.a, FIXED_NOW.date()).skipped["held"] == 1
    released = world.post(f"/holds/{hold['id']}/release")
    assert released.status_code == 200 and released.json()["ended"] == "released"
    again = world.post(f"/holds/{hold['id']}/release")
    assert (again.status_code, again.json()["code"]) == (409, "hold_ended")
    assert world.post("/holds/no-such-hold/release").status_code == 404


def test_a_hold_names_an_invoice_or_a_customer(world: World) -> None:
    both = world.post("/holds", {"reason": "manual", "invoice_id": "i1", "customer_id": "acme"})
    neither = world.post("/holds", {"reason": "manual"})
    for response in (both, neither):
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "invoice_id"
    bad_reason = world.post("/holds", {"reason": "payment_in_flight", "customer_id": "acme"})
    assert bad_reason.status_code == 422 and bad_reason.json()["errors"][0]["field"] == "reason"


def test_a_person_confirms_or_rejects_a_bank_credit(world: World) -> None:
    queue_credit(world.a, "credit-1", "100.00")
    queue_credit(world.a, "credit-2", "5.00")
    confirmed = world.post("/matches/credit-1/confirm", {"invoice_ids": ["i1"]})
    assert confirmed.status_code == 200, confirmed.text
    payment = confirmed.json()
    assert (payment["object"], payment["id"], payment["status"], payment["customer_id"]) == (
        "payment",
        "credit-1",
        "applied",
        "acme",
    )
    assert open_amounts(world)["i1"] == "0.00"
    rejected = world.post("/matches/credit-2/reject", {"reason": "a refund to make"})
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert world.get("/matches").json()["data"] == []
    # Deciding again is a conflict with what the client saw, named by a stable code.
    for path, body in (
        ("/matches/credit-1/confirm", {}),
        ("/matches/credit-2/reject", {"reason": "again"}),
        ("/matches/credit-1/reject", {"reason": "late"}),
        ("/matches/credit-2/confirm", {}),
    ):
        twice = world.post(path, body)
        assert (twice.status_code, twice.json()["code"]) == (409, "match_decided"), path
    assert world.post("/matches/nothing/reject", {"reason": "x"}).status_code == 404
    empty = world.post("/matches/credit-2/reject", {"reason": ""})
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "reason"


def test_a_run_is_queued_runs_in_the_background_and_keeps_its_result(world: World) -> None:
    accepted = world.post("/runs", {"as_of": "2026-06-30", "dry_run": True})
    assert accepted.status_code == 202, accepted.text
    queued = accepted.json()
    assert (queued["object"], queued["dry_run"], queued["as_of"]) == ("run", True, "2026-06-30")
    assert queued["status"] in ("queued", "running", "succeeded")
    assert queued["requested_by"] == f"api:{world.key_ids['a']}"
    dry = world.finished_run(queued["id"])
    assert (dry["status"], dry["error"], dry["result"]["notices"]) == ("succeeded", None, 1)
    assert dry["started_at"] and dry["finished_at"]
    assert world.get("/notices").json()["data"] == []
    first = world.finished_run(world.post("/runs", {"as_of": "2026-06-30"}).json()["id"])
    result = first["result"]
    assert (first["as_of"], result["reviewed"], result["notices"], result["by_level"]["1"]) == ("2026-06-30", 2, 1, 1)
    again = world.finished_run(world.post("/runs", {"as_of": "2026-06-30"}).json()["id"])
    assert again["result"]["notices"] == 0
    assert len(world.get("/notices").json()["data"]) == 1
    assert world.post("/runs", {"as_of": "0001-01-01"}).status_code == 422
    listed = world.get("/runs").json()["data"]
    assert [r["id"] for r in listed] == [dry["id"], first["id"], again["id"]]
    assert world.get(f"/runs/{first['id']}").json() == first
    assert [r["id"] for r in world.get("/runs", status="succeeded", limit=1).json()["data"]] == [dry["id"]]


def test_runs_of_one_tenant_take_turns_in_the_order_asked(world: World) -> None:
    ids = [world.post("/runs", {"as_of": f"2026-07-{day:02d}"}).json()["id"] for day in range(1, 6)]
    done = [world.finished_run(run_id) for run_id in ids]
    assert [r["status"] for r in done] == ["succeeded"] * 5
    # In the order asked, each on what the one before it left: INV-1's reminder on the
    # first day, INV-3's (due 2026-07-01) on the second, nothing new after.
    assert [r["result"]["notices"] for r in done] == [1, 1, 0, 0, 0]
    assert [r["id"] for r in world.get("/runs").json()["data"]] == ids


def test_a_run_without_a_policy_fails_with_the_reason(world: World, make_app: Any) -> None:
    bare = make_app("bare" + uuid.uuid4().hex[:8])
    _key_id, key = create_api_key(bare, "ops", ["read", "write"])
    bare.engine.dispose()
    run = world.post("/runs", {"as_of": "2026-06-30"}, key=key).json()
    failed = world.finished_run(run["id"], key=key)
    assert failed["status"] == "failed" and failed["result"] is None
    assert "no policy applied yet" in failed["error"]
    assert world.get(f"/runs/{run['id']}").status_code == 404  # another tenant's run


def test_a_retry_with_the_same_key_and_body_replays_the_first_answer(world: World) -> None:
    key = str(uuid.uuid4())
    first = world.post("/payments", EUR_120, idempotency_key=key)
    retry = world.post("/payments", EUR_120, idempotency_key=key)
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    assert len(world.get("/payments").json()["data"]) == 1
    assert open_amounts(world)["i1"] == "0.00"
    # Without a key each POST is new.
    world.post("/payments", EUR_120)
    assert len(world.get("/payments").json()["data"]) == 2


def test_a_key_reused_for_another_request_is_refused(world: World) -> None:
    key = str(uuid.uuid4())
    assert world.post("/payments", EUR_120, idempotency_key=key).status_code == 201
    other = world.post("/payments", EUR_120 | {"reference": "other"}, idempotency_key=key)
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"
    assert other.json()["errors"] == [{"field": "Idempotency-Key", "message": "used for another request"}]
    elsewhere = world.post("/holds", {"reason": "manual", "customer_id": "acme"}, idempotency_key=key)
    assert elsewhere.status_code == 409
    assert len(world.get("/payments").json()["data"]) == 1


def test_refusals_are_replayed_but_credentials_are_not_kept(world: World) -> None:
    key = str(uuid.uuid4())
    bad = {"reason": "manual", "customer_id": "nobody"}
    assert world.post("/holds", bad, idempotency_key=key).status_code == 422
    replay = world.post("/holds", bad, idempotency_key=key)
    assert replay.status_code == 422 and replay.headers["idempotent-replayed"] == "true"
    assert replay.headers["content-type"] == "application/problem+json"
    # A scope refused says nothing about the request: the key is free for the right credential.
    fresh = str(uuid.uuid4())
    good = {"reason": "manual", "customer_id": "acme"}
    assert world.post("/holds", good, key="a_read", idempotency_key=fresh).status_code == 403
    assert world.post("/holds", good, key="a_write", idempotency_key=fresh).status_code == 201


def test_keys_belong_to_their_tenant_and_expire_after_a_day(moving_world: World, moving_clock: MovingClock) -> None:
    world = moving_world
    key = str(uuid.uuid4())
    assert world.post("/holds", {"reason": "manual", "customer_id": "acme"}, idempotency_key=key).status_code == 201
    # Tenant B may use the same key for its own request.
    other = world.post("/holds", {"reason": "manual", "customer_id": "zeta"}, key="b", idempotency_key=key)
    assert other.status_code == 201
    moving_clock.advance(hours=25)
    later = world.post("/holds", {"reason": "manual", "customer_id": "beta"}, idempotency_key=key)
    assert later.status_code == 201 and "idempotent-replayed" not in later.headers


def test_an_idempotency_key_longer_than_255_characters_is_refused(world: World) -> None:
    response = world.post("/holds", {"reason": "manual", "customer_id": "acme"}, idempotency_key="k" * 256)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "Idempotency-Key"
    assert world.get("/holds").json()["data"] == []


def test_a_key_whose_first_request_still_runs_is_refused_until_it_ends(world: World) -> None:
    key = str(uuid.uuid4())
    body = b'{"reason":"manual","customer_id":"acme"}'
    digest = hashlib.sha256(b"\x1f".join([b"POST", b"/api/v1/holds", b"", body])).hexdigest()
    idempotency.claim(world.a, key, digest)  # as a first request, still running, did
    headers = world.headers("a") | {"Idempotency-Key": key, "Content-Type": "application/json"}
    busy = world.http.post("/holds", content=body, headers=headers)
    assert (busy.status_code, busy.json()["code"]) == (409, "idempotency_key_in_use")
    assert world.get("/holds").json()["data"] == []
    idempotency.forget(world.a, key)  # the first request failed: the key is free again
    assert world.http.post("/holds", content=body, headers=headers).status_code == 201
