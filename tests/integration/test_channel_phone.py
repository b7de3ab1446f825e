"""A phone level becomes a call task a collector can act on, written once per notice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from local_servers import notice
from pastdue.channels import OutgoingMessage, PhoneTaskChannel
from pastdue.errors import PermanentFailure

METADATA = {
    "tenant": "acme",
    "level": "3",
    "timezone": "Europe/Berlin",
    "call_window": "09:00-17:00",
    "total": "EUR 2380.00",
}


def call(**overrides: object) -> OutgoingMessage:
    values: dict[str, object] = {
        "channel": "phone",
        "to": "+4930123456",
        "subject": "Call about 2 overdue invoices",
        "text": "Invoices 2026-101 and 2026-117, EUR 2,380.00 in total, overdue since 2026-05-31.",
        "html": "",
        "metadata": METADATA,
    }
    values.update(overrides)
    return notice(**values)


def test_the_task_says_whom_to_call_when_and_about_what(tmp_path: Path) -> None:
    channel = PhoneTaskChannel(tmp_path / "phone")

    receipt = channel.send(call())

    path = tmp_path / "phone" / "n-0001.json"
    assert receipt.provider_id == str(path)
    task = json.loads(path.read_text(encoding="utf-8"))
    assert task["customer_id"] == "c-42"
    assert task["customer_name"] == "Anna Schmidt"
    assert task["number"] == "+4930123456"
    assert (task["timezone"], task["call_window"]) == ("Europe/Berlin", "09:00-17:00")
    assert "EUR 2,380.00" in task["text"]
    assert task["metadata"]["total"] == "EUR 2380.00"


def test_queuing_the_same_notice_again_gives_the_same_single_task(tmp_path: Path) -> None:
    channel = PhoneTaskChannel(tmp_path)

    first = channel.send(call())
    content = Path(first.provider_id).read_bytes()
    second = channel.send(call())

    assert second.provider_id == first.provider_id
    assert Path(second.provider_id).read_bytes() == content
    assert [p.name for p in tmp_path.iterdir()] == ["n-0001.json"]


def test_a_customer_without_a_number_cannot_be_called(tmp_path: Path) -> None:
    with pytest.raises(PermanentFailure, match="no phone number"):
        PhoneTaskChannel(tmp_path).send(call(to=""))
    assert list(tmp_path.iterdir()) == []


def test_a_missing_call_window_is_left_empty_for_the_collector(tmp_path: Path) -> None:
    receipt = PhoneTaskChannel(tmp_path).send(call(metadata={"tenant": "acme"}))

    task = json.loads(Path(receipt.provider_id).read_text(encoding="utf-8"))
    assert (task["timezone"], task["call_window"]) == ("", "")


def test_a_task_can_be_looked_up_after_a_crash(tmp_path: Path) -> None:
    channel = PhoneTaskChannel(tmp_path)
    message = notice(channel="phone", to="+4930123456")
    assert channel.lookup(message) is None
    receipt = channel.send(message)
    assert channel.lookup(message) == receipt
