"""Signed links that a notice carries: to the customer portal and to opt out of a channel.

A link names its subject and expiry in the clear and carries an HMAC over them, so the
portal can trust it without a database lookup and nobody can forge one for another
customer. The portal that verifies them arrives with the web app; the format is fixed here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import date
from urllib.parse import quote, urlencode


def _sign(secret: str, *parts: str) -> str:
    mac = hmac.new(secret.encode(), "\x1f".join(parts).encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:18]).decode().rstrip("=")


def portal_url(base_url: str, secret: str, tenant: str, customer_id: str, expires: date) -> str:
    """The customer's portal, valid until ``expires`` (inclusive)."""
    until = expires.isoformat()
    token = _sign(secret, "portal", tenant, customer_id, until)
    query = urlencode({"t": tenant, "until": until, "sig": token})
    return f"{base_url.rstrip('/')}/portal/{quote(customer_id, safe='')}?{query}"


def unsubscribe_url(base_url: str, secret: str, tenant: str, channel: str, address: str) -> str:
    """One click stops notices on this channel to this address (RFC 8058 for e-mail)."""
    token = _sign(secret, "unsubscribe", tenant, channel, address)
    query = urlencode({"t": tenant, "channel": channel, "address": address, "sig": token})
    return f"{base_url.rstrip('/')}/portal/unsubscribe?{query}"


def verify(secret: str, signature: str, *parts: str) -> bool:
    return hmac.compare_digest(_sign(secret, *parts), signature)
