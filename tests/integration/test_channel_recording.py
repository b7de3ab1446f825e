"""The recording channel stands in for a real one: it keeps what it was given and fails when told to."""

from __future__ import annotations

import pytest

from local_servers import notice
from pastdue.channels import Channel, RecordingChannel
from pastdue.errors import PermanentFailure, TemporaryFailure


def test_it_keeps_every_accepted_message_in_order() -> None:
    channel = RecordingChannel()

    channel.send(notice(notice_id="n-1"))
    channel.send(notice(notice_id="n-2"))

    assert [m.notice_id for m in channel.sent] == ["n-1", "n-2"]
    assert isinstance(channel, Channel)
    assert channel.name == "email"


def test_scripted_failures_come_one_per_send_then_sends_succeed() -> None:
    channel = RecordingChannel(
        "sms", fail_with=[TemporaryFailure("busy", retry_after=5), None, PermanentFailure("gone")]
    )

    with pytest.raises(TemporaryFailure):
        channel.send(notice(notice_id="n-1"))
    channel.send(notice(notice_id="n-1"))
    with pytest.raises(PermanentFailure):
        channel.send(notice(notice_id="n-2"))
    channel.send(notice(notice_id="n-3"))

    assert [m.notice_id for m in channel.sent] == ["n-1", "n-3"]
    assert [m.notice_id for m in channel.attempts] == ["n-1", "n-1", "n-2", "n-3"]


def test_the_receipt_names_the_message() -> None:
    receipt = RecordingChannel().send(notice())

    assert receipt.provider_id == "<n-0001@billing.example.com>"
