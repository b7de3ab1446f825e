"""Dunning events are POSTed signed, and a receiver can tell a genuine event from a forged or replayed one."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator

import pytest

from local_servers import Reply, ScriptedHttpServer, http_server, notice
from pastdue.channels import WebhookChannel, sign, verify, webhook_channel
from pastdue.errors import ConfigurationError, PermanentFailure, TemporaryFailure

NOW = 1_782_810_000  # 2026-06-30 09:00 UTC


@pytest.fixture
def server() -> Iterator[ScriptedHttpServer]:
    with http_server() as scripted:
        yield scripted


@pytest.fixture
def webhook(server: ScriptedHttpServer) -> Iterator[WebhookChannel]:
    channel = WebhookChannel(f"{server.url}/hooks/dunning", ["whsec_new"], timeout=2, clock=lambda: NOW)
    yield channel
    channel.close()


def test_an_event_is_posted_as_json_with_the_notice_and_its_facts(
    webhook: WebhookChannel, server: ScriptedHttpServer
) -> None:
    receipt = webhook.send(notice(metadata={"tenant": "acme", "level": "2", "total": "EUR 1190.00"}))

    (request,) = server.requests
    assert request.method == "POST"
    assert request.path == "/hooks/dunning"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Idempotency-Key"] == "n-0001"
    event = request.json()
    assert event["type"] == "dunning.notice"
    assert event["id"] == "n-0001"
    assert event["created"] == NOW
    assert event["data"]["customer_id"] == "c-42"
    assert event["data"]["level"] == 2
    assert event["data"]["subject"] == "Payment reminder: invoice 2026-101"
    assert event["data"]["metadata"] == {"tenant": "acme", "level": "2", "total": "EUR 1190.00"}
    assert receipt.provider_id == "n-0001"


def test_the_receiver_verifies_the_signature_with_the_shared_secret(
    webhook: WebhookChannel, server: ScriptedHttpServer
) -> None:
    webhook.send(notice())

    (request,) = server.requests
    header = request.headers["Pastdue-Signature"]
    assert header.startswith(f"t={NOW},v1=")
    assert verify("whsec_new", header, request.body, now=NOW + 10)


def test_a_wrong_secret_a_tampered_body_or_an_old_timestamp_fail_verification(
    webhook: WebhookChannel, server: ScriptedHttpServer
) -> None:
    webhook.send(notice())

    (request,) = server.requests
    header = request.headers["Pastdue-Signature"]
    assert not verify("whsec_other", header, request.body, now=NOW)
    assert not verify("whsec_new", header, request.body.replace(b"c-42", b"c-43"), now=NOW)
    assert not verify("whsec_new", header, request.body, now=NOW + 301)
    assert not verify("whsec_new", header, request.body, now=NOW - 301)
    assert verify("whsec_new", header, request.body, now=NOW + 3600, tolerance=3600)


def test_during_rotation_either_secret_verifies(server: ScriptedHttpServer) -> None:
    channel = webhook_channel(f"{server.url}/hooks", "whsec_old, whsec_new")
    assert channel is not None
    try:
        channel.send(notice())
    finally:
        channel.close()

    (request,) = server.requests
    header = request.headers["Pastdue-Signature"]
    assert header.count("v1=") == 2
    now = int(header.split(",")[0].removeprefix("t="))
    assert verify("whsec_old", header, request.body, now=now)
    assert verify("whsec_new", header, request.body, now=now)
    assert verify(["whsec_unrelated", "whsec_new"], header, request.body, now=now)
    assert not verify("whsec_unrelated", header, request.body, now=now)


def test_a_malformed_signature_header_is_simply_not_valid() -> None:
    body = b'{"id":"n-1"}'
    for header in ["", "garbage", "t=abc,v1=00", f"t={NOW}", "v1=00", f"t={NOW},v1="]:
        assert not verify("s", header, body, now=NOW)


def test_sign_is_hmac_sha256_of_timestamp_dot_body() -> None:
    # The value a receiver in any language recomputes: HMAC-SHA256(secret, "1782810000.{}").
    expected = hmac.new(b"secret", b"1782810000.{}", hashlib.sha256).hexdigest()
    assert sign("secret", NOW, b"{}") == f"t={NOW},v1={expected}"
    assert sign(["a", "b"], NOW, b"{}").count(",v1=") == 2


def test_410_gone_is_a_permanent_failure(webhook: WebhookChannel, server: ScriptedHttpServer) -> None:
    server.script(Reply(410, b""))

    with pytest.raises(PermanentFailure, match="410"):
        webhook.send(notice())


def test_429_is_temporary_with_its_retry_after(webhook: WebhookChannel, server: ScriptedHttpServer) -> None:
    server.script(Reply(429, b"", headers={"Retry-After": "120"}))

    with pytest.raises(TemporaryFailure) as raised:
        webhook.send(notice())
    assert raised.value.retry_after == 120


def test_5xx_is_temporary(webhook: WebhookChannel, server: ScriptedHttpServer) -> None:
    server.script(Reply(500, b"oops"))

    with pytest.raises(TemporaryFailure, match="500"):
        webhook.send(notice())


def test_a_receiver_slower_than_the_timeout_is_temporary(server: ScriptedHttpServer) -> None:
    channel = WebhookChannel(f"{server.url}/hooks", ["s"], timeout=0.3)
    server.script(Reply(200, {}, delay=3))
    try:
        with pytest.raises(TemporaryFailure, match="timed out"):
            channel.send(notice())
    finally:
        channel.close()


def test_a_receiver_that_refuses_our_credentials_is_a_configuration_error(
    webhook: WebhookChannel, server: ScriptedHttpServer
) -> None:
    server.script(Reply(401, b""))

    with pytest.raises(ConfigurationError, match="PASTDUE_WEBHOOK_URL"):
        webhook.send(notice())


def test_no_url_means_no_webhook_and_a_url_without_secret_is_refused() -> None:
    assert webhook_channel("", "") is None
    with pytest.raises(ConfigurationError, match="PASTDUE_WEBHOOK_SECRET"):
        webhook_channel("https://hooks.example.com/dunning", "")
    with pytest.raises(ConfigurationError, match="plain http"):
        webhook_channel("http://hooks.example.com/dunning", "s")
