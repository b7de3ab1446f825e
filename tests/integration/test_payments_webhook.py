"""POST /webhooks/payments: signatures, replays, reordering, and what each event does."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from store_support import apply_policy, customer_row, write_ledger

from local_servers import serving
from pastdue import services
from pastdue.bootstrap import App
from pastdue.services import statements
from pastdue.signing import sign
from pastdue.web import create_app

SECRET = "whsec_current"
OLD_SECRET = "whsec_previous"


@pytest.fixture
def web_app(app: App, tmp_path: Path) -> App:
    folder = write_ledger(
        tmp_path / "ledger",
        customers=[customer_row("acme")],
        invoices=[
            ["i1", "acme", "INV-2026-00001", "EUR", "100.00", "2026-05-01", "2026-05-31"],
            ["i2", "acme", "INV-2026-00002", "EUR", "50.00", "2026-05-05", "2026-06-04"],
        ],
    )
    services.import_ledger(app, [folder])
    apply_policy(app, tmp_path)
    settings = dataclasses.replace(app.settings, payments_webhook_secret=f"{SECRET},{OLD_SECRET}")
    return dataclasses.replace(app, settings=settings)




@pytest.fixture
def client(web_app: App) -> Iterator[httpx.Client]:
    with serving(create_app(web_app)) as http:
        yield http


def event(
    event_id: str, kind: str, payment: str = "pay_1", amount: str = "100.00", created: int = 1782810000, **data: Any
) -> bytes:
    body = {
        "id": event_id,
        "type": kind,
        "created": created,
        "data": {"payment": payment, "amount": amount, "currency": "EUR", "customer_id": "acme", **data},
    }
    return json.dumps(body).encode()


def post(
    client: httpx.Client, body: bytes, *, secret: str | list[str] = SECRET, at: float | None = None
) -> httpx.Response:
    header = sign(secret, int(at if at is not None else time.time()), body)
    return client.post(
        "/webhooks/payments", content=body, headers={"Pastdue-Signature": header, "Content-Type": "application/json"}
    )


def open_amounts(app: App) -> dict[str, Decimal]:
    return {row.number: row.open_amount.amount for row in services.invoices(app)}


def test_a_signed_success_pays_the_oldest_invoice_once_however_often_it_is_delivered(
    client: httpx.Client, web_app: App
) -> None:
    body = event("evt_1", "payment.succeeded")
    first = post(client, body)
    assert first.status_code == 200 and first.json()["outcome"] == "processed"
    assert open_amounts(web_app) == {"INV-2026-00001": Decimal("0.00"), "INV-2026-00002": Decimal("50.00")}
    retried = post(client, body)  # the provider retries: a new signature, the same event
    assert retried.json()["outcome"] == "duplicate"
    again = post(client, event("evt_2", "payment.succeeded"))  # another event about the same payment
    assert again.json()["outcome"] == "stale"
    assert open_amounts(web_app)["INV-2026-00002"] == Decimal("50.00")


def test_signatures_are_checked_before_anything_is_read(client: httpx.Client, web_app: App) -> None:
    body = event("evt_1", "payment.succeeded")
    assert post(client, body, secret="wrong").status_code == 401
    assert post(client, body, at=time.time() - 3600).status_code == 401  # expired
    assert post(client, body, at=time.time() + 3600).status_code == 401  # from the future
    header = sign(SECRET, int(time.time()), body)
    tampered = body.replace(b"100.00", b"1.00")
    response = client.post("/webhooks/payments", content=tampered, headers={"Pastdue-Signature": header})
    assert response.status_code == 401
    assert client.post("/webhooks/payments", content=body).status_code == 401  # unsigned
    assert open_amounts(web_app)["INV-2026-00001"] == Decimal("100.00")
    # A secret being rotated out still verifies; Stripe's header name is accepted.
    rotated = client.post(
        "/webhooks/payments", content=body, headers={"Stripe-Signature": sign(OLD_SECRET, int(time.time()), body)}
    )
    assert rotated.status_code == 200 and rotated.json()["outcome"] == "processed"


def test_a_replayed_capture_is_refused_or_recognised(client: httpx.Client, web_app: App) -> None:
    body = event("evt_1", "payment.succeeded")
    captured = sign(SECRET, int(time.time()) - 400, body)
    late = client.post("/webhooks/payments", content=body, headers={"Pastdue-Signature": captured})
    assert late.status_code == 401
    assert post(client, body).json()["outcome"] == "processed"
    assert post(client, body).json()["outcome"] == "duplicate"


def test_events_out_of_order_never_move_a_payment_back(client: httpx.Client, web_app: App) -> None:
    assert post(client, event("evt_s", "payment.succeeded", created=1782810100)).json()["outcome"] == "processed"
    late_pending = post(client, event("evt_p", "payment.pending", created=1782810000)).json()
    assert late_pending["outcome"] == "stale"
    assert services.active_holds(web_app, web_app.clock().date()) == []

    refund_first = post(client, event("evt_r", "payment.refunded", payment="pay_2", amount="50.00")).json()
    assert refund_first["outcome"] == "processed"
    late_success = post(client, event("evt_s2", "payment.succeeded", payment="pay_2", amount="50.00")).json()
    assert late_success["outcome"] == "stale"
    assert open_amounts(web_app)["INV-2026-00002"] == Decimal("50.00")


def test_pending_holds_dunning_and_failure_resumes_it(client: httpx.Client, web_app: App) -> None:
    pending = post(client, event("evt_1", "payment.pending", expected_by="2026-07-10")).json()
    assert pending["detail"] == "payment in flight until 2026-07-10"
    [hold] = services.active_holds(web_app, web_app.clock().date())
    assert (hold["reason"], hold["until"], hold["invoice_id"]) == ("payment_in_flight", "2026-07-10", "i1")
    run = services.run_dunning(web_app, web_app.clock().date())
    assert run.skipped["held"] == 1
    assert post(client, event("evt_2", "payment.failed", reason="insufficient funds")).json()["outcome"] == "processed"
    assert services.active_holds(web_app, web_app.clock().date()) == []


def test_a_refund_reopens_what_the_payment_paid(client: httpx.Client, web_app: App) -> None:
    post(client, event("evt_1", "payment.succeeded", amount="150.00"))
    assert set(open_amounts(web_app).values()) == {Decimal("0.00")}
    refunded = post(client, event("evt_2", "payment.refunded", amount="150.00", reason="chargeback")).json()
    assert refunded["outcome"] == "processed"
    assert open_amounts(web_app) == {"INV-2026-00001": Decimal("100.00"), "INV-2026-00002": Decimal("50.00")}


def test_money_nobody_can_place_waits_for_a_person(client: httpx.Client, web_app: App) -> None:
    body = event("evt_1", "payment.succeeded", customer_id="ghost", invoices=["INV-9"])
    answer = post(client, body).json()
    assert answer["outcome"] == "queued" and "no customer 'ghost'" in answer["detail"]
    [waiting] = statements.list_matches(web_app)
    assert (waiting.status, waiting.amount.amount, waiting.source) == ("unmatched", Decimal("100.00"), "provider")
    statements.confirm_match(web_app, waiting.id, customer_id="acme")
    assert open_amounts(web_app)["INV-2026-00001"] == Decimal("0.00")


def test_invalid_events_and_bodies_are_refused_with_reasons(client: httpx.Client, web_app: App) -> None:
    assert post(client, b"{not json").status_code == 400
    bad = json.dumps(
        {"id": "e", "type": "payment.exploded", "created": "x", "data": {"amount": "-3", "currency": "EURO"}}
    )
    response = post(client, bad.encode())
    assert response.status_code == 400
    problems = " ".join(response.json()["problems"])
    for expected in ("unknown event type", "created", "data.payment", "unknown currency 'EURO'"):
        assert expected in problems
    huge = b'{"id": "' + b"x" * (1 << 20) + b'"}'
    assert post(client, huge).status_code == 413


def test_without_a_secret_the_endpoint_accepts_nothing(app: App) -> None:
    with serving(create_app(app)) as plain:
        body = event("evt_1", "payment.succeeded")
        response = plain.post("/webhooks/payments", content=body, headers={"Pastdue-Signature": sign("x", 1, body)})
        assert response.status_code == 503


def test_the_health_route_answers(client: httpx.Client, web_app: App) -> None:
    assert client.get("/health").json() == {"status": "ok", "tenant": web_app.tenant}
