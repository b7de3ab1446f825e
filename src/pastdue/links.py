"""Signed links: to the customer portal and to opt out of a channel.

A link names its subject and expiry in the clear and carries an HMAC over them, so the
portal can trust it without a database lookup and nobody can forge one for another
customer. The portal that verifies them arrives with the web app; the format is fixed here.

Two portal links exist. Notices carry :func:`portal_url`, which names the customer and a
day. ``pastdue portal-link`` hands out :func:`portal_token_url`, whose token names a row of
``portal_tokens`` instead, so that a person can revoke it (see
:mod:`pastdue.services.portal_links`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote, urlencode

PORTAL_TOKEN = "portal-token"
"""What a portal token's signature is over, first: a signature made for one kind of link
never verifies as another kind."""

# tenant . token id . expiry (unix seconds) . signature; none of the parts can hold a dot.
_TOKEN = re.compile(r"([a-z0-9][a-z0-9_-]{0,63})\.([A-Za-z0-9_-]{8,32})\.([0-9]{1,12})\.([A-Za-z0-9_-]{24})\Z")


def tenant_secret(secret_key: str, profile: Mapping[str, Any]) -> str:
    """The key that signs a tenant's links: ``PASTDUE_SECRET_KEY`` when it is set, else the
    random secret every tenant is created with (kept in its profile, never shown)."""
    return secret_key or str(profile.get("link_secret") or "")


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


@dataclass(frozen=True, slots=True)
class PortalTokenClaims:
    """What a portal token says about itself; nothing here is trusted until
    :func:`portal_token_signed` has said yes."""

    tenant: str
    token_id: str
    expires: datetime
    signature: str

    @property
    def until(self) -> str:
        return str(int(self.expires.timestamp()))


def portal_token(secret: str, tenant: str, token_id: str, expires: datetime) -> str:
    """``tenant.token_id.expiry.signature``: the tenant is signed in, so that a token of one
    tenant never verifies in another, even where tenants share ``PASTDUE_SECRET_KEY``."""
    until = str(int(expires.timestamp()))
    return ".".join((tenant, token_id, until, _sign(secret, PORTAL_TOKEN, tenant, token_id, until)))


def read_portal_token(token: str) -> PortalTokenClaims | None:
    """Split a token into its claims, or ``None`` if it is not shaped like one."""
    match = _TOKEN.match(token)
    if match is None:
        return None
    tenant, token_id, until, signature = match.groups()
    return PortalTokenClaims(tenant, token_id, datetime.fromtimestamp(int(until), UTC), signature)


def portal_token_signed(secret: str, tenant: str, claims: PortalTokenClaims) -> bool:
    """Whether ``secret`` signed these claims for ``tenant`` (compared in constant time)."""
    expected = _sign(secret, PORTAL_TOKEN, tenant, claims.token_id, claims.until)
    return hmac.compare_digest(expected, claims.signature) and claims.tenant == tenant


def portal_token_url(base_url: str, token: str) -> str:
    """The portal entry a token opens. The token rides in the path: the portal should trade
    it for a session and redirect, so that it does not linger in history or Referer headers."""
    return f"{base_url.rstrip('/')}/portal/access/{token}"
