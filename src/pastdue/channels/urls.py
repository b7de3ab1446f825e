"""Channels from the URLs in the settings: the one place that reads ``PASTDUE_*_URL`` values.

E-mail (``PASTDUE_EMAIL_URL``)::

    smtp://user:pass@host:port                 plain SMTP (port 25 by default)
    smtp://user:pass@host:587?starttls=1       STARTTLS, refused if the server does not offer it
    smtps://user:pass@host:465                 TLS from the first byte
    file:///abs/folder  file://./rel/folder    one .eml file per notice

    options: timeout=SECONDS (10), cafile=PATH (trust a private CA, e.g. a test certificate),
    verify=0 (do not check the certificate at all: only for a server on this machine),
    helo=NAME (the name announced in EHLO; the machine's FQDN by default)

Text messages (``PASTDUE_SMS_URL``, the sender from ``PASTDUE_SMS_FROM``)::

    twilio://ACCOUNT_SID:AUTH_TOKEN@api.twilio.com
    https://user:pass@gateway/path             generic JSON gateway (userinfo becomes basic auth)
    file:///abs/folder                         one .json file per text

    options: timeout=SECONDS (10), max_segments=N (6); twilio also scheme=http, accepted only
    for 127.0.0.1 / localhost (a local test server). On a gateway URL these two options are
    taken out of the query; any other parameter stays and is sent to the gateway.

Webhooks (``PASTDUE_WEBHOOK_URL``, ``PASTDUE_WEBHOOK_SECRET``): the URL is used as given
(``https``, or ``http`` to loopback); an empty URL turns the channel off.

Every error names the setting and never echoes a password.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from urllib.parse import SplitResult, parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from pastdue.channels.base import Channel
from pastdue.channels.email import FileEmailChannel, Security, SmtpChannel
from pastdue.channels.sms import DEFAULT_MAX_SEGMENTS, FileSmsChannel, JsonGatewaySmsChannel, TwilioSmsChannel
from pastdue.channels.webhook import WebhookChannel, parse_secrets
from pastdue.errors import ConfigurationError

EMAIL = "PASTDUE_EMAIL_URL"
SMS = "PASTDUE_SMS_URL"
WEBHOOK = "PASTDUE_WEBHOOK_URL"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def email_channel(url: str, sender: str) -> Channel:
    """The e-mail channel ``url`` describes; :class:`ConfigurationError` naming the setting if it cannot."""
    parts = _split(url, EMAIL)
    scheme = parts.scheme.lower()
    if scheme == "file":
        _options(parts, EMAIL, set())
        return FileEmailChannel(_folder(parts, EMAIL), sender)
    if scheme not in ("smtp", "smtps"):
        raise ConfigurationError(f"{EMAIL}: unknown scheme {scheme!r} in {_redacted(url)}; use smtp, smtps or file")
    options = _options(parts, EMAIL, {"starttls", "timeout", "cafile", "verify", "helo"})
    starttls = _flag(options, "starttls", False, EMAIL)
    if scheme == "smtps" and starttls:
        raise ConfigurationError(f"{EMAIL}: starttls=1 is for smtp://; smtps:// is TLS from the start")
    security: Security = "tls" if scheme == "smtps" else "starttls" if starttls else "plain"
    return SmtpChannel(
        _host(parts, EMAIL),
        _port(parts, EMAIL),
        sender=sender,
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        security=security,
        timeout=_timeout(options, EMAIL),
        ssl_context=_ssl_context(options),
        local_hostname=options.get("helo") or None,
    )


def sms_channel(url: str, sender: str) -> Channel:
    """The text-message channel ``url`` describes; :class:`ConfigurationError` naming the setting if it cannot."""
    parts = _split(url, SMS)
    scheme = parts.scheme.lower()
    if scheme == "file":
        options = _options(parts, SMS, {"max_segments"})
        return FileSmsChannel(_folder(parts, SMS), sender=sender, max_segments=_max_segments(options))
    if scheme == "twilio":
        options = _options(parts, SMS, {"timeout", "max_segments", "scheme"})
        sid, token = unquote(parts.username or ""), unquote(parts.password or "")
        if not sid or not token:
            raise ConfigurationError(f"{SMS}: twilio:// needs ACCOUNT_SID:AUTH_TOKEN@host")
        http_scheme = options.get("scheme", "https")
        if http_scheme not in ("http", "https"):
            raise ConfigurationError(f"{SMS}: scheme must be http or https, not {http_scheme!r}")
        return TwilioSmsChannel(
            sid,
            token,
            sender=sender,
            base_url=f"{http_scheme}://{_netloc(parts, SMS)}",
            timeout=_timeout(options, SMS),
            max_segments=_max_segments(options),
        )
    if scheme in ("http", "https"):
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        options = {k: v for k, v in pairs if k in ("timeout", "max_segments")}
        query = urlencode([(k, v) for k, v in pairs if k not in options])
        user, password = unquote(parts.username or ""), unquote(parts.password or "")
        target = urlunsplit((scheme, _netloc(parts, SMS), parts.path, query, ""))
        return JsonGatewaySmsChannel(
            target,
            sender=sender,
            timeout=_timeout(options, SMS),
            max_segments=_max_segments(options),
            auth=(user, password) if user or password else None,
        )
    raise ConfigurationError(f"{SMS}: unknown scheme {scheme!r} in {_redacted(url)}; use twilio, https or file")


def webhook_channel(url: str, secrets: str) -> Channel | None:
    """The webhook channel, or ``None`` when no URL is set (webhooks are off by default)."""
    if not url.strip():
        return None
    return WebhookChannel(url.strip(), parse_secrets(secrets))


# -- parsing ----------------------------------------------------------------------------------


def _split(url: str, setting: str) -> SplitResult:
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018  (urlsplit checks the port only when asked)
    except ValueError as error:
        raise ConfigurationError(f"{setting}: {_redacted(url)} is not a valid URL: {error}") from error
    if not parts.scheme:
        raise ConfigurationError(f"{setting}: {_redacted(url)} has no scheme (smtp://, https://, file://, ...)")
    return parts


def _options(parts: SplitResult, setting: str, allowed: set[str]) -> dict[str, str]:
    """The query as options; an unknown one is an error, since a typo would otherwise be ignored."""
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = sorted(set(options) - allowed)
    if unknown:
        known = ", ".join(sorted(allowed)) or "none"
        raise ConfigurationError(f"{setting}: unknown option(s) {', '.join(unknown)} (known: {known})")
    return options


def _folder(parts: SplitResult, setting: str) -> Path:
    """``file:///abs`` is absolute; ``file://./rel`` and ``file://rel/dir`` are relative to the working folder."""
    host = parts.netloc
    path = unquote(parts.path)
    folder = path if host in ("", "localhost") else host + path
    if not folder:
        raise ConfigurationError(f"{setting}: file:// URL names no folder")
    return Path(folder)


