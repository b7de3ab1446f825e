"""The one port every channel implements: ``send(message) -> Receipt``.

A channel is handed a fully rendered :class:`OutgoingMessage`; it never reads the database
or the templates. It either returns a :class:`Receipt` (the provider accepted the message) or
raises one of the :class:`~pastdue.errors.DeliveryError` subclasses, which tell the delivery
queue what to do next: retry later, try another contact, or give up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One rendered notice on its way to one contact over one channel.

    ``message_id`` is deterministic per notice (``<notice-id@domain>``) so that a duplicate
    sent after a crash is recognisable as the same message; ``idempotency_key`` is sent to
    providers that deduplicate on a key of ours.
    """

    notice_id: str
    channel: str
    customer_id: str
    to: str
    """E-mail address, phone number in E.164 form, or empty for letters and phone tasks."""
    recipient_name: str
    subject: str = ""
    text: str = ""
    html: str = ""
    postal_address: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    message_id: str = ""
    idempotency_key: str = ""
    unsubscribe_url: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)
    """Plain facts for machine channels (tenant, level, created_on, ...), all strings."""


@dataclass(frozen=True, slots=True)
class Receipt:
    """The provider accepted the message. ``provider_id`` is its id for it (or a file path)."""

    provider_id: str
    detail: str = ""


@runtime_checkable
class Channel(Protocol):
    """Sends rendered messages; raises :class:`~pastdue.errors.DeliveryError` when it cannot."""

    name: str

    def send(self, message: OutgoingMessage) -> Receipt: ...

    def close(self) -> None:
        """Release connections; a closed channel may be used again and reconnects."""


@runtime_checkable
class Lookup(Protocol):
    """A channel whose provider can say whether a message it may have accepted exists.

    Used to resolve a delivery whose worker died in the send window: ``None`` means the
    provider never saw the message, so sending it is not a duplicate.
    """

    def lookup(self, message: OutgoingMessage) -> Receipt | None: ...
