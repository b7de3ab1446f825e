"""Stripe-style signatures of webhook bodies, for what pastdue sends and what it receives.

``Pastdue-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]`` where each ``v1`` is
HMAC-SHA256 of ``f"{t}.{raw body}"`` under one secret. Several secrets (during a rotation)
each add a ``v1``, so a receiver holding either the old or the new secret accepts; the
timestamp inside the signed text stops a captured request from being replayed later than
the tolerance allows. The dunning webhook channel signs with :func:`sign`; the payment
webhook endpoint checks with :func:`verify`; integrators and tests sign their own
payloads with :func:`sign` or ``pastdue webhooks sign``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence

SIGNATURE_HEADER = "Pastdue-Signature"
DEFAULT_TOLERANCE = 300


def parse_secrets(value: str) -> tuple[str, ...]:
    """The secrets of the comma-separated ``PASTDUE_WEBHOOK_SECRET`` setting, blanks dropped."""
    return tuple(s.strip() for s in value.split(",") if s.strip())


def sign(secret: str | Sequence[str], timestamp: int, body: bytes) -> str:
    """The ``Pastdue-Signature`` header value: ``t=<timestamp>,v1=<hmac>`` with one ``v1`` per secret.

    A ``str`` is one secret, taken whole (commas included); pass a sequence to sign with several.
    """
    secrets = [secret] if isinstance(secret, str) else list(secret)
    if not secrets:
        raise ValueError("sign() needs at least one secret")
    signed = f"{int(timestamp)}.".encode() + body
    parts = [f"t={int(timestamp)}"]
    parts += [f"v1={hmac.new(s.encode(), signed, hashlib.sha256).hexdigest()}" for s in secrets]
    return ",".join(parts)


def verify(
    secrets: str | Iterable[str],
    header: str,
    body: bytes | str,
    now: float,
    tolerance: float = DEFAULT_TOLERANCE,
) -> bool:
    """Whether ``header`` signs exactly ``body``, under any of ``secrets``, within ``tolerance`` of ``now``.

    For receivers: pass the raw request body (before any JSON parsing, which would change
    the bytes) and the current unix time. Never raises on a malformed header; it is simply
    not a valid signature. Timestamps too far in the future are refused like old ones.
    """
    candidates = [secrets] if isinstance(secrets, str) else list(secrets)
    raw = body.encode("utf-8") if isinstance(body, str) else body
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                return False
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures or abs(now - timestamp) > tolerance:
        return False
    signed = f"{timestamp}.".encode() + raw
    matched = False
    for secret in candidates:
        if not secret:
            continue
        expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
        for signature in signatures:
            # No early exit: how long verification takes must not tell which entry matched.
            matched |= hmac.compare_digest(expected, signature)
    return matched