def _host(parts: SplitResult, setting: str) -> str:
    if not parts.hostname:
        raise ConfigurationError(f"{setting}: {parts.scheme}:// URL names no host")
    return parts.hostname


def _port(parts: SplitResult, setting: str) -> int | None:
    try:
        return parts.port
    except ValueError as error:
        raise ConfigurationError(f"{setting}: bad port: {error}") from error


def _netloc(parts: SplitResult, setting: str) -> str:
    """Host and port without the credentials, IPv6 addresses back in brackets."""
    host = _host(parts, setting)
    if ":" in host:
        host = f"[{host}]"
    port = _port(parts, setting)
    return host if port is None else f"{host}:{port}"


def _flag(options: dict[str, str], key: str, default: bool, setting: str) -> bool:
    value = options.get(key)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ConfigurationError(f"{setting}: {key}={value!r} is not a yes/no value (1 or 0)")


def _timeout(options: dict[str, str], setting: str) -> float:
    value = options.get("timeout", "10")
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not seconds > 0:
        raise ConfigurationError(f"{setting}: timeout={value!r} is not a positive number of seconds")
    return seconds


def _max_segments(options: dict[str, str]) -> int:
    value = options.get("max_segments", str(DEFAULT_MAX_SEGMENTS))
    if not value.isdigit() or int(value) < 1:
        raise ConfigurationError(f"{SMS}: max_segments={value!r} is not a positive whole number")
    return int(value)


def _ssl_context(options: dict[str, str]) -> ssl.SSLContext:
    cafile = options.get("cafile") or None
    try:
        context = ssl.create_default_context(cafile=cafile)
    except (OSError, ssl.SSLError) as error:
        raise ConfigurationError(f"{EMAIL}: cafile={cafile!r} cannot be loaded: {error}") from error
    if not _flag(options, "verify", True, EMAIL):
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _redacted(url: str) -> str:
    """``url`` with any password replaced, fit for an error message or a log."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{netloc}"))
