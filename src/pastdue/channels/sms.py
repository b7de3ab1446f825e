"""Text messages: through Twilio, through a generic JSON gateway, or into a folder.

Every channel here counts what a text costs before it leaves (:func:`sms_segments`): one
character outside the GSM 03.38 alphabet (an emoji, a curly quote, ``ł``) switches the whole
text to UCS-2, where a segment holds 70 characters instead of 160, and every segment is
billed. A text longer than ``max_segments`` (6 by default, about 900 GSM characters) is
refused with :class:`PermanentFailure` before anything is sent: retrying cannot shorten it,
and a dunning text that long is a template mistake, not a message a phone shows well.

How provider answers become delivery outcomes:

=========================================  =================================================
answer                                     raised
=========================================  =================================================
timeout, connection refused, 429, 5xx      :class:`TemporaryFailure`, ``retry_after`` from
                                           the ``Retry-After`` header when given
invalid or unreachable number (Twilio      :class:`PermanentFailure`: try the next contact
21211, 21614, 21612, 21610; gateway 400
or 422), any other 4xx for the message
401, 403, 404, Twilio's own sender codes   :class:`ConfigurationError`: credentials, account
                                           or sender are wrong; every text would fail
gateway 409 (idempotency key seen before)  success: the gateway already has the text
=========================================  =================================================
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from pastdue.channels.base import OutgoingMessage, Receipt
from pastdue.channels.http import LazyClient, checked_url, retry_after, transport_failure
from pastdue.channels.outbox import json_bytes, notice_path, write_atomically
from pastdue.errors import ConfigurationError, MessageRejected, PermanentFailure, TemporaryFailure

DEFAULT_MAX_SEGMENTS = 6

GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
"""The GSM 03.38 default alphabet: one septet each (the escape code itself excluded)."""

GSM_EXTENSION = frozenset("\f^{}\\[~]|€")
"""Reached through the escape code, so each costs two septets."""

_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")

# Twilio error codes (https://www.twilio.com/docs/api/errors) that say the *number* cannot be reached
# (21408: its country is not enabled for the account, so no retry reaches it either).
TWILIO_BAD_NUMBER = frozenset({21211, 21214, 21217, 21407, 21408, 21610, 21612, 21614})
# ... and those that say *our* setup is bad, whatever the number.
TWILIO_BAD_SETUP = frozenset({20003, 20404, 21212, 21606, 21659, 21660})


def sms_segments(text: str) -> tuple[str, int]:
    """The encoding (``"GSM-7"`` or ``"UCS-2"``) and the number of segments ``text`` is billed as.

    A single segment holds 160 septets (GSM-7) or 70 UTF-16 units (UCS-2); once split, each
    segment loses room to the concatenation header (153 and 67) and a character is never
    split across two segments (an escaped GSM character, a UTF-16 surrogate pair).
    An empty text is one segment: it is still a message.
    """
    if all(c in GSM_BASIC or c in GSM_EXTENSION for c in text):
        units = [2 if c in GSM_EXTENSION else 1 for c in text]
        return "GSM-7", _count(units, single=160, part=153)
    units = [2 if ord(c) > 0xFFFF else 1 for c in text]
    return "UCS-2", _count(units, single=70, part=67)


def _count(units: list[int], *, single: int, part: int) -> int:
    if sum(units) <= single:
        return 1
    segments, used = 1, 0
    for size in units:
        if used + size > part:
            segments, used = segments + 1, 0
        used += size
    return segments


def _checked(message: OutgoingMessage, max_segments: int) -> tuple[str, int]:
    """Refuse, before spending anything, what no provider should be asked to send."""
    if not _E164.match(message.to):
        raise PermanentFailure(f"{message.to!r} is not a phone number in E.164 form (+4915112345678)")
    encoding, segments = sms_segments(message.text)
    if segments > max_segments:
        raise MessageRejected(
            f"notice {message.notice_id}: the text needs {segments} {encoding} segments, more than the "
            f"{max_segments} allowed; shorten the template"
        )
    return encoding, segments


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _http_failure(what: str, response: httpx.Response, detail: str) -> Exception:
    """The generic mapping of a non-2xx answer, shared by both HTTP providers."""
    status = response.status_code
    text = f"{what}: HTTP {status}: {detail}".rstrip(": ")
    if status in (408, 425, 429) or status >= 500:
        return TemporaryFailure(text, retry_after=retry_after(response))
    if status in (401, 403, 404, 405) or 300 <= status < 400:
        return ConfigurationError(f"PASTDUE_SMS_URL: {text}")
    return PermanentFailure(text)


class TwilioSmsChannel:
    """Sends through Twilio's Messages API; ``Receipt.provider_id`` is the message SID.

    Twilio takes no idempotency key and has no look-up by a key of ours, so this channel does
    not implement :class:`~pastdue.channels.base.Lookup`: a worker that died between Twilio's
    acceptance and the commit leaves a delivery whose fate only Twilio's console can tell.
    """

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        sender: str,
        base_url: str = "https://api.twilio.com",
        timeout: float = 10.0,
        max_segments: int = DEFAULT_MAX_SEGMENTS,
        name: str = "sms",
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = name
        self.sender = sender
        self.max_segments = max_segments
        base, loopback = checked_url(base_url, "PASTDUE_SMS_URL")
        self.url = f"{base.rstrip('/')}/2010-04-01/Accounts/{quote(account_sid, safe='')}/Messages.json"
        self._client = LazyClient(timeout, loopback=loopback, transport=transport, auth=(account_sid, auth_token))

    def send(self, message: OutgoingMessage) -> Receipt:
        _checked(message, self.max_segments)
        form = {"To": message.to, "From": self.sender, "Body": message.text}
        try:
            response = self._client.get().post(self.url, data=form)
        except httpx.TransportError as error:
            raise transport_failure("twilio", error) from error
        body = _json(response)
        if response.is_success and body.get("sid"):
            return Receipt(provider_id=str(body["sid"]), detail=str(body.get("status", "")))
        if response.is_success:
            raise TemporaryFailure(f"twilio: HTTP {response.status_code} without a message sid")
        code = body.get("code")
        detail = f"{code} {body.get('message', '')}".strip() if code else response.text[:200]
        if code in TWILIO_BAD_NUMBER:
            raise PermanentFailure(f"twilio: {message.to}: {detail}")
        if code in TWILIO_BAD_SETUP:
            raise ConfigurationError(f"PASTDUE_SMS_URL: twilio: {detail}")
        raise _http_failure("twilio", response, detail)

    def close(self) -> None:
        self._client.close()


class JsonGatewaySmsChannel:
    """Sends through any HTTP gateway that takes one JSON object per text and an idempotency key.

    The request is ``POST url`` with ``{"to", "from", "text", "reference", "encoding",
    "segments"}`` and ``Idempotency-Key`` (the message's key, else its notice id); the
    gateway answers 2xx ``{"id": ...}``, or 409 with the same body when it has seen the key.
    ``GET url/<key>`` (200 with ``{"id"}``, or 404) answers :meth:`lookup`.
    """

    def __init__(
        self,
        url: str,
        *,
        sender: str,
        timeout: float = 10.0,
        max_segments: int = DEFAULT_MAX_SEGMENTS,
        auth: tuple[str, str] | None = None,
        name: str = "sms",
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        url, loopback = checked_url(url, "PASTDUE_SMS_URL")
        self.name = name
        self.url = url.rstrip("/")
        self.sender = sender
        self.max_segments = max_segments
        self._client = LazyClient(timeout, loopback=loopback, transport=transport, auth=auth)

    def send(self, message: OutgoingMessage) -> Receipt:
        encoding, segments = _checked(message, self.max_segments)
        key = _key(message)
        payload = {
            "to": message.to,
            "from": self.sender,
            "text": message.text,
            "reference": message.notice_id,
            "encoding": encoding,
            "segments": segments,
        }
        try:
            response = self._client.get().post(self.url, json=payload, headers={"Idempotency-Key": key})
        except httpx.TransportError as error:
            raise transport_failure("sms gateway", error) from error
        if response.is_success or response.status_code == 409:
            return self._receipt(response, key)
        raise _http_failure("sms gateway", response, _reason(response))

    def lookup(self, message: OutgoingMessage) -> Receipt | None:
        """Whether the gateway holds a text under this message's key; ``None`` if it never saw it."""
        try:
            response = self._client.get().get(f"{self.url}/{quote(_key(message), safe='')}")
        except httpx.TransportError as error:
            raise transport_failure("sms gateway lookup", error) from error
        if response.status_code == 404:
            return None
        if response.is_success:
            return self._receipt(response, _key(message))
        raise _http_failure("sms gateway lookup", response, _reason(response))

    def close(self) -> None:
        self._client.close()

    @staticmethod
    def _receipt(response: httpx.Response, key: str) -> Receipt:
        provider_id = _json(response).get("id")
        detail = "already accepted" if response.status_code == 409 else f"HTTP {response.status_code}"
        return Receipt(provider_id=str(provider_id) if provider_id else key, detail=detail)


class FileSmsChannel:
    """Writes each text to ``<folder>/<notice_id>.json``, checked and counted like a real send."""

    def __init__(
        self,
        folder: str | Path,
        *,
        sender: str,
        max_segments: int = DEFAULT_MAX_SEGMENTS,
        name: str = "sms",
    ) -> None:
        self.name = name
        self.folder = Path(folder)
        self.sender = sender
        self.max_segments = max_segments

    def send(self, message: OutgoingMessage) -> Receipt:
        encoding, segments = _checked(message, self.max_segments)
        document: Mapping[str, Any] = {
            "to": message.to,
            "from": self.sender,
            "text": message.text,
            "reference": message.notice_id,
            "customer_id": message.customer_id,
            "idempotency_key": _key(message),
            "encoding": encoding,
            "segments": segments,
        }
        path = notice_path(self.folder, message.notice_id, ".json")
        write_atomically(path, json_bytes(document))
        return Receipt(provider_id=str(path))

    def close(self) -> None:
        """Nothing stays open between sends."""


def _key(message: OutgoingMessage) -> str:
    return message.idempotency_key or message.notice_id


def _reason(response: httpx.Response) -> str:
    body = _json(response)
    for field in ("error", "message", "detail"):
        if isinstance(body.get(field), str):
            return str(body[field])
    return response.text[:200]
