"""Call tasks: a notice that a collector delivers by telephone, not a message that leaves.

Each task is a JSON file a collector's tool (or a person) picks up: who to call, on which
number, when the call is welcome in the customer's own time zone, and what to talk about.
The file is named after the notice, so queuing the same notice again rewrites the same task
with the same content instead of putting a second call on someone's list.

Task fields: ``notice_id``, ``customer_id``, ``customer_name``, ``number``, ``timezone`` and
``call_window`` (from the notice's metadata, empty when unknown), ``subject``, ``text`` (the
talking points: what is owed and since when), ``metadata`` (every other fact, totals
included).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pastdue.channels.base import OutgoingMessage, Receipt
from pastdue.channels.outbox import json_bytes, notice_path, write_atomically
from pastdue.errors import PermanentFailure


def call_task(message: OutgoingMessage) -> dict[str, Any]:
    """The task for one notice; free of timestamps, so it is the same every time it is built."""
    return {
        "type": "call_task",
        "notice_id": message.notice_id,
        "customer_id": message.customer_id,
        "customer_name": message.recipient_name,
        "number": message.to,
        "timezone": message.metadata.get("timezone", ""),
        "call_window": message.metadata.get("call_window", ""),
        "subject": message.subject,
        "text": message.text,
        "metadata": dict(message.metadata),
    }


class PhoneTaskChannel:
    """Writes ``<folder>/<notice_id>.json`` per call task; ``Receipt.provider_id`` is the path.

    A customer without a phone number cannot be called: that is a bad contact
    (:class:`PermanentFailure`), so the delivery queue moves on to the next channel.
    """

    def __init__(self, folder: str | Path, *, name: str = "phone") -> None:
        self.name = name
        self.folder = Path(folder)

    def send(self, message: OutgoingMessage) -> Receipt:
        if not message.to.strip():
            raise PermanentFailure(f"customer {message.customer_id} has no phone number to call")
        path = notice_path(self.folder, message.notice_id, ".json")
        write_atomically(path, json_bytes(call_task(message)))
        return Receipt(provider_id=str(path))

    def lookup(self, message: OutgoingMessage) -> Receipt | None:
        """The task exists once its file does (files appear whole): a crash can be settled by looking."""
        path = notice_path(self.folder, message.notice_id, ".json")
        return Receipt(provider_id=str(path)) if path.is_file() else None

    def close(self) -> None:
        """Nothing stays open between tasks."""
