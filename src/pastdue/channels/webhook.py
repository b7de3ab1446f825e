"""Dunning events POSTed to a URL of the tenant's choosing, signed so the receiver can trust them.

The event (one per notice)::

    {
      "type": "dunning.notice",
      "id": "<notice id>",            # also the Idempotency-Key header: deduplicate on it
      "created": 1782810000,          # unix seconds when this attempt was made
      "data": {
        "notice_id": "...", "customer_id": "...", "recipient_name": "...", "to": "...",
        "level": 2,                   # from metadata["level"]; null when absent
        "subject": "...", "text": "...", "message_id": "...",
        "metadata": {...}             # every plain fact the notice carries (tenant, totals, ...)
      }
    }

The signature follows Stripe's scheme, which receivers already know how to check:
``Pastdue-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]`` where each ``v1`` is
HMAC-SHA256 of ``f"{t}.{raw body}"`` under one secret. With several secrets configured
(during a rotation) every one signs, so a receiver holding either the old or the new secret
accepts the event; :func:`verify` is the receiver's side. The timestamp inside the signed
text stops an attacker from replaying a captured event later than ``tolerance`` allows.

How answers become delivery outcomes: 2xx accepted; 410 Gone → :class:`PermanentFailure`
(the receiver asks never to be called again); 408, 425, 429, 5xx, timeouts →
:class:`TemporaryFailure` with ``Retry-After``; 3xx, 401, 403, 404 →
:class:`ConfigurationError` (wrong URL or secret: every event would fail); any other 4xx →
:class:`PermanentFailure` (the receiver refuses this event).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from pastdue.channels.base import OutgoingMessage, Receipt
from pastdue.channels.http import LazyClient, checked_url, retry_after, transport_failure
from pastdue.errors import ConfigurationError, PermanentFailure, TemporaryFailure
from pastdue.signing import DEFAULT_TOLERANCE, SIGNATURE_HEADER, parse_secrets, sign, verify

__all__ = ["DEFAULT_TOLERANCE", "SIGNATURE_HEADER", "WebhookChannel", "event", "parse_secrets", "sign", "verify"]

EVENT_TYPE = "dunning.notice"


def event(message: OutgoingMessage, created: int) -> dict[str, Any]:
    """The JSON event for one notice (the shape in this module's docstring)."""
    level = message.metadata.get("level", "")
    return {
        "type": EVENT_TYPE,
        "id": message.notice_id,
        "created": created,
        "data": {
            "notice_id": message.notice_id,
            "customer_id": message.customer_id,
            "recipient_name": message.recipient_name,
            "to": message.to,
            "level": int(level) if level.isdigit() else None,
            "subject": message.subject,
            "text": message.text,
            "message_id": message.message_id,
            "metadata": dict(message.metadata),
        },
    }


class WebhookChannel:
    """POSTs each notice as a signed JSON event to one URL (``https``, or ``http`` to loopback)."""

    def __init__(
        self,
        url: str,
        secrets: Sequence[str],
        *,
        timeout: float = 10.0,
        name: str = "webhook",
        clock: Callable[[], float] = time.time,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url, loopback = checked_url(url, "PASTDUE_WEBHOOK_URL")
        self.secrets = tuple(s for s in secrets if s)
        if not self.secrets:
            raise ConfigurationError("PASTDUE_WEBHOOK_SECRET: a webhook needs at least one secret to sign with")
        self.name = name
        self._clock = clock
        self._client = LazyClient(timeout, loopback=loopback, transport=transport)

    def send(self, message: OutgoingMessage) -> Receipt:
        now = int(self._clock())
        body = json.dumps(event(message, now), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self.secrets, now, body),
            "Idempotency-Key": message.notice_id,
        }
        try:
            response = self._client.get().post(self.url, content=body, headers=headers)
        except httpx.TransportError as error:
            raise transport_failure("webhook", error) from error
        status = response.status_code
        if response.is_success:
            return Receipt(provider_id=message.notice_id, detail=f"HTTP {status}")
        text = f"webhook {self.url}: HTTP {status}"
        if status in (408, 425, 429) or status >= 500:
            raise TemporaryFailure(text, retry_after=retry_after(response))
        if status == 410:
            raise PermanentFailure(f"{text}: the receiver is gone")
        if status in (401, 403, 404) or 300 <= status < 400:
            raise ConfigurationError(f"PASTDUE_WEBHOOK_URL: {text}")
        raise PermanentFailure(text)

    def close(self) -> None:
        self._client.close()
