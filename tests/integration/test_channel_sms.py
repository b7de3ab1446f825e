"""Text messages reach Twilio-shaped and generic gateways (scripted, on 127.0.0.1), counted as phones bill them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from local_servers import Reply, Request, ScriptedHttpServer, http_server, notice
from pastdue.channels import FileSmsChannel, JsonGatewaySmsChannel, Lookup, TwilioSmsChannel, sms_channel, sms_segments
from pastdue.channels.base import OutgoingMessage
from pastdue.errors import ConfigurationError, MessageRejected, PermanentFailure, TemporaryFailure

SID, TOKEN = "AC0123456789abcdef0123456789abcdef", "auth-token"


def text(
    body: str = "Acme: invoice 2026-101 (EUR 1,190.00) is overdue. Pay: https://pay.acme.example/p/abc",
) -> OutgoingMessage:
    return notice(channel="sms", to="+4915112345678", subject="", html="", text=body)


@pytest.fixture
def server() -> Iterator[ScriptedHttpServer]:
    with http_server() as scripted:
        yield scripted


@pytest.fixture
def twilio(server: ScriptedHttpServer) -> Iterator[TwilioSmsChannel]:
    port = server.server_address[1]
    channel = sms_channel(f"twilio://{SID}:{TOKEN}@127.0.0.1:{port}?scheme=http&timeout=2", "+4930123456")
    assert isinstance(channel, TwilioSmsChannel)
    yield channel
    channel.close()


@pytest.fixture
def gateway(server: ScriptedHttpServer) -> Iterator[JsonGatewaySmsChannel]:
    channel = sms_channel(f"{server.url}/v1/messages?timeout=2", "Acme")
    assert isinstance(channel, JsonGatewaySmsChannel)
    yield channel
    channel.close()


# -- segments ---------------------------------------------------------------------------------


def test_160_gsm_characters_are_one_segment_and_161_are_two() -> None:
    assert sms_segments("a" * 160) == ("GSM-7", 1)
    assert sms_segments("a" * 161) == ("GSM-7", 2)
    assert sms_segments("a" * 306) == ("GSM-7", 2)
    assert sms_segments("a" * 307) == ("GSM-7", 3)


def test_german_umlauts_stay_in_the_gsm_alphabet() -> None:
    assert sms_segments("Bitte überweisen Sie den offenen Betrag. Grüße, Ihre Buchhaltung")[0] == "GSM-7"


def test_extension_characters_like_the_euro_sign_count_twice() -> None:
    assert sms_segments("€" * 80) == ("GSM-7", 1)
    assert sms_segments("€" * 81) == ("GSM-7", 2)
    assert sms_segments("a" * 158 + "[") == ("GSM-7", 1)
    assert sms_segments("a" * 159 + "]") == ("GSM-7", 2)


def test_an_extension_character_is_never_split_across_segments() -> None:
    # 306 septets would fill two 153-septet parts exactly, but "€" (2 septets) cannot start at
    # position 153 of the first part, so it moves to the second, which then overflows.
    assert sms_segments("a" * 152 + "€" + "a" * 151) == ("GSM-7", 2)
    assert sms_segments("a" * 152 + "€" + "a" * 152) == ("GSM-7", 3)


def test_one_emoji_switches_to_ucs2_with_70_units_per_segment() -> None:
    assert sms_segments("😀" + "a" * 68) == ("UCS-2", 1)  # the emoji is a surrogate pair: 2 units
    assert sms_segments("😀" + "a" * 69) == ("UCS-2", 2)
    assert sms_segments("ł" * 70) == ("UCS-2", 1)
    assert sms_segments("ł" * 71) == ("UCS-2", 2)
    assert sms_segments("ł" * 134) == ("UCS-2", 2)
    assert sms_segments("ł" * 135) == ("UCS-2", 3)


def test_a_text_over_the_segment_limit_is_refused_before_sending(server: ScriptedHttpServer) -> None:
    channel = JsonGatewaySmsChannel(f"{server.url}/v1/messages", sender="Acme", max_segments=2)
    try:
        with pytest.raises(MessageRejected, match="3 GSM-7 segments"):
            channel.send(text("a" * 307))
    finally:
        channel.close()
    assert server.requests == []


def test_a_number_not_in_e164_form_is_refused_before_sending(
    gateway: JsonGatewaySmsChannel, server: ScriptedHttpServer
) -> None:
    with pytest.raises(PermanentFailure, match=r"E\.164"):
        gateway.send(notice(to="0151 12345678"))
    assert server.requests == []


# -- Twilio -----------------------------------------------------------------------------------


def test_twilio_gets_a_form_post_with_basic_auth_and_its_sid_becomes_the_provider_id(
    twilio: TwilioSmsChannel, server: ScriptedHttpServer
) -> None:
    server.script(Reply(201, {"sid": "SM0123456789abcdef", "status": "queued"}))

    receipt = twilio.send(text())

    assert receipt.provider_id == "SM0123456789abcdef"
    (request,) = server.requests
    assert request.method == "POST"
    assert request.path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert request.headers["Authorization"].startswith("Basic ")
    form = parse_qs(request.body.decode())
    assert form == {"To": ["+4915112345678"], "From": ["+4930123456"], "Body": [text().text]}


def test_twilio_invalid_number_is_a_permanent_failure(twilio: TwilioSmsChannel, server: ScriptedHttpServer) -> None:
    server.script(Reply(400, {"code": 21211, "message": "The 'To' number +4915112345678 is not a valid phone number."}))

    with pytest.raises(PermanentFailure, match="21211"):
        twilio.send(text())


def test_twilio_unreachable_mobile_number_is_a_permanent_failure(
    twilio: TwilioSmsChannel, server: ScriptedHttpServer
) -> None:
    server.script(Reply(400, {"code": 21614, "message": "'To' number is not a valid mobile number"}))

    with pytest.raises(PermanentFailure, match="21614"):
        twilio.send(text())


def test_twilio_rejecting_our_credentials_is_a_configuration_error(
    twilio: TwilioSmsChannel, server: ScriptedHttpServer
) -> None:
    server.script(Reply(401, {"code": 20003, "message": "Authenticate"}))

    with pytest.raises(ConfigurationError, match="20003"):
        twilio.send(text())


def test_twilio_rate_limit_is_temporary_with_its_retry_after(
    twilio: TwilioSmsChannel, server: ScriptedHttpServer
) -> None:
    server.script(Reply(429, {"code": 20429, "message": "Too Many Requests"}, headers={"Retry-After": "30"}))

    with pytest.raises(TemporaryFailure) as raised:
        twilio.send(text())
    assert raised.value.retry_after == 30


def test_twilio_server_error_is_temporary(twilio: TwilioSmsChannel, server: ScriptedHttpServer) -> None:
    server.script(Reply(503, b"upstream unavailable"))

    with pytest.raises(TemporaryFailure, match="503"):
        twilio.send(text())


def test_twilio_cannot_be_asked_whether_it_has_a_message(twilio: TwilioSmsChannel) -> None:
    assert not isinstance(twilio, Lookup)


def test_twilio_over_plain_http_is_refused_for_a_remote_host() -> None:
    with pytest.raises(ConfigurationError, match="PASTDUE_SMS_URL: plain http"):
        sms_channel(f"twilio://{SID}:{TOKEN}@api.twilio.com?scheme=http", "+4930123456")


# -- generic JSON gateway ---------------------------------------------------------------------


def test_the_gateway_gets_json_with_encoding_segments_and_the_idempotency_key(
    gateway: JsonGatewaySmsChannel, server: ScriptedHttpServer
) -> None:
    server.script(Reply(202, {"id": "gw-1"}))

    receipt = gateway.send(text("Grüße: bitte zahlen Sie 1.190,00 € 😀"))

    assert receipt.provider_id == "gw-1"
    (request,) = server.requests
    assert request.path == "/v1/messages"
    assert request.headers["Idempotency-Key"] == "n-0001"
    assert request.json() == {
        "to": "+4915112345678",
        "from": "Acme",
        "text": "Grüße: bitte zahlen Sie 1.190,00 € 😀",
        "reference": "n-0001",
        "encoding": "UCS-2",
        "segments": 1,
    }


def test_a_repeated_key_answered_409_counts_as_already_accepted(
    gateway: JsonGatewaySmsChannel, server: ScriptedHttpServer
) -> None:
    server.script(Reply(409, {"id": "gw-1", "error": "duplicate idempotency key"}))

    receipt = gateway.send(text())

    assert receipt.provider_id == "gw-1"
    assert receipt.detail == "already accepted"


def test_a_slow_gateway_is_a_temporary_failure(server: ScriptedHttpServer) -> None:
    channel = sms_channel(f"{server.url}/v1/messages?timeout=0.3", "Acme")
    server.script(Reply(200, {"id": "late"}, delay=3))
    try:
        with pytest.raises(TemporaryFailure, match="timed out"):
            channel.send(text())
    finally:
        channel.close()


def test_a_gateway_that_is_down_is_a_temporary_failure(server: ScriptedHttpServer) -> None:
    url = f"{server.url}/v1/messages"
    server.shutdown()
    server.server_close()
    channel = sms_channel(url, "Acme")
    try:
        with pytest.raises(TemporaryFailure, match="failed"):
            channel.send(text())
    finally:
        channel.close()


def test_gateway_429_carries_retry_after(gateway: JsonGatewaySmsChannel, server: ScriptedHttpServer) -> None:
    server.script(Reply(429, {"error": "slow down"}, headers={"Retry-After": "7"}))

    with pytest.raises(TemporaryFailure) as raised:
        gateway.send(text())
    assert raised.value.retry_after == 7


def test_gateway_5xx_is_temporary_and_the_retry_succeeds(
    gateway: JsonGatewaySmsChannel, server: ScriptedHttpServer
) -> None:
    server.script(Reply(502, b"bad gateway"), Reply(200, {"id": "gw-2"}))

    with pytest.raises(TemporaryFailure, match="502"):
        gateway.send(text())
    assert gateway.send(text()).provider_id == "gw-2"
    assert [r.headers["Idempotency-Key"] for r in server.requests] == ["n-0001", "n-0001"]


def test_gateway_refusing_the_number_is_a_permanent_failure(
    gateway: JsonGatewaySmsChannel, server: ScriptedHttpServer
) -> None:
    server.script(Reply(422, {"error": "number not reachable"}))

    with pytest.raises(PermanentFailure, match="number not reachable"):
        gateway.send(text())


def test_lookup_finds_a_message_the_gateway_accepted(
    gateway: JsonGatewaySmsChannel, server: ScriptedHttpServer
) -> None:
    def known(request: Request) -> Reply:
        return Reply(200, {"id": "gw-9"}) if request.path == "/v1/messages/key%2F1" else Reply(404, {})

    server.script(known)

    receipt = gateway.lookup(replace(text(), idempotency_key="key/1"))

    assert receipt is not None and receipt.provider_id == "gw-9"
    assert server.requests[0].method == "GET"


def test_lookup_of_a_message_the_gateway_never_saw_is_none(
    gateway: JsonGatewaySmsChannel, server: ScriptedHttpServer
) -> None:
    server.script(Reply(404, {"error": "not found"}))

    assert gateway.lookup(text()) is None
    assert isinstance(gateway, Lookup)


def test_gateway_credentials_in_the_url_become_basic_auth(server: ScriptedHttpServer) -> None:
    channel = sms_channel(f"http://user:p%40ss@127.0.0.1:{server.server_address[1]}/send?key=k1", "Acme")
    try:
        channel.send(text())
    finally:
        channel.close()
    (request,) = server.requests
    assert request.path == "/send?key=k1"
    assert request.headers["Authorization"] == "Basic dXNlcjpwQHNz"  # user:p@ss


# -- file outbox ------------------------------------------------------------------------------


def test_the_file_outbox_writes_one_json_per_text(tmp_path: Path) -> None:
    channel = sms_channel(f"file://{tmp_path}/sms", "Acme")
    assert isinstance(channel, FileSmsChannel)

    receipt = channel.send(text("Zahlung fällig: 1.190,00 €"))

    path = tmp_path / "sms" / "n-0001.json"
    assert receipt.provider_id == str(path)
    written = json.loads(path.read_text(encoding="utf-8"))
    assert written["to"] == "+4915112345678"
    assert written["text"] == "Zahlung fällig: 1.190,00 €"
    assert (written["encoding"], written["segments"]) == ("GSM-7", 1)
