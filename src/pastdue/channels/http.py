"""What the HTTP channels (text-message gateways, webhooks) share: clients, hints, failures.

Each HTTP channel keeps one ``httpx.Client`` for its lifetime, so that a delivery run reuses
TLS connections instead of shaking hands per message, and builds it lazily, so that building
the channel opens nothing. A closed channel builds a new client on its next send.
"""

from __future__ import annotations

import ipaddress
import threading
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from pastdue.errors import ConfigurationError, TemporaryFailure

USER_AGENT = "pastdue"


def is_loopback(host: str) -> bool:
    """Plain ``http://`` is allowed only to this machine, where nothing travels on a wire."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def checked_url(url: str, setting: str) -> tuple[str, bool]:
    """``url`` if it is safe to send credentials and personal data to, and whether it is loopback.

    ``https`` everywhere; plain ``http`` only to this machine (local gateways, tests).
    """
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as error:
        raise ConfigurationError(f"{setting}: {url!r} is not a URL: {error}") from error
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigurationError(f"{setting}: {url!r} must be an https:// URL with a host")
    loopback = is_loopback(parsed.host)
    if parsed.scheme == "http" and not loopback:
        raise ConfigurationError(f"{setting}: plain http is only allowed to 127.0.0.1 or localhost, not {parsed.host}")
    return url, loopback


def retry_after(response: httpx.Response, now: datetime | None = None) -> float | None:
    """The server's ``Retry-After`` hint in seconds (delay or HTTP date), ``None`` if absent or unreadable."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def transport_failure(what: str, error: httpx.TransportError) -> TemporaryFailure:
    """A timeout or a refused connection: the provider may be back in a minute.

    A read timeout may come after the provider accepted the message; retrying is still
    right because the idempotency key (where the provider honours one) makes the retry a
    no-op, and the delivery queue records the attempt either way.
    """
    kind = "timed out" if isinstance(error, httpx.TimeoutException) else "failed"
    return TemporaryFailure(f"{what}: request {kind}: {type(error).__name__}: {error}")


class LazyClient:
    """One ``httpx.Client``, built on first use, rebuilt after ``close``; safe across threads."""

    def __init__(
        self,
        timeout: float,
        *,
        loopback: bool,
        transport: httpx.BaseTransport | None = None,
        auth: tuple[str, str] | None = None,
    ) -> None:
        self._timeout = timeout
        # Proxy variables are for the outside world; a loopback target never goes through one.
        self._trust_env = not loopback
        self._transport = transport
        self._auth = auth
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    def get(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(
                    timeout=httpx.Timeout(self._timeout),
                    headers={"User-Agent": USER_AGENT},
                    trust_env=self._trust_env,
                    transport=self._transport,
                    auth=self._auth,
                    follow_redirects=False,
                )
            return self._client

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()
